/*
 * l7_mpool - size classes over l7_freelist (see l7_mpool.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "l7_mpool.h"

enum { MP_HDR = 16, MP_MIN_SHIFT = 6, MP_BIG = 0xff };

struct mp_hdr {
	struct l7_mpool *mp;
	uint32_t cls;		/* index in mp->cls, or MP_BIG */
	uint32_t size;		/* usable bytes of a MP_BIG block */
};

_Static_assert(sizeof(struct mp_hdr) <= MP_HDR, "header larger than its room");

void
l7_mpool_init(struct l7_mpool *mp, unsigned max_free)
{
	unsigned i;

	for (i = 0; i < L7_MPOOL_CLASSES; i++)
		l7_freelist_init(&mp->cls[i], (size_t)1 << (MP_MIN_SHIFT + i), max_free);
	mp->big = 0;
}

void
l7_mpool_release(struct l7_mpool *mp)
{
	unsigned i;

	for (i = 0; i < L7_MPOOL_CLASSES; i++)
		l7_freelist_release(&mp->cls[i]);
}

void
l7_mpool_trim(struct l7_mpool *mp)
{
	unsigned i;

	for (i = 0; i < L7_MPOOL_CLASSES; i++)
		l7_freelist_trim(&mp->cls[i]);
}

unsigned long
l7_mpool_in_use(const struct l7_mpool *mp)
{
	unsigned long n = mp->big;
	unsigned i;

	for (i = 0; i < L7_MPOOL_CLASSES; i++)
		n += mp->cls[i].in_use;
	return n;
}

void *
l7_mpool_alloc(struct l7_mpool *mp, size_t n)
{
	struct mp_hdr *h;
	unsigned i = 0;

	while (i < L7_MPOOL_CLASSES && mp->cls[i].size - MP_HDR < n)
		i++;
	if (i < L7_MPOOL_CLASSES) {
		h = l7_freelist_get(&mp->cls[i]);
	} else {
		if (n > UINT32_MAX - MP_HDR)
			return NULL;
		h = malloc(MP_HDR + n);
		if (h != NULL) {
			h->size = (uint32_t)n;
			mp->big++;
		}
		i = MP_BIG;
	}
	if (h == NULL)
		return NULL;
	h->mp = mp;
	h->cls = i;
	return (char *)h + MP_HDR;
}

void *
l7_mpool_calloc(struct l7_mpool *mp, size_t n)
{
	void *p = l7_mpool_alloc(mp, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

static size_t
mp_usable(const struct mp_hdr *h)
{
	return h->cls == MP_BIG ? h->size : h->mp->cls[h->cls].size - MP_HDR;
}

void
l7_mpool_free(void *p)
{
	struct mp_hdr *h;

	if (p == NULL)
		return;
	h = (struct mp_hdr *)((char *)p - MP_HDR);
	if (h->cls == MP_BIG) {
		h->mp->big--;
		free(h);
	} else {
		l7_freelist_put(&h->mp->cls[h->cls], h);
	}
}

void *
l7_mpool_realloc(struct l7_mpool *mp, void *p, size_t n)
{
	size_t have;
	void *q;

	if (p == NULL)
		return l7_mpool_alloc(mp, n);
	have = mp_usable((struct mp_hdr *)((char *)p - MP_HDR));
	if (n <= have)
		return p;
	q = l7_mpool_alloc(mp, n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, have);
	l7_mpool_free(p);
	return q;
}

char *
l7_mpool_strndup(struct l7_mpool *mp, const void *p, size_t n)
{
	char *s = l7_mpool_alloc(mp, n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}
