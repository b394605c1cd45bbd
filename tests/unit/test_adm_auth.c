/*
 * test_adm_auth - passwords, tokens, sessions, CSRF and login throttling,
 * first through adm_auth directly, then through adm_api_handle (the same
 * entry the HTTP layer uses) with an injected clock; and the console's
 * private key file.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "adm_api.h"
#include "adm_auth.h"
#include "adm_tls.h"
#include "db.h"
#include "log.h"
#include "tmpdb.h"

static time_t fake_now = 1000000;

static time_t
test_clock(void)
{
	return fake_now;
}

struct fixture {
	struct tmpdb t;
	struct adm a;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tmpdb_open(&f->t, "test_adm", &f->a.db);
	f->a.now = test_clock;
	f->a.ctl_socket = "/nonexistent/tandemd.sock";
	f->a.config_file = "/nonexistent/tandem.json";
	f->a.ctl_timeout_ms = 100;
	snprintf(f->a.hostname, sizeof(f->a.hostname), "test");
	fake_now = 1000000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tmpdb_remove(&f->t, &f->a.db);
	free(f);
	return 0;
}

static void
test_password_hash(void **state)
{
	char h1[128], h2[128];

	(void)state;
	assert_int_equal(adm_password_hash("s3cret", h1, sizeof(h1)), 0);
	assert_int_equal(adm_password_hash("s3cret", h2, sizeof(h2)), 0);
	assert_true(strncmp(h1, "$argon2id$", 10) == 0);
	/* Salted: the same password never gives the same hash. */
	assert_string_not_equal(h1, h2);
	assert_int_equal(adm_password_verify(h1, "s3cret"), 0);
	assert_int_equal(adm_password_verify(h2, "s3cret"), 0);
	assert_int_equal(adm_password_verify(h1, "s3creT"), -EACCES);
	assert_int_equal(adm_password_verify(h1, ""), -EACCES);
	assert_int_not_equal(adm_password_verify("garbage", "x"), 0);
}

static void
test_tokens(void **state)
{
	char a[65], b[65], pw[25], sha[65];
	size_t i;

	(void)state;
	assert_int_equal(adm_random_hex(a, 32), 0);
	assert_int_equal(adm_random_hex(b, 32), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(adm_random_password(pw, 24), 0);
	assert_int_equal(strlen(pw), 24);
	for (i = 0; i < 24; i++)
		assert_true((pw[i] >= 'a' && pw[i] <= 'z') || (pw[i] >= 'A' && pw[i] <= 'Z') ||
			    (pw[i] >= '2' && pw[i] <= '9'));
	adm_sha256_hex("abc", sha);
	assert_string_equal(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(adm_token_equal("abc", "abc"));
	assert_false(adm_token_equal("abc", "abd"));
	assert_false(adm_token_equal("abc", "abcd"));
	assert_false(adm_token_equal("", ""));
	assert_false(adm_token_equal("abc", NULL));
}

static void
test_bootstrap(void **state)
{
	struct fixture *f = *state;
	char pw[32], pw2[32];
	struct db_user u;

	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw, sizeof(pw)), 1);
	assert_int_equal(strlen(pw), 24);
	assert_int_equal(db_user_get(f->a.db, "admin", &u), 0);
	assert_string_equal(u.role, "admin");
	/* Only the hash is stored. */
	assert_null(strstr(u.hash, pw));
	assert_int_equal(adm_password_verify(u.hash, pw), 0);
	db_user_release(&u);
	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw2, sizeof(pw2)), 0);
}

static void
test_throttle_policy(void **state)
{
	(void)state;
	assert_int_equal(adm_throttle_lockout(0), 0);
	assert_int_equal(adm_throttle_lockout(4), 0);
	assert_int_equal(adm_throttle_lockout(5), 30);
	assert_int_equal(adm_throttle_lockout(6), 60);
	assert_int_equal(adm_throttle_lockout(7), 120);
	assert_int_equal(adm_throttle_lockout(100), 3600);
}

static void
test_login_throttled(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	char pw[32], token[65];
	long retry;
	int i;

	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw, sizeof(pw)), 1);
	for (i = 0; i < 5; i++) {
		assert_int_equal(adm_login(f->a.db, "admin", "wrong", "10.0.0.1", fake_now,
					   token, &s, &retry), -EACCES);
		fake_now += 10;
	}
	/* Locked: even the right password is refused, with a wait. */
	assert_int_equal(adm_login(f->a.db, "admin", pw, "10.0.0.1", fake_now, token, &s, &retry),
			 -EAGAIN);
	assert_int_equal(retry, 30 - 10);
	/* The per-user counter also locks another address out. */
	assert_int_equal(adm_login(f->a.db, "admin", pw, "10.0.0.2", fake_now, token, &s, &retry),
			 -EAGAIN);
	/* After the lockout a failure doubles it. */
	fake_now += 25;
	assert_int_equal(adm_login(f->a.db, "admin", "wrong", "10.0.0.1", fake_now, token, &s, &retry),
			 -EACCES);
	assert_int_equal(adm_login(f->a.db, "admin", pw, "10.0.0.1", fake_now, token, &s, &retry),
			 -EAGAIN);
	assert_int_equal(retry, 60);
	/* Unknown users count against the address only. */
	fake_now += 61;
	assert_int_equal(adm_throttle_wait(f->a.db, "user:ghost", fake_now), 0);
	/* A success clears both counters. */
	assert_int_equal(adm_login(f->a.db, "admin", pw, "10.0.0.1", fake_now, token, &s, &retry), 0);
	assert_string_equal(s.username, "admin");
	assert_int_equal(strlen(s.csrf), 64);
	db_session_release(&s);
	assert_int_equal(adm_throttle_wait(f->a.db, "addr:10.0.0.1", fake_now), 0);
	assert_int_equal(adm_throttle_wait(f->a.db, "user:admin", fake_now), 0);
}

static void
test_throttle_forgets(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < 4; i++)
		adm_throttle_fail(f->a.db, "addr:x", fake_now);
	/* A long quiet period resets the count: the next failure is the first. */
	fake_now += 301;
	adm_throttle_fail(f->a.db, "addr:x", fake_now);
	assert_int_equal(adm_throttle_wait(f->a.db, "addr:x", fake_now), 0);
	for (i = 0; i < 4; i++)
		adm_throttle_fail(f->a.db, "addr:x", fake_now);
	assert_int_equal(adm_throttle_wait(f->a.db, "addr:x", fake_now), 30);
	assert_int_equal(adm_throttle_wait(f->a.db, "addr:x", fake_now + 30), 0);
}

static void
test_session_idle_expiry(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	char pw[32], token[65];
	long retry;

	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw, sizeof(pw)), 1);
	assert_int_equal(adm_login(f->a.db, "admin", pw, "c", fake_now, token, &s, &retry), 0);
	db_session_release(&s);
	/* Each use slides the idle window. */
	fake_now += ADM_SESSION_IDLE - 1;
	assert_int_equal(adm_session_check(f->a.db, token, fake_now, &s), 0);
	db_session_release(&s);
	fake_now += ADM_SESSION_IDLE - 1;
	assert_int_equal(adm_session_check(f->a.db, token, fake_now, &s), 0);
	db_session_release(&s);
	fake_now += ADM_SESSION_IDLE + 1;
	assert_int_equal(adm_session_check(f->a.db, token, fake_now, &s), -ENOENT);
	assert_int_equal(adm_session_check(f->a.db, NULL, fake_now, &s), -ENOENT);
	assert_int_equal(adm_session_check(f->a.db, "short", fake_now, &s), -ENOENT);
}

/* Drives the API the way the HTTP layer does. */
static unsigned
call(struct fixture *f, const char *method, const char *path, const char *token,
     const char *csrf, const char *body, struct adm_resp *rs)
{
	struct adm_req rq = {
		.method = method, .path = path, .session_token = token, .csrf = csrf,
		.client = "127.0.0.1", .body = body, .body_len = body ? strlen(body) : 0,
	};

	adm_resp_release(rs);
	adm_api_handle(&f->a, &rq, rs);
	return rs->status;
}

static const char *
err_code(const struct adm_resp *rs)
{
	return json_string_value(json_object_get(json_object_get(rs->body, "error"), "code"));
}

static void
test_api_auth_flow(void **state)
{
	struct fixture *f = *state;
	struct adm_resp rs = { 0 };
	char pw[32], body[128], token[65], csrf[65], hash[128];

	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw, sizeof(pw)), 1);
	assert_int_equal(call(f, "GET", "/status", NULL, NULL, NULL, &rs), 401);
	assert_string_equal(err_code(&rs), "unauthenticated");
	assert_int_equal(call(f, "GET", "/session", NULL, NULL, NULL, &rs), 401);
	assert_int_equal(call(f, "POST", "/session", NULL, NULL, "{\"username\":", &rs), 400);
	assert_int_equal(call(f, "POST", "/session", NULL, NULL,
			      "{\"username\":\"admin\",\"password\":\"x\"}", &rs), 401);
	snprintf(body, sizeof(body), "{\"username\":\"admin\",\"password\":\"%s\"}", pw);
	assert_int_equal(call(f, "POST", "/session", NULL, NULL, body, &rs), 200);
	assert_non_null(rs.set_cookie);
	assert_non_null(strstr(rs.set_cookie, "HttpOnly; Secure; SameSite=Strict; Path=/"));
	assert_true(sscanf(rs.set_cookie, "tandem_session=%64[0-9a-f]", token) == 1);
	snprintf(csrf, sizeof(csrf), "%s",
		 json_string_value(json_object_get(rs.body, "csrf_token")));
	assert_string_equal(json_string_value(json_object_get(rs.body, "role")), "admin");

	/* A reloaded page gets the same CSRF token back. */
	assert_int_equal(call(f, "GET", "/session", token, NULL, NULL, &rs), 200);
	assert_string_equal(json_string_value(json_object_get(rs.body, "csrf_token")), csrf);

	/* Reads need the session only; writes need the CSRF token too. */
	assert_int_equal(call(f, "GET", "/listeners", token, NULL, NULL, &rs), 200);
	assert_int_equal(call(f, "POST", "/listeners", token, NULL,
			      "{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":1}", &rs), 403);
	assert_string_equal(err_code(&rs), "csrf");
	assert_int_equal(call(f, "POST", "/listeners", token, "0000",
			      "{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":1}", &rs), 403);
	assert_int_equal(call(f, "POST", "/listeners", token, csrf,
			      "{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":1}", &rs), 201);
	assert_int_equal(call(f, "DELETE", "/session", token, NULL, NULL, &rs), 403);

	/* A viewer reads but cannot write. */
	assert_int_equal(adm_password_hash("viewpw", hash, sizeof(hash)), 0);
	assert_int_equal(db_user_add(f->a.db, "ro", hash, "viewer", fake_now), 0);
	{
		char vtoken[65], vcsrf[65];

		assert_int_equal(call(f, "POST", "/session", NULL, NULL,
				      "{\"username\":\"ro\",\"password\":\"viewpw\"}", &rs), 200);
		assert_true(sscanf(rs.set_cookie, "tandem_session=%64[0-9a-f]", vtoken) == 1);
		snprintf(vcsrf, sizeof(vcsrf), "%s",
			 json_string_value(json_object_get(rs.body, "csrf_token")));
		assert_int_equal(call(f, "GET", "/listeners/a", vtoken, NULL, NULL, &rs), 200);
		assert_int_equal(call(f, "DELETE", "/listeners/a", vtoken, vcsrf, NULL, &rs), 403);
		assert_string_equal(err_code(&rs), "forbidden");
		/* runtime actions too: no ticket key rotation for a viewer */
		assert_int_equal(call(f, "POST", "/tls/rotate-keys", vtoken, vcsrf, NULL, &rs), 403);
		assert_string_equal(err_code(&rs), "forbidden");
	}

	/* Idle expiry through the API. */
	fake_now += ADM_SESSION_IDLE + 1;
	assert_int_equal(call(f, "GET", "/listeners", token, NULL, NULL, &rs), 401);

	/* Logout ends the session. */
	assert_int_equal(call(f, "POST", "/session", NULL, NULL, body, &rs), 200);
	assert_true(sscanf(rs.set_cookie, "tandem_session=%64[0-9a-f]", token) == 1);
	snprintf(csrf, sizeof(csrf), "%s", json_string_value(json_object_get(rs.body, "csrf_token")));
	assert_int_equal(call(f, "DELETE", "/session", token, csrf, NULL, &rs), 204);
	assert_null(rs.body);
	assert_non_null(strstr(rs.set_cookie, "Max-Age=0"));
	assert_int_equal(call(f, "GET", "/session", token, NULL, NULL, &rs), 401);
	assert_int_equal(call(f, "GET", "/listeners", token, NULL, NULL, &rs), 401);
	adm_resp_release(&rs);
}

static void
test_api_login_429(void **state)
{
	struct fixture *f = *state;
	struct adm_resp rs = { 0 };
	char pw[32];
	int i;

	assert_int_equal(adm_user_bootstrap(f->a.db, fake_now, pw, sizeof(pw)), 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(call(f, "POST", "/session", NULL, NULL,
				      "{\"username\":\"admin\",\"password\":\"x\"}", &rs), 401);
	assert_int_equal(call(f, "POST", "/session", NULL, NULL,
			      "{\"username\":\"admin\",\"password\":\"x\"}", &rs), 429);
	assert_string_equal(err_code(&rs), "throttled");
	assert_int_equal(rs.retry_after, 30);
	adm_resp_release(&rs);
}

/* The key is created 0600 and both files hold exactly the PEM handed back;
 * a second call reuses them; no temporary file is left behind. */
static void
test_tls_files(void **state)
{
	char dir[64], tls[96], p[160], *k1, *c1, *k2, *c2, *txt;
	struct stat sb;
	mode_t old = umask(022);
	FILE *f;
	long n;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_adm_tls.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	assert_int_equal(adm_tls_ensure(tls, &k1, &c1), 0);
	assert_non_null(strstr(k1, "PRIVATE KEY-----"));
	assert_non_null(strstr(c1, "-----BEGIN CERTIFICATE-----"));
	snprintf(p, sizeof(p), "%s/key.pem", tls);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/cert.pem", tls);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	f = fopen(p, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	txt = calloc(1, (size_t)n + 1);
	assert_non_null(txt);
	assert_int_equal(fread(txt, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_string_equal(txt, c1);
	free(txt);
	assert_int_equal(adm_tls_ensure(tls, &k2, &c2), 0);
	assert_string_equal(k1, k2);
	assert_string_equal(c1, c2);
	/* Only key.pem and cert.pem: the temporary files were renamed. */
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/key.pem", tls);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(tls), 0);
	assert_int_equal(rmdir(dir), 0);
	free(k1);
	free(c1);
	free(k2);
	free(c2);
	umask(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_hash),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_throttle_policy),
		cmocka_unit_test(test_tls_files),
		cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_idle_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_auth_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_login_429, setup, teardown),
	};

	log_init("test_adm_auth", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
