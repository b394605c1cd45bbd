/*
 * lim_top - per-rule counters and top keys (space-saving summaries).
 *
 * Space-saving (Metwally et al.): a summary holds N keys with counts; a key
 * not in it replaces the entry with the smallest count and inherits that
 * count + 1. Every key whose true count exceeds total/N is in the summary,
 * and no count is underestimated. Two summaries, one weighted by hits and one
 * by denials, so a key that is denied a lot shows even if others hit more.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lim_top.h"

struct lim_top_ent {
	uint64_t fp;		/* 0 = empty */
	uint64_t hits, denials;
	char key[sizeof(((struct lim_top_row *)0)->key)];
};

struct lim_top {
	pthread_mutex_t lock;
	atomic_ullong hits, denials, skipped;
	struct lim_top_ent by_hits[LIM_TOP_N], by_denials[LIM_TOP_N];
};

struct lim_top *
lim_top_new(void)
{
	struct lim_top *t = calloc(1, sizeof(*t));

	if (t != NULL)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
lim_top_free(struct lim_top **tp)
{
	if (*tp == NULL)
		return;
	pthread_mutex_destroy(&(*tp)->lock);
	free(*tp);
	*tp = NULL;
}

/* Space-saving step in one summary; weight is the count that orders it. */
static void
lim_top_step(struct lim_top_ent *e, uint64_t fp, bool denied, bool by_denials,
	     lim_top_render_fn render, const void *arg)
{
	size_t i, min = 0;

	for (i = 0; i < LIM_TOP_N; i++) {
		if (e[i].fp == fp) {
			e[i].hits++;
			e[i].denials += denied;
			return;
		}
		if ((by_denials ? e[i].denials : e[i].hits) < (by_denials ? e[min].denials : e[min].hits))
			min = i;
	}
	/* not held: take the smallest entry's place and its count */
	e[min].fp = fp;
	if (by_denials) {
		e[min].denials++;
		e[min].hits = e[min].denials;	/* its hits are unknown: at least these */
	} else {
		e[min].hits++;
		e[min].denials = denied;
	}
	render(arg, e[min].key, sizeof(e[min].key));
}

void
lim_top_note(struct lim_top *t, uint64_t fp, bool denied, lim_top_render_fn render,
	     const void *arg)
{
	atomic_fetch_add_explicit(&t->hits, 1, memory_order_relaxed);
	if (denied)
		atomic_fetch_add_explicit(&t->denials, 1, memory_order_relaxed);
	if (pthread_mutex_trylock(&t->lock) != 0) {
		atomic_fetch_add_explicit(&t->skipped, 1, memory_order_relaxed);
		return;
	}
	lim_top_step(t->by_hits, fp, denied, false, render, arg);
	if (denied)
		lim_top_step(t->by_denials, fp, denied, true, render, arg);
	pthread_mutex_unlock(&t->lock);
}

void
lim_top_counts(struct lim_top *t, struct lim_top_counts *c)
{
	c->hits = atomic_load_explicit(&t->hits, memory_order_relaxed);
	c->denials = atomic_load_explicit(&t->denials, memory_order_relaxed);
	c->skipped = atomic_load_explicit(&t->skipped, memory_order_relaxed);
}

static int
lim_top_cmp_hits(const void *a, const void *b)
{
	const struct lim_top_row *x = a, *y = b;

	return x->hits < y->hits ? 1 : x->hits > y->hits ? -1 : 0;
}

static int
lim_top_cmp_denials(const void *a, const void *b)
{
	const struct lim_top_row *x = a, *y = b;

	return x->denials < y->denials ? 1 : x->denials > y->denials ? -1 : 0;
}

size_t
lim_top_rows(struct lim_top *t, bool by_denials, struct lim_top_row *rows, size_t max)
{
	struct lim_top_row all[LIM_TOP_N];
	const struct lim_top_ent *e;
	size_t i, n = 0;

	pthread_mutex_lock(&t->lock);
	e = by_denials ? t->by_denials : t->by_hits;
	for (i = 0; i < LIM_TOP_N; i++) {
		if (e[i].fp == 0)
			continue;
		memcpy(all[n].key, e[i].key, sizeof(all[n].key));
		all[n].hits = e[i].hits;
		all[n].denials = e[i].denials;
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	qsort(all, n, sizeof(all[0]), by_denials ? lim_top_cmp_denials : lim_top_cmp_hits);
	if (n > max)
		n = max;
	memcpy(rows, all, n * sizeof(*rows));
	return n;
}
