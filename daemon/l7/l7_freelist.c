/*
 * l7_freelist - per-worker cache of same-size blocks (see l7_freelist.h).
 * A free block stores the next free block's address in its first bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "l7_freelist.h"

void
l7_freelist_init(struct l7_freelist *fl, size_t size, unsigned max_free)
{
	fl->size = size < sizeof(void *) ? sizeof(void *) : size;
	fl->max_free = max_free;
	fl->nfree = 0;
	fl->in_use = 0;
	fl->peak = 0;
	fl->head = NULL;
}

void
l7_freelist_release(struct l7_freelist *fl)
{
	while (fl->head != NULL) {
		void *p = fl->head;

		fl->head = *(void **)p;
		free(p);
	}
	fl->nfree = 0;
}

void *
l7_freelist_get(struct l7_freelist *fl)
{
	void *p = fl->head;

	if (p != NULL) {
		fl->head = *(void **)p;
		fl->nfree--;
		/* the next get is often right after this one (a request takes
		 * three buffers at once): start loading its link now */
		if (fl->head != NULL)
			__builtin_prefetch(fl->head);
	} else {
		p = malloc(fl->size);
		if (p == NULL)
			return NULL;
	}
	if (++fl->in_use > fl->peak)
		fl->peak = fl->in_use;
	return p;
}

void
l7_freelist_put(struct l7_freelist *fl, void *p)
{
	if (p == NULL)
		return;
	fl->in_use--;
	/* always kept: blocks in use plus kept never exceed what the period
	 * needed at its peak, and l7_freelist_trim frees what it did not */
	*(void **)p = fl->head;
	fl->head = p;
	fl->nfree++;
}

void
l7_freelist_trim(struct l7_freelist *fl)
{
	unsigned long keep = fl->peak > fl->in_use ? fl->peak - fl->in_use : 0;

	if (keep < fl->max_free)
		keep = fl->max_free;
	while (fl->nfree > keep) {
		void *p = fl->head;

		fl->head = *(void **)p;
		fl->nfree--;
		free(p);
	}
	fl->peak = fl->in_use;
}

int
l7_buf_take(struct l7_freelist *fl, struct buf *b)
{
	if (b->data != NULL)
		return 0;
	b->data = l7_freelist_get(fl);
	if (b->data == NULL)
		return -ENOMEM;
	b->cap = fl->size;
	b->rpos = b->wpos = 0;
	return 0;
}

void
l7_buf_give_if_empty(struct l7_freelist *fl, struct buf *b)
{
	if (b->data != NULL && buf_len(b) == 0)
		l7_buf_give(fl, b);
}

void
l7_buf_give(struct l7_freelist *fl, struct buf *b)
{
	l7_freelist_put(fl, b->data);
	b->data = NULL;
	b->cap = b->rpos = b->wpos = 0;
}
