#ifndef TANDEM_ARENA_H
#define TANDEM_ARENA_H

#include "arena-t.h"

/* Returns a new arena (NULL on out of memory); chunk_size 0 picks 4 KiB. */
struct arena *arena_new(size_t chunk_size);

/* Runs cleanups, frees every chunk and the arena; sets *ap to NULL. */
void arena_free(struct arena **ap);

/* Returns zeroed memory aligned for any type, owned by the arena; NULL on OOM. */
void *arena_alloc(struct arena *a, size_t size);

/* Copies len bytes of s plus a NUL into the arena; NULL on OOM. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);

/* Runs fn(data) when the arena is freed (closing fds, freeing SSL *). 0 or -ENOMEM. */
int arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *data);

#endif
