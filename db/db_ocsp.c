/*
 * db_ocsp - the OCSP response stored for a certificate (migration 014).
 * Checking it against the certificate is adm_ocsp's job (l7_ocsp_check).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

int
db_ocsp_set(struct db *db, const char *name, const void *der, size_t len, long long this_update,
	    long long next_update, long long now)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT OR REPLACE INTO certificate_ocsp (certificate_id, der, "
				       "this_update, next_update, uploaded_at) SELECT id, ?, ?, ?, ? "
				       "FROM certificates WHERE name = ?");

	if (st == NULL)
		return -EIO;
	sqlite3_bind_blob(st, 1, der, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, this_update);
	sqlite3_bind_int64(st, 3, next_update);
	sqlite3_bind_int64(st, 4, now);
	db__bind_text(st, 5, name);
	return db__changed(db, db__exec_stmt(db, st));
}

int
db_ocsp_get(struct db *db, const char *name, void **der, size_t *len, json_t **info)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT o.der, o.this_update, o.next_update, o.uploaded_at "
				       "FROM certificate_ocsp o JOIN certificates c ON c.id = o.certificate_id "
				       "WHERE c.name = ?");
	int rc;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (info != NULL)
		*info = NULL;
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, name);
	rc = db__step_row(db, st);
	if (rc == 0 && der != NULL) {
		int n = sqlite3_column_bytes(st, 0);

		*der = malloc(n > 0 ? (size_t)n : 1);
		if (*der == NULL)
			rc = -ENOMEM;
		else if (n > 0)
			memcpy(*der, sqlite3_column_blob(st, 0), (size_t)n);
		*len = (size_t)n;
	}
	if (rc == 0 && info != NULL)
		*info = json_pack("{s:I, s:I, s:I, s:I}", "this_update", (json_int_t)sqlite3_column_int64(st, 1),
				  "next_update", (json_int_t)sqlite3_column_int64(st, 2),
				  "uploaded_at", (json_int_t)sqlite3_column_int64(st, 3),
				  "bytes", (json_int_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	return rc;
}

int
db_ocsp_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM certificate_ocsp WHERE certificate_id = "
				   "(SELECT id FROM certificates WHERE name = ?)", name, NULL));
}
