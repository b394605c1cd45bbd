/*
 * arena - bump allocator with cleanup hooks (see arena-t.h).
 * Invariant: every chunk's used <= size; allocations are 16-byte aligned.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	arena_cleanup_fn fn;
	void *data;
};

struct arena *
arena_new(size_t chunk_size)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->chunk_size = chunk_size ? chunk_size : 4096;
	return a;
}

void
arena_free(struct arena **ap)
{
	struct arena *a = *ap;
	struct arena_chunk *c, *cn;
	struct arena_cleanup *cl, *cln;

	if (a == NULL)
		return;
	for (cl = a->cleanups; cl != NULL; cl = cln) {
		cln = cl->next;
		cl->fn(cl->data);
	}
	for (c = a->chunks; c != NULL; c = cn) {
		cn = c->next;
		free(c);
	}
	free(a);
	*ap = NULL;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->chunks;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (size == 0)
		need = ARENA_ALIGN;
	if (need < size)
		return NULL; /* overflow */
	if (c == NULL || c->size - c->used < need) {
		size_t csize = need > a->chunk_size ? need : a->chunk_size;

		if (csize > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* A big one-off allocation goes behind the current chunk so
		 * the current chunk's free space is not wasted. */
		if (a->chunks != NULL && need > a->chunk_size) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	p = c->data + c->used;
	c->used += need;
	a->total += need;
	memset(p, 0, size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

int
arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *data)
{
	struct arena_cleanup *cl = arena_alloc(a, sizeof(*cl));

	if (cl == NULL)
		return -ENOMEM;
	cl->fn = fn;
	cl->data = data;
	cl->next = a->cleanups;
	a->cleanups = cl;
	return 0;
}
