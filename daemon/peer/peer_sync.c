/*
 * peer_sync - what the peer link keeps in sync besides the health view:
 * the limiter's counter tables (daemon/limit), its ban set and the TLS
 * session ticket key ring (daemon/l7/l7_tls). It implements the link's
 * collect/apply hooks (struct peer_sync_ops); every call comes from the
 * link's thread, so the state below needs no lock of its own (the limiter
 * and the key store lock themselves).
 *
 * Counters: every sync interval (10 ms by default) the link asks for the keys touched since the
 * last collection (lim_table_export delta, this node's slots, absolute
 * counts): resending one is harmless, so a reconnect or a lost batch only
 * costs bytes. Bans: when the set changed (lim_ban_changes), it is
 * compared with what was last sent. Ticket keys: a node that has not yet loaded the peer's
 * full state neither sends its ring nor keeps it: the first full batch's
 * ring replaces it (a restarted node's brand-new key must not push out the
 * running node's ring, whose tickets clients hold). After that the ring is
 * sent when it changed, and on receipt the ring whose current key is newer
 * wins (a tie goes to the larger bytes), so both nodes converge even when
 * both rotated.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

#include "l7_tls.h"
#include "lim_ban.h"
#include "lim_counter.h"
#include "lim_rule.h"
#include "log.h"
#include "peer.h"
#include "peer_sync.h"


struct peer_ban {
	uint8_t addr[16];
	uint64_t until;
};

struct peer_sync {
	struct peer_sync_ops ops;
	struct lim_store *store;
	struct l7_tls_keys *keys;
	peer_ban_apply_fn ban_apply;	/* NULL: lim_ban_add on the store's set */
	uint32_t mark;			/* limiter tick of the last collection */
	atomic_uint_least64_t batch_id;	/* unique across restarts: starts at the wall clock */
	struct peer_ban *sent;		/* bans as last sent, sorted by address */
	size_t nsent;
	uint64_t ban_changes;		/* lim_ban_changes() at the last scan */
	int keys_synced;		/* a full batch from the peer was applied */
	unsigned char *keys_last;	/* ring as last sent or accepted */
	size_t keys_len;
	unsigned long lim_refused, keys_taken, keys_kept;
};

/* ---- limiter counters ---- */

struct peer_lim_ctx {
	struct peer_sync *s;
	json_t *recs;
	int full;
	uint64_t now;
};

static void
peer_sync_table(const char *name, uint32_t period_ms, struct lim_table *t, void *arg)
{
	struct peer_lim_ctx *c = arg;
	unsigned char *buf = NULL;
	size_t len = 0;
	long n;

	(void)period_ms;
	if (name[0] == '\0')
		return;		/* a table a reload superseded: no rule uses it */
	n = lim_table_export(t, c->full, c->s->mark, atomic_fetch_add(&c->s->batch_id, 1) + 1, c->now,
			     &buf, &len);
	if (n > 0 || (n == 0 && c->full))
		json_array_append_new(c->recs, peer_rec_lim(name, buf, len));
	free(buf);
}

/* ---- bans ---- */

struct peer_ban_ctx {
	struct peer_ban *v;
	size_t n, cap;
	int oom;
};

static void
peer_ban_collect(const uint8_t addr[16], uint64_t until_ms, void *arg)
{
	struct peer_ban_ctx *c = arg;

	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct peer_ban *nv = c->oom ? NULL : realloc(c->v, nc * sizeof(*nv));

		if (nv == NULL) {
			c->oom = 1;
			return;
		}
		c->v = nv;
		c->cap = nc;
	}
	memcpy(c->v[c->n].addr, addr, 16);
	c->v[c->n++].until = until_ms;
}

static int
peer_ban_cmp(const void *a, const void *b)
{
	return memcmp(((const struct peer_ban *)a)->addr, ((const struct peer_ban *)b)->addr, 16);
}

/* New or extended bans since the last call (all of them when full). */
static void
peer_sync_bans(struct peer_sync *s, json_t *recs, int full, uint64_t now)
{
	struct peer_ban_ctx c = { 0 };
	size_t i;

	lim_ban_foreach(lim_store_bans(s->store), now, peer_ban_collect, &c);
	if (c.oom) {
		free(c.v);
		return;		/* try again next time; nothing is marked sent */
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), peer_ban_cmp);
	for (i = 0; i < c.n; i++) {
		struct peer_ban *old = s->nsent ? bsearch(&c.v[i], s->sent, s->nsent, sizeof(*s->sent),
							   peer_ban_cmp) : NULL;

		if (full || old == NULL || old->until != c.v[i].until)
			json_array_append_new(recs, peer_rec_ban(c.v[i].addr, c.v[i].until));
	}
	free(s->sent);
	s->sent = c.v;
	s->nsent = c.n;
}

/* ---- ticket keys ---- */

static void
peer_sync_keys(struct peer_sync *s, json_t *recs, int full)
{
	unsigned char buf[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	ssize_t n;

	if (!s->keys_synced)
		return;		/* the peer's ring first (see the top) */
	n = l7_tls_keys_export(s->keys, buf, sizeof(buf));
	if (n < 0)
		return;
	if (full || s->keys_last == NULL || s->keys_len != (size_t)n ||
	    memcmp(s->keys_last, buf, (size_t)n) != 0) {
		unsigned char *copy = malloc((size_t)n);

		if (copy != NULL) {
			memcpy(copy, buf, (size_t)n);
			if (s->keys_last != NULL)
				OPENSSL_cleanse(s->keys_last, s->keys_len);
			free(s->keys_last);
			s->keys_last = copy;
			s->keys_len = (size_t)n;
			json_array_append_new(recs, peer_rec_ticket_keys(buf, (size_t)n));
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
}

/* The creation time of the current key of an exported ring; -EINVAL when
 * the ring does not import. */
static int
peer_keys_current(const unsigned char *buf, size_t len, uint64_t *created)
{
	struct l7_tls_keys *tmp = l7_tls_keys_new(0, 3600);
	struct l7_tls_ticket_key k[L7_TLS_KEYS_MAX];
	int rc = tmp ? l7_tls_keys_import(tmp, buf, len) : -ENOMEM;

	if (rc == 0 && l7_tls_keys_get(tmp, k, L7_TLS_KEYS_MAX) > 0)
		*created = k[0].created;
	else if (rc == 0)
		rc = -EINVAL;
	OPENSSL_cleanse(k, sizeof(k));
	l7_tls_keys_free(&tmp);
	return rc;
}

static int
peer_sync_apply_keys(struct peer_sync *s, const struct peer_rec *r, const char **err)
{
	unsigned char ours[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	uint64_t theirs_at = 0, ours_at = 0;
	ssize_t n = l7_tls_keys_export(s->keys, ours, sizeof(ours));
	int newer, rc;

	if (peer_keys_current(r->data, r->len, &theirs_at) < 0) {
		*err = "a ticket key ring that does not import";
		return -EINVAL;
	}
	if (n < 0 || peer_keys_current(ours, (size_t)n, &ours_at) < 0)
		ours_at = 0;
	newer = (r->full && !s->keys_synced) || theirs_at > ours_at ||
		(theirs_at == ours_at && n >= 0 &&
		 (r->len != (size_t)n ? r->len > (size_t)n : memcmp(r->data, ours, r->len) > 0));
	OPENSSL_cleanse(ours, sizeof(ours));
	if (!newer) {
		s->keys_kept++;		/* ours is newer: the peer gets ours */
		return 0;
	}
	rc = l7_tls_keys_import(s->keys, r->data, r->len);
	if (rc < 0) {
		*err = "ticket keys import failed";
		return rc;
	}
	s->keys_taken++;
	/* What we now hold is what the peer has: no need to send it back. */
	free(s->keys_last);
	s->keys_last = malloc(r->len);
	s->keys_len = 0;
	if (s->keys_last != NULL) {
		memcpy(s->keys_last, r->data, r->len);
		s->keys_len = r->len;
	}
	return 0;
}

/* ---- the hooks ---- */

static json_t *
peer_sync_collect(void *data, int full)
{
	struct peer_sync *s = data;
	uint64_t now = peer_wall_ms();
	json_t *recs = json_array();

	if (recs == NULL)
		return NULL;
	if (s->store != NULL) {
		struct peer_lim_ctx c = { .s = s, .recs = recs, .full = full, .now = now };
		uint32_t mark = lim_table_mark(now);

		lim_store_foreach(s->store, peer_sync_table, &c);
		/* Keys touched in the mark's last 15 ms are sent again next
		 * time (lim_table_mark): resending is harmless. */
		s->mark = mark;
		uint64_t changes = lim_ban_changes(lim_store_bans(s->store));

		/* a scan visits every slot of the set: only when it changed */
		if (full || changes != s->ban_changes) {
			s->ban_changes = changes;
			peer_sync_bans(s, recs, full, now);
		}
	}
	if (s->keys != NULL)
		peer_sync_keys(s, recs, full);
	return recs;
}

int
peer_sync_apply_rec(struct peer_sync *s, const struct peer_rec *r, const char **err)
{
	return s->ops.apply(s, r, err);
}

/* Every table's full export and every active ban, without the ticket keys
 * and without touching what the link last sent (any thread). */
json_t *
peer_sync_state(struct peer_sync *s, uint64_t now)
{
	struct peer_lim_ctx c = { .s = s, .full = 1, .now = now };
	struct peer_ban_ctx b = { 0 };
	size_t i;

	c.recs = json_array();
	if (c.recs == NULL || s->store == NULL)
		return c.recs;
	lim_store_foreach(s->store, peer_sync_table, &c);
	lim_ban_foreach(lim_store_bans(s->store), now, peer_ban_collect, &b);
	for (i = 0; i < b.n && !b.oom; i++)
		json_array_append_new(c.recs, peer_rec_ban(b.v[i].addr, b.v[i].until));
	free(b.v);
	if (b.oom) {
		json_decref(c.recs);
		return NULL;
	}
	return c.recs;
}

static int
peer_sync_apply(void *data, const struct peer_rec *r, const char **err)
{
	struct peer_sync *s = data;
	struct lim_table *t;
	int rc;

	switch (r->kind) {
	case PEER_REC_LIM:
		if (s->store == NULL)
			return -ENOTSUP;
		t = lim_store_table(s->store, r->rule);
		if (t == NULL) {
			*err = "no rate rule of that name on this node";
			return -ENOENT;
		}
		rc = lim_table_apply(t, r->data, r->len, peer_wall_ms());
		if (rc < 0) {
			s->lim_refused++;
			*err = "limiter batch refused (corrupt, or the rule's period differs)";
			return rc;
		}
		return 0;
	case PEER_REC_BAN:
		if (s->store == NULL)
			return -ENOTSUP;
		/* addr is IPv4 mapped when v4: lim_ban stores it that way */
		if (s->ban_apply != NULL)
			s->ban_apply(AF_INET6, r->addr, r->until_ms);
		else
			lim_ban_add(lim_store_bans(s->store), AF_INET6, r->addr, r->until_ms);
		return 0;
	case PEER_REC_TICKET_KEYS:
		if (s->keys == NULL)
			return -ENOTSUP;
		return peer_sync_apply_keys(s, r, err);
	default:
		*err = "unexpected record kind";
		return -EINVAL;
	}
}

static void
peer_sync_full_applied(void *data)
{
	struct peer_sync *s = data;

	s->keys_synced = 1;
}

struct peer_sync *
peer_sync_new(struct lim_store *store, peer_ban_apply_fn ban_apply, struct l7_tls_keys *keys)
{
	struct peer_sync *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->store = store;
	s->keys = keys;
	s->ban_apply = ban_apply;
	atomic_init(&s->batch_id, peer_wall_ms() << 16);
	s->ops.collect = peer_sync_collect;
	s->ops.apply = peer_sync_apply;
	s->ops.full_applied = peer_sync_full_applied;
	s->ops.data = s;
	return s;
}

const struct peer_sync_ops *
peer_sync_ops(struct peer_sync *s)
{
	return &s->ops;
}

void
peer_sync_free(struct peer_sync **sp)
{
	struct peer_sync *s = *sp;

	if (s == NULL)
		return;
	free(s->sent);
	if (s->keys_last != NULL)
		OPENSSL_cleanse(s->keys_last, s->keys_len);
	free(s->keys_last);
	free(s);
	*sp = NULL;
}
