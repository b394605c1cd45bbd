/*
 * adm_pair - pairing two consoles and the receiving side of config sync
 * (doc/ha.md "Pairing and config sync", doc/api.md).
 *
 * Trust: the operator copies a one-time token and the certificate
 * fingerprint from node A's console into node B's. B connects to A pinning
 * that fingerprint (so the token only ever goes to A), and the token proves
 * B to A. A then makes the peer link's CA and both node certificates
 * (peer_pki_pair_init, the code of `tandemctl pair-init`), keeps its own,
 * hands B its own over the same connection and forgets the CA key. Each
 * side also gives the other a random key for later calls (Authorization:
 * Bearer; only its SHA-256 is stored by the receiver) and pins the other's
 * console certificate. Keys and tokens are never logged or returned by the
 * operator's API.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adm_api.h"
#include "adm_apply.h"
#include "adm_auth.h"
#include "adm_pair.h"
#include "adm_pairmsg.h"
#include "adm_peerc.h"
#include "adm_sync.h"
#include "adm_syncstore.h"
#include "db.h"
#include "db_pair.h"
#include "jh.h"
#include "log.h"
#include "peer.h"

#define ADM_PAIR_JOIN_MS 15000		/* the join call (A makes keys) */
#define ADM_PAIR_UNPAIR_MS 2000

/* ---- small helpers ---- */

static int
adm_pair_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the directory tree at dir (our own scratch directory). */
static void
adm_pair_rmtree(const char *dir)
{
	nftw(dir, adm_pair_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes the peer link's three files into a->peer_dir. */
static int
adm_pair_install(struct adm *a, const char *ca, const char *node_pem, const char *node_key)
{
	char path[4096];
	int rc;

	if (mkdir(a->peer_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/node.key", a->peer_dir);
	rc = jh_write_file_atomic(path, node_key, 0600);
	snprintf(path, sizeof(path), "%s/node.pem", a->peer_dir);
	if (rc == 0)
		rc = jh_write_file_atomic(path, node_pem, 0644);
	snprintf(path, sizeof(path), "%s/ca.pem", a->peer_dir);
	if (rc == 0)
		rc = jh_write_file_atomic(path, ca, 0644);
	return rc;
}

/* Removes the peer link's files (unpaired: the old peer must not connect). */
static void
adm_pair_uninstall(struct adm *a)
{
	static const char *const files[] = { "node.key", "node.pem", "ca.pem" };
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->peer_dir, files[i]);
		unlink(path);
	}
}

/* Moves every revision after base (any status) into revision_conflicts:
 * kept, marked conflicted, their numbers free for the pair's. */
static int
adm_pair_set_aside(struct db *db, long after, const char *reason, long long now)
{
	json_t *list = NULL, *r;
	size_t i;
	int rc = db_revision_list(db, &list);

	json_array_foreach(list, i, r) {
		long n = (long)json_integer_value(json_object_get(r, "number"));

		if (n <= after || rc < 0)
			continue;
		rc = db_revision_conflict(db, n, reason, now);
		if (rc == 0)
			log_notice("revision %ld kept aside as conflicted: %s", n, reason);
	}
	json_decref(list);
	return rc;
}

/* ---- the operator's view ---- */

static json_t *
adm_pair_view_json(struct adm *a)
{
	struct adm_sync_view v;
	struct db_pair p;
	json_t *out, *peer = json_null(), *master = json_null(), *token = json_null();
	long long exp;

	adm_sync_view(a->sync, &v);
	if (db_pair_get(a->db, &p) == 0) {
		peer = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s?, s:b, s:s?, s:o, s:o, s:s?, s:o, s:I}",
				 "node", p.peer_node, "console", p.peer_console,
				 "fingerprint", p.peer_fingerprint, "since", (json_int_t)p.created,
				 "state", p.state, "reason", p.reason[0] ? p.reason : NULL,
				 "up", v.peer_up, "role", v.peer_role[0] ? v.peer_role : NULL,
				 "priority", v.peer_up ? json_integer(v.peer_priority) : json_null(),
				 "revision", v.peer_up ? json_integer(v.peer_revision) : json_null(),
				 "last_error", v.last_error[0] ? v.last_error : NULL,
				 "last_contact", v.last_contact ? json_integer(v.last_contact) : json_null(),
				 "base_revision", (json_int_t)p.base_number);
		db_pair_release(&p);
	}
	if (strcmp(v.local_role, "MASTER") == 0)
		master = json_pack("{s:s, s:s}", "node", a->node, "console", a->console_url);
	else if (v.peer_up && strcmp(v.peer_role, "MASTER") == 0)
		master = json_pack("{s:s, s:s}", "node", v.peer_node, "console", v.peer_console);
	if (db_pair_token_live(a->db, (long long)a->now(), &exp) == 0)
		token = json_pack("{s:I}", "expires_at", (json_int_t)exp);
	out = json_pack("{s:s, s:s, s:s?, s:b, s:s, s:i, s:b, s:o, s:o, s:o}",
			"node", a->node, "console", a->console_url,
			"fingerprint", a->fingerprint[0] ? a->fingerprint : NULL,
			"paired", !json_is_null(peer), "role", v.local_role[0] ? v.local_role : "UNKNOWN",
			"priority", adm_sync_priority(a->db), "writable", v.writable,
			"peer", peer, "master", master, "token", token);
	return out;
}

/* ---- operator: token, join, unpair ---- */

static void
adm_pair_token(struct adm *a, const char *user, struct adm_resp *rs)
{
	struct db_pair p;
	char token[2 * 16 + 1], hash[65];
	long long now = (long long)a->now();
	int rc;

	if (a->fingerprint[0] == '\0') {
		adm_resp_error(rs, 409, "no_tls", "pairing needs the console on HTTPS (not --http)", NULL);
		return;
	}
	if (db_pair_get(a->db, &p) == 0) {
		db_pair_release(&p);
		adm_resp_error(rs, 409, "paired", "this node is already paired: unpair first", NULL);
		return;
	}
	rc = adm_random_hex(token, 16);
	if (rc == 0) {
		adm_sha256_hex(token, hash);
		rc = db_pair_token_put(a->db, hash, now, now + a->pair_token_ttl);
	}
	if (rc < 0) {
		adm_db_error(rs, rc, "pairing token", NULL);
		return;
	}
	log_notice("user \"%s\" made a pairing token (valid %d s)", user, a->pair_token_ttl);
	adm_ok(rs, 201, json_pack("{s:s, s:I, s:s, s:s, s:s}", "token", token,
				  "expires_at", (json_int_t)(now + a->pair_token_ttl),
				  "fingerprint", a->fingerprint, "console", a->console_url, "node", a->node));
	memset(token, 0, sizeof(token));
}

static void
adm_pair_join(struct adm *a, const char *user, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body = adm_body_object(rq, rs), *msg = NULL, *resp = NULL, *errors;
	const char *token, *console_in;
	char console[128], fp[65], key[65], err[512], hash[65], reason[256];
	struct db_pair p = { 0 };
	long status = 0;
	int rc;

	if (body == NULL)
		return;
	if (a->fingerprint[0] == '\0') {
		adm_resp_error(rs, 409, "no_tls", "pairing needs the console on HTTPS (not --http)", NULL);
		goto out;
	}
	if (db_pair_get(a->db, &p) == 0) {
		db_pair_release(&p);
		adm_resp_error(rs, 409, "paired", "this node is already paired: unpair first", NULL);
		goto out;
	}
	errors = json_array();
	console_in = json_string_value(json_object_get(body, "console"));
	token = json_string_value(json_object_get(body, "token"));
	if (adm_peerc_console(console_in, console, sizeof(console)) < 0)
		json_array_append_new(errors, json_pack("{s:s, s:s}", "field", "pair/console", "message",
							"must be https://ADDRESS:PORT (numeric address)"));
	if (token == NULL || strlen(token) < 8 || strlen(token) > 128)
		json_array_append_new(errors, json_pack("{s:s, s:s}", "field", "pair/token", "message",
							"must be the token shown by the other console"));
	if (adm_pairmsg_fingerprint(json_string_value(json_object_get(body, "fingerprint")), fp) < 0)
		json_array_append_new(errors, json_pack("{s:s, s:s}", "field", "pair/fingerprint", "message",
							"must be the SHA-256 fingerprint shown by the other console (64 hex digits)"));
	if (adm_verdict(rs, errors) < 0)
		goto out;
	if (adm_random_hex(key, 32) < 0) {
		adm_resp_error(rs, 500, "internal", "no randomness", NULL);
		goto out;
	}
	msg = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", token, "node", a->node,
			"console", a->console_url, "fingerprint", a->fingerprint, "key", key);
	rc = msg ? adm_peerc_call(console, fp, "POST", "/pair/peer/accept", NULL, msg, ADM_PAIR_JOIN_MS,
				  &status, &resp, err, sizeof(err)) : -ENOMEM;
	if (rc == -EPERM) {
		adm_resp_error(rs, 502, "fingerprint_mismatch", err, "pair/fingerprint");
		goto out;
	}
	if (rc < 0) {
		adm_resp_error(rs, 502, "peer_unreachable", err, "pair/console");
		goto out;
	}
	if (status != 200) {
		const char *m = json_string_value(json_object_get(json_object_get(resp, "error"), "message"));

		snprintf(err, sizeof(err), "the other console refused: %s", m ? m : "no reason given");
		adm_resp_error(rs, status == 403 || status == 429 ? 403 : 409,
			       status == 403 || status == 429 ? "token_refused" : "peer_refused", err,
			       status == 403 ? "pair/token" : NULL);
		goto out;
	}
	if (adm_pairmsg_accept_resp(resp, err, sizeof(err)) < 0) {
		adm_resp_error(rs, 502, "peer_invalid", "the other console's answer is malformed", NULL);
		log_warn("pairing with %s: malformed answer (%s)", console, err);
		goto out;
	}
	rc = adm_pair_install(a, json_string_value(json_object_get(resp, "ca_pem")),
			      json_string_value(json_object_get(resp, "node_pem")),
			      json_string_value(json_object_get(resp, "node_key")));
	if (rc < 0) {
		log_err("pairing: cannot write the peer link's files in %s: %s", a->peer_dir, strerror(-rc));
		adm_resp_error(rs, 500, "write_failed", "cannot write the peer link's certificates", NULL);
		goto out;
	}
	adm_sha256_hex(key, hash);
	p.peer_node = (char *)json_string_value(json_object_get(resp, "node"));
	p.peer_console = console;
	p.peer_fingerprint = fp;
	p.out_key = (char *)json_string_value(json_object_get(resp, "key"));
	p.in_key_hash = hash;
	p.created = (long long)a->now();
	/* The joiner takes the other node's configuration: its own history is
	 * kept aside (conflicted), never dropped. */
	snprintf(reason, sizeof(reason), "replaced when this node joined the pair with %s", p.peer_node);
	rc = db_tx_begin(a->db);
	if (rc == 0)
		rc = adm_pair_set_aside(a->db, 0, reason, p.created);
	if (rc == 0)
		rc = db_pair_put(a->db, &p);
	if (db_tx_end(a->db, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0) {
		adm_db_error(rs, rc, "pair", NULL);
		goto out;
	}
	log_notice("user \"%s\" paired this node (%s) with %s at %s (fingerprint %s)", user, a->node,
		   p.peer_node, console, fp);
	adm_ok(rs, 200, adm_pair_view_json(a));
out:
	memset(key, 0, sizeof(key));
	json_decref(body);
	json_decref(msg);
	json_decref(resp);
}

static void
adm_pair_unpair(struct adm *a, const char *user, struct adm_resp *rs)
{
	struct db_pair p;
	json_t *resp = NULL;
	char err[256];
	long status = 0;
	int notified, rc = db_pair_get(a->db, &p);

	if (rc < 0) {
		adm_db_error(rs, rc, "pair", NULL);
		return;
	}
	/* Tell the other side first; unpair here whatever it answers. */
	rc = adm_peerc_call(p.peer_console, p.peer_fingerprint, "POST", "/pair/peer/unpair", p.out_key,
			    NULL, ADM_PAIR_UNPAIR_MS, &status, &resp, err, sizeof(err));
	notified = rc == 0 && (status == 200 || status == 401);
	json_decref(resp);
	rc = db_pair_delete(a->db);
	if (rc < 0) {
		db_pair_release(&p);
		adm_db_error(rs, rc, "pair", NULL);
		return;
	}
	adm_pair_uninstall(a);
	adm_sync_forget(a->sync);
	log_notice("user \"%s\" unpaired this node from %s (%s)", user, p.peer_node,
		   notified ? "it was told" : "it could not be told: it will see the pair broken");
	adm_ok(rs, 200, json_pack("{s:b, s:s, s:b}", "unpaired", 1, "peer", p.peer_node,
				  "peer_notified", notified));
	db_pair_release(&p);
}

void
adm_pair_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
		const struct adm_req *rq, struct adm_resp *rs)
{
	const char *m = rq->method;

	if (nsegs == 1 && strcmp(m, "GET") == 0)
		adm_ok(rs, 200, adm_pair_view_json(a));
	else if (nsegs == 1 && strcmp(m, "DELETE") == 0)
		adm_pair_unpair(a, user, rs);
	else if (nsegs == 2 && strcmp(segs[1], "token") == 0 && strcmp(m, "POST") == 0)
		adm_pair_token(a, user, rs);
	else if (nsegs == 2 && strcmp(segs[1], "join") == 0 && strcmp(m, "POST") == 0)
		adm_pair_join(a, user, rq, rs);
	else if (nsegs <= 2 && (nsegs == 1 || strcmp(segs[1], "token") == 0 || strcmp(segs[1], "join") == 0))
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
	else
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
}

/* ---- console to console ---- */

/* 0 when the bearer key is the pair's (p filled), else rs is 401. */
static int
adm_pair_auth(struct adm *a, const struct adm_req *rq, struct db_pair *p, struct adm_resp *rs)
{
	char hash[65];

	if (db_pair_get(a->db, p) < 0) {
		adm_resp_error(rs, 401, "unpaired", "this node is not paired", NULL);
		return -1;
	}
	if (rq->bearer != NULL)
		adm_sha256_hex(rq->bearer, hash);
	if (rq->bearer == NULL || !adm_token_equal(hash, p->in_key_hash)) {
		db_pair_release(p);
		adm_resp_error(rs, 401, "unauthenticated", "not the pair's key", NULL);
		return -1;
	}
	return 0;
}

static void
adm_pair_accept(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body = adm_body_object(rq, rs);
	char err[256], hash[65], tkey[128], tmp[4096], path[4096], key[65], msg[256];
	const char *node;
	char *files[3] = { NULL, NULL, NULL };
	static const char *const names[3] = { "ca.pem", "node.pem", "node.key" };
	struct db_pair p;
	long wait;
	size_t i, len;
	int rc;

	if (body == NULL)
		return;
	snprintf(tkey, sizeof(tkey), "pair:%s", rq->client ? rq->client : "?");
	wait = adm_throttle_wait(a->db, tkey, a->now());
	if (wait > 0) {
		adm_resp_error(rs, 429, "throttled", "too many wrong pairing tokens; wait", NULL);
		rs->retry_after = wait;
		goto out;
	}
	if (adm_pairmsg_accept_req(body, err, sizeof(err)) < 0) {
		adm_resp_error(rs, 422, "invalid", err, NULL);
		goto out;
	}
	node = json_string_value(json_object_get(body, "node"));
	if (db_pair_get(a->db, &p) == 0) {
		db_pair_release(&p);
		adm_resp_error(rs, 409, "paired", "the other console is already paired", NULL);
		goto out;
	}
	if (strcmp(node, a->node) == 0) {
		adm_resp_error(rs, 409, "same_node", "both nodes have the same name (tandem-admin --node)", NULL);
		goto out;
	}
	adm_sha256_hex(json_string_value(json_object_get(body, "token")), hash);
	rc = db_pair_token_use(a->db, hash, (long long)a->now());
	if (rc < 0) {
		adm_throttle_fail(a->db, tkey, a->now());
		snprintf(msg, sizeof(msg), "pairing token %s", rc == -ETIME ? "expired" :
			 rc == -EALREADY ? "already used" : "unknown");
		log_warn("pairing attempt from %s (node %s) refused: %s", rq->client ? rq->client : "?", node, msg);
		adm_resp_error(rs, 403, "token_refused", msg, NULL);
		goto out;
	}
	/* The pair's certificates, made in a scratch directory; the CA key
	 * does not outlive this request (re-pair to renew). */
	snprintf(tmp, sizeof(tmp), "%s/pair-new", a->state_dir);
	adm_pair_rmtree(tmp);
	rc = peer_pki_pair_init(tmp, a->node, node, err, sizeof(err));
	for (i = 0; rc == 0 && i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", tmp, node, names[i]) >= sizeof(path))
			rc = -ENAMETOOLONG;
		else if ((files[i] = adm_read_file(path, &len)) == NULL)
			rc = -EIO;
	}
	if (rc == 0) {
		char *mine[3] = { NULL, NULL, NULL };

		for (i = 0; rc == 0 && i < 3; i++) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", tmp, a->node, names[i]) >= sizeof(path))
				rc = -ENAMETOOLONG;
			else if ((mine[i] = adm_read_file(path, &len)) == NULL)
				rc = -EIO;
		}
		if (rc == 0)
			rc = adm_pair_install(a, mine[0], mine[1], mine[2]);
		for (i = 0; i < 3; i++) {
			if (mine[i] != NULL)
				memset(mine[i], 0, strlen(mine[i]));
			free(mine[i]);
		}
	}
	adm_pair_rmtree(tmp);
	if (rc == 0)
		rc = adm_random_hex(key, 32);
	if (rc == 0) {
		adm_sha256_hex(key, hash);
		p.peer_node = (char *)node;
		p.peer_console = (char *)json_string_value(json_object_get(body, "console"));
		p.peer_fingerprint = (char *)json_string_value(json_object_get(body, "fingerprint"));
		p.out_key = (char *)json_string_value(json_object_get(body, "key"));
		p.in_key_hash = hash;
		p.created = (long long)a->now();
		p.state = p.reason = p.base_hash = NULL;
		rc = db_pair_put(a->db, &p);
	}
	if (rc < 0) {
		log_err("pairing with %s failed: %s", node, rc == -EIO ? err : strerror(-rc));
		adm_resp_error(rs, 500, "internal", "cannot make or store the pair's certificates", NULL);
		goto out;
	}
	log_notice("paired with %s (console %s, fingerprint %s)", node,
		   json_string_value(json_object_get(body, "console")),
		   json_string_value(json_object_get(body, "fingerprint")));
	adm_ok(rs, 200, json_pack("{s:s, s:s, s:s, s:s, s:s}", "node", a->node, "key", key,
				  "ca_pem", files[0], "node_pem", files[1], "node_key", files[2]));
out:
	memset(key, 0, sizeof(key));
	for (i = 0; i < 3; i++) {
		if (files[i] != NULL)
			memset(files[i], 0, strlen(files[i]));
		free(files[i]);
	}
	json_decref(body);
}

static void
adm_pair_state(struct adm *a, struct adm_resp *rs)
{
	struct adm_sync_view v;
	char *content = NULL, hash[65];
	long n = 0;
	int rc = db_revision_running(a->db, &n, &content);

	if (rc < 0 && rc != -ENOENT) {
		adm_db_error(rs, rc, "revision", NULL);
		return;
	}
	if (rc == -ENOENT)
		n = 0;
	adm_sync_hash(content, hash);
	free(content);
	adm_sync_view(a->sync, &v);
	adm_ok(rs, 200, json_pack("{s:s, s:s, s:i, s:b, s:s, s:{s:I, s:s}}", "node", a->node,
				  "role", v.local_role[0] ? v.local_role : "UNKNOWN",
				  "priority", adm_sync_priority(a->db), "writable", v.writable,
				  "console", a->console_url, "running", "number", (json_int_t)n,
				  "hash", hash));
}

/* Receives one revision from the other node (adm_sync.c pushes). */
static void
adm_pair_push(struct adm *a, const struct adm_req *rq, const struct db_pair *p, struct adm_resp *rs)
{
	json_t *body = adm_body_object(rq, rs), *rev, *list = NULL, *r, *sub;
	const char *node;
	char err[256], reason[256], mine[65], theirs[65], *content = NULL, *text = NULL;
	long base, n;
	int prio, sprio, own_applied = 0, rc;
	size_t i;

	if (body == NULL)
		return;
	if (adm_pairmsg_push(body, err, sizeof(err)) < 0) {
		adm_resp_error(rs, 422, "invalid", err, NULL);
		goto out;
	}
	node = json_string_value(json_object_get(body, "node"));
	if (strcmp(node, p->peer_node) != 0) {
		adm_resp_error(rs, 403, "forbidden", "not the paired node", NULL);
		goto out;
	}
	rev = json_object_get(body, "revision");
	n = (long)json_integer_value(json_object_get(rev, "number"));
	base = (long)json_integer_value(json_object_get(body, "base"));
	sprio = (int)json_integer_value(json_object_get(body, "priority"));
	text = jh_dump_canonical(json_object_get(rev, "config"));
	if (text == NULL || adm_sync_hash(text, theirs) < 0) {
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		goto out;
	}
	/* What do we hold after base? The same revision: done (idempotent).
	 * Our own applied ones: a split brain, decided by priority. */
	rc = db_revision_list(a->db, &list);
	json_array_foreach(list, i, r) {
		long rn = (long)json_integer_value(json_object_get(r, "number"));

		if (rn <= base || rc < 0)
			continue;
		free(content);
		content = NULL;
		rc = db_revision_content(a->db, rn, &content);
		if (rc == 0)
			rc = adm_sync_hash(content, mine);
		if (rc == 0 && rn == n && strcmp(mine, theirs) == 0) {
			adm_ok(rs, 200, json_pack("{s:I, s:O, s:b}", "stored", (json_int_t)n, "status",
						  json_object_get(r, "status"), "already", 1));
			goto out;
		}
		if (strcmp(json_string_value(json_object_get(r, "status")), "applied") == 0)
			own_applied = 1;
	}
	if (rc < 0) {
		adm_db_error(rs, rc, "revisions", NULL);
		goto out;
	}
	prio = adm_sync_priority(a->db);
	if (own_applied && (prio > sprio || (prio == sprio && strcmp(a->node, node) < 0))) {
		snprintf(err, sizeof(err), "%s has its own revisions after %ld and the higher priority (%d vs %d)",
			 a->node, base, prio, sprio);
		adm_resp_error(rs, 409, "conflict", err, NULL);
		goto out;
	}
	snprintf(reason, sizeof(reason), own_applied ?
		 "split brain: lost to %s's revision %ld (priority %d vs %d)" :
		 "number taken by %s's revision %ld", node, n, sprio, prio);
	rc = adm_pair_set_aside(a->db, base, reason, (long long)a->now());
	if (rc < 0) {
		adm_db_error(rs, rc, "revisions", NULL);
		goto out;
	}
	sub = NULL;
	adm_apply_pushed(a, n, json_string_value(json_object_get(rev, "author")),
			 (long long)json_integer_value(json_object_get(rev, "created_at")),
			 json_string_value(json_object_get(rev, "comment")), json_object_get(rev, "config"),
			 json_object_get(body, "stores"), rs);
	/* The pusher wants to know what happened, not an apply's error shape. */
	if (rs->status == 200) {
		json_decref(rs->body);
		rs->body = json_pack("{s:I, s:s}", "stored", (json_int_t)n, "status", "applied");
	} else if (rs->status == 422 || rs->status == 503) {
		sub = json_incref(json_object_get(json_object_get(rs->body, "error"), "message"));
		json_decref(rs->body);
		rs->status = 200;
		rs->body = json_pack("{s:I, s:s, s:o}", "stored", (json_int_t)n, "status", "failed",
				     "message", sub ? sub : json_string("refused"));
	}
	log_notice("config sync: revision %ld from %s stored (%s)", n, node,
		   json_string_value(json_object_get(rs->body, "status")) ?: "error");
out:
	free(content);
	free(text);
	json_decref(list);
	if (body != NULL)
		adm_syncstore_wipe(json_object_get(body, "stores"));
	json_decref(body);
}

int
adm_pair_peer_handle(struct adm *a, const struct adm_req *rq, char *const *segs, size_t nsegs,
		     struct adm_resp *rs)
{
	struct db_pair p;
	const char *op;

	if (nsegs != 3 || strcmp(segs[0], "pair") != 0 || strcmp(segs[1], "peer") != 0)
		return 0;
	op = segs[2];
	if (strcmp(op, "accept") == 0) {
		if (strcmp(rq->method, "POST") != 0)
			adm_resp_error(rs, 405, "method_not_allowed", "POST only", NULL);
		else
			adm_pair_accept(a, rq, rs);
		return 1;
	}
	if (strcmp(op, "state") != 0 && strcmp(op, "push") != 0 && strcmp(op, "unpair") != 0) {
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
		return 1;
	}
	if (adm_pair_auth(a, rq, &p, rs) < 0)
		return 1;
	if (strcmp(op, "state") == 0 && strcmp(rq->method, "GET") == 0) {
		adm_pair_state(a, rs);
	} else if (strcmp(op, "push") == 0 && strcmp(rq->method, "POST") == 0) {
		adm_pair_push(a, rq, &p, rs);
	} else if (strcmp(op, "unpair") == 0 && strcmp(rq->method, "POST") == 0) {
		db_pair_delete(a->db);
		adm_pair_uninstall(a);
		adm_sync_forget(a->sync);
		log_notice("%s unpaired this node", p.peer_node);
		adm_ok(rs, 200, json_pack("{s:b}", "unpaired", 1));
	} else {
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
	}
	db_pair_release(&p);
	return 1;
}

/* ---- conflicted revisions ---- */

static int
adm_pair_by_number_desc(const void *x, const void *y)
{
	json_t *const *a = x, *const *b = y;
	json_int_t na = json_integer_value(json_object_get(*a, "number"));
	json_int_t nb = json_integer_value(json_object_get(*b, "number"));

	if (na != nb)
		return na < nb ? 1 : -1;
	/* the live revision first, then the conflicted ones by id, newest first */
	return (int)(json_integer_value(json_object_get(*b, "id")) -
		     json_integer_value(json_object_get(*a, "id")));
}

void
adm_pair_revisions_annotate(struct adm *a, json_t *list)
{
	json_t *conf = NULL, *v, **items;
	size_t i, n;

	if (db_revision_conflict_list(a->db, &conf) < 0 || json_array_size(conf) == 0) {
		json_decref(conf);
		return;
	}
	json_array_extend(list, conf);
	json_decref(conf);
	n = json_array_size(list);
	items = calloc(n, sizeof(*items));
	if (items == NULL)
		return;
	json_array_foreach(list, i, v)
		items[i] = json_incref(v);
	qsort(items, n, sizeof(*items), adm_pair_by_number_desc);
	json_array_clear(list);
	for (i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
}

void
adm_pair_conflicts_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
			  const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *out = NULL;
	char *end = NULL;
	long id = nsegs >= 3 ? strtol(segs[2], &end, 10) : 0;
	int rc;

	if (nsegs == 2) {
		if (strcmp(rq->method, "GET") != 0) {
			adm_resp_error(rs, 405, "method_not_allowed", "GET only", NULL);
			return;
		}
		rc = db_revision_conflict_list(a->db, &out);
		if (rc < 0)
			adm_db_error(rs, rc, "revisions", NULL);
		else
			adm_ok(rs, 200, out);
		return;
	}
	if (end == NULL || *end != '\0' || id <= 0 || nsegs > 4 ||
	    (nsegs == 4 && strcmp(segs[3], "restore") != 0)) {
		adm_resp_error(rs, 404, "not_found", "no such conflicted revision", NULL);
		return;
	}
	if (nsegs == 3) {
		if (strcmp(rq->method, "GET") != 0) {
			adm_resp_error(rs, 405, "method_not_allowed", "GET only", NULL);
			return;
		}
		rc = db_revision_conflict_get(a->db, id, &out);
		if (rc < 0)
			adm_db_error(rs, rc, "conflicted revision", NULL);
		else
			adm_ok(rs, 200, out);
		return;
	}
	if (strcmp(rq->method, "POST") != 0) {
		adm_resp_error(rs, 405, "method_not_allowed", "POST only", NULL);
		return;
	}
	rc = db_revision_conflict_restore(a->db, id);
	if (rc < 0) {
		adm_db_error(rs, rc, "conflicted revision", NULL);
		return;
	}
	log_notice("user \"%s\" restored conflicted revision %ld (id) into the candidate", user, id);
	adm_ok(rs, 200, json_pack("{s:I}", "restored_conflict", (json_int_t)id));
}
