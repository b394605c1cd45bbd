/*
 * test_adm_api - the REST API without HTTP: validation answers and their
 * field names, conflicts, JSON-path -> field translation, the diff, and
 * apply when the candidate is invalid or tandemd is unreachable (the file
 * must end up holding the last applied revision).
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

#include "adm_api.h"
#include "adm_apply.h"
#include "adm_auth.h"
#include "adm_diff.h"
#include "db.h"
#include "log.h"
#include "tmpdb.h"

static time_t
test_clock(void)
{
	return 1700000000;
}

struct fixture {
	struct tmpdb t;
	char cfg[128];
	char token[65];
	char csrf[65];
	struct adm a;
	struct adm_resp rs;
};

static unsigned
call(struct fixture *f, const char *method, const char *path, const char *body)
{
	struct adm_req rq = {
		.method = method, .path = path, .session_token = f->token, .csrf = f->csrf,
		.client = "127.0.0.1", .body = body, .body_len = body ? strlen(body) : 0,
	};

	adm_resp_release(&f->rs);
	adm_api_handle(&f->a, &rq, &f->rs);
	return f->rs.status;
}

static const char *
err(struct fixture *f, const char *key)
{
	return json_string_value(json_object_get(json_object_get(f->rs.body, "error"), key));
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct db_session s;
	char pw[32];
	long retry;

	assert_non_null(f);
	tmpdb_open(&f->t, "test_adm_api", &f->a.db);
	snprintf(f->cfg, sizeof(f->cfg), "%s/tandem.json", f->t.dir);
	f->a.now = test_clock;
	f->a.ctl_socket = "/nonexistent/tandemd.sock";
	f->a.config_file = f->cfg;
	f->a.ctl_timeout_ms = 100;
	assert_int_equal(adm_user_bootstrap(f->a.db, test_clock(), pw, sizeof(pw)), 1);
	assert_int_equal(adm_login(f->a.db, "admin", pw, "127.0.0.1", test_clock(), f->token, &s,
				   &retry), 0);
	snprintf(f->csrf, sizeof(f->csrf), "%s", s.csrf);
	db_session_release(&s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	adm_resp_release(&f->rs);
	unlink(f->cfg);
	tmpdb_remove(&f->t, &f->a.db);
	free(f);
	return 0;
}

static void
demo(struct fixture *f)
{
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":8080}"), 201);
	assert_int_equal(call(f, "POST", "/pools",
			      "{\"name\":\"demo\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":9001},"
			      "{\"address\":\"::1\",\"port\":9002,\"weight\":2,\"enabled\":false}]}"), 201);
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r1\",\"listener\":\"web\",\"pool\":\"demo\"}"), 201);
}

static void
test_validation_fields(void **state)
{
	struct fixture *f = *state;

	demo(f);
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"x\",\"address\":\"127.0.0.1\",\"port\":0}"), 422);
	assert_string_equal(err(f, "code"), "invalid");
	assert_string_equal(err(f, "field"), "listeners/x/port");
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"x\",\"address\":\"example.com\",\"port\":1}"), 422);
	assert_string_equal(err(f, "field"), "listeners/x/address");
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"x\",\"address\":\"127.0.0.1\",\"port\":1,\"bogus\":1}"), 422);
	assert_string_equal(err(f, "field"), "listeners/x/bogus");
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"bad name\",\"address\":\"127.0.0.1\",\"port\":1}"), 422);
	assert_string_equal(err(f, "field"), "listeners/bad name/name");
	assert_int_equal(call(f, "POST", "/listeners", "[1]"), 400);
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":1}"), 409);
	assert_string_equal(err(f, "code"), "exists");
	assert_string_equal(err(f, "field"), "listeners/web/name");

	assert_int_equal(call(f, "POST", "/pools/demo/members",
			      "{\"address\":\"127.0.0.1\",\"port\":9003,\"weight\":257}"), 422);
	assert_string_equal(err(f, "field"), "pools/demo/members/127.0.0.1:9003/weight");
	assert_int_equal(call(f, "POST", "/pools/demo/members",
			      "{\"address\":\"0:0::1\",\"port\":9002}"), 409);
	assert_string_equal(err(f, "field"), "pools/demo/members/[::1]:9002");
	assert_int_equal(call(f, "POST", "/pools/nope/members",
			      "{\"address\":\"::1\",\"port\":9002}"), 404);
	assert_int_equal(call(f, "POST", "/pools",
			      "{\"name\":\"p\",\"members\":[{\"address\":\"10.0.0.1\",\"port\":1},"
			      "{\"address\":\"10.0.0.1\",\"port\":1}]}"), 422);
	assert_string_equal(err(f, "field"), "pools/p/members/10.0.0.1:1");

	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"nope\",\"pool\":\"demo\"}"), 422);
	assert_string_equal(err(f, "field"), "routes/r2/listener");
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"web\",\"pool\":\"demo\",\"path_prefix\":\"api\"}"), 422);
	assert_string_equal(err(f, "field"), "routes/r2/path_prefix");
	/* The route host rules are conf_parse's: no port, "*" is any host. */
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"web\",\"pool\":\"demo\",\"host\":\"a.example:80\"}"), 422);
	assert_string_equal(err(f, "field"), "routes/r2/host");
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"web\",\"pool\":\"demo\",\"host\":\"[::1]\"}"), 422);
	assert_string_equal(err(f, "field"), "routes/r2/host");
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"web\",\"pool\":\"demo\",\"host\":\"*\"}"), 201);
	assert_int_equal(call(f, "DELETE", "/routes/r2", NULL), 204);
	assert_int_equal(call(f, "POST", "/routes",
			      "{\"name\":\"r2\",\"listener\":\"web\",\"pool\":\"demo\",\"host\":\"A.example\"}"), 201);
	assert_int_equal(call(f, "DELETE", "/routes/r2", NULL), 204);
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"a234567890123456789012345678901234567890123456789012345678901234\","
			      "\"address\":\"127.0.0.1\",\"port\":1}"), 422);
	assert_string_equal(err(f, "code"), "invalid");
	assert_int_equal(call(f, "PUT", "/routes/r1", "{\"pool\":\"nope\"}"), 422);
	assert_string_equal(err(f, "field"), "routes/r1/pool");

	assert_int_equal(call(f, "DELETE", "/pools/demo", NULL), 409);
	assert_string_equal(err(f, "code"), "in_use");
	assert_int_equal(call(f, "DELETE", "/listeners/web", NULL), 409);
	assert_string_equal(err(f, "code"), "in_use");
	assert_int_equal(call(f, "DELETE", "/routes/nope", NULL), 404);
	assert_int_equal(call(f, "GET", "/nothing", NULL), 404);
	assert_int_equal(call(f, "PATCH", "/listeners", NULL), 405);
	/* The request shapes every kind of named object shares. */
	assert_int_equal(call(f, "PUT", "/routes/nope", "{\"priority\":1}"), 404);
	assert_int_equal(call(f, "PUT", "/pools/nope", "{}"), 404);
	assert_int_equal(call(f, "PUT", "/listeners/nope", "not json"), 404);
	assert_int_equal(call(f, "PUT", "/listeners/web", "not json"), 400);
	assert_int_equal(call(f, "POST", "/pools/demo", "{}"), 405);
	assert_int_equal(call(f, "PUT", "/routes", "{}"), 405);
	assert_int_equal(call(f, "DELETE", "/listeners", NULL), 405);
	assert_int_equal(call(f, "GET", "/listeners/web/x", NULL), 404);
	assert_int_equal(call(f, "GET", "/pools", NULL), 200);
	assert_int_equal(json_array_size(f->rs.body), 1);
}

static void
test_put_merges_and_renames(void **state)
{
	struct fixture *f = *state;

	demo(f);
	assert_int_equal(call(f, "PUT", "/listeners/web", "{\"name\":\"www\",\"port\":8081}"), 200);
	assert_string_equal(json_string_value(json_object_get(f->rs.body, "address")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(f->rs.body, "port")), 8081);
	assert_int_equal(call(f, "GET", "/routes/r1", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->rs.body, "listener")), "www");
	assert_int_equal(call(f, "PUT", "/pools/demo/members/%5B::1%5D:9002", "{\"weight\":0}"), 404);
	assert_int_equal(call(f, "PUT", "/pools/demo/members/[::1]:9002", "{\"weight\":0}"), 200);
	assert_int_equal(json_integer_value(json_object_get(f->rs.body, "weight")), 0);
	assert_true(json_is_false(json_object_get(f->rs.body, "enabled")));
	assert_int_equal(call(f, "PUT", "/pools/demo", "{\"members\":[]}"), 200);
	assert_int_equal(json_array_size(json_object_get(f->rs.body, "members")), 0);
}

static void
test_field_of_path(void **state)
{
	json_t *cfg = json_pack("{s:[{s:s}], s:[{s:s, s:[{s:s, s:i}, {s:s, s:i}]}], s:[{s:s}]}",
				"listeners", "name", "web",
				"pools", "name", "demo", "members", "address", "127.0.0.1", "port", 9001,
				"address", "::1", "port", 9002,
				"routes", "name", "r1");
	char *s;

	(void)state;
#define CHECK(path, want) do { s = adm_field_of_path(cfg, path); \
	if (want == NULL) assert_null(s); else assert_string_equal(s, want); free(s); } while (0)
	CHECK("$.listeners[0].port", "listeners/web/port");
	CHECK("$.listeners[0]", "listeners/web");
	CHECK("$.pools[0].members[1].port", "pools/demo/members/[::1]:9002/port");
	CHECK("$.pools[0].members[0]", "pools/demo/members/127.0.0.1:9001");
	CHECK("$.pools[0].members", "pools/demo/members");
	CHECK("$.routes[0].pool", "routes/r1/pool");
	CHECK("$.version", "version");
	CHECK("$", (const char *)NULL);
	CHECK("$.routes[5].pool", (const char *)NULL);
	CHECK("garbage", (const char *)NULL);
#undef CHECK
	json_decref(cfg);
}

static void
test_diff(void **state)
{
	char *d;

	(void)state;
	d = adm_diff_unified("a\nb\nc\n", "a\nb\nc\n", "x", "y");
	assert_string_equal(d, "");
	free(d);
	d = adm_diff_unified("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", "old", "new");
	assert_string_equal(d, "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	free(d);
	d = adm_diff_unified("", "a\n", "old", "new");
	assert_string_equal(d, "--- old\n+++ new\n@@ -0,0 +1,1 @@\n+a\n");
	free(d);
}

static void
test_apply_invalid_and_unreachable(void **state)
{
	struct fixture *f = *state;
	json_t *errs;
	FILE *fp;
	char buf[256];
	size_t n;

	demo(f);
	/* Duplicate address:port passes per-object checks but not conf_parse. */
	assert_int_equal(call(f, "POST", "/listeners",
			      "{\"name\":\"web2\",\"address\":\"127.0.0.1\",\"port\":8080}"), 201);
	assert_int_equal(call(f, "POST", "/apply", "{\"comment\":\"x\"}"), 422);
	assert_string_equal(err(f, "field"), "listeners/web2/port");
	errs = json_object_get(f->rs.body, "errors");
	assert_int_equal(json_array_size(errs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "path")),
			    "$.listeners[1].port");
	/* Nothing was committed. */
	assert_int_equal(call(f, "GET", "/revisions", NULL), 200);
	assert_int_equal(json_array_size(f->rs.body), 0);

	assert_int_equal(call(f, "DELETE", "/listeners/web2", NULL), 204);
	assert_int_equal(call(f, "POST", "/apply", NULL), 503);
	assert_string_equal(err(f, "code"), "daemon_unavailable");
	assert_int_equal(call(f, "GET", "/revisions/1", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->rs.body, "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(f->rs.body, "author")), "admin");
	/* With no applied revision, the file holds the empty config. */
	fp = fopen(f->cfg, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(buf, "\"listeners\": []"));

	assert_int_equal(call(f, "GET", "/status", NULL), 200);
	assert_true(json_is_false(json_object_get(json_object_get(f->rs.body, "tandemd"), "reachable")));
	assert_true(json_is_null(json_object_get(f->rs.body, "running_revision")));
	assert_true(json_is_true(json_object_get(f->rs.body, "candidate_changed")));

	/* Restore brings the candidate back to revision 1. */
	assert_int_equal(call(f, "DELETE", "/routes/r1", NULL), 204);
	assert_int_equal(call(f, "POST", "/revisions/1/restore", NULL), 200);
	assert_int_equal(call(f, "GET", "/routes/r1", NULL), 200);
	assert_int_equal(call(f, "POST", "/revisions/9/restore", NULL), 404);
	assert_int_equal(call(f, "GET", "/diff", NULL), 200);
	assert_true(json_is_true(json_object_get(f->rs.body, "changed")));
	assert_non_null(strstr(json_string_value(json_object_get(f->rs.body, "diff")), "+++ candidate"));
}

/* A revision left 'pending' by a crash is settled at start: tandemd does not
 * run it (unreachable here), so it is failed and the file goes back to the
 * last applied revision. */
static void
test_reconcile_pending(void **state)
{
	struct fixture *f = *state;
	char *content = NULL, buf[4096];
	long n1, n2;
	FILE *fp;
	size_t len;

	demo(f);
	assert_int_equal(db_revision_commit(f->a.db, "admin", "", test_clock(), &n1, &content), 0);
	assert_int_equal(db_revision_set_status(f->a.db, n1, "applied", NULL), 0);
	free(content);
	assert_int_equal(call(f, "DELETE", "/routes/r1", NULL), 204);
	assert_int_equal(db_revision_commit(f->a.db, "admin", "", test_clock(), &n2, &content), 0);
	free(content);
	fp = fopen(f->cfg, "w");
	assert_non_null(fp);
	fputs("half-written garbage", fp);
	fclose(fp);

	adm_reconcile(&f->a);
	assert_int_equal(call(f, "GET", "/revisions/2", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->rs.body, "status")), "failed");
	assert_int_equal(call(f, "GET", "/status", NULL), 200);
	assert_int_equal(json_integer_value(json_object_get(f->rs.body, "running_revision")), 1);
	assert_int_equal(db_revision_content(f->a.db, 1, &content), 0);
	fp = fopen(f->cfg, "r");
	assert_non_null(fp);
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	assert_string_equal(buf, content);
	free(content);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validation_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_merges_and_renames, setup, teardown),
		cmocka_unit_test(test_field_of_path),
		cmocka_unit_test(test_diff),
		cmocka_unit_test_setup_teardown(test_apply_invalid_and_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_pending, setup, teardown),
	};

	log_init("test_adm_api", LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
