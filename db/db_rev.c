/*
 * db_rev - committed revisions of the candidate.
 *
 * A revision is immutable content (the canonical rendered config, which
 * carries its own number) plus a status that moves once from 'pending' to
 * 'applied' or 'failed'. The running revision is the newest applied one.
 * Numbers are taken inside the committing transaction, so two commits can
 * never get the same number.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"
#include "jh.h"

int
db_revision_commit(struct db *db, const char *author, const char *comment,
		   long long now, long *number, char **content)
{
	sqlite3_stmt *st = NULL;
	char *text = NULL;
	long n = 0;
	int rc;

	if (content != NULL)
		*content = NULL;
	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	st = db__prepare(db, "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n <= 0) {
		rc = -EIO;
		goto out;
	}
	rc = db_candidate_text(db, n, &text);
	if (rc < 0)
		goto out;
	st = db__prepare(db, "INSERT INTO revisions (number, author, created_at, comment, status, content) "
			 "VALUES (?, ?, ?, ?, 'pending', ?)");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, n);
	db__bind_text(st, 2, author);
	sqlite3_bind_int64(st, 3, now);
	db__bind_text(st, 4, comment ? comment : "");
	db__bind_text(st, 5, text);
	rc = db__exec_stmt(db, st);
out:
	rc = db__tx_finish(db, rc);
	if (rc == 0) {
		*number = n;
		if (content != NULL) {
			*content = text;
			text = NULL;
		}
	}
	free(text);
	return rc;
}

int
db_revision_set_status(struct db *db, long number, const char *status, const json_t *errors)
{
	sqlite3_stmt *st;
	char *etext = NULL;
	int rc;

	if (errors != NULL) {
		etext = json_dumps(errors, JSON_COMPACT | JSON_SORT_KEYS);
		if (etext == NULL)
			return -ENOMEM;
	}
	st = db__prepare(db, "UPDATE revisions SET status = ?, errors = ? WHERE number = ?");
	if (st == NULL) {
		free(etext);
		return -EIO;
	}
	db__bind_text(st, 1, status);
	db__bind_text(st, 2, etext);
	sqlite3_bind_int64(st, 3, number);
	rc = db__exec_stmt(db, st);
	free(etext);
	rc = db__changed(db, rc);
	return rc;
}

static json_t *
db_revision_row(struct db *db, sqlite3_stmt *st)
{
	(void)db;
	return json_pack("{s:I, s:s, s:I, s:s, s:s}",
			 "number", (json_int_t)sqlite3_column_int64(st, 0),
			 "author", (const char *)sqlite3_column_text(st, 1),
			 "created_at", (json_int_t)sqlite3_column_int64(st, 2),
			 "comment", (const char *)sqlite3_column_text(st, 3),
			 "status", (const char *)sqlite3_column_text(st, 4));
}

int
db_revision_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT number, author, created_at, comment, status "
					"FROM revisions ORDER BY number DESC"),
			db_revision_row, out);
}

int
db_revision_get(struct db *db, long number, json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT number, author, created_at, comment, status, "
				       "content, errors FROM revisions WHERE number = ?");
	json_t *rev = NULL, *cfg, *errs = NULL;
	int rc;

	*out = NULL;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, number);
	rc = db__step_row(db, st);
	if (rc < 0)
		goto out;
	rev = db_revision_row(db, st);
	cfg = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		errs = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
	if (rev == NULL || cfg == NULL) {
		json_decref(cfg);
		json_decref(errs);
		rc = -ENOMEM;
		goto out;
	}
	json_object_set_new(rev, "config", cfg);
	json_object_set_new(rev, "errors", errs ? errs : json_null());
	*out = rev;
	rev = NULL;
	rc = 0;
out:
	json_decref(rev);
	sqlite3_finalize(st);
	return rc;
}

int
db_revision_content(struct db *db, long number, char **out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT content FROM revisions WHERE number = ?");
	int rc;

	*out = NULL;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, number);
	rc = db__step_row(db, st);
	if (rc == 0) {
		*out = db__col_dup(st, 0);
		rc = *out ? 0 : -ENOMEM;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_revision_running(struct db *db, long *number, char **content)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT number, content FROM revisions "
				       "WHERE status = 'applied' ORDER BY number DESC LIMIT 1");
	int rc;

	if (content != NULL)
		*content = NULL;
	if (st == NULL)
		return -EIO;
	rc = db__step_row(db, st);
	if (rc == 0) {
		*number = (long)sqlite3_column_int64(st, 0);
		if (content != NULL) {
			*content = db__col_dup(st, 1);
			rc = *content ? 0 : -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static json_t *
db_revision_number_row(struct db *db, sqlite3_stmt *st)
{
	(void)db;
	return json_integer(sqlite3_column_int64(st, 0));
}

int
db_revision_pending(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT number FROM revisions WHERE status = 'pending' "
					"ORDER BY number"),
			db_revision_number_row, out);
}

int
db_revision_restore(struct db *db, long number)
{
	json_t *cfg;
	char *text;
	int rc;

	rc = db_revision_content(db, number, &text);
	if (rc < 0)
		return rc;
	cfg = json_loads(text, 0, NULL);
	free(text);
	if (cfg == NULL)
		return -EINVAL;
	rc = db_candidate_load(db, cfg);
	json_decref(cfg);
	return rc;
}
