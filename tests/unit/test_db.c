/*
 * test_db - the db module against a real SQLite file in a temporary dir:
 * migrations (from zero and from every older user_version), pragmas, CRUD
 * with its uniqueness and foreign-key errors, renderer determinism,
 * revisions and restore, sessions and throttle counters.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "db_migrations.h"
#include "log.h"
#include "tmpdb.h"

struct fixture {
	struct tmpdb t;
	struct db *db;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tmpdb_init(&f->t, "test_db");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tmpdb_remove(&f->t, &f->db);
	free(f);
	return 0;
}

static void
open_latest(struct fixture *f)
{
	assert_int_equal(db_open(f->t.path, DB_SCHEMA_LATEST, &f->db), 0);
}

static void
assert_pragma(struct db *db, const char *name, const char *want)
{
	char *v = db_pragma_text(db, name);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void
test_migrate_from_zero(void **state)
{
	struct fixture *f = *state;
	char want[16];

	open_latest(f);
	assert_true(db_schema_latest() >= 2);
	assert_int_equal(db_schema_version(f->db), db_schema_latest());
	assert_pragma(f->db, "journal_mode", "wal");
	assert_pragma(f->db, "foreign_keys", "1");
	snprintf(want, sizeof(want), "%d", db_schema_latest());
	assert_pragma(f->db, "user_version", want);
	assert_pragma(f->db, "integrity_check", "ok");
	/* Reopening an up-to-date database changes nothing. */
	db_close(&f->db);
	assert_null(f->db);
	open_latest(f);
	assert_int_equal(db_schema_version(f->db), db_schema_latest());
}

/* Stops at each older version, writes data there, then migrates to latest:
 * the data survives and the schema reaches the latest version. Versions
 * come from the migration list: numbers are reserved per feature, so the
 * list may have gaps. */
static void
test_migrate_from_each_version(void **state)
{
	struct fixture *f = *state;
	unsigned i;
	int v;

	/* every version a migration leads to (numbers may have gaps: they
	 * are reserved per branch), except the latest */
	for (i = 0; i + 1 < db_migrations_count; i++) {
		json_t *got;
		sqlite3 *h;

		v = db_migrations[i].version;
		assert_int_equal(db_open(f->t.path, v, &f->db), 0);
		assert_int_equal(db_schema_version(f->db), v);
		db_close(&f->db);
		/* written with SQL of that version: today's code knows only the latest */
		assert_int_equal(sqlite3_open(f->t.path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "INSERT INTO listeners (name, address, port) "
					      "VALUES ('web', '127.0.0.1', 8080)", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
		open_latest(f);
		assert_int_equal(db_schema_version(f->db), db_schema_latest());
		assert_int_equal(db_listener_get(f->db, "web", &got), 0);
		assert_int_equal(json_integer_value(json_object_get(got, "port")), 8080);
		json_decref(got);
		assert_pragma(f->db, "integrity_check", "ok");
		db_close(&f->db);
		tmpdb_unlink(f->t.path);
	}
	/* Version 0 (an empty file) is covered by test_migrate_from_zero. */
}

/* The rate_rules section: nothing stored renders as no section; a loaded
 * section renders back with its rules in order and its other members;
 * loading again replaces it whole; two rules of one name are refused. */
static void
test_rate_rules_roundtrip(void **state)
{
	struct fixture *f = *state;
	json_t *sec, *out = NULL;

	open_latest(f);
	assert_int_equal(db_rate_render(f->db, &out), 0);
	assert_null(out);
	sec = json_loads("{\"deny_cidrs\": [\"192.0.2.0/24\"], \"waf\": {\"limits\": []},"
			 " \"rules\": [{\"name\": \"z\", \"limit\": {\"requests\": 1, \"period_s\": 1}},"
			 " {\"name\": \"a\", \"shadow\": true}]}", 0, NULL);
	assert_non_null(sec);
	assert_int_equal(db_rate_load(f->db, sec), 0);
	assert_int_equal(db_rate_render(f->db, &out), 0);
	assert_true(json_equal(sec, out));
	json_decref(out);
	json_object_del(sec, "waf");
	json_array_remove(json_object_get(sec, "rules"), 0);
	assert_int_equal(db_rate_load(f->db, sec), 0);
	assert_int_equal(db_rate_render(f->db, &out), 0);
	assert_true(json_equal(sec, out));
	json_decref(out);
	json_array_append_new(json_object_get(sec, "rules"), json_pack("{s:s}", "name", "a"));
	assert_int_equal(db_rate_load(f->db, sec), -EEXIST);
	assert_int_equal(db_rate_render(f->db, &out), 0);	/* the failed load changed nothing */
	assert_int_equal(json_array_size(json_object_get(out, "rules")), 1);
	json_decref(out);
	assert_int_equal(db_rate_load(f->db, NULL), 0);
	assert_int_equal(db_rate_render(f->db, &out), 0);
	assert_null(out);
	json_decref(sec);
}

static void
add_demo(struct db *db, int reverse)
{
	struct db_listener l1 = { .name = "web", .address = "127.0.0.1", .port = 8080 };
	struct db_listener l2 = { .name = "alt", .address = "::1", .port = 8081 };
	struct db_member m[] = {
		{ .address = "127.0.0.2", .port = 9002, .weight = 1, .enabled = true },
		{ .address = "127.0.0.1", .port = 9001, .weight = 5, .enabled = false },
	};
	struct db_route r1 = { .name = "r1", .listener = "web", .host = "", .path_prefix = "/",
			       .pool = "demo", .priority = 100 };
	struct db_route r2 = { .name = "r0", .listener = "alt", .host = "example.com",
			       .path_prefix = "/api", .pool = "demo", .priority = 10 };

	if (!reverse) {
		assert_int_equal(db_listener_add(db, &l1), 0);
		assert_int_equal(db_listener_add(db, &l2), 0);
		assert_int_equal(db_pool_add(db, "demo", m, 2), 0);
		assert_int_equal(db_pool_add(db, "empty", NULL, 0), 0);
		assert_int_equal(db_route_add(db, &r1), 0);
		assert_int_equal(db_route_add(db, &r2), 0);
	} else {
		assert_int_equal(db_pool_add(db, "empty", NULL, 0), 0);
		assert_int_equal(db_pool_add(db, "demo", NULL, 0), 0);
		assert_int_equal(db_member_add(db, "demo", &m[1]), 0);
		assert_int_equal(db_member_add(db, "demo", &m[0]), 0);
		assert_int_equal(db_listener_add(db, &l2), 0);
		assert_int_equal(db_listener_add(db, &l1), 0);
		assert_int_equal(db_route_add(db, &r2), 0);
		assert_int_equal(db_route_add(db, &r1), 0);
	}
}

static void
test_crud_errors(void **state)
{
	struct fixture *f = *state;
	struct db_listener l = { .name = "web", .address = "10.0.0.1", .port = 80 };
	struct db_listener bad = { .name = "bad", .address = "10.0.0.1", .port = 0 };
	struct db_member m = { .address = "127.0.0.1", .port = 9001, .weight = 1, .enabled = true };
	struct db_route r = { .name = "rx", .listener = "nope", .pool = "demo", .priority = 1 };
	json_t *got;

	open_latest(f);
	add_demo(f->db, 0);
	assert_int_equal(db_listener_add(f->db, &l), -EEXIST);
	assert_int_equal(db_listener_add(f->db, &bad), -EINVAL);
	assert_int_equal(db_pool_add(f->db, "demo", NULL, 0), -EEXIST);
	assert_int_equal(db_member_add(f->db, "demo", &m), -EEXIST);
	assert_int_equal(db_member_add(f->db, "nope", &m), -ENOENT);
	assert_int_equal(db_route_add(f->db, &r), -ENXIO);
	r.listener = "web";
	r.pool = "nope";
	assert_int_equal(db_route_add(f->db, &r), -ENOLINK);
	r.name = "r1";
	r.pool = "demo";
	assert_int_equal(db_route_add(f->db, &r), -EEXIST);

	/* Objects in use cannot be deleted; the failed delete changes nothing. */
	assert_int_equal(db_pool_delete(f->db, "demo"), -EBUSY);
	assert_int_equal(db_listener_delete(f->db, "web"), -EBUSY);
	assert_int_equal(db_pool_get(f->db, "demo", &got), 0);
	assert_int_equal(json_array_size(json_object_get(got, "members")), 2);
	json_decref(got);
	assert_int_equal(db_pool_delete(f->db, "empty"), 0);
	assert_int_equal(db_pool_delete(f->db, "empty"), -ENOENT);

	/* Rename through update keeps references (routes follow by id). */
	l.name = "www";
	l.address = "127.0.0.1";
	l.port = 8080;
	assert_int_equal(db_listener_update(f->db, "web", &l), 0);
	assert_int_equal(db_route_get(f->db, "r1", &got), 0);
	assert_string_equal(json_string_value(json_object_get(got, "listener")), "www");
	json_decref(got);
	assert_int_equal(db_listener_update(f->db, "web", &l), -ENOENT);
	l.name = "alt";
	assert_int_equal(db_listener_update(f->db, "www", &l), -EEXIST);

	m.weight = 7;
	assert_int_equal(db_member_update(f->db, "demo", "127.0.0.1", 9001, &m), 0);
	assert_int_equal(db_member_get(f->db, "demo", "127.0.0.1", 9001, &got), 0);
	assert_int_equal(json_integer_value(json_object_get(got, "weight")), 7);
	assert_true(json_is_true(json_object_get(got, "enabled")));
	json_decref(got);
	assert_int_equal(db_member_delete(f->db, "demo", "127.0.0.1", 9001), 0);
	assert_int_equal(db_member_delete(f->db, "demo", "127.0.0.1", 9001), -ENOENT);

	/* Deleting the routes frees the pool and the listener. */
	assert_int_equal(db_route_delete(f->db, "r1"), 0);
	assert_int_equal(db_route_delete(f->db, "r0"), 0);
	assert_int_equal(db_pool_delete(f->db, "demo"), 0);
	assert_int_equal(db_listener_delete(f->db, "www"), 0);
	assert_pragma(f->db, "integrity_check", "ok");
}

static void
test_pool_update_replaces_members(void **state)
{
	struct fixture *f = *state;
	struct db_member m = { .address = "10.0.0.9", .port = 80, .weight = 2, .enabled = true };
	struct db_member dup[2] = { m, m };
	json_t *got;

	open_latest(f);
	add_demo(f->db, 0);
	assert_int_equal(db_pool_update(f->db, "demo", "demo2", &m, 1), 0);
	assert_int_equal(db_pool_get(f->db, "demo2", &got), 0);
	assert_int_equal(json_array_size(json_object_get(got, "members")), 1);
	json_decref(got);
	/* A failing replacement rolls back whole: the old members stay. */
	assert_int_equal(db_pool_update(f->db, "demo2", "demo3", dup, 2), -EEXIST);
	assert_int_equal(db_pool_get(f->db, "demo3", &got), -ENOENT);
	assert_int_equal(db_pool_get(f->db, "demo2", &got), 0);
	assert_int_equal(json_array_size(json_object_get(got, "members")), 1);
	json_decref(got);
	assert_int_equal(db_pool_update(f->db, "nope", "x", NULL, 0), -ENOENT);
}

static const char expected_render[] =
	"{\n"
	"  \"listeners\": [\n"
	"    {\n"
	"      \"address\": \"::1\",\n"
	"      \"name\": \"alt\",\n"
	"      \"port\": 8081\n"
	"    },\n"
	"    {\n"
	"      \"address\": \"127.0.0.1\",\n"
	"      \"name\": \"web\",\n"
	"      \"port\": 8080\n"
	"    }\n"
	"  ],\n"
	"  \"pools\": [\n"
	"    {\n"
	"      \"members\": [\n"
	"        {\n"
	"          \"address\": \"127.0.0.1\",\n"
	"          \"enabled\": false,\n"
	"          \"port\": 9001,\n"
	"          \"weight\": 5\n"
	"        },\n"
	"        {\n"
	"          \"address\": \"127.0.0.2\",\n"
	"          \"enabled\": true,\n"
	"          \"port\": 9002,\n"
	"          \"weight\": 1\n"
	"        }\n"
	"      ],\n"
	"      \"name\": \"demo\"\n"
	"    },\n"
	"    {\n"
	"      \"members\": [],\n"
	"      \"name\": \"empty\"\n"
	"    }\n"
	"  ],\n"
	"  \"revision\": 7,\n"
	"  \"routes\": [\n"
	"    {\n"
	"      \"host\": \"example.com\",\n"
	"      \"listener\": \"alt\",\n"
	"      \"name\": \"r0\",\n"
	"      \"path_prefix\": \"/api\",\n"
	"      \"pool\": \"demo\",\n"
	"      \"priority\": 10\n"
	"    },\n"
	"    {\n"
	"      \"host\": \"\",\n"
	"      \"listener\": \"web\",\n"
	"      \"name\": \"r1\",\n"
	"      \"path_prefix\": \"/\",\n"
	"      \"pool\": \"demo\",\n"
	"      \"priority\": 100\n"
	"    }\n"
	"  ],\n"
	"  \"version\": 1\n"
	"}\n";

/* The same candidate built in two different orders renders to the same bytes,
 * and rendering twice gives the same bytes again. */
static void
test_render_deterministic(void **state)
{
	struct fixture *f = *state;
	struct db *other = NULL;
	char path2[192], *a, *a2, *b;

	open_latest(f);
	add_demo(f->db, 0);
	snprintf(path2, sizeof(path2), "%s/other.db", f->t.dir);
	assert_int_equal(db_open(path2, DB_SCHEMA_LATEST, &other), 0);
	add_demo(other, 1);
	assert_int_equal(db_candidate_text(f->db, 7, &a), 0);
	assert_int_equal(db_candidate_text(f->db, 7, &a2), 0);
	assert_int_equal(db_candidate_text(other, 7, &b), 0);
	assert_string_equal(a, a2);
	assert_string_equal(a, b);
	assert_string_equal(a, expected_render);
	free(a);
	free(a2);
	free(b);
	db_close(&other);
	tmpdb_unlink(path2);
}

static void
test_revisions_and_restore(void **state)
{
	struct fixture *f = *state;
	char *content1, *content2, *again, *running;
	json_t *list, *rev, *errs;
	long n1, n2, run;

	open_latest(f);
	assert_int_equal(db_revision_running(f->db, &run, NULL), -ENOENT);
	add_demo(f->db, 0);
	assert_int_equal(db_revision_commit(f->db, "alice", "first", 1000, &n1, &content1), 0);
	assert_int_equal(n1, 1);
	assert_non_null(strstr(content1, "\"revision\": 1,"));
	assert_int_equal(db_revision_set_status(f->db, n1, "applied", NULL), 0);

	/* Change the candidate, commit a failed revision. */
	assert_int_equal(db_route_delete(f->db, "r0"), 0);
	assert_int_equal(db_listener_delete(f->db, "alt"), 0);
	assert_int_equal(db_revision_commit(f->db, "bob", NULL, 2000, &n2, &content2), 0);
	assert_int_equal(n2, 2);
	errs = json_pack("[{s:s, s:s}]", "path", "$.listeners[0].port", "message", "in use");
	assert_int_equal(db_revision_set_status(f->db, n2, "failed", errs), 0);
	json_decref(errs);
	assert_int_equal(db_revision_set_status(f->db, 99, "failed", NULL), -ENOENT);

	/* The running revision is the newest applied one. */
	assert_int_equal(db_revision_running(f->db, &run, &running), 0);
	assert_int_equal(run, 1);
	assert_string_equal(running, content1);
	free(running);

	assert_int_equal(db_revision_list(f->db, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "number")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "author")), "alice");
	json_decref(list);

	assert_int_equal(db_revision_get(f->db, 2, &rev), 0);
	assert_true(json_is_object(json_object_get(rev, "config")));
	assert_int_equal(json_array_size(json_object_get(rev, "errors")), 1);
	json_decref(rev);
	assert_int_equal(db_revision_get(f->db, 1, &rev), 0);
	assert_true(json_is_null(json_object_get(rev, "errors")));
	json_decref(rev);
	assert_int_equal(db_revision_get(f->db, 3, &rev), -ENOENT);

	/* Restore round trip: the candidate renders back to revision 1's bytes. */
	assert_int_equal(db_revision_restore(f->db, 1), 0);
	assert_int_equal(db_candidate_text(f->db, 1, &again), 0);
	assert_string_equal(again, content1);
	free(again);
	assert_int_equal(db_revision_restore(f->db, 2), 0);
	assert_int_equal(db_candidate_text(f->db, 2, &again), 0);
	assert_string_equal(again, content2);
	free(again);
	assert_int_equal(db_revision_restore(f->db, 42), -ENOENT);
	free(content1);
	free(content2);
}

/* A load that fails half-way leaves the candidate as it was. */
static void
test_load_is_atomic(void **state)
{
	struct fixture *f = *state;
	char *before, *after;
	json_t *cfg;

	open_latest(f);
	add_demo(f->db, 0);
	assert_int_equal(db_candidate_text(f->db, 0, &before), 0);
	cfg = json_pack("{s:i, s:[{s:s, s:s, s:i}], s:[], s:[{s:s, s:s, s:s}]}",
			"version", 1, "listeners", "name", "a", "address", "0::1", "port", 1,
			"pools", "routes", "name", "r", "listener", "a", "pool", "missing");
	assert_int_equal(db_candidate_load(f->db, cfg), -ENOLINK);
	json_decref(cfg);
	assert_int_equal(db_candidate_text(f->db, 0, &after), 0);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Addresses are stored in canonical form. */
	cfg = json_pack("{s:i, s:[{s:s, s:s, s:i}], s:[{s:s, s:[{s:s, s:i}]}], s:[]}",
			"version", 1, "listeners", "name", "a", "address", "0::1", "port", 1,
			"pools", "name", "p", "members", "address", "0:0::2", "port", 80,
			"routes");
	assert_int_equal(db_candidate_load(f->db, cfg), 0);
	json_decref(cfg);
	assert_int_equal(db_candidate_text(f->db, 0, &after), 0);
	assert_non_null(strstr(after, "\"address\": \"::1\""));
	assert_non_null(strstr(after, "\"address\": \"::2\""));
	assert_non_null(strstr(after, "\"weight\": 1"));
	free(after);
}

/* The l4 section: services with reals round-trip (sorted, canonical,
 * nulls dropped), a taken name and a duplicate real are refused, and a load
 * replaces services and filter but keeps this node's sync unless given. */
static void
test_l4_section(void **state)
{
	struct fixture *f = *state;
	json_t *svc, *out, *sec, *cfg;
	char *text;

	open_latest(f);
	assert_int_equal(db_l4_render(f->db, &out), 0);
	assert_null(out);	/* nothing set: no section */
	svc = json_loads("{\"name\":\"pg\",\"protocol\":\"tcp\",\"address\":\"0::10\",\"port\":5432,"
			 "\"scheduler\":null,\"check\":{\"type\":\"tcp\"},\"reals\":["
			 "{\"address\":\"10.0.1.3\",\"port\":5432,\"forward\":\"dr\"},"
			 "{\"address\":\"10.0.1.2\",\"port\":5432,\"weight\":3}]}", 0, NULL);
	assert_int_equal(db_l4_service_put(f->db, NULL, svc), 0);
	assert_int_equal(db_l4_service_put(f->db, NULL, svc), -EEXIST);
	assert_int_equal(db_l4_service_get(f->db, "pg", &out), 0);
	text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"address\":\"::10\",\"check\":{\"type\":\"tcp\"},\"name\":\"pg\","
			    "\"port\":5432,\"protocol\":\"tcp\",\"reals\":[{\"address\":\"10.0.1.2\","
			    "\"port\":5432,\"weight\":3},{\"address\":\"10.0.1.3\",\"forward\":\"dr\","
			    "\"port\":5432}]}");
	free(text);
	json_decref(out);
	/* a duplicate real: refused, the stored service unchanged */
	json_array_append(json_object_get(svc, "reals"), json_array_get(json_object_get(svc, "reals"), 0));
	assert_int_equal(db_l4_service_put(f->db, "pg", svc), -EEXIST);
	assert_int_equal(db_l4_service_get(f->db, "pg", &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "reals")), 2);
	json_decref(out);
	json_decref(svc);
	sec = json_pack("{s:{s:[s]}, s:{s:s, s:s}}", "filter", "deny", "198.51.100.0/24",
			"sync", "role", "backup", "interface", "eth1");
	assert_int_equal(db_l4_settings_set(f->db, sec), 0);
	json_decref(sec);
	assert_int_equal(db_l4_render(f->db, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "services")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "sync"), "role")), "backup");
	json_decref(out);
	/* a load without l4.sync: services and filter replaced, sync kept */
	cfg = json_pack("{s:i, s:{s:[{s:s, s:s, s:i, s:s}]}}", "version", 1, "l4", "services",
			"name", "fw", "protocol", "fwmark", "fwmark", 7, "family", "ipv4");
	assert_int_equal(db_candidate_load(f->db, cfg), 0);
	json_decref(cfg);
	assert_int_equal(db_l4_service_get(f->db, "pg", &out), -ENOENT);
	assert_int_equal(db_l4_settings_get(f->db, &out), 0);
	assert_null(json_object_get(out, "filter"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "sync"), "interface")), "eth1");
	json_decref(out);
	assert_int_equal(db_l4_service_delete(f->db, "fw"), 0);
	assert_int_equal(db_l4_service_delete(f->db, "fw"), -ENOENT);
}

static void
test_users_sessions_throttle(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct db_user u;
	long long last;
	long n;

	open_latest(f);
	assert_int_equal(db_user_count(f->db), 0);
	assert_int_equal(db_user_add(f->db, "admin", "$argon2id$x", "admin", 1), 0);
	assert_int_equal(db_user_add(f->db, "admin", "$argon2id$y", "viewer", 1), -EEXIST);
	assert_int_equal(db_user_add(f->db, "eve", "h", "root", 1), -EINVAL);
	assert_int_equal(db_user_count(f->db), 1);
	assert_int_equal(db_user_get(f->db, "admin", &u), 0);
	assert_string_equal(u.role, "admin");
	db_user_release(&u);
	assert_int_equal(db_user_get(f->db, "nobody", &u), -ENOENT);

	assert_int_equal(db_session_add(f->db, "h1", "admin", "csrf1", 100), 0);
	assert_int_equal(db_session_add(f->db, "h2", "nobody", "csrf2", 100), -EBUSY);
	assert_int_equal(db_session_get(f->db, "h1", 200, 1800, &s), 0);
	assert_string_equal(s.csrf, "csrf1");
	assert_string_equal(s.role, "admin");
	assert_int_equal(s.last_seen, 200);
	db_session_release(&s);
	/* Idle for longer than the limit: gone, and stays gone. */
	assert_int_equal(db_session_get(f->db, "h1", 200 + 1801, 1800, &s), -ENOENT);
	assert_int_equal(db_session_get(f->db, "h1", 201, 1800, &s), -ENOENT);
	assert_int_equal(db_session_add(f->db, "h3", "admin", "c", 100), 0);
	assert_int_equal(db_session_expire(f->db, 5000, 1800), 0);
	assert_int_equal(db_session_get(f->db, "h3", 101, 1800, &s), -ENOENT);

	assert_int_equal(db_throttle_get(f->db, "addr:1.2.3.4", &n, &last), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_throttle_set(f->db, "addr:1.2.3.4", 3, 77), 0);
	assert_int_equal(db_throttle_set(f->db, "addr:1.2.3.4", 4, 78), 0);
	assert_int_equal(db_throttle_get(f->db, "addr:1.2.3.4", &n, &last), 0);
	assert_int_equal(n, 4);
	assert_int_equal(last, 78);
	assert_int_equal(db_throttle_clear(f->db, "addr:1.2.3.4"), 0);
	assert_int_equal(db_throttle_get(f->db, "addr:1.2.3.4", &n, &last), 0);
	assert_int_equal(n, 0);
}

static void
test_tx_nesting(void **state)
{
	struct fixture *f = *state;
	struct db_listener l = { .name = "x", .address = "127.0.0.1", .port = 1 };
	json_t *got;

	open_latest(f);
	assert_int_equal(db_tx_begin(f->db), 0);
	assert_int_equal(db_listener_add(f->db, &l), 0);
	assert_int_equal(db_tx_begin(f->db), 0);
	assert_int_equal(db_tx_end(f->db, 1), 0);
	assert_int_equal(db_tx_end(f->db, 0), 0);
	assert_int_equal(db_listener_get(f->db, "x", &got), -ENOENT);
	assert_int_equal(db_tx_end(f->db, 1), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_each_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crud_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_rules_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_update_replaces_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revisions_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_l4_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_sessions_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_nesting, setup, teardown),
	};

	log_init("test_db", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
