#ifndef TANDEM_ARENA_T_H
#define TANDEM_ARENA_T_H

#include <stddef.h>

struct arena_chunk;
struct arena_cleanup;

/*
 * A bump allocator: many small allocations, one free. Used for a config
 * snapshot (everything freed when its last reference drops) and for one
 * connection or request.
 */
struct arena {
	struct arena_chunk *chunks;	/* newest first */
	struct arena_cleanup *cleanups;	/* run in reverse order of registration */
	size_t chunk_size;
	size_t total;			/* bytes handed out, for stats */
};

typedef void (*arena_cleanup_fn)(void *data);

#endif
