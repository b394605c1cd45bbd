#ifndef TANDEM_L7_MPOOL_H
#define TANDEM_L7_MPOOL_H

#include <stddef.h>

#include "l7_freelist.h"

/*
 * l7_mpool - a per-worker allocator for small objects of many sizes (HTTP/2
 * streams and their requests, nghttp2's own per-stream and per-frame
 * objects). Sizes are rounded up to a power-of-two class, each class an
 * l7_freelist, so that the hundreds of objects made and dropped per
 * connection and second cost a pointer swap instead of malloc/free (glibc's
 * per-thread cache holds 7 blocks of a size; 500 streams in flight overflow
 * it into the slow paths). Larger requests go to malloc. One thread only.
 *
 * Every block starts with a 16-byte header naming its pool and class, so a
 * block can be freed or resized knowing only its address; blocks keep
 * malloc's 16-byte alignment.
 */

enum { L7_MPOOL_CLASSES = 7 };	/* 64 ... 4096 bytes, header included */

struct l7_mpool {
	struct l7_freelist cls[L7_MPOOL_CLASSES];
	unsigned long big;	/* blocks above the largest class, from malloc */
};

/* An empty pool; each class keeps at least max_free freed blocks (more
 * under load: see l7_freelist_put). */
void l7_mpool_init(struct l7_mpool *mp, unsigned max_free);
/* Frees the kept blocks; blocks still in use stay valid (free them later). */
void l7_mpool_release(struct l7_mpool *mp);
/* l7_freelist_trim on every class (the worker's, once a second). */
void l7_mpool_trim(struct l7_mpool *mp);
/* Blocks handed out and not freed yet (a leak check for tests). */
unsigned long l7_mpool_in_use(const struct l7_mpool *mp);

/* n bytes (contents undefined), or NULL. */
void *l7_mpool_alloc(struct l7_mpool *mp, size_t n);
/* n zeroed bytes, or NULL. */
void *l7_mpool_calloc(struct l7_mpool *mp, size_t n);
/* Resizes p (NULL: allocates from mp) keeping its first bytes; NULL when out
 * of memory (p is then left as it was). */
void *l7_mpool_realloc(struct l7_mpool *mp, void *p, size_t n);
/* Gives p back to the pool it came from (NULL is ignored). */
void l7_mpool_free(void *p);
/* A copy of p[0..n) ending with a NUL, or NULL. */
char *l7_mpool_strndup(struct l7_mpool *mp, const void *p, size_t n);

#endif
