/* Unit tests for lib/: arena, buf, errs, JSON helpers. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "errs.h"
#include "jfield.h"
#include "jh.h"
#include "sdnotify.h"

static int cleanup_calls;
static void count_cleanup(void *p) { cleanup_calls += *(int *)p; }

static void
test_arena_alloc_align_and_big(void **state)
{
	struct arena *a = arena_new(64);
	char *small, *big, *after;
	int i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < 100; i++) {
		void *p = arena_alloc(a, (size_t)i + 1);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
	}
	small = arena_alloc(a, 8);
	big = arena_alloc(a, 10000); /* larger than a chunk */
	assert_non_null(big);
	memset(big, 'x', 10000);
	after = arena_alloc(a, 8);
	assert_non_null(after);
	assert_ptr_not_equal(small, after);
	assert_string_equal(arena_strdup(a, "hello"), "hello");
	assert_string_equal(arena_strndup(a, "hello", 3), "hel");
	arena_free(&a);
	assert_null(a);
}

static void
test_arena_cleanups_run_in_reverse(void **state)
{
	struct arena *a = arena_new(0);
	int one = 1, ten = 10;

	(void)state;
	cleanup_calls = 0;
	assert_int_equal(arena_cleanup_add(a, count_cleanup, &one), 0);
	assert_int_equal(arena_cleanup_add(a, count_cleanup, &ten), 0);
	arena_free(&a);
	assert_int_equal(cleanup_calls, 11);
	arena_free(&a); /* NULL is fine */
}

static void
test_arena_zeroed(void **state)
{
	struct arena *a = arena_new(0);
	unsigned char *p = arena_alloc(a, 256);
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		assert_int_equal(p[i], 0);
	arena_free(&a);
}

static void
test_buf_append_consume_compact(void **state)
{
	struct buf b;

	(void)state;
	assert_int_equal(buf_init(&b, 16), 0);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(buf_len(&b), 10);
	assert_int_equal(buf_append(&b, "0123456789", 10), -ENOSPC);
	assert_int_equal(buf_len(&b), 10); /* nothing appended */
	buf_consume(&b, 8);
	assert_int_equal(buf_len(&b), 2);
	assert_memory_equal(buf_head(&b), "89", 2);
	/* Needs compaction to fit. */
	assert_int_equal(buf_append(&b, "abcdefghijkl", 12), 0);
	assert_int_equal(buf_len(&b), 14);
	assert_memory_equal(buf_head(&b), "89abcdefghijkl", 14);
	buf_consume(&b, 14);
	assert_int_equal(b.rpos, 0);
	assert_int_equal(b.wpos, 0);
	assert_int_equal(buf_appendf(&b, "%d-%s", 42, "x"), 0);
	assert_memory_equal(buf_head(&b), "42-x", 4);
	assert_int_equal(buf_appendf(&b, "%s", "this is far too long"), -ENOSPC);
	assert_int_equal(buf_len(&b), 4);
	buf_release(&b);
}

static void
test_buf_fd_io(void **state)
{
	struct buf in, out;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(buf_init(&in, 8), 0);
	assert_int_equal(buf_init(&out, 32), 0);
	assert_int_equal(buf_append(&out, "hello world", 11), 0);
	assert_int_equal(buf_write_fd(&out, p[1], 5), 5);
	assert_int_equal(buf_len(&out), 6);
	assert_int_equal(buf_read_fd(&in, p[0]), 5);
	assert_memory_equal(buf_head(&in), "hello", 5);
	close(p[1]);
	assert_int_equal(buf_read_fd(&in, p[0]), 0); /* EOF */
	close(p[0]);
	buf_release(&in);
	buf_release(&out);
}

static void
test_errs_collect_and_json(void **state)
{
	struct errs e;
	json_t *j;

	(void)state;
	errs_init(&e);
	errs_add(&e, "$.a", "bad %d", 1);
	errs_add(&e, NULL, "whole");
	assert_int_equal(e.count, 2);
	j = errs_to_json(&e);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "path")), "$.a");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "message")), "bad 1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "path")), "$");
	json_decref(j);
	errs_release(&e);
	assert_int_equal(e.count, 0);
}

static void
test_jh_canonical_is_sorted_and_stable(void **state)
{
	json_t *a = json_loads("{\"b\":1,\"a\":{\"z\":[1,2],\"y\":\"\\u00e9\"}}", 0, NULL);
	json_t *b = json_loads("{\"a\":{\"y\":\"\\u00e9\",\"z\":[1,2]},\"b\":1}", 0, NULL);
	char *sa, *sb, *line;

	(void)state;
	sa = jh_dump_canonical(a);
	sb = jh_dump_canonical(b);
	assert_string_equal(sa, sb);
	assert_string_equal(sa, "{\n  \"a\": {\n    \"y\": \"\\u00E9\",\n    \"z\": [\n      1,\n      2\n    ]\n  },\n  \"b\": 1\n}\n");
	line = jh_dump_line(b);
	assert_string_equal(line, "{\"a\":{\"y\":\"\xc3\xa9\",\"z\":[1,2]},\"b\":1}\n");
	free(sa);
	free(sb);
	free(line);
	json_decref(a);
	json_decref(b);
}

static void
test_jh_write_file_atomic(void **state)
{
	char dir[] = "/tmp/tandem-test-XXXXXX", path[256], got[64] = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.json", dir);
	assert_int_equal(jh_write_file_atomic(path, "first\n", 0640), 0);
	assert_int_equal(jh_write_file_atomic(path, "second\n", 0640), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, "second\n");
	assert_int_equal(jh_write_file_atomic("/nonexistent-dir/x.json", "x", 0640), -ENOENT);
	unlink(path);
	rmdir(dir);
}

/* Binds a datagram socket at addr (path or "@abstract"), points
 * $NOTIFY_SOCKET at it, and checks what sdn_notify sends. */
static void
sdn_roundtrip(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	char got[128] = { 0 };
	ssize_t n;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdn_notify("READY=1\nSTATUS=serving"), 1);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	assert_int_equal(n, (ssize_t)strlen("READY=1\nSTATUS=serving"));
	assert_string_equal(got, "READY=1\nSTATUS=serving");
	close(fd);
	if (name[0] == '/')
		unlink(name);
}

static void
test_sdn_notify(void **state)
{
	char dir[] = "/tmp/tandem-test-XXXXXX", path[256], abs[64];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdn_notify("READY=1"), 0); /* not under systemd */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdn_notify("READY=1"), -EINVAL);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	sdn_roundtrip(path);
	snprintf(abs, sizeof(abs), "@tandem-test-notify-%d", (int)getpid());
	sdn_roundtrip(abs);

	/* Nobody listening: the error comes back, nothing blocks. */
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdn_notify("READY=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
	rmdir(dir);
}

/* Every bad field is reported under its JSON path, and reading goes on. */
static void
test_jfield_reports_every_field(void **state)
{
	static const char *const allowed[] = { "name", "port", "on", NULL };
	json_t *o = json_loads("{\"name\":\"a\",\"port\":70000,\"on\":1,\"typo\":true}", 0, NULL);
	struct errs e;
	long port = -1;
	bool on = true;

	(void)state;
	assert_non_null(o);
	errs_init(&e);
	jf_check_keys(&e, o, "$.l[0]", allowed);
	assert_string_equal(jf_str(&e, o, "$.l[0]", "name", 1), "a");
	assert_null(jf_str(&e, o, "$.l[0]", "missing", 1));
	assert_int_equal(jf_int(&e, o, "$.l[0]", "port", 1, 65535, 1, 80, &port), -1);
	assert_int_equal(port, 80);
	assert_int_equal(jf_bool(&e, o, "$.l[0]", "on", 0, &on), -1);
	assert_false(on);
	assert_int_equal(e.count, 4);
	assert_string_equal(e.items[0].path, "$.l[0].typo");
	assert_string_equal(e.items[0].message, "unknown field");
	assert_string_equal(e.items[1].path, "$.l[0].missing");
	assert_string_equal(e.items[1].message, "is required");
	assert_string_equal(e.items[2].message, "must be between 1 and 65535");
	assert_string_equal(e.items[3].path, "$.l[0].on");
	assert_true(jf_name_valid("web-1.a_b", 16));
	assert_false(jf_name_valid("-web", 16));
	assert_false(jf_name_valid("toolongname", 4));
	errs_release(&e);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alloc_align_and_big),
		cmocka_unit_test(test_arena_cleanups_run_in_reverse),
		cmocka_unit_test(test_arena_zeroed),
		cmocka_unit_test(test_buf_append_consume_compact),
		cmocka_unit_test(test_buf_fd_io),
		cmocka_unit_test(test_errs_collect_and_json),
		cmocka_unit_test(test_jfield_reports_every_field),
		cmocka_unit_test(test_jh_canonical_is_sorted_and_stable),
		cmocka_unit_test(test_jh_write_file_atomic),
		cmocka_unit_test(test_sdn_notify),
	};

	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
