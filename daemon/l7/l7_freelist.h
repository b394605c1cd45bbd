#ifndef TANDEM_L7_FREELIST_H
#define TANDEM_L7_FREELIST_H

#include <stddef.h>

#include "buf-t.h"

/*
 * l7_freelist - a per-worker cache of same-size blocks (I/O buffers, request
 * records), so that a connection holds memory only while it has something to
 * do: buffers are taken when bytes arrive or an answer is built, and given
 * back as soon as they are empty and the connection waits for its next
 * request. Keeping freed blocks makes take/give a pointer swap instead of
 * malloc/free on every request. One thread only, like the worker that owns
 * it.
 *
 * How many are kept: between two l7_freelist_trim calls (the worker's, once
 * a second) every block given back is kept, up to the peak in use, so a
 * busy worker whose in-use count swings by hundreds within a pass (HTTP/2
 * streams finishing together) never trades blocks with malloc; the trim
 * then frees what the last period did not need at its peak, keeping at
 * least max_free. Two seconds after the load is gone, max_free blocks remain.
 */

struct l7_freelist {
	size_t size;		/* bytes per block (at least a pointer) */
	unsigned max_free;	/* blocks always kept for reuse */
	unsigned nfree;
	unsigned long in_use;	/* blocks handed out and not given back */
	unsigned long peak;	/* most in use at once since the last trim */
	void *head;		/* free blocks, each starting with the next pointer */
};

/* An empty list of blocks of size bytes; a trim keeps at least max_free. */
void l7_freelist_init(struct l7_freelist *fl, size_t size, unsigned max_free);
/* Frees every kept block (blocks still in use stay the caller's). */
void l7_freelist_release(struct l7_freelist *fl);

/* A block of fl->size bytes (contents undefined), or NULL when out of memory. */
void *l7_freelist_get(struct l7_freelist *fl);
/* Gives p back (NULL is ignored). */
void l7_freelist_put(struct l7_freelist *fl, void *p);
/* Frees the kept blocks that the period since the last trim did not need
 * (more than max_free and more than its peak minus what is in use now) and
 * starts a new period. */
void l7_freelist_trim(struct l7_freelist *fl);

/* Gives b storage of fl->size bytes if it has none. 0, or -ENOMEM. */
int l7_buf_take(struct l7_freelist *fl, struct buf *b);
/* Gives b's storage back when b holds no byte, so an idle connection keeps
 * none; a buffer with bytes in it is left alone (nothing is ever lost). */
void l7_buf_give_if_empty(struct l7_freelist *fl, struct buf *b);
/* Gives b's storage back whatever it holds (the connection is closing). */
void l7_buf_give(struct l7_freelist *fl, struct buf *b);

#endif
