#ifndef TANDEM_LIM_TOP_H
#define TANDEM_LIM_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lim-t.h"

/*
 * lim_top - a rule's live counters and its top keys by hits and by denials
 * (two space-saving summaries of LIM_TOP_N keys each: a key seen often is in
 * them, its count may be overestimated by at most the smallest count held).
 * Updates take the lock only with trylock and are skipped when another
 * worker holds it (counted in `skipped`), so the data path never waits.
 */

#define LIM_TOP_N 32

struct lim_top;

/* Totals of a rule since its table was created (kept across reloads). */
struct lim_top_counts {
	uint64_t hits;		/* requests the rule matched and keyed */
	uint64_t denials;	/* of those, denied (or would have been, in shadow) */
	uint64_t skipped;	/* top-key updates skipped under contention */
};

/* Returns an empty summary or NULL (out of memory). */
struct lim_top *lim_top_new(void);
void lim_top_free(struct lim_top **tp);

/* Counts one request of key fp; when the key enters a summary its first
 * LIM_TOP_KEY bytes are kept (copied, not rendered: rendering waits for
 * someone to look). Any thread, never blocks. */
void lim_top_note(struct lim_top *t, uint64_t fp, bool denied, const unsigned char *key, size_t len);

/* Copies the totals, and up to max rows sorted by hits (by_denials = false)
 * or by denials; returns the number of rows. Any thread. */
void lim_top_counts(struct lim_top *t, struct lim_top_counts *c);
size_t lim_top_rows(struct lim_top *t, bool by_denials, struct lim_top_row *rows, size_t max);

#endif
