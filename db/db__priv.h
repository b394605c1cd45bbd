#ifndef TANDEM_DB_PRIV_H
#define TANDEM_DB_PRIV_H

#include <jansson.h>
#include <sqlite3.h>

#include "db-t.h"

/*
 * Internals shared by the files of db/ only.
 */
struct db {
	sqlite3 *h;
	int txdepth;		/* open SAVEPOINTs */
};

/* Prepares sql; NULL on error (logged). */
sqlite3_stmt *db__prepare(struct db *db, const char *sql);
/* Maps a SQLite result code to -errno (see db.h), logging unexpected ones. */
int db__err(struct db *db, int rc);
/* Steps a statement that returns no rows, finalizes it, returns 0/-errno. */
int db__exec_stmt(struct db *db, sqlite3_stmt *st);
/* Binds a text or NULL. */
int db__bind_text(sqlite3_stmt *st, int i, const char *s);
/* Runs a statement with text parameters (NULL-terminated list, at most 4)
 * and no result rows. */
int db__run(struct db *db, const char *sql, ...);
/* Copies column i as a new string ("" for NULL); NULL on OOM. */
char *db__col_dup(sqlite3_stmt *st, int i);
/* Steps a statement that returns at most one row: 0 when st is on a row
 * (read its columns, then finalize it), -ENOENT when there is none, else
 * -errno. Does not finalize. */
int db__step_row(struct db *db, sqlite3_stmt *st);
/* The first element of a db__rows result as *out (a new reference), -ENOENT
 * when it is empty, or rc when that is an error; arr is consumed. */
int db__one(int rc, json_t *arr, json_t **out);
/* Collects every row of st into a new JSON array (*out), one rowfn(db, st)
 * object a row; finalizes st, which may be NULL (a failed prepare: -EIO). */
int db__rows(struct db *db, sqlite3_stmt *st, json_t *(*rowfn)(struct db *, sqlite3_stmt *),
	     json_t **out);
/* The one row that sql (one text parameter, name) selects, as rowfn makes
 * it, in *out; -ENOENT when there is none. Finalizes. */
int db__get_named(struct db *db, const char *sql, const char *name,
		  json_t *(*rowfn)(struct db *, sqlite3_stmt *), json_t **out);
/* rc of an UPDATE or DELETE just run, -ENOENT when it changed no row. */
int db__changed(struct db *db, int rc);
/* Runs st, an INSERT when name is NULL, else an UPDATE whose parameter k
 * (its last, "WHERE name = ?") is name: -ENOENT when that changed no row. */
int db__exec_write(struct db *db, sqlite3_stmt *st, int k, const char *name);
/* A copy of object o without the keys in drop (NULL-terminated); values
 * shared. New reference, NULL on OOM. */
json_t *db__json_without(const json_t *o, const char *const *drop);
/* Ends the transaction db_tx_begin opened: commits when rc is 0, else rolls
 * back. Returns rc, or -EIO when the commit failed. */
int db__tx_finish(struct db *db, int rc);
/* Replaces every row of table by the elements of arr (NULL: none), one
 * put(db, element, index) each, stopping at the first error. Runs in the
 * caller's transaction, so a failure leaves the table as it was. */
int db__replace_all(struct db *db, const char *table, const json_t *arr,
		    int (*put)(struct db *, const json_t *, size_t));

#endif
