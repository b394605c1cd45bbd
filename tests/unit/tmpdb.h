#ifndef TANDEM_TMPDB_H
#define TANDEM_TMPDB_H

#include "db.h"

/*
 * The unit tests' temporary database: a fresh directory under /tmp with
 * the database path in it (dir/tandem.db), and its removal afterwards,
 * SQLite's -wal and -shm files included. Fails the test (cmocka) when the
 * directory cannot be made or the database cannot be opened.
 */
struct tmpdb {
	char dir[64];
	char path[128];
};

/* Makes the directory (/tmp/PREFIX.XXXXXX) and the path; no file yet. */
void tmpdb_init(struct tmpdb *t, const char *prefix);
/* tmpdb_init, then opens the database at the latest schema into *db. */
void tmpdb_open(struct tmpdb *t, const char *prefix, struct db **db);
/* Removes the database file path and its -wal and -shm files. */
void tmpdb_unlink(const char *path);
/* Closes *db (may be NULL), removes t's database files, then the
 * directory: anything else the test wrote there it removes first. */
void tmpdb_remove(struct tmpdb *t, struct db **db);

#endif
