/*
 * db_ca - CA bundles for client certificate authentication (migration 009).
 * Appliance objects like certificates: added, listed and deleted directly,
 * named by listeners. Checking the PEM is adm_ca's job.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "db.h"
#include "db__priv.h"

#define DB_CA_COLS "name, subjects, count, not_after, fingerprint, created_at"

static json_t *
db_ca_row(struct db *db, sqlite3_stmt *st)
{
	json_t *subjects = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);

	(void)db;
	if (subjects == NULL)
		subjects = json_array();
	return json_pack("{s:s, s:o, s:I, s:I, s:s, s:I}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "subjects", subjects,
			 "count", (json_int_t)sqlite3_column_int64(st, 2),
			 "not_after", (json_int_t)sqlite3_column_int64(st, 3),
			 "fingerprint", (const char *)sqlite3_column_text(st, 4),
			 "created_at", (json_int_t)sqlite3_column_int64(st, 5));
}

static json_t *
db_ca_row_pem(struct db *db, sqlite3_stmt *st)
{
	json_t *o = db_ca_row(db, st);

	if (o != NULL)
		json_object_set_new(o, "pem", json_string((const char *)sqlite3_column_text(st, 6)));
	return o;
}

int
db_ca_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT " DB_CA_COLS " FROM ca_bundles ORDER BY name"),
			db_ca_row, out);
}

int
db_ca_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, "SELECT " DB_CA_COLS ", pem FROM ca_bundles WHERE name = ?",
			     name, db_ca_row_pem, out);
}

int
db_ca_add(struct db *db, const struct db_ca *c)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO ca_bundles (name, pem, subjects, count, not_after, "
				       "fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, c->name);
	db__bind_text(st, 2, c->pem);
	db__bind_text(st, 3, c->subjects);
	sqlite3_bind_int64(st, 4, c->count);
	sqlite3_bind_int64(st, 5, c->not_after);
	db__bind_text(st, 6, c->fingerprint);
	sqlite3_bind_int64(st, 7, c->created_at);
	return db__exec_stmt(db, st);
}

int
db_ca_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM ca_bundles WHERE name = ?", name, NULL));
}

int
db_ca_pem(struct db *db, const char *name, char **pem)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT pem FROM ca_bundles WHERE name = ?");
	int rc;

	*pem = NULL;
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, name);
	rc = db__step_row(db, st);
	if (rc == 0 && (*pem = db__col_dup(st, 0)) == NULL)
		rc = -ENOMEM;
	sqlite3_finalize(st);
	return rc;
}
