/* Unit tests for daemon/peer/: the frame codec (pure) and the pair's
 * certificates (pair-init writes a CA and two node certificates it signs). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer.h"

static void
test_roundtrip(void **state)
{
	json_t *m = json_pack("{s:s, s:I, s:b, s:[{s:s}]}", "t", "batch", "seq", (json_int_t)7,
			      "full", 0, "records", "k", "health"), *got;
	unsigned char *buf;
	const char *err = NULL;
	size_t len, used, i;

	(void)state;
	assert_int_equal(peer_frame_encode(m, &buf, &len), 0);
	/* Every prefix is "need more"; the whole frame parses to the same. */
	for (i = 0; i < len; i++)
		assert_int_equal(peer_frame_parse(buf, i, &got, &used, &err), 0);
	assert_int_equal(peer_frame_parse(buf, len, &got, &used, &err), 1);
	assert_int_equal(used, len);
	assert_true(json_equal(m, got));
	assert_int_equal(peer_msg_type(got), PEER_MSG_BATCH);
	json_decref(got);
	json_decref(m);
	free(buf);
}

static void
test_refused(void **state)
{
	unsigned char big[4] = { 0x7f, 0xff, 0xff, 0xff };
	unsigned char bad[] = "\0\0\0\014{\"t\":\"nope\"}";
	unsigned char notjson[] = "\0\0\0\003abc";
	const char *err = NULL;
	size_t used;
	json_t *m;

	(void)state;
	assert_int_equal(peer_frame_parse(big, sizeof(big), &m, &used, &err), -EMSGSIZE);
	assert_non_null(err);
	assert_int_equal(peer_frame_parse(bad, sizeof(bad) - 1, &m, &used, &err), -EBADMSG);
	assert_int_equal(peer_frame_parse(notjson, sizeof(notjson) - 1, &m, &used, &err), -EBADMSG);
	assert_null(m);
	assert_string_equal(peer_msg_name(PEER_MSG_RESYNC), "resync");
	assert_null(peer_msg_name(PEER_MSG_INVALID));
}

static void
test_pair_init(void **state)
{
	char dir[] = "/tmp/tandem-peer-XXXXXX", path[256], msg[256];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p", dir);
	assert_int_equal(peer_pki_pair_init(path, "a", "a", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(peer_pki_pair_init(path, "lb-a", "lb-b", msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s/p/lb-b/node.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/p", dir);
	assert_int_equal(peer_pki_pair_init(path, "lb-a", "lb-b", msg, sizeof(msg)), -EEXIST);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* The limiter's seed: the same from both nodes' copies of the pair's CA,
 * another for another pair; a seed file is made once and read back. */
static void
test_seed(void **state)
{
	char dir[] = "/tmp/tandem-peer-XXXXXX", path[256], msg[256];
	uint64_t a[2], b[2], c[2], r[2], f1[2], f2[2];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p", dir);
	assert_int_equal(peer_pki_pair_init(path, "lb-a", "lb-b", msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s/q", dir);
	assert_int_equal(peer_pki_pair_init(path, "lb-a", "lb-b", msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s/p/lb-a", dir);
	assert_int_equal(peer_seed_pair(path, a), 0);
	snprintf(path, sizeof(path), "%s/p/lb-b", dir);
	assert_int_equal(peer_seed_pair(path, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	snprintf(path, sizeof(path), "%s/q/lb-a", dir);
	assert_int_equal(peer_seed_pair(path, c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(peer_seed_pair(path, c), -ENOENT);

	assert_int_equal(peer_seed_random(r), 0);
	assert_int_equal(peer_seed_random(c), 0);
	assert_memory_not_equal(r, c, sizeof(r));

	snprintf(path, sizeof(path), "%s/limiter.state.seed", dir);
	assert_int_equal(peer_seed_file(path, f1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 16);
	assert_int_equal(peer_seed_file(path, f2), 0);
	assert_memory_equal(f1, f2, sizeof(f1));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("short", f);
	fclose(f);
	assert_int_equal(peer_seed_file(path, f2), -EINVAL);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pair_init),
		cmocka_unit_test(test_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
