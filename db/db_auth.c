/*
 * db_auth - users, sessions and login-failure counters.
 *
 * Policy (hashing, expiry, throttling rules) lives in admin-ui/adm_auth.c;
 * this file only stores. Sessions are keyed by the hex SHA-256 of the token,
 * never the token itself.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

int
db_user_add(struct db *db, const char *username, const char *hash, const char *role,
	    long long now)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO users (username, hash, role, created) "
				       "VALUES (?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, username);
	db__bind_text(st, 2, hash);
	db__bind_text(st, 3, role);
	sqlite3_bind_int64(st, 4, now);
	return db__exec_stmt(db, st);
}

int
db_user_get(struct db *db, const char *username, struct db_user *out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT username, hash, role FROM users WHERE username = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, username);
	rc = db__step_row(db, st);
	if (rc == 0) {
		out->username = db__col_dup(st, 0);
		out->hash = db__col_dup(st, 1);
		out->role = db__col_dup(st, 2);
		rc = out->username && out->hash && out->role ? 0 : -ENOMEM;
		if (rc < 0)
			db_user_release(out);
	}
	sqlite3_finalize(st);
	return rc;
}

void
db_user_release(struct db_user *u)
{
	free(u->username);
	free(u->hash);
	free(u->role);
	memset(u, 0, sizeof(*u));
}

long
db_user_count(struct db *db)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT COUNT(*) FROM users");
	long n = -EIO;

	if (st == NULL)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
db_session_add(struct db *db, const char *token_hash, const char *username,
	       const char *csrf, long long now)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO sessions (token_hash, username, csrf, created, "
				       "last_seen) VALUES (?, ?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, token_hash);
	db__bind_text(st, 2, username);
	db__bind_text(st, 3, csrf);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	return db__exec_stmt(db, st);
}

int
db_session_get(struct db *db, const char *token_hash, long long now, long idle,
	       struct db_session *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	st = db__prepare(db, "SELECT s.username, u.role, s.csrf, s.created, s.last_seen "
			 "FROM sessions s JOIN users u ON u.username = s.username "
			 "WHERE s.token_hash = ?");
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, token_hash);
	rc = db__step_row(db, st);
	if (rc < 0) {
		sqlite3_finalize(st);
		return rc;
	}
	out->username = db__col_dup(st, 0);
	out->role = db__col_dup(st, 1);
	out->csrf = db__col_dup(st, 2);
	out->created = sqlite3_column_int64(st, 3);
	out->last_seen = sqlite3_column_int64(st, 4);
	sqlite3_finalize(st);
	if (!out->username || !out->role || !out->csrf) {
		db_session_release(out);
		return -ENOMEM;
	}
	if (now - out->last_seen > idle) {
		db_session_release(out);
		db_session_delete(db, token_hash);
		return -ENOENT;
	}
	st = db__prepare(db, "UPDATE sessions SET last_seen = ? WHERE token_hash = ?");
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, now);
		db__bind_text(st, 2, token_hash);
	}
	rc = db__exec_stmt(db, st);
	if (rc < 0)
		db_session_release(out);
	else
		out->last_seen = now;
	return rc;
}

void
db_session_release(struct db_session *s)
{
	free(s->username);
	free(s->role);
	free(s->csrf);
	memset(s, 0, sizeof(*s));
}

int
db_session_delete(struct db *db, const char *token_hash)
{
	return db__run(db, "DELETE FROM sessions WHERE token_hash = ?", token_hash, NULL);
}

int
db_session_expire(struct db *db, long long now, long idle)
{
	sqlite3_stmt *st = db__prepare(db, "DELETE FROM sessions WHERE last_seen < ?");

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, now - idle);
	return db__exec_stmt(db, st);
}

int
db_throttle_get(struct db *db, const char *key, long *failures, long long *last)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT failures, last_failure FROM login_failures WHERE key = ?");
	int rc;

	*failures = 0;
	*last = 0;
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, key);
	rc = db__step_row(db, st);
	if (rc == 0) {
		*failures = (long)sqlite3_column_int64(st, 0);
		*last = sqlite3_column_int64(st, 1);
	} else if (rc == -ENOENT) {
		rc = 0;		/* no failures counted yet */
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_throttle_set(struct db *db, const char *key, long failures, long long last)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO login_failures (key, failures, last_failure) "
				       "VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
				       "failures = excluded.failures, last_failure = excluded.last_failure");

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, failures);
	sqlite3_bind_int64(st, 3, last);
	return db__exec_stmt(db, st);
}

int
db_throttle_clear(struct db *db, const char *key)
{
	return db__run(db, "DELETE FROM login_failures WHERE key = ?", key, NULL);
}
