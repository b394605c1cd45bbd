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

/* One summary, struct of arrays: the per-request scan reads only fp[] (and
 * the counts when the key is new), four cache lines, not the key texts. */
struct lim_top_sum {
	uint64_t fp[LIM_TOP_N];		/* 0 = empty */
	uint64_t hits[LIM_TOP_N], denials[LIM_TOP_N];
	unsigned char key[LIM_TOP_N][LIM_TOP_KEY];
	uint8_t key_len[LIM_TOP_N];
};

struct lim_top {
	pthread_mutex_t lock;
	atomic_ullong hits, denials, skipped;
	struct lim_top_sum by_hits, by_denials;
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

/* Space-saving step in one summary, ordered by hits or by denials. */
static void
lim_top_step(struct lim_top_sum *e, uint64_t fp, bool denied, bool by_denials,
	     const unsigned char *key, size_t len)
{
	const uint64_t *w = by_denials ? e->denials : e->hits;
	size_t i, min = 0;

	for (i = 0; i < LIM_TOP_N; i++)
		if (e->fp[i] == fp) {
			e->hits[i]++;
			e->denials[i] += denied;
			return;
		}
	for (i = 1; i < LIM_TOP_N; i++)
		if (w[i] < w[min])
			min = i;
	/* not held: take the smallest entry's place and its count */
	e->fp[min] = fp;
	if (by_denials) {
		e->denials[min]++;
		e->hits[min] = e->denials[min];	/* its hits are unknown: at least these */
	} else {
		e->hits[min]++;
		e->denials[min] = denied;
	}
	if (len > LIM_TOP_KEY)
		len = LIM_TOP_KEY;
	memcpy(e->key[min], key, len);
	e->key_len[min] = (uint8_t)len;
}

void
lim_top_note(struct lim_top *t, uint64_t fp, bool denied, const unsigned char *key, size_t len)
{
	atomic_fetch_add_explicit(&t->hits, 1, memory_order_relaxed);
	if (denied)
		atomic_fetch_add_explicit(&t->denials, 1, memory_order_relaxed);
	if (pthread_mutex_trylock(&t->lock) != 0) {
		atomic_fetch_add_explicit(&t->skipped, 1, memory_order_relaxed);
		return;
	}
	lim_top_step(&t->by_hits, fp, denied, false, key, len);
	if (denied)
		lim_top_step(&t->by_denials, fp, denied, true, key, len);
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
	const struct lim_top_sum *e;
	size_t i, n = 0;

	pthread_mutex_lock(&t->lock);
	e = by_denials ? &t->by_denials : &t->by_hits;
	for (i = 0; i < LIM_TOP_N; i++) {
		if (e->fp[i] == 0)
			continue;
		memcpy(all[n].key, e->key[i], e->key_len[i]);
		all[n].key_len = e->key_len[i];
		all[n].hits = e->hits[i];
		all[n].denials = e->denials[i];
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	qsort(all, n, sizeof(all[0]), by_denials ? lim_top_cmp_denials : lim_top_cmp_hits);
	if (n > max)
		n = max;
	memcpy(rows, all, n * sizeof(*rows));
	return n;
}
