/*
 * db_cert - TLS certificates and their private keys.
 *
 * Certificates are appliance objects, not part of the candidate: they are
 * uploaded, listed and deleted directly, and listeners refer to them by
 * name. The key lives in certificate_keys, which only db_cert_pem() reads,
 * so no listing query can leak it. Validation (key matches, chain order) is
 * adm_cert's job before anything reaches this file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

#define DB_CERT_COLS "name, subject, issuer, sans, key_type, key_bits, not_before, not_after, " \
	"fingerprint, chain_length, created_at"

static json_t *
db_cert_row(struct db *db, sqlite3_stmt *st)
{
	json_t *sans = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);

	(void)db;
	if (sans == NULL)
		sans = json_array();
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:s, s:I, s:I}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "subject", (const char *)sqlite3_column_text(st, 1),
			 "issuer", (const char *)sqlite3_column_text(st, 2),
			 "sans", sans,
			 "key_type", (const char *)sqlite3_column_text(st, 4),
			 "key_bits", (json_int_t)sqlite3_column_int64(st, 5),
			 "not_before", (json_int_t)sqlite3_column_int64(st, 6),
			 "not_after", (json_int_t)sqlite3_column_int64(st, 7),
			 "fingerprint", (const char *)sqlite3_column_text(st, 8),
			 "chain_length", (json_int_t)sqlite3_column_int64(st, 9),
			 "created_at", (json_int_t)sqlite3_column_int64(st, 10));
}

/* The list row plus the public chain (column 11). */
static json_t *
db_cert_row_pem(struct db *db, sqlite3_stmt *st)
{
	json_t *o = db_cert_row(db, st);

	if (o != NULL)
		json_object_set_new(o, "cert_pem", json_string((const char *)sqlite3_column_text(st, 11)));
	return o;
}

int
db_cert_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT " DB_CERT_COLS " FROM certificates ORDER BY name"),
			db_cert_row, out);
}

int
db_cert_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, "SELECT " DB_CERT_COLS ", cert_pem FROM certificates WHERE name = ?",
			     name, db_cert_row_pem, out);
}

int
db_cert_add(struct db *db, const struct db_cert *c)
{
	sqlite3_stmt *st;
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	st = db__prepare(db, "INSERT INTO certificates (name, cert_pem, subject, issuer, sans, key_type, "
			 "key_bits, not_before, not_after, fingerprint, chain_length, created_at) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	db__bind_text(st, 1, c->name);
	db__bind_text(st, 2, c->cert_pem);
	db__bind_text(st, 3, c->subject);
	db__bind_text(st, 4, c->issuer);
	db__bind_text(st, 5, c->sans);
	db__bind_text(st, 6, c->key_type);
	sqlite3_bind_int64(st, 7, c->key_bits);
	sqlite3_bind_int64(st, 8, c->not_before);
	sqlite3_bind_int64(st, 9, c->not_after);
	db__bind_text(st, 10, c->fingerprint);
	sqlite3_bind_int64(st, 11, c->chain_length);
	sqlite3_bind_int64(st, 12, c->created_at);
	rc = db__exec_stmt(db, st);
	if (rc < 0)
		goto out;
	st = db__prepare(db, "INSERT INTO certificate_keys (certificate_id, key_pem) VALUES (?, ?)");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(db->h));
	db__bind_text(st, 2, c->key_pem);
	rc = db__exec_stmt(db, st);
out:
	{
		int rc2 = db_tx_end(db, rc == 0);

		return rc < 0 ? rc : rc2;
	}
}

int
db_cert_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM certificates WHERE name = ?", name, NULL));
}

int
db_cert_pem(struct db *db, const char *name, char **cert_pem, char **key_pem)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT c.cert_pem, k.key_pem FROM certificates c "
				       "JOIN certificate_keys k ON k.certificate_id = c.id WHERE c.name = ?");
	int rc;

	*cert_pem = *key_pem = NULL;
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, name);
	rc = db__step_row(db, st);
	if (rc == 0) {
		*cert_pem = db__col_dup(st, 0);
		*key_pem = db__col_dup(st, 1);
		if (*cert_pem == NULL || *key_pem == NULL) {
			free(*cert_pem);
			free(*key_pem);
			*cert_pem = *key_pem = NULL;
			rc = -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	return rc;
}
