/*
 * db_cand - the candidate configuration: listeners, pools, members, routes,
 * the renderer (candidate -> tandemd config) and the loader (config ->
 * candidate).
 *
 * The schema keeps the candidate consistent on its own: names are UNIQUE,
 * routes reference listeners and pools by id with ON DELETE RESTRICT (so an
 * object in use cannot be deleted and a rename needs no cascade), members
 * belong to their pool (ON DELETE CASCADE). The renderer orders everything
 * explicitly so that the same candidate always gives the same bytes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"
#include "jh.h"

int
db_addr_canon(const char *addr, char *out, size_t outlen)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (addr == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, buf) == 1)
		return inet_ntop(AF_INET, buf, out, (socklen_t)outlen) ? 0 : -ENOSPC;
	if (inet_pton(AF_INET6, addr, buf) == 1)
		return inet_ntop(AF_INET6, buf, out, (socklen_t)outlen) ? 0 : -ENOSPC;
	return -EINVAL;
}

/* Merges the JSON object text l7 (a column) into row: the L7 fields sit
 * beside the foundation's in the API and the rendered config. A column that
 * is not an object (never written so) is ignored. Returns row. */
static json_t *
db_l7_merge(json_t *row, const unsigned char *l7)
{
	json_t *o;

	if (row == NULL || l7 == NULL)
		return row;
	o = json_loads((const char *)l7, 0, NULL);
	if (json_is_object(o))
		json_object_update_missing(row, o);
	json_decref(o);
	return row;
}

static const char *
db_l7_text(const char *l7)
{
	return l7 != NULL && l7[0] != '\0' ? l7 : "{}";
}

/* Looks up the id of a named row; sql selects id with one parameter. */
static int
db_id_of(struct db *db, const char *sql, const char *name, sqlite3_int64 *id)
{
	sqlite3_stmt *st = db__prepare(db, sql);
	int rc;

	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, name);
	rc = db__step_row(db, st);
	if (rc == 0)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

#define SQL_LISTENER_ID "SELECT id FROM listeners WHERE name = ?"
#define SQL_POOL_ID "SELECT id FROM pools WHERE name = ?"

/* The one row that sql (one text parameter) selects for name, as rowfn
 * makes it; -ENOENT when there is none. */
int
db__get_named(struct db *db, const char *sql, const char *name,
	      json_t *(*rowfn)(struct db *, sqlite3_stmt *), json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, sql);
	json_t *arr;
	int rc;

	if (st != NULL)
		db__bind_text(st, 1, name);
	rc = db__rows(db, st, rowfn, &arr);
	return db__one(rc, arr, out);
}

/* ---- listeners ---- */

static json_t *
db_listener_row(struct db *db, sqlite3_stmt *st)
{
	(void)db;
	return db_l7_merge(json_pack("{s:s, s:s, s:I}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "address", (const char *)sqlite3_column_text(st, 1),
			 "port", (json_int_t)sqlite3_column_int64(st, 2)), sqlite3_column_text(st, 3));
}

int
db_listener_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT name, address, port, l7 FROM listeners ORDER BY name"),
		       db_listener_row, out);
}

int
db_listener_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, "SELECT name, address, port, l7 FROM listeners WHERE name = ?", name,
			    db_listener_row, out);
}

/* Binds name, address, port, l7 as parameters 1-4. */
static void
db_listener_bind(sqlite3_stmt *st, const struct db_listener *l)
{
	db__bind_text(st, 1, l->name);
	db__bind_text(st, 2, l->address);
	sqlite3_bind_int64(st, 3, l->port);
	db__bind_text(st, 4, db_l7_text(l->l7));
}

/* Writes l: a new row when name is NULL, else over the row named name. */
static int
db_listener_write(struct db *db, const char *name, const struct db_listener *l)
{
	sqlite3_stmt *st = db__prepare(db, name == NULL ?
				       "INSERT INTO listeners (name, address, port, l7) VALUES (?, ?, ?, ?)" :
				       "UPDATE listeners SET name = ?, address = ?, port = ?, l7 = ? WHERE name = ?");

	if (st == NULL)
		return -EIO;
	db_listener_bind(st, l);
	return db__exec_write(db, st, 5, name);
}

int
db_listener_add(struct db *db, const struct db_listener *l)
{
	return db_listener_write(db, NULL, l);
}

int
db_listener_update(struct db *db, const char *name, const struct db_listener *l)
{
	return db_listener_write(db, name, l);
}

int
db_listener_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM listeners WHERE name = ?", name, NULL));
}

/* ---- pools and members ---- */

static json_t *
db_member_row(struct db *db, sqlite3_stmt *st)
{
	(void)db;
	return db_l7_merge(json_pack("{s:s, s:I, s:I, s:b}",
			 "address", (const char *)sqlite3_column_text(st, 0),
			 "port", (json_int_t)sqlite3_column_int64(st, 1),
			 "weight", (json_int_t)sqlite3_column_int64(st, 2),
			 "enabled", sqlite3_column_int(st, 3) != 0), sqlite3_column_text(st, 4));
}

/* Members ordered by address then port: part of the renderer's contract. */
#define SQL_MEMBERS "SELECT address, port, weight, enabled, l7 FROM members WHERE pool_id = ? " \
		    "ORDER BY address, port"

static int
db_members_of(struct db *db, sqlite3_int64 pool_id, json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, SQL_MEMBERS);

	if (st != NULL)
		sqlite3_bind_int64(st, 1, pool_id);
	return db__rows(db, st, db_member_row, out);
}

static json_t *
db_pool_row(struct db *db, sqlite3_stmt *st)
{
	json_t *members;

	if (db_members_of(db, sqlite3_column_int64(st, 0), &members) < 0)
		return NULL;
	return db_l7_merge(json_pack("{s:s, s:o}", "name", (const char *)sqlite3_column_text(st, 1),
			 "members", members), sqlite3_column_text(st, 2));
}

int
db_pool_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT id, name, l7 FROM pools ORDER BY name"),
		       db_pool_row, out);
}

int
db_pool_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, "SELECT id, name, l7 FROM pools WHERE name = ?", name, db_pool_row, out);
}

/* Binds address, port, weight, enabled, l7 as parameters 1-5. */
static void
db_member_bind(sqlite3_stmt *st, const struct db_member *m)
{
	db__bind_text(st, 1, m->address);
	sqlite3_bind_int64(st, 2, m->port);
	sqlite3_bind_int64(st, 3, m->weight);
	sqlite3_bind_int(st, 4, m->enabled ? 1 : 0);
	db__bind_text(st, 5, db_l7_text(m->l7));
}

/* Binds a member's key (pool id, address, port) from parameter first on. */
static void
db_member_key_bind(sqlite3_stmt *st, int first, sqlite3_int64 pool_id, const char *address,
		   long port)
{
	sqlite3_bind_int64(st, first, pool_id);
	db__bind_text(st, first + 1, address);
	sqlite3_bind_int64(st, first + 2, port);
}

#define SQL_MEMBER_KEY "pool_id = ? AND address = ? AND port = ?"

static int
db_member_insert(struct db *db, sqlite3_int64 pool_id, const struct db_member *m)
{
	sqlite3_stmt *st = db__prepare(db, "INSERT INTO members (address, port, weight, enabled, l7, pool_id) "
				       "VALUES (?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -EIO;
	db_member_bind(st, m);
	sqlite3_bind_int64(st, 6, pool_id);
	return db__exec_stmt(db, st);
}

int
db_pool_set_l7(struct db *db, const char *name, const char *l7)
{
	return db__changed(db, db__run(db, "UPDATE pools SET l7 = ? WHERE name = ?",
				      db_l7_text(l7), name, NULL));
}

int
db_pool_add(struct db *db, const char *name, const struct db_member *m, size_t n)
{
	sqlite3_int64 id;
	size_t i;
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db__run(db, "INSERT INTO pools (name) VALUES (?)", name, NULL);
	if (rc < 0)
		goto out;
	id = sqlite3_last_insert_rowid(db->h);
	for (i = 0; i < n && rc == 0; i++)
		rc = db_member_insert(db, id, &m[i]);
out:
	rc = db__tx_finish(db, rc);
	return rc;
}

int
db_pool_update(struct db *db, const char *name, const char *newname,
	       const struct db_member *m, size_t n)
{
	sqlite3_int64 id;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	rc = db_id_of(db, SQL_POOL_ID, name, &id);
	if (rc < 0)
		goto out;
	rc = db__run(db, "UPDATE pools SET name = ? WHERE name = ?", newname, name, NULL);
	if (rc < 0 || m == NULL)
		goto out;
	st = db__prepare(db, "DELETE FROM members WHERE pool_id = ?");
	if (st != NULL)
		sqlite3_bind_int64(st, 1, id);
	rc = db__exec_stmt(db, st);
	for (i = 0; i < n && rc == 0; i++)
		rc = db_member_insert(db, id, &m[i]);
out:
	rc = db__tx_finish(db, rc);
	return rc;
}

int
db_pool_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM pools WHERE name = ?", name, NULL));
}

int
db_member_list(struct db *db, const char *pool, json_t **out)
{
	sqlite3_int64 id;
	int rc;

	*out = NULL;
	rc = db_id_of(db, SQL_POOL_ID, pool, &id);
	if (rc < 0)
		return rc;
	return db_members_of(db, id, out);
}

int
db_member_get(struct db *db, const char *pool, const char *address, long port, json_t **out)
{
	sqlite3_stmt *st;
	sqlite3_int64 id;
	json_t *arr;
	int rc;

	*out = NULL;
	rc = db_id_of(db, SQL_POOL_ID, pool, &id);
	if (rc < 0)
		return rc;
	st = db__prepare(db, "SELECT address, port, weight, enabled, l7 FROM members "
			 "WHERE " SQL_MEMBER_KEY);
	if (st != NULL)
		db_member_key_bind(st, 1, id, address, port);
	rc = db__rows(db, st, db_member_row, &arr);
	return db__one(rc, arr, out);
}

int
db_member_add(struct db *db, const char *pool, const struct db_member *m)
{
	sqlite3_int64 id;
	int rc;

	rc = db_id_of(db, SQL_POOL_ID, pool, &id);
	if (rc < 0)
		return rc;
	return db_member_insert(db, id, m);
}

int
db_member_update(struct db *db, const char *pool, const char *address, long port,
		 const struct db_member *m)
{
	sqlite3_stmt *st;
	sqlite3_int64 id;
	int rc;

	rc = db_id_of(db, SQL_POOL_ID, pool, &id);
	if (rc < 0)
		return rc;
	st = db__prepare(db, "UPDATE members SET address = ?, port = ?, weight = ?, enabled = ?, l7 = ? "
			 "WHERE " SQL_MEMBER_KEY);
	if (st == NULL)
		return -EIO;
	db_member_bind(st, m);
	db_member_key_bind(st, 6, id, address, port);
	return db__changed(db, db__exec_stmt(db, st));
}

int
db_member_delete(struct db *db, const char *pool, const char *address, long port)
{
	sqlite3_stmt *st;
	sqlite3_int64 id;
	int rc;

	rc = db_id_of(db, SQL_POOL_ID, pool, &id);
	if (rc < 0)
		return rc;
	st = db__prepare(db, "DELETE FROM members WHERE " SQL_MEMBER_KEY);
	if (st == NULL)
		return -EIO;
	db_member_key_bind(st, 1, id, address, port);
	return db__changed(db, db__exec_stmt(db, st));
}

/* ---- routes ---- */

static json_t *
db_route_row(struct db *db, sqlite3_stmt *st)
{
	json_t *row;

	(void)db;
	row = json_pack("{s:s, s:s, s:s, s:s, s:I}",
			"name", (const char *)sqlite3_column_text(st, 0),
			"listener", (const char *)sqlite3_column_text(st, 1),
			"host", (const char *)sqlite3_column_text(st, 2),
			"path_prefix", (const char *)sqlite3_column_text(st, 3),
			"priority", (json_int_t)sqlite3_column_int64(st, 5));
	/* no pool for redirect, respond and deny routes */
	if (row != NULL && sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(row, "pool", json_string((const char *)sqlite3_column_text(st, 4)));
	return db_l7_merge(row, sqlite3_column_text(st, 6));
}

#define SQL_ROUTES "SELECT r.name, l.name, r.host, r.path_prefix, p.name, r.priority, r.l7 " \
		   "FROM routes r JOIN listeners l ON l.id = r.listener_id " \
		   "LEFT JOIN pools p ON p.id = r.pool_id "

int
db_route_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, SQL_ROUTES "ORDER BY r.name"), db_route_row, out);
}

int
db_route_get(struct db *db, const char *name, json_t **out)
{
	return db__get_named(db, SQL_ROUTES "WHERE r.name = ?", name, db_route_row, out);
}

/* Resolves a route's references; -ENXIO / -ENOLINK name the missing one. */
static int
db_route_refs(struct db *db, const struct db_route *r, sqlite3_int64 *lid, sqlite3_int64 *pid)
{
	int rc = db_id_of(db, SQL_LISTENER_ID, r->listener, lid);

	if (rc == -ENOENT)
		return -ENXIO;
	if (rc < 0)
		return rc;
	*pid = 0;
	if (r->pool == NULL)
		return 0;
	rc = db_id_of(db, SQL_POOL_ID, r->pool, pid);
	return rc == -ENOENT ? -ENOLINK : rc;
}

static void
db_route_bind(sqlite3_stmt *st, const struct db_route *r, sqlite3_int64 lid, sqlite3_int64 pid)
{
	db__bind_text(st, 1, r->name);
	sqlite3_bind_int64(st, 2, lid);
	db__bind_text(st, 3, r->host ? r->host : "");
	db__bind_text(st, 4, r->path_prefix ? r->path_prefix : "/");
	if (r->pool != NULL)
		sqlite3_bind_int64(st, 5, pid);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, r->priority);
	db__bind_text(st, 7, db_l7_text(r->l7));
}

/* Writes r: a new row when name is NULL, else over the row named name. */
static int
db_route_write(struct db *db, const char *name, const struct db_route *r)
{
	sqlite3_int64 lid, pid;
	sqlite3_stmt *st;
	int rc;

	rc = db_route_refs(db, r, &lid, &pid);
	if (rc < 0)
		return rc;
	st = db__prepare(db, name == NULL ?
			 "INSERT INTO routes (name, listener_id, host, path_prefix, pool_id, priority, l7) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?)" :
			 "UPDATE routes SET name = ?, listener_id = ?, host = ?, path_prefix = ?, "
			 "pool_id = ?, priority = ?, l7 = ? WHERE name = ?");
	if (st == NULL)
		return -EIO;
	db_route_bind(st, r, lid, pid);
	return db__exec_write(db, st, 8, name);
}

int
db_route_add(struct db *db, const struct db_route *r)
{
	return db_route_write(db, NULL, r);
}

int
db_route_update(struct db *db, const char *name, const struct db_route *r)
{
	return db_route_write(db, name, r);
}

int
db_route_delete(struct db *db, const char *name)
{
	return db__changed(db, db__run(db, "DELETE FROM routes WHERE name = ?", name, NULL));
}

/* ---- renderer and loader ---- */

/* Adds the vrrp (db_vrrp.c), l4 (db_l4.c) and rate_rules (db_rate.c)
 * sections, when there are any, to cfg (borrowed). */
static int
db_candidate_render_vrrp(struct db *db, json_t *cfg)
{
	json_t *v = NULL;
	int rc = db_vrrp_render(db, &v);

	if (rc == 0 && v != NULL)
		rc = json_object_set_new(cfg, "vrrp", v) == 0 ? 0 : -ENOMEM;
	v = NULL;
	if (rc == 0)
		rc = db_l4_render(db, &v);
	if (rc == 0 && v != NULL)
		rc = json_object_set_new(cfg, "l4", v) == 0 ? 0 : -ENOMEM;
	v = NULL;
	if (rc == 0)	/* and the rate_rules section (db_rate.c) */
		rc = db_rate_render(db, &v);
	if (rc == 0 && v != NULL)
		rc = json_object_set_new(cfg, "rate_rules", v) == 0 ? 0 : -ENOMEM;
	return rc;
}

int
db_candidate_render(struct db *db, long revision, json_t **out)
{
	json_t *l = NULL, *p = NULL, *r = NULL;
	int rc;

	*out = NULL;
	rc = db_listener_list(db, &l);
	if (rc == 0)
		rc = db_pool_list(db, &p);
	if (rc == 0)
		rc = db_route_list(db, &r);
	if (rc < 0)
		goto fail;
	*out = json_pack("{s:i, s:I, s:o, s:o, s:o}", "version", 1, "revision",
			 (json_int_t)revision, "listeners", l, "pools", p, "routes", r);
	if (*out == NULL)
		return -ENOMEM;
	rc = db_candidate_render_vrrp(db, *out);
	if (rc == 0)
		rc = db_settings_render(db, *out);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
fail:
	json_decref(l);
	json_decref(p);
	json_decref(r);
	return rc;
}

int
db_candidate_text(struct db *db, long revision, char **out)
{
	json_t *cfg;
	int rc;

	*out = NULL;
	rc = db_candidate_render(db, revision, &cfg);
	if (rc < 0)
		return rc;
	*out = jh_dump_canonical(cfg);
	json_decref(cfg);
	return *out ? 0 : -ENOMEM;
}

json_t *
db__json_without(const json_t *o, const char *const *drop)
{
	json_t *rest = json_object();
	const char *key;
	json_t *v;

	if (rest == NULL)
		return NULL;
	json_object_foreach((json_t *)o, key, v) {
		const char *const *d;

		for (d = drop; *d != NULL && strcmp(*d, key) != 0; d++)
			;
		if (*d == NULL)
			json_object_set(rest, key, v);
	}
	return rest;
}

/* The fields of o that are not in base (NULL-terminated), as JSON text:
 * the object's L7 options. Returns a new string (free()) or NULL on OOM. */
static char *
db_l7_rest(const json_t *o, const char *const *base)
{
	json_t *rest = db__json_without(o, base);
	char *text = rest ? jh_dump_canonical(rest) : NULL;

	json_decref(rest);
	return text;
}

static const char *
db_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static long
db_int(const json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

/* Fills members from a config's member array; addresses are canonicalised
 * into addrbuf (n slots of INET6_ADDRSTRLEN). */
static int
db_load_members(const json_t *arr, struct db_member *m, char (*addrbuf)[INET6_ADDRSTRLEN])
{
	static const char *const base[] = { "address", "port", "weight", "enabled", NULL };
	const json_t *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		json_t *en = json_object_get(o, "enabled");

		if (db_addr_canon(db_str(o, "address", ""), addrbuf[i], INET6_ADDRSTRLEN) < 0)
			return -EINVAL;
		m[i].address = addrbuf[i];
		m[i].port = db_int(o, "port", 0);
		m[i].weight = db_int(o, "weight", 1);
		m[i].enabled = en == NULL || json_is_true(en);
		m[i].l7 = db_l7_rest(o, base);
		if (m[i].l7 == NULL)
			return -ENOMEM;
	}
	return 0;
}

int
db_candidate_load(struct db *db, const json_t *config)
{
	const json_t *o;
	size_t i;
	int rc;

	if (!json_is_object(config))
		return -EINVAL;
	rc = db_tx_begin(db);
	if (rc < 0)
		return rc;
	/* Routes first: they hold the RESTRICT references. */
	rc = db__run(db, "DELETE FROM routes", NULL);
	if (rc == 0)
		rc = db__run(db, "DELETE FROM members", NULL);
	if (rc == 0)
		rc = db__run(db, "DELETE FROM pools", NULL);
	if (rc == 0)
		rc = db__run(db, "DELETE FROM listeners", NULL);
	json_array_foreach(json_object_get(config, "listeners"), i, o) {
		static const char *const base[] = { "name", "address", "port", NULL };
		struct db_listener l = {
			.name = db_str(o, "name", ""), .address = db_str(o, "address", ""),
			.port = db_int(o, "port", 0),
		};
		char addr[INET6_ADDRSTRLEN], *l7;

		if (rc < 0)
			break;
		/* Listener addresses too, so diffs do not show "::" vs "0::". */
		if (db_addr_canon(l.address, addr, sizeof(addr)) == 0)
			l.address = addr;
		l.l7 = l7 = db_l7_rest(o, base);
		rc = l7 ? db_listener_add(db, &l) : -ENOMEM;
		free(l7);
	}
	json_array_foreach(json_object_get(config, "pools"), i, o) {
		const json_t *marr = json_object_get(o, "members");
		size_t n = json_array_size(marr);
		struct db_member *m;
		char (*addrs)[INET6_ADDRSTRLEN];

		if (rc < 0)
			break;
		m = calloc(n + 1, sizeof(*m));
		addrs = calloc(n + 1, sizeof(*addrs));
		if (m == NULL || addrs == NULL)
			rc = -ENOMEM;
		else
			rc = db_load_members(marr, m, addrs);
		if (rc == 0)
			rc = db_pool_add(db, db_str(o, "name", ""), m, n);
		if (rc == 0) {
			static const char *const base[] = { "name", "members", NULL };
			char *l7 = db_l7_rest(o, base);

			rc = l7 ? db_pool_set_l7(db, db_str(o, "name", ""), l7) : -ENOMEM;
			free(l7);
		}
		for (size_t k = 0; m != NULL && k < n; k++)
			free((char *)m[k].l7);
		free(m);
		free(addrs);
	}
	json_array_foreach(json_object_get(config, "routes"), i, o) {
		static const char *const base[] = { "name", "listener", "host", "path_prefix",
						    "pool", "priority", NULL };
		struct db_route r = {
			.name = db_str(o, "name", ""), .listener = db_str(o, "listener", ""),
			.host = db_str(o, "host", ""), .path_prefix = db_str(o, "path_prefix", "/"),
			.pool = db_str(o, "pool", NULL), .priority = db_int(o, "priority", 100),
		};
		char *l7;

		if (rc < 0)
			break;
		r.l7 = l7 = db_l7_rest(o, base);
		rc = l7 ? db_route_add(db, &r) : -ENOMEM;
		free(l7);
	}
	if (rc == 0)
		rc = db_vrrp_load(db, json_object_get(config, "vrrp"));
	if (rc == 0)
		rc = db_settings_load(db, config);
	if (rc == 0)
		rc = db_l4_load(db, json_object_get(config, "l4"));
	if (rc == 0)
		rc = db_rate_load(db, json_object_get(config, "rate_rules"));
	rc = db__tx_finish(db, rc);
	return rc;
}
