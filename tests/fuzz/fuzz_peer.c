/*
 * libFuzzer driver for the peer link's decoder (daemon/peer): frames
 * (peer_frame_parse), batch records (peer_rec_decode) and what applying
 * them does (peer_sync's apply: lim_table_apply, lim_ban_add,
 * l7_tls_keys_import). Any bytes give a message or a refusal, never a
 * crash, a leak or a changed key ring from a refused record.
 *
 * The first byte picks the mode:
 *   even: the rest is a stream of frames, applied like the link does;
 *   odd:  the rest drives hits on a limiter table whose real export (delta
 *         or full) travels as a "lim" record, with at most one byte of the
 *         binary batch flipped; unflipped, it must apply and reproduce the
 *         counts; flipped, it must be refused or change nothing unsafe.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errs.h"
#include "l7_tls.h"
#include "lim_counter.h"
#include "lim_rule.h"
#include "peer.h"
#include "peer_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules[] = "{\"rules\": [{\"name\": \"api\", \"limit\": {\"requests\": 100, \"period_s\": 60}}]}";

struct side {
	struct lim_rules *r;
	struct lim_store *s;
	struct l7_tls_keys *k;
	struct peer_sync *sync;
};

static void
side_new(struct side *x, uint32_t node)
{
	static const uint64_t seed[2] = { 1, 2 };
	struct errs e;

	errs_init(&e);
	x->r = lim_rules_parse_text(rules, sizeof(rules) - 1, &e);
	errs_release(&e);
	x->s = lim_store_new(node, seed, 256);
	if (x->r == NULL || x->s == NULL || lim_rules_bind(x->r, x->s) < 0)
		abort();
	x->k = l7_tls_keys_new(100, 3600);
	x->sync = peer_sync_new(x->s, NULL, x->k);
	if (x->k == NULL || x->sync == NULL)
		abort();
}

static void
side_free(struct side *x)
{
	peer_sync_free(&x->sync);
	lim_rules_free(&x->r);
	lim_store_free(&x->s);
	l7_tls_keys_free(&x->k);
}

static void
apply_batch(struct side *x, const json_t *m)
{
	const struct peer_sync_ops *ops = peer_sync_ops(x->sync);
	json_t *rec;
	size_t i;

	json_array_foreach(json_object_get(m, "records"), i, rec) {
		struct peer_rec r;
		const char *err = NULL;

		if (peer_rec_decode(rec, &r, &err) == 0 && r.kind != PEER_REC_HEALTH)
			(void)ops->apply(ops->data, &r, &err);
		else if (err == NULL && r.kind != PEER_REC_HEALTH)
			__builtin_trap();	/* a refusal always says why */
		peer_rec_clear(&r);
	}
}

static void
frames(struct side *x, const uint8_t *p, size_t n)
{
	while (n > 0) {
		const char *err = NULL;
		json_t *m;
		size_t used;
		int rc = peer_frame_parse(p, n, &m, &used, &err);

		if (rc <= 0) {
			if (rc < 0 && err == NULL)
				__builtin_trap();
			return;
		}
		if (used == 0 || used > n)
			__builtin_trap();
		if (peer_msg_type(m) == PEER_MSG_BATCH)
			apply_batch(x, m);
		json_decref(m);
		p += used;
		n -= used;
	}
}

static void
exported(struct side *a, struct side *b, const uint8_t *p, size_t n)
{
	struct lim_table *ta = lim_store_table(a->s, "api"), *tb = lim_store_table(b->s, "api");
	unsigned char *buf = NULL, *frame = NULL;
	size_t len = 0, flen, i, used, flip;
	const char *err = NULL;
	struct lim_result res;
	uint64_t now = peer_wall_ms();	/* peer_sync applies at the wall clock too */
	json_t *rec, *m, *got;
	int full, rc;

	if (n < 3)
		return;
	full = p[0] & 1;
	flip = (size_t)p[1] << 8 | p[2];
	for (i = 3; i < n; i++)
		lim_table_hit(ta, lim_table_key(ta, &p[i], 1), 100, 0, now, &res);
	if (lim_table_export(ta, full, 0, 7, now, &buf, &len) < 0)
		return;
	if (flip < len * 8)
		buf[flip / 8] ^= (unsigned char)(1u << (flip % 8));
	rec = peer_rec_lim("api", buf, len);
	m = json_pack("{s:s, s:i, s:b, s:[o]}", "t", "batch", "seq", 1, "full", full, "records", rec);
	if (m == NULL || peer_frame_encode(m, &frame, &flen) < 0)
		__builtin_trap();
	rc = peer_frame_parse(frame, flen, &got, &used, &err);
	if (rc != 1 || used != flen)
		__builtin_trap();
	apply_batch(b, got);
	/* intact: B counts exactly what A counted (unless a 60 s window
	 * ended in between: then the counts rolled) */
	if (flip >= len * 8 && now / 60000 == peer_wall_ms() / 60000)
		for (i = 3; i < n; i++) {
			uint64_t fp = lim_table_key(ta, &p[i], 1);

			if (lim_table_count(tb, fp, now) != lim_table_count(ta, fp, now))
				__builtin_trap();
		}
	json_decref(got);
	json_decref(m);
	free(frame);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct side a, b;

	if (size < 1)
		return 0;
	side_new(&a, 0);
	side_new(&b, 1);
	if (data[0] & 1)
		exported(&a, &b, data + 1, size - 1);
	else
		frames(&b, data + 1, size - 1);
	side_free(&a);
	side_free(&b);
	return 0;
}
