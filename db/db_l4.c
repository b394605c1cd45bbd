/*
 * db_l4 - the candidate's l4 section (doc/l4.md, doc/api.md "L4"): virtual
 * services with their real servers, and the section-wide settings.
 *
 * A service is stored as its name plus the rest of its config object (spec,
 * canonical JSON); its reals as (address, port) plus the rest. The API
 * validates through tandemd's own parser before writing, so this file only
 * keeps keys unique, addresses canonical and the rendering deterministic
 * (services by name, reals by address then port).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"
#include "jh.h"

/* o without the keys in drop (NULL-terminated) and null values, address
 * canonical, as canonical text (free()). */
static char *
db_l4_rest(const json_t *o, const char *const *drop)
{
	json_t *rest = db__json_without(o, drop), *v;
	const char *key;
	char *text, a[INET6_ADDRSTRLEN];
	void *tmp;

	if (rest == NULL)
		return NULL;
	json_object_foreach_safe(rest, tmp, key, v)
		if (json_is_null(v))
			json_object_del(rest, key);
	/* so that "::0" and "::" render alike */
	v = json_object_get(rest, "address");
	if (json_is_string(v) && db_addr_canon(json_string_value(v), a, sizeof(a)) == 0)
		json_object_set_new(rest, "address", json_string(a));
	text = jh_dump_canonical(rest);
	json_decref(rest);
	return text;
}

/* Merges the JSON object text of column i into o. Returns o. */
static json_t *
db_l4_spec(json_t *o, sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	json_t *s = t ? json_loads(t, 0, NULL) : NULL;

	if (o != NULL && json_is_object(s))
		json_object_update_missing(o, s);
	json_decref(s);
	return o;
}

static json_t *
db_l4_real_row(struct db *db, sqlite3_stmt *st)
{
	json_t *r = json_pack("{s:s}", "address", (const char *)sqlite3_column_text(st, 0));

	(void)db;
	if (r != NULL && sqlite3_column_int64(st, 1) != 0)
		json_object_set_new(r, "port", json_integer(sqlite3_column_int64(st, 1)));
	return db_l4_spec(r, st, 2);
}

static json_t *
db_l4_service_row(struct db *db, sqlite3_stmt *st)
{
	sqlite3_stmt *rs = db__prepare(db, "SELECT address, port, spec FROM l4_reals WHERE service_id = ? "
				       "ORDER BY address, port");
	json_t *reals = NULL, *o;

	if (rs != NULL)
		sqlite3_bind_int64(rs, 1, sqlite3_column_int64(st, 0));
	if (db__rows(db, rs, db_l4_real_row, &reals) < 0)
		return NULL;
	o = json_pack("{s:s}", "name", (const char *)sqlite3_column_text(st, 1));
	o = db_l4_spec(o, st, 2);
	if (o == NULL || json_object_set_new(o, "reals", reals) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
db_l4_service_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT id, name, spec FROM l4_services ORDER BY name"),
			db_l4_service_row, out);
}

int
db_l4_service_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, "SELECT id, name, spec FROM l4_services WHERE name = ?", name,
			     db_l4_service_row, out);
}

/* Inserts the reals of svc under service id. */
static int
db_l4_reals_insert(struct db *db, sqlite3_int64 id, const json_t *svc)
{
	static const char *const drop[] = { "address", "port", NULL };
	const json_t *r;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(svc, "reals"), i, r) {
		char a[INET6_ADDRSTRLEN], *spec;
		sqlite3_stmt *st;

		if (db_addr_canon(json_string_value(json_object_get(r, "address")), a, sizeof(a)) < 0)
			return -EINVAL;
		spec = db_l4_rest(r, drop);
		st = db__prepare(db, "INSERT INTO l4_reals (service_id, address, port, spec) VALUES (?, ?, ?, ?)");
		if (spec == NULL || st == NULL) {
			free(spec);
			sqlite3_finalize(st);
			return spec == NULL ? -ENOMEM : -EIO;
		}
		sqlite3_bind_int64(st, 1, id);
		db__bind_text(st, 2, a);
		sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(r, "port")));
		sqlite3_bind_text(st, 4, spec, -1, free);
		rc = db__exec_stmt(db, st);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int
db_l4_service_put(struct db *db, const char *name, const json_t *svc)
{
	static const char *const drop[] = { "name", "reals", NULL };
	const char *nname = json_string_value(json_object_get(svc, "name"));
	char *spec;
	sqlite3_stmt *st;
	sqlite3_int64 id = 0;
	int rc;

	if (nname == NULL)
		return -EINVAL;
	spec = db_l4_rest(svc, drop);
	if (spec == NULL)
		return -ENOMEM;
	rc = db_tx_begin(db);
	if (rc < 0) {
		free(spec);
		return rc;
	}
	st = db__prepare(db, name ? "UPDATE l4_services SET name = ?, spec = ? WHERE name = ?" :
			 "INSERT INTO l4_services (name, spec) VALUES (?, ?)");
	if (st == NULL) {
		free(spec);
		rc = -EIO;
		goto out;
	}
	db__bind_text(st, 1, nname);
	sqlite3_bind_text(st, 2, spec, -1, free);
	if (name != NULL)
		db__bind_text(st, 3, name);
	rc = db__exec_stmt(db, st);
	if (rc == 0 && name != NULL && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	if (rc == 0) {
		st = db__prepare(db, "SELECT id FROM l4_services WHERE name = ?");
		if (st != NULL)
			db__bind_text(st, 1, nname);
		rc = db__step_row(db, st);
		if (rc == 0)
			id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (rc == 0) {
		st = db__prepare(db, "DELETE FROM l4_reals WHERE service_id = ?");
		if (st != NULL)
			sqlite3_bind_int64(st, 1, id);
		rc = db__exec_stmt(db, st);
	}
	if (rc == 0)
		rc = db_l4_reals_insert(db, id, svc);
out:
	rc = db__tx_finish(db, rc);
	return rc;
}

int
db_l4_service_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM l4_services WHERE name = ?", name, NULL));
}

/* ---- settings ---- */

static json_t *
db_l4_settings_row(struct db *db, sqlite3_stmt *st)
{
	json_t *o = json_object();
	const char *keys[] = { "filter", "sync" };
	int i;

	(void)db;
	if (o == NULL)
		return NULL;
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		json_object_set_new(o, "reconcile_interval", json_integer(sqlite3_column_int64(st, 0)));
	for (i = 0; i < 2; i++) {
		const char *t = (const char *)sqlite3_column_text(st, i + 1);
		json_t *v = t ? json_loads(t, 0, NULL) : NULL;

		if (json_is_object(v))
			json_object_set_new(o, keys[i], v);
		else
			json_decref(v);
	}
	return o;
}

int
db_l4_settings_get(struct db *db, json_t **out)
{
	json_t *arr = NULL;
	int rc = db__rows(db, db__prepare(db, "SELECT reconcile_interval, filter, sync FROM l4_settings"),
			  db_l4_settings_row, &arr);

	*out = NULL;
	if (rc == 0)
		*out = json_array_size(arr) ? json_incref(json_array_get(arr, 0)) : json_object();
	json_decref(arr);
	return rc == 0 && *out == NULL ? -ENOMEM : rc;
}

/* Binds the JSON object at key of o (or NULL) as parameter i. */
static int
db_l4_bind_obj(sqlite3_stmt *st, int i, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	char *t;

	if (!json_is_object(v))
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -EIO;
	t = jh_dump_canonical(v);
	if (t == NULL)
		return -ENOMEM;
	return sqlite3_bind_text(st, i, t, -1, free) == SQLITE_OK ? 0 : -EIO;
}

int
db_l4_settings_set(struct db *db, const json_t *s)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT OR REPLACE INTO l4_settings (id, reconcile_interval, "
				       "filter, sync) VALUES (1, ?, ?, ?)");
	json_t *ri = json_object_get(s, "reconcile_interval");
	int rc;

	if (st == NULL)
		return -EIO;
	if (json_is_integer(ri))
		sqlite3_bind_int64(st, 1, json_integer_value(ri));
	else
		sqlite3_bind_null(st, 1);
	rc = db_l4_bind_obj(st, 2, s, "filter");
	if (rc == 0)
		rc = db_l4_bind_obj(st, 3, s, "sync");
	if (rc < 0) {
		sqlite3_finalize(st);
		return rc;
	}
	return db__exec_stmt(db, st);
}

/* ---- the section as a whole ---- */

int
db_l4_render(struct db *db, json_t **out)
{
	json_t *svcs = NULL, *s = NULL;
	int rc;

	*out = NULL;
	rc = db_l4_service_list(db, &svcs);
	if (rc == 0)
		rc = db_l4_settings_get(db, &s);
	/* Nothing set, no section: a candidate without L4 renders as before. */
	if (rc == 0 && (json_array_size(svcs) > 0 || json_object_size(s) > 0)) {
		*out = s;
		s = NULL;
		if (json_array_size(svcs) > 0 && json_object_set(*out, "services", svcs) < 0)
			rc = -ENOMEM;
	}
	json_decref(svcs);
	json_decref(s);
	return rc;
}

static int
db_l4_load_service(struct db *db, const json_t *svc, size_t i)
{
	(void)i;
	return db_l4_service_put(db, NULL, svc);
}

int
db_l4_load(struct db *db, const json_t *section)
{
	json_t *cur = NULL, *set;
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db__replace_all(db, "l4_services", json_object_get(section, "services"), db_l4_load_service);
	/* The sync daemon's role is this node's: kept unless section has one. */
	if (rc == 0)
		rc = db_l4_settings_get(db, &cur);
	if (rc == 0) {
		set = json_object();
		if (set == NULL)
			rc = -ENOMEM;
		else {
			json_t *sync = json_object_get(section, "sync");

			if (json_object_get(section, "reconcile_interval"))
				json_object_set(set, "reconcile_interval",
						json_object_get(section, "reconcile_interval"));
			if (json_object_get(section, "filter"))
				json_object_set(set, "filter", json_object_get(section, "filter"));
			if (sync == NULL)
				sync = json_object_get(cur, "sync");
			if (sync != NULL)
				json_object_set(set, "sync", sync);
			rc = db_l4_settings_set(db, set);
			json_decref(set);
		}
	}
	json_decref(cur);
	rc = db__tx_finish(db, rc);
	return rc;
}
