/* The unit tests' temporary database: see tmpdb.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdb.h"

void
tmpdb_init(struct tmpdb *t, const char *prefix)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/%s.XXXXXX", prefix);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/tandem.db", t->dir);
}

void
tmpdb_open(struct tmpdb *t, const char *prefix, struct db **db)
{
	tmpdb_init(t, prefix);
	assert_int_equal(db_open(t->path, DB_SCHEMA_LATEST, db), 0);
}

void
tmpdb_unlink(const char *path)
{
	char p[256];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

void
tmpdb_remove(struct tmpdb *t, struct db **db)
{
	if (db != NULL)
		db_close(db);
	tmpdb_unlink(t->path);
	rmdir(t->dir);
}
