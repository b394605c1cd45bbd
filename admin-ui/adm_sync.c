/*
 * adm_sync - the config sync worker and the pair's live view (adm_sync.h,
 * doc/ha.md "Config sync").
 *
 * Who pushes: both nodes remember the last revision they had in common
 * (pair.base_*: number and hash of its shared part). A node whose running
 * revision moved on since then is "ahead". When only one node is ahead it
 * pushes; when both are (a split brain with edits on both sides) the node
 * with the higher VRRP priority (tie: the lower node name) pushes, and the
 * other moves its own revisions since the base into revision_conflicts
 * when it receives the push (adm_pair.c). The same rule runs on both nodes,
 * so they agree without another round trip.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_auth.h"
#include "adm_pairmsg.h"
#include "adm_peerc.h"
#include "adm_sync.h"
#include "adm_syncstore.h"
#include "ctlc.h"
#include "db.h"
#include "db_pair.h"
#include "jh.h"
#include "log.h"

#define ADM_SYNC_CALL_MS 5000	/* a state call (a push: twice); generous: on a loaded host a TLS handshake alone takes 0.5 s */
#define ADM_SYNC_MAX_PUSH 10	/* revisions pushed per round (the newest ones) */
#define ADM_SYNC_PEER_EVERY 5	/* ticks between calls to the peer */

struct adm_sync {
	pthread_mutex_t mu;
	struct adm_sync_view v;
	pthread_t worker;	/* the thread that ticks (main), woken by adm_sync_kick */
	unsigned rounds;	/* ticks since the last call to the peer */
};

struct adm_sync *
adm_sync_new(void)
{
	struct adm_sync *s = calloc(1, sizeof(*s));

	if (s != NULL) {
		pthread_mutex_init(&s->mu, NULL);
		s->v.writable = 1;
		s->worker = pthread_self();
	}
	return s;
}

void
adm_sync_free(struct adm_sync **sp)
{
	if (*sp == NULL)
		return;
	pthread_mutex_destroy(&(*sp)->mu);
	free(*sp);
	*sp = NULL;
}

void
adm_sync_view(struct adm_sync *s, struct adm_sync_view *v)
{
	if (s == NULL) {
		memset(v, 0, sizeof(*v));
		v->writable = 1;
		return;
	}
	pthread_mutex_lock(&s->mu);
	*v = s->v;
	pthread_mutex_unlock(&s->mu);
}

void
adm_sync_kick(struct adm_sync *s)
{
	if (s != NULL)
		pthread_kill(s->worker, SIGUSR1);
}

void
adm_sync_forget(struct adm_sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->v.paired = s->v.broken = s->v.peer_up = 0;
	s->v.writable = 1;
	s->v.peer_node[0] = s->v.peer_console[0] = s->v.peer_role[0] = s->v.last_error[0] = '\0';
	pthread_mutex_unlock(&s->mu);
}

/* ---- the shared part and its hash ---- */

/* Removes key from obj when it is an empty object. */
static void
adm_sync_drop_empty(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(v) && json_object_size(v) == 0)
		json_object_del(obj, key);
}

json_t *
adm_sync_shared(const char *content)
{
	json_t *cfg = content ? json_loads(content, 0, NULL) : NULL;
	json_t *sec;

	if (!json_is_object(cfg)) {
		json_decref(cfg);
		return NULL;
	}
	/* Per-node fields (doc/ha.md): the node's own VRRP part and the IPVS
	 * sync daemon's role/interface. Copies, so content's objects are not
	 * shared with the caller's. */
	sec = json_object_get(cfg, "vrrp");
	if (json_is_object(sec)) {
		json_object_set_new(cfg, "vrrp", json_deep_copy(sec));
		json_object_del(json_object_get(cfg, "vrrp"), "local");
		adm_sync_drop_empty(cfg, "vrrp");
	}
	sec = json_object_get(cfg, "l4");
	if (json_is_object(sec)) {
		json_object_set_new(cfg, "l4", json_deep_copy(sec));
		json_object_del(json_object_get(cfg, "l4"), "sync");
		adm_sync_drop_empty(cfg, "l4");
	}
	return cfg;
}

int
adm_sync_hash(const char *content, char out[65])
{
	json_t *shared;
	char *text;

	out[0] = '\0';
	if (content == NULL || content[0] == '\0')
		return 0;
	shared = adm_sync_shared(content);
	text = shared ? jh_dump_canonical(shared) : NULL;
	json_decref(shared);
	if (text == NULL)
		return -ENOMEM;
	adm_sha256_hex(text, out);
	free(text);
	return 0;
}

int
adm_sync_priority(struct db *db)
{
	json_t *lo = NULL;
	int prio = 100;

	if (db_vrrp_local_get(db, &lo) == 0 && json_is_integer(json_object_get(lo, "priority")))
		prio = (int)json_integer_value(json_object_get(lo, "priority"));
	json_decref(lo);
	return prio;
}

void
adm_sync_role(struct adm *a, char *out, size_t len)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *st = NULL;
	const char *role;
	int timeout = a->ctl_timeout_ms < 1000 ? a->ctl_timeout_ms : 1000;

	if (req == NULL || ctlc_call(a->ctl_socket, req, &st, timeout) < 0 ||
	    !json_is_true(json_object_get(st, "ok"))) {
		snprintf(out, len, "UNREACHABLE");
	} else {
		role = json_string_value(json_object_get(json_object_get(st, "vrrp"), "role"));
		snprintf(out, len, "%s", role ? role : "NONE");
	}
	json_decref(req);
	json_decref(st);
}

/* The writability rule (doc/ha.md "Which node is writable"). */
static int
adm_sync_writable(const struct adm_sync_view *v)
{
	const char *r = v->local_role;

	if (!v->paired || v->broken)
		return 1;
	if (strcmp(r, "MASTER") == 0 || strcmp(r, "MIXED") == 0)
		return 1;
	if (strcmp(r, "NONE") == 0 || strcmp(r, "UNREACHABLE") == 0)
		return !(v->peer_up && (strcmp(v->peer_role, "MASTER") == 0 ||
					strcmp(v->peer_role, "MIXED") == 0));
	return 0;	/* BACKUP, FAULT, STOP, UNKNOWN */
}

/* ---- the worker ---- */

/* Pushes this node's applied revisions after base to the peer, oldest
 * first, advancing base after each one the peer stored. */
static void
adm_sync_push(struct adm *a, struct db *db, struct db_pair *p, int prio, char *err, size_t errlen)
{
	json_t *list = NULL, *todo, *r, *msg, *resp = NULL;
	size_t i, first;
	long status;
	int rc;

	if (db_revision_list(db, &list) < 0)
		return;
	todo = json_array();
	/* the list is newest first: collect applied ones after base */
	json_array_foreach(list, i, r) {
		if (json_integer_value(json_object_get(r, "number")) <= p->base_number)
			break;
		if (strcmp(json_string_value(json_object_get(r, "status")), "applied") == 0)
			json_array_insert(todo, 0, r);
	}
	first = json_array_size(todo) > ADM_SYNC_MAX_PUSH ? json_array_size(todo) - ADM_SYNC_MAX_PUSH : 0;
	for (i = first; i < json_array_size(todo); i++) {
		long n = (long)json_integer_value(json_object_get(json_array_get(todo, i), "number"));
		json_t *rev = NULL, *shared, *stores;
		char *content = NULL, hash[65];

		if (db_revision_get(db, n, &rev) < 0 || db_revision_content(db, n, &content) < 0) {
			json_decref(rev);
			break;
		}
		shared = adm_sync_shared(content);
		adm_sync_hash(content, hash);
		free(content);
		/* the certificates and CA bundles it names go with it */
		stores = shared ? adm_syncstore_collect(db, shared) : NULL;
		msg = stores ? json_pack("{s:s, s:i, s:I, s:{s:I, s:O, s:O, s:O, s:o}, s:O}", "node", a->node,
					 "priority", prio, "base", (json_int_t)p->base_number, "revision",
					 "number", (json_int_t)n, "author", json_object_get(rev, "author"),
					 "created_at", json_object_get(rev, "created_at"),
					 "comment", json_object_get(rev, "comment"), "config", shared,
					 "stores", stores) : NULL;
		if (stores == NULL) {
			json_decref(shared);
			snprintf(err, errlen, "cannot read revision %ld's certificates from the store", n);
		}
		json_decref(rev);
		rc = msg ? adm_peerc_call(p->peer_console, p->peer_fingerprint, "POST", "/pair/peer/push",
					  p->out_key, msg, ADM_SYNC_CALL_MS * 2, &status, &resp, err, errlen)
			 : -ENOMEM;
		json_decref(msg);
		adm_syncstore_free(stores);	/* wipes the keys */
		if (rc < 0)
			break;
		if (status == 409) {
			snprintf(err, errlen, "the peer keeps its own revisions: %s",
				 json_string_value(json_object_get(json_object_get(resp, "error"), "message")) ?: "conflict");
			break;
		}
		if (status != 200) {
			snprintf(err, errlen, "the peer refused revision %ld (HTTP %ld)", n, status);
			break;
		}
		if (strcmp(json_string_value(json_object_get(resp, "status")) ?: "", "applied") != 0)
			snprintf(err, errlen, "the peer stored revision %ld but cannot run it: %s", n,
				 json_string_value(json_object_get(resp, "message")) ?: "refused");
		log_notice("config sync: revision %ld pushed to %s (%s)", n, p->peer_node,
			   json_string_value(json_object_get(resp, "status")) ?: "?");
		db_pair_set_base(db, n, hash);
		p->base_number = n;
		free(p->base_hash);
		p->base_hash = strdup(hash);
		json_decref(resp);
		resp = NULL;
	}
	json_decref(resp);
	json_decref(todo);
	json_decref(list);
}

void
adm_sync_tick(struct adm *a, struct db *db, int now)
{
	struct adm_sync_view v = { 0 };
	struct db_pair p;
	json_t *st = NULL;
	char err[256] = "", hash[65], *content = NULL;
	long status, n = 0, pn;
	int rc, prio, ahead, peer_ahead;
	const char *ph;

	if (a->sync == NULL)
		return;
	/* The role is read every tick (200 ms); the peer is called every
	 * fifth one, or at once after an apply (each call is a TLS handshake
	 * on both consoles' single HTTP thread). */
	if (!now && ++a->sync->rounds < ADM_SYNC_PEER_EVERY) {
		adm_sync_view(a->sync, &v);
		adm_sync_role(a, v.local_role, sizeof(v.local_role));
		v.writable = adm_sync_writable(&v);
		pthread_mutex_lock(&a->sync->mu);
		snprintf(a->sync->v.local_role, sizeof(a->sync->v.local_role), "%s", v.local_role);
		a->sync->v.writable = v.writable;
		pthread_mutex_unlock(&a->sync->mu);
		return;
	}
	a->sync->rounds = 0;
	adm_sync_role(a, v.local_role, sizeof(v.local_role));
	prio = v.local_priority = adm_sync_priority(db);
	if (db_pair_get(db, &p) < 0)
		goto publish;
	v.paired = 1;
	v.broken = strcmp(p.state, "broken") == 0;
	snprintf(v.peer_node, sizeof(v.peer_node), "%s", p.peer_node);
	snprintf(v.peer_console, sizeof(v.peer_console), "%s", p.peer_console);
	if (v.broken) {
		snprintf(v.last_error, sizeof(v.last_error), "%s", p.reason);
		goto done;
	}
	rc = adm_peerc_call(p.peer_console, p.peer_fingerprint, "GET", "/pair/peer/state", p.out_key,
			    NULL, ADM_SYNC_CALL_MS, &status, &st, err, sizeof(err));
	if (rc == 0 && status == 401) {
		struct db_pair again;

		/* The other node forgot the pair (unpaired while we could not
		 * hear it): keep our side, marked broken, for the operator.
		 * Unless we were unpaired meanwhile (the peer told us). */
		if (db_pair_get(db, &again) < 0) {
			v.paired = 0;
			goto done;
		}
		db_pair_release(&again);
		db_pair_set_state(db, "broken", "the other node no longer knows this pair (unpaired there)");
		log_warn("pair with %s is broken: the other node no longer knows it", p.peer_node);
		v.broken = 1;
		snprintf(v.last_error, sizeof(v.last_error), "the other node no longer knows this pair");
		goto done;
	}
	if (rc == 0 && (status != 200 || adm_pairmsg_state(st, err, sizeof(err)) < 0)) {
		if (status != 200)
			snprintf(err, sizeof(err), "state call answered HTTP %ld", status);
		rc = -EPROTO;
	}
	if (rc < 0)
		goto done;
	v.peer_up = 1;
	v.last_contact = (long long)a->now();
	snprintf(v.peer_role, sizeof(v.peer_role), "%s", json_string_value(json_object_get(st, "role")));
	v.peer_priority = (int)json_integer_value(json_object_get(st, "priority"));
	pn = v.peer_revision = (long)json_integer_value(json_object_get(json_object_get(st, "running"), "number"));
	ph = json_string_value(json_object_get(json_object_get(st, "running"), "hash")) ?: "";

	rc = db_revision_running(db, &n, &content);
	if (rc == -ENOENT)
		n = 0;
	else if (rc < 0)
		goto done;
	adm_sync_hash(content, hash);
	if (n == pn && strcmp(hash, ph) == 0) {
		if (p.base_number != n || strcmp(p.base_hash, hash) != 0)
			db_pair_set_base(db, n, hash);
		goto done;
	}
	ahead = !(n == p.base_number && strcmp(hash, p.base_hash) == 0);
	peer_ahead = !(pn == p.base_number && strcmp(ph, p.base_hash) == 0);
	if (!ahead)
		goto done;	/* the peer is ahead: it pushes */
	if (peer_ahead && !(prio > v.peer_priority ||
			    (prio == v.peer_priority && strcmp(a->node, p.peer_node) < 0)))
		goto done;	/* split brain that the peer wins: it pushes */
	adm_sync_push(a, db, &p, prio, err, sizeof(err));
done:
	if (err[0] != '\0' && v.last_error[0] == '\0')
		snprintf(v.last_error, sizeof(v.last_error), "%s", err);
	db_pair_release(&p);
publish:
	v.writable = adm_sync_writable(&v);
	pthread_mutex_lock(&a->sync->mu);
	if (v.last_error[0] == '\0' && v.paired && !v.broken && !v.peer_up)
		snprintf(v.last_error, sizeof(v.last_error), "%s", a->sync->v.last_error);
	if (strcmp(a->sync->v.last_error, v.last_error) != 0 && v.last_error[0] != '\0')
		log_warn("config sync: %s", v.last_error);
	if (!v.peer_up && v.paired)
		v.last_contact = a->sync->v.last_contact;
	a->sync->v = v;
	pthread_mutex_unlock(&a->sync->mu);
	json_decref(st);
	free(content);
}

/* ---- the BACKUP is read-only ---- */

int
adm_sync_guard(struct adm *a, const struct adm_req *rq, char *const *segs, size_t nsegs,
	       struct adm_resp *rs)
{
	struct adm_sync_view v;
	const char *what = nsegs > 0 ? segs[0] : "";
	char msg[512];

	(void)rq;
	/* Not shared configuration: the pair itself and runtime actions on
	 * this node's tandemd (/tls/rotate-keys: the newer ring wins on the
	 * peer link, so a rotation on either node reaches both). Certificates and CA bundles come from the
	 * MASTER with the revisions that name them, so they are read-only
	 * here like the rest (doc/ha.md). */
	if (strcmp(what, "pair") == 0 || strcmp(what, "tls") == 0 ||
	    (strcmp(what, "l4") == 0 && nsegs == 2 &&
	     (strcmp(segs[1], "bans") == 0 || strcmp(segs[1], "sync-role") == 0)))
		return 0;
	adm_sync_view(a->sync, &v);
	if (v.writable)
		return 0;
	snprintf(msg, sizeof(msg), "this node (%s) is %s in the pair: the configuration is edited on "
		 "the MASTER%s%s%s%s", a->node, v.local_role,
		 v.peer_node[0] ? ", " : "", v.peer_node, v.peer_console[0] ? ", at " : "", v.peer_console);
	adm_resp_error(rs, 409, "read_only", msg, NULL);
	json_object_set_new(rs->body, "master", json_pack("{s:s, s:s}", "node", v.peer_node,
							  "console", v.peer_console));
	return 1;
}
