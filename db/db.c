/*
 * db - open, configure and migrate the SQLite database; transactions and
 * statement helpers shared by the other files of db/.
 *
 * Invariants: PRAGMA user_version is the number of the last migration
 * applied; each migration and its user_version bump commit together, so a
 * crash leaves the schema at a whole version. foreign_keys is on for every
 * connection (SQLite turns it off by default, per connection).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "db__priv.h"
#include "db_migrations.h"
#include "log.h"

#define DB_BUSY_TIMEOUT_MS 5000

sqlite3_stmt *
db__prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		log_err("db: prepare failed: %s", sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int
db__err(struct db *db, int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EAGAIN;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
	case SQLITE_CONSTRAINT_TRIGGER:
		/* On a DELETE this means a RESTRICT reference: object in use
		 * (SQLite reports ON DELETE RESTRICT as a TRIGGER constraint). */
		return -EBUSY;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return -EINVAL;
	default:
		log_err("db: %s (%d)", sqlite3_errmsg(db->h), rc);
		return -EIO;
	}
}

int
db__bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int
db__exec_stmt(struct db *db, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	/* The extended code tells UNIQUE from FOREIGNKEY. */
	if (rc != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db->h);
	sqlite3_finalize(st);
	return db__err(db, rc);
}

int
db__run(struct db *db, const char *sql, ...)
{
	sqlite3_stmt *st = db__prepare(db, sql);
	const char *s;
	va_list ap;
	int i = 1;

	if (st == NULL)
		return -EIO;
	va_start(ap, sql);
	while ((s = va_arg(ap, const char *)) != NULL)
		db__bind_text(st, i++, s);
	va_end(ap);
	return db__exec_stmt(db, st);
}

char *
db__col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

int
db__step_row(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db__err(db, rc);
}

int
db__one(int rc, json_t *arr, json_t **out)
{
	*out = NULL;
	if (rc < 0)
		return rc;
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return -ENOENT;
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

int
db__changed(struct db *db, int rc)
{
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		return -ENOENT;
	return rc;
}

int
db__exec_write(struct db *db, sqlite3_stmt *st, int k, const char *name)
{
	if (name == NULL)
		return db__exec_stmt(db, st);
	db__bind_text(st, k, name);
	return db__changed(db, db__exec_stmt(db, st));
}

int
db__rows(struct db *db, sqlite3_stmt *st, json_t *(*rowfn)(struct db *, sqlite3_stmt *),
	json_t **out)
{
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (st == NULL || arr == NULL) {
		sqlite3_finalize(st);
		json_decref(arr);
		return st == NULL ? -EIO : -ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = rowfn(db, st);

		if (row == NULL || json_array_append_new(arr, row) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return db__err(db, rc);
	}
	*out = arr;
	return 0;
}

int
db__tx_finish(struct db *db, int rc)
{
	if (db_tx_end(db, rc == 0) < 0 && rc == 0)
		return -EIO;
	return rc;
}

int
db__replace_all(struct db *db, const char *table, const json_t *arr,
		int (*put)(struct db *, const json_t *, size_t))
{
	char sql[64];
	const json_t *e;
	size_t i;
	int rc;

	if (db->txdepth <= 0 || (size_t)snprintf(sql, sizeof(sql), "DELETE FROM %s", table) >= sizeof(sql))
		return -EINVAL;
	rc = db__run(db, sql, NULL);
	json_array_foreach(arr, i, e) {
		if (rc < 0)
			break;
		rc = put(db, e, i);
	}
	return rc;
}

int
db_tx_begin(struct db *db)
{
	int rc = db__run(db, "SAVEPOINT tx", NULL);

	if (rc == 0)
		db->txdepth++;
	return rc;
}

int
db_tx_end(struct db *db, int ok)
{
	int rc;

	if (db->txdepth <= 0)
		return -EINVAL;
	db->txdepth--;
	if (ok) {
		rc = db__run(db, "RELEASE tx", NULL);
		if (rc == 0)
			return 0;
		/* A failed commit must not leave the savepoint open. */
	}
	db__run(db, "ROLLBACK TO tx", NULL);
	db__run(db, "RELEASE tx", NULL);
	return ok ? -EIO : 0;
}

char *
db_pragma_text(struct db *db, const char *name)
{
	static const char *const allowed[] = { "journal_mode", "foreign_keys",
					       "user_version", "integrity_check",
					       "busy_timeout", NULL };
	const char *const *a;
	sqlite3_stmt *st;
	char sql[64];
	char *out = NULL;

	/* PRAGMA names cannot be bound; accept only known ones. */
	for (a = allowed; *a != NULL && strcmp(*a, name) != 0; a++)
		;
	if (*a == NULL)
		return NULL;
	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	st = db__prepare(db, sql);
	if (st == NULL)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		out = db__col_dup(st, 0);
	sqlite3_finalize(st);
	return out;
}

int
db_schema_version(struct db *db)
{
	sqlite3_stmt *st = db__prepare(db, "PRAGMA user_version");
	int v = -EIO;

	if (st == NULL)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
db_schema_latest(void)
{
	return db_migrations_count ? db_migrations[db_migrations_count - 1].version : 0;
}

/* Applies one migration with its user_version bump in one transaction.
 * BEGIN IMMEDIATE takes the write lock first so two starting processes
 * cannot both run the same migration. */
static int
db_migrate_one(struct db *db, const struct db_migration *m)
{
	char *msg = NULL, bump[64];
	int rc;

	rc = sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto fail;
	/* Re-check under the lock: another process may have migrated. */
	if (db_schema_version(db) >= m->version) {
		sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
		return 0;
	}
	rc = sqlite3_exec(db->h, m->sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto rollback;
	/* user_version cannot be bound; the number comes from our own table. */
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", m->version);
	rc = sqlite3_exec(db->h, bump, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto rollback;
	rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto rollback;
	log_info("db: applied migration %s", m->name);
	return 0;
rollback:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
fail:
	log_err("db: migration %s failed: %s", m->name, msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return -EIO;
}

static int
db_migrate(struct db *db, int target)
{
	unsigned i;
	int cur, rc;

	cur = db_schema_version(db);
	if (cur < 0)
		return cur;
	if (target < 0)
		target = db_schema_latest();
	if (cur > db_schema_latest()) {
		log_err("db: schema version %d is newer than this program (%d)", cur,
			db_schema_latest());
		return -EPROTO;
	}
	for (i = 0; i < db_migrations_count; i++) {
		const struct db_migration *m = &db_migrations[i];

		if (m->version <= cur || m->version > target)
			continue;
		rc = db_migrate_one(db, m);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
db_open(const char *path, int target_version, struct db **out)
{
	struct db *db;
	char *jm = NULL;
	int rc;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return -ENOMEM;
	/* The database holds private keys of TLS certificates (doc/tls.md):
	 * create it 0600 before SQLite does (SQLite gives -wal and -shm the
	 * mode of the main file), and narrow an older, wider one. */
	if (path[0] != '\0' && path[0] != ':') {
		/* Never open() and close() an existing database file here: a
		 * close() drops every POSIX lock this process holds on it, also
		 * those of another connection already open (tandem-admin has
		 * two), and SQLite would then let a third process delete the WAL
		 * under us. An existing file is narrowed by path. */
		struct stat sb;
		int fd = -1;

		if (lstat(path, &sb) == 0) {
			if (!S_ISREG(sb.st_mode)) {
				errno = ELOOP;
				fd = -2;
			} else if ((sb.st_mode & 0077) != 0 && chmod(path, 0600) < 0) {
				fd = -2;
			}
		} else {
			fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (fd < 0 || fchmod(fd, 0600) < 0) {
				if (fd >= 0)
					close(fd);
				fd = -2;
			} else {
				close(fd);
			}
		}
		if (fd == -2) {
			rc = -errno;
			log_err("db: cannot open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("db: cannot open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		rc = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	rc = db__run(db, "PRAGMA foreign_keys = ON", NULL);
	if (rc < 0)
		goto fail;
	/* WAL: readers never block the writer, and a crash mid-commit rolls
	 * back cleanly. synchronous=FULL makes each commit durable, which the
	 * revision history needs more than speed. */
	jm = NULL;
	{
		sqlite3_stmt *st = db__prepare(db, "PRAGMA journal_mode = WAL");

		if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
			jm = db__col_dup(st, 0);
		sqlite3_finalize(st);
	}
	if (jm == NULL || strcmp(jm, "wal") != 0) {
		log_err("db: cannot switch %s to WAL mode", path);
		rc = -EIO;
		goto fail;
	}
	rc = db__run(db, "PRAGMA synchronous = FULL", NULL);
	if (rc < 0)
		goto fail;
	rc = db_migrate(db, target_version);
	if (rc < 0)
		goto fail;
	free(jm);
	*out = db;
	return 0;
fail:
	free(jm);
	sqlite3_close(db->h);
	free(db);
	return rc;
}

void
db_close(struct db **dbp)
{
	struct db *db = *dbp;

	if (db == NULL)
		return;
	sqlite3_close(db->h);
	free(db);
	*dbp = NULL;
}
