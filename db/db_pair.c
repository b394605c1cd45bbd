/*
 * db_pair - pairing tokens, the pair, and the revision history parts that
 * config sync needs (db_pair.h). Revisions that lose a split brain move to
 * revision_conflicts in one transaction with their row's removal, so their
 * number is free for the winner's revision and nothing is ever dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"
#include "db_pair.h"

int
db_pair_token_put(struct db *db, const char *hash, long long now, long long expires)
{
	sqlite3_stmt *st;
	int rc = db_tx_begin(db);

	if (rc < 0)
		return rc;
	rc = db__run(db, "DELETE FROM pair_tokens", NULL);
	st = rc == 0 ? db__prepare(db, "INSERT INTO pair_tokens (token_hash, created, expires) "
				   "VALUES (?, ?, ?)") : NULL;
	if (rc == 0 && st == NULL)
		rc = -EIO;
	if (st != NULL) {
		db__bind_text(st, 1, hash);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, expires);
		rc = db__exec_stmt(db, st);
	}
	if (db_tx_end(db, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int
db_pair_token_use(struct db *db, const char *hash, long long now)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT expires, used FROM pair_tokens WHERE token_hash = ?");
	long long expires;
	int rc, used;

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, hash);
	rc = db__step_row(db, st);
	if (rc < 0) {
		sqlite3_finalize(st);
		return rc;
	}
	expires = sqlite3_column_int64(st, 0);
	used = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	if (used)
		return -EALREADY;
	if (now >= expires)
		return -ETIME;
	st = db__prepare(db, "UPDATE pair_tokens SET used = 1 WHERE token_hash = ? AND used = 0");
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, hash);
	rc = db__exec_stmt(db, st);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -EALREADY;
	return rc;
}

int
db_pair_token_live(struct db *db, long long now, long long *expires)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT expires FROM pair_tokens WHERE used = 0 AND expires > ?");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	rc = db__step_row(db, st);
	if (rc == 0)
		*expires = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

void
db_pair_release(struct db_pair *p)
{
	free(p->peer_node);
	free(p->peer_console);
	free(p->peer_fingerprint);
	if (p->out_key != NULL)
		memset(p->out_key, 0, strlen(p->out_key));
	free(p->out_key);
	free(p->in_key_hash);
	free(p->state);
	free(p->reason);
	free(p->base_hash);
	memset(p, 0, sizeof(*p));
}

int
db_pair_get(struct db *db, struct db_pair *p)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT peer_node, peer_console, peer_fingerprint, out_key, "
				       "in_key_hash, state, reason, base_hash, created, base_number "
				       "FROM pair WHERE id = 1");
	int rc;

	memset(p, 0, sizeof(*p));
	if (st == NULL)
		return -EIO;
	rc = db__step_row(db, st);
	if (rc == 0) {
		p->peer_node = db__col_dup(st, 0);
		p->peer_console = db__col_dup(st, 1);
		p->peer_fingerprint = db__col_dup(st, 2);
		p->out_key = db__col_dup(st, 3);
		p->in_key_hash = db__col_dup(st, 4);
		p->state = db__col_dup(st, 5);
		p->reason = db__col_dup(st, 6);
		p->base_hash = db__col_dup(st, 7);
		p->created = sqlite3_column_int64(st, 8);
		p->base_number = (long)sqlite3_column_int64(st, 9);
		if (!p->peer_node || !p->peer_console || !p->peer_fingerprint || !p->out_key ||
		    !p->in_key_hash || !p->state || !p->reason || !p->base_hash) {
			db_pair_release(p);
			rc = -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_pair_put(struct db *db, const struct db_pair *p)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT OR REPLACE INTO pair (id, peer_node, peer_console, "
				       "peer_fingerprint, out_key, in_key_hash, created) "
				       "VALUES (1, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, p->peer_node);
	db__bind_text(st, 2, p->peer_console);
	db__bind_text(st, 3, p->peer_fingerprint);
	db__bind_text(st, 4, p->out_key);
	db__bind_text(st, 5, p->in_key_hash);
	sqlite3_bind_int64(st, 6, p->created);
	return db__exec_stmt(db, st);
}

int
db_pair_delete(struct db *db)
{
	return db__run(db, "DELETE FROM pair", NULL);
}

int
db_pair_set_state(struct db *db, const char *state, const char *reason)
{
	return db__run(db, "UPDATE pair SET state = ?, reason = ?", state, reason ? reason : "", NULL);
}

int
db_pair_set_base(struct db *db, long number, const char *hash)
{
	sqlite3_stmt *st = db__prepare(db, "UPDATE pair SET base_number = ?, base_hash = ?");

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, number);
	db__bind_text(st, 2, hash);
	return db__exec_stmt(db, st);
}

int
db_revision_insert(struct db *db, long number, const char *author, long long created_at,
		   const char *comment, const char *status, const char *content)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO revisions (number, author, created_at, comment, "
				       "status, content) VALUES (?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, number);
	db__bind_text(st, 2, author);
	sqlite3_bind_int64(st, 3, created_at);
	db__bind_text(st, 4, comment ? comment : "");
	db__bind_text(st, 5, status);
	db__bind_text(st, 6, content);
	return db__exec_stmt(db, st);
}

int
db_revision_conflict(struct db *db, long number, const char *reason, long long now)
{
	sqlite3_stmt *st;
	int rc = db_tx_begin(db);

	if (rc < 0)
		return rc;
	st = db__prepare(db, "INSERT INTO revision_conflicts (number, author, created_at, comment, status, "
			 "errors, content, conflicted_at, reason) SELECT number, author, created_at, "
			 "comment, status, errors, content, ?, ? FROM revisions WHERE number = ?");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now);
	db__bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, number);
	rc = db__exec_stmt(db, st);
	rc = db__changed(db, rc);
	if (rc < 0)
		goto out;
	st = db__prepare(db, "DELETE FROM revisions WHERE number = ?");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, number);
	rc = db__exec_stmt(db, st);
out:
	if (db_tx_end(db, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

static json_t *
db_conflict_row(struct db *db, sqlite3_stmt *st)
{
	(void)db;
	return json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:I}",
			 "id", (json_int_t)sqlite3_column_int64(st, 0),
			 "number", (json_int_t)sqlite3_column_int64(st, 1),
			 "author", (const char *)sqlite3_column_text(st, 2),
			 "created_at", (json_int_t)sqlite3_column_int64(st, 3),
			 "comment", (const char *)sqlite3_column_text(st, 4),
			 "status", "conflicted",
			 "was", (const char *)sqlite3_column_text(st, 5),
			 "reason", (const char *)sqlite3_column_text(st, 6),
			 "conflicted_at", (json_int_t)sqlite3_column_int64(st, 7));
}

#define DB_CONFLICT_COLS "id, number, author, created_at, comment, status, reason, conflicted_at"

int
db_revision_conflict_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT " DB_CONFLICT_COLS " FROM revision_conflicts "
					"ORDER BY id DESC"),
			db_conflict_row, out);
}

int
db_revision_conflict_get(struct db *db, long id, json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT " DB_CONFLICT_COLS ", content FROM revision_conflicts "
				       "WHERE id = ?");
	json_t *rev, *cfg;
	int rc;

	*out = NULL;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = db__step_row(db, st);
	if (rc == 0) {
		rev = db_conflict_row(db, st);
		cfg = json_loads((const char *)sqlite3_column_text(st, 8), 0, NULL);
		if (rev == NULL || cfg == NULL) {
			json_decref(rev);
			json_decref(cfg);
			rc = -ENOMEM;
		} else {
			json_object_set_new(rev, "config", cfg);
			*out = rev;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_revision_conflict_restore(struct db *db, long id)
{
	json_t *rev = NULL;
	int rc = db_revision_conflict_get(db, id, &rev);

	if (rc == 0)
		rc = db_candidate_load(db, json_object_get(rev, "config"));
	json_decref(rev);
	return rc;
}
