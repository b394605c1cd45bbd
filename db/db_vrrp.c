/*
 * db_vrrp - the candidate's vrrp section: shared VIP groups and this node's
 * own (per-node) fields.
 *
 * The two halves live in different tables on purpose (migration 004):
 * vrrp_groups holds what both nodes share and what config sync replaces;
 * vrrp_local and vrrp_local_groups hold this node's interface, address,
 * priority and router id and are only ever written by an edit of the local
 * part. Loading a config (restore, import, later sync) replaces the groups
 * and touches the local part only when the config carries one.
 *
 * Values are stored as validated by tandem-admin (conf_parse runs on the
 * prospective section first); the list fields are JSON text. The renderer
 * writes every field explicitly, defaults included, so that the same
 * candidate gives the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

/* ---- shared groups ---- */

/* Parses a JSON-array column; a broken value reads as []. */
static json_t *
db_vrrp_arr_col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	json_t *a = t ? json_loads(t, 0, NULL) : NULL;

	if (!json_is_array(a)) {
		json_decref(a);
		a = json_array();
	}
	return a;
}

static json_t *
db_vrrp_group_row(struct db *db, sqlite3_stmt *st)
{
	const char *mode = (const char *)sqlite3_column_text(st, 3);
	json_t *g;

	(void)db;
	g = json_pack("{s:s, s:I, s:I, s:s, s:b, s:o}",
		      "name", (const char *)sqlite3_column_text(st, 0),
		      "virtual_router_id", (json_int_t)sqlite3_column_int64(st, 1),
		      "advert_interval_ms", (json_int_t)sqlite3_column_int64(st, 2),
		      "mode", mode,
		      "preempt", sqlite3_column_int(st, 4) != 0,
		      "vips", db_vrrp_arr_col(st, 6));
	/* conf refuses unicast_peers in multicast mode: leave it out there. */
	if (g != NULL && strcmp(mode, "unicast") == 0)
		json_object_set_new(g, "unicast_peers", db_vrrp_arr_col(st, 5));
	return g;
}

#define SQL_VRRP_GROUPS "SELECT name, virtual_router_id, advert_interval_ms, mode, preempt, " \
			"unicast_peers, vips FROM vrrp_groups "

int
db_vrrp_group_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, SQL_VRRP_GROUPS "ORDER BY name"), db_vrrp_group_row, out);
}

int
db_vrrp_group_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, SQL_VRRP_GROUPS "WHERE name = ?", name, db_vrrp_group_row, out);
}

/* Binds g's fields as parameters 1-7 (name ... vips). */
static int
db_vrrp_group_bind(sqlite3_stmt *st, const json_t *g)
{
	const char *mode = json_string_value(json_object_get(g, "mode"));
	json_t *peers = json_object_get(g, "unicast_peers");
	json_t *adv = json_object_get(g, "advert_interval_ms");
	json_t *pre = json_object_get(g, "preempt");
	char *p, *v;

	p = json_is_array(peers) ? json_dumps(peers, JSON_COMPACT) : strdup("[]");
	v = json_dumps(json_object_get(g, "vips"), JSON_COMPACT | JSON_ENCODE_ANY);
	if (p == NULL || v == NULL) {
		free(p);
		free(v);
		return -ENOMEM;
	}
	db__bind_text(st, 1, json_string_value(json_object_get(g, "name")));
	sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(g, "virtual_router_id")));
	sqlite3_bind_int64(st, 3, json_is_integer(adv) ? json_integer_value(adv) : 1000);
	db__bind_text(st, 4, mode ? mode : "unicast");
	sqlite3_bind_int(st, 5, pre == NULL || json_is_true(pre));
	sqlite3_bind_text(st, 6, p, -1, free);
	sqlite3_bind_text(st, 7, v, -1, free);
	return 0;
}

/* Writes g: a new row when name is NULL, else over the row named name. */
static int
db_vrrp_group_write(struct db *db, const char *name, const json_t *g)
{
	sqlite3_stmt *st = db__prepare(db, name == NULL ?
				       "INSERT INTO vrrp_groups (name, virtual_router_id, "
				       "advert_interval_ms, mode, preempt, unicast_peers, vips) "
				       "VALUES (?, ?, ?, ?, ?, ?, ?)" :
				       "UPDATE vrrp_groups SET name = ?, virtual_router_id = ?, "
				       "advert_interval_ms = ?, mode = ?, preempt = ?, unicast_peers = ?, "
				       "vips = ? WHERE name = ?");
	int rc;

	if (st == NULL)
		return -EIO;
	rc = db_vrrp_group_bind(st, g);
	if (rc < 0) {
		sqlite3_finalize(st);
		return rc;
	}
	return db__exec_write(db, st, 8, name);
}

int
db_vrrp_group_add(struct db *db, const json_t *g)
{
	return db_vrrp_group_write(db, NULL, g);
}

int
db_vrrp_group_update(struct db *db, const char *name, const json_t *g)
{
	const char *newname = json_string_value(json_object_get(g, "name"));
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db_vrrp_group_write(db, name, g);
	/* This node's override follows its group through a rename. */
	if (rc == 0 && newname != NULL && strcmp(newname, name) != 0)
		rc = db__run(db, "UPDATE vrrp_local_groups SET name = ? WHERE name = ?",
			     newname, name, NULL);
	rc = db__tx_finish(db, rc);
	return rc;
}

int
db_vrrp_group_delete(struct db *db, const char *name)
{
	int rc = db_tx_begin(db);

	if (rc < 0)
		return rc;
	rc = db__run(db, "DELETE FROM vrrp_groups WHERE name = ?", name, NULL);
	rc = db__changed(db, rc);
	if (rc == 0)
		rc = db__run(db, "DELETE FROM vrrp_local_groups WHERE name = ?", name, NULL);
	rc = db__tx_finish(db, rc);
	return rc;
}

/* ---- this node's fields ---- */

/* Sets key from column i when the column is not NULL. */
static void
db_vrrp_opt(json_t *o, const char *key, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		break;
	case SQLITE_INTEGER:
		json_object_set_new(o, key, json_integer(sqlite3_column_int64(st, i)));
		break;
	default:
		json_object_set_new(o, key, json_string((const char *)sqlite3_column_text(st, i)));
		break;
	}
}

static json_t *
db_vrrp_override_row(struct db *db, sqlite3_stmt *st)
{
	json_t *o = json_pack("{s:s}", "name", (const char *)sqlite3_column_text(st, 0));

	(void)db;
	if (o != NULL) {
		db_vrrp_opt(o, "interface", st, 1);
		db_vrrp_opt(o, "address", st, 2);
		db_vrrp_opt(o, "priority", st, 3);
	}
	return o;
}

int
db_vrrp_local_get(struct db *db, json_t **out)
{
	sqlite3_stmt *st;
	json_t *lo = NULL, *ov = NULL;
	int rc;

	*out = NULL;
	rc = db__rows(db, db__prepare(db, "SELECT name, interface, address, priority "
				       "FROM vrrp_local_groups ORDER BY name"),
		      db_vrrp_override_row, &ov);
	if (rc < 0)
		return rc;
	lo = json_object();
	st = db__prepare(db, "SELECT router_id, interface, address, priority FROM vrrp_local");
	if (lo == NULL || st == NULL) {
		rc = lo == NULL ? -ENOMEM : -EIO;
		goto fail;
	}
	rc = db__step_row(db, st);
	if (rc == 0) {
		db_vrrp_opt(lo, "router_id", st, 0);
		db_vrrp_opt(lo, "interface", st, 1);
		db_vrrp_opt(lo, "address", st, 2);
		db_vrrp_opt(lo, "priority", st, 3);
	}
	sqlite3_finalize(st);
	if (rc < 0 && rc != -ENOENT)
		goto fail;
	json_object_set_new(lo, "groups", ov);
	*out = lo;
	return 0;
fail:
	json_decref(ov);
	json_decref(lo);
	return rc;
}

/* Binds an optional string or integer of o as parameter i (NULL if absent). */
static void
db_vrrp_bind_opt(sqlite3_stmt *st, int i, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		sqlite3_bind_int64(st, i, json_integer_value(v));
	else if (json_is_string(v))
		db__bind_text(st, i, json_string_value(v));
	else
		sqlite3_bind_null(st, i);
}

/* Inserts the row of sql (four parameters): o's first, then its
 * interface, address and priority. */
static int
db_vrrp_local_insert(struct db *db, const char *sql, const json_t *o, const char *first)
{
	sqlite3_stmt *st = db__prepare(db, sql);

	if (st != NULL) {
		db_vrrp_bind_opt(st, 1, o, first);
		db_vrrp_bind_opt(st, 2, o, "interface");
		db_vrrp_bind_opt(st, 3, o, "address");
		db_vrrp_bind_opt(st, 4, o, "priority");
	}
	return db__exec_stmt(db, st);
}

int
db_vrrp_local_set(struct db *db, const json_t *lo)
{
	const json_t *o;
	size_t i;
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db__run(db, "DELETE FROM vrrp_local", NULL);
	if (rc == 0)
		rc = db__run(db, "DELETE FROM vrrp_local_groups", NULL);
	if (rc == 0)
		rc = db_vrrp_local_insert(db, "INSERT INTO vrrp_local (id, router_id, interface, address, "
					  "priority) VALUES (1, ?, ?, ?, ?)", lo, "router_id");
	json_array_foreach(json_object_get(lo, "groups"), i, o) {
		if (rc < 0)
			break;
		rc = db_vrrp_local_insert(db, "INSERT INTO vrrp_local_groups (name, interface, address, "
					  "priority) VALUES (?, ?, ?, ?)", o, "name");
	}
	rc = db__tx_finish(db, rc);
	return rc;
}

/* ---- the section as a whole ---- */

int
db_vrrp_render(struct db *db, json_t **out)
{
	json_t *groups = NULL, *lo = NULL;
	int rc;

	*out = NULL;
	rc = db_vrrp_group_list(db, &groups);
	if (rc == 0)
		rc = db_vrrp_local_get(db, &lo);
	if (rc < 0)
		goto out;
	/* No groups, no section: a node without HA renders as before, and
	 * tandemd starts no keepalived. */
	if (json_array_size(groups) > 0) {
		if (json_array_size(json_object_get(lo, "groups")) == 0)
			json_object_del(lo, "groups");
		*out = json_pack("{s:O, s:O}", "groups", groups, "local", lo);
		if (*out == NULL)
			rc = -ENOMEM;
	}
out:
	json_decref(groups);
	json_decref(lo);
	return rc;
}

static int
db_vrrp_load_group(struct db *db, const json_t *g, size_t i)
{
	(void)i;
	return db_vrrp_group_add(db, g);
}

int
db_vrrp_load(struct db *db, const json_t *section)
{
	json_t *lo = json_object_get(section, "local");
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db__replace_all(db, "vrrp_groups", json_object_get(section, "groups"), db_vrrp_load_group);
	/* Per-node fields change only when the config carries them. */
	if (rc == 0 && json_is_object(lo))
		rc = db_vrrp_local_set(db, lo);
	rc = db__tx_finish(db, rc);
	return rc;
}
