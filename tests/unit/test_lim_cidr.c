/* Unit tests for daemon/limit/lim_cidr: longest-prefix match over IPv4 and
 * IPv6 with edge prefixes (/0, /32, /128), overlaps, IPv4-mapped addresses,
 * parsing, and 100,000 random entries checked against a linear scan. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lim_cidr.h"

/* Looks up a textual address; returns the value or -1. */
static long
look(const struct lim_cidr *c, const char *s)
{
	uint8_t a[16];
	uint32_t v;
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, s, a), 1);
	return lim_cidr_lookup(c, af, a, &v) ? (long)v : -1;
}

static void
test_edges_v4(void **state)
{
	struct lim_cidr *c = lim_cidr_new();

	(void)state;
	assert_int_equal(look(c, "10.0.0.1"), -1);
	assert_int_equal(lim_cidr_add_str(c, "10.0.0.0/8", 8), 0);
	assert_int_equal(lim_cidr_add_str(c, "10.1.0.0/16", 16), 0);
	assert_int_equal(lim_cidr_add_str(c, "10.1.2.3/32", 32), 0);
	assert_int_equal(lim_cidr_add_str(c, "10.1.2.4", 33), 0);	/* no length: host */
	assert_int_equal(look(c, "10.2.3.4"), 8);
	assert_int_equal(look(c, "10.1.9.9"), 16);
	assert_int_equal(look(c, "10.1.2.3"), 32);
	assert_int_equal(look(c, "10.1.2.4"), 33);
	assert_int_equal(look(c, "10.1.2.5"), 16);
	assert_int_equal(look(c, "11.0.0.0"), -1);
	assert_int_equal(look(c, "9.255.255.255"), -1);
	/* /0 covers everything IPv4, not IPv6 */
	assert_int_equal(lim_cidr_add_str(c, "0.0.0.0/0", 0), 0);
	assert_int_equal(look(c, "11.0.0.0"), 0);
	assert_int_equal(look(c, "255.255.255.255"), 0);
	assert_int_equal(look(c, "2001:db8::1"), -1);
	/* an IPv4-mapped IPv6 client matches the IPv4 entries */
	assert_int_equal(look(c, "::ffff:10.1.2.3"), 32);
	/* re-adding replaces the value; the count does not grow */
	assert_int_equal(lim_cidr_count(c), 5);
	assert_int_equal(lim_cidr_add_str(c, "10.1.0.0/16", 99), 0);
	assert_int_equal(look(c, "10.1.9.9"), 99);
	assert_int_equal(lim_cidr_count(c), 5);
	assert_int_equal(lim_cidr_freeze(c), 0);
	assert_int_equal(look(c, "10.1.9.9"), 99);
	assert_int_equal(look(c, "10.1.2.3"), 32);
	assert_int_equal(look(c, "11.0.0.0"), 0);
	assert_int_equal(look(c, "::ffff:10.2.0.1"), 8);
	assert_int_equal(lim_cidr_add_str(c, "10.1.2.0/24", 24), 0);	/* drops the jump table */
	assert_int_equal(look(c, "10.1.2.9"), 24);
	lim_cidr_free(&c);
	assert_null(c);
}

static void
test_edges_v6(void **state)
{
	struct lim_cidr *c = lim_cidr_new();

	(void)state;
	assert_int_equal(lim_cidr_add_str(c, "2001:db8::/32", 32), 0);
	assert_int_equal(lim_cidr_add_str(c, "2001:db8:0:1::/64", 64), 0);
	assert_int_equal(lim_cidr_add_str(c, "2001:db8:0:1::7/128", 128), 0);
	assert_int_equal(lim_cidr_add_str(c, "2001:db8:0:1:8000::/65", 65), 0);
	assert_int_equal(look(c, "2001:db8:ffff::1"), 32);
	assert_int_equal(look(c, "2001:db8:0:1::6"), 64);
	assert_int_equal(look(c, "2001:db8:0:1::7"), 128);
	assert_int_equal(look(c, "2001:db8:0:1:8000::7"), 65);
	assert_int_equal(look(c, "2001:db9::"), -1);
	assert_int_equal(look(c, "10.0.0.1"), -1);
	assert_int_equal(lim_cidr_add_str(c, "::/0", 0), 0);
	assert_int_equal(look(c, "2001:db9::"), 0);
	assert_int_equal(look(c, "10.0.0.1"), -1);	/* ::/0 is IPv6 only */
	/* siblings diverging at the last bit */
	assert_int_equal(lim_cidr_add_str(c, "fe80::/127", 127), 0);
	assert_int_equal(lim_cidr_add_str(c, "fe80::1/128", 1281), 0);
	assert_int_equal(look(c, "fe80::"), 127);
	assert_int_equal(look(c, "fe80::1"), 1281);
	assert_int_equal(look(c, "fe80::2"), 0);
	assert_int_equal(lim_cidr_freeze(c), 0);
	assert_int_equal(look(c, "fe80::1"), 1281);
	assert_int_equal(look(c, "2001:db8:0:1::7"), 128);
	assert_int_equal(look(c, "2001:db9::"), 0);
	assert_int_equal(look(c, "10.0.0.1"), -1);
	lim_cidr_free(&c);
}

static void
test_parse_errors(void **state)
{
	static const char *const bad[] = { "", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/08",
					   "10.0.0.0/-1", "10.0.0.0/8x", "2001:db8::1/64", "::/129",
					   "300.0.0.1", "::ffff:10.0.0.0/104", "10.0.0.0/8/8",
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct lim_cidr *c = lim_cidr_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(lim_cidr_add_str(c, bad[i], 1), -EINVAL);
	}
	assert_int_equal(lim_cidr_count(c), 0);
	lim_cidr_free(&c);
}

static uint32_t
rnd32(void)
{
	return ((uint32_t)rand() << 16) ^ (uint32_t)rand();
}

/* 100,000 random prefixes (both families, lengths 8..128): every lookup
 * agrees with a linear longest-prefix scan. */
static void
test_random_vs_scan(void **state)
{
	enum { N = 100000, Q = 2000 };
	struct ent { int af; uint8_t a[16]; unsigned plen; } *e = calloc(N, sizeof(*e));
	struct lim_cidr *c = lim_cidr_new();
	int i, j;

	(void)state;
	srand(3);
	for (i = 0; i < N; i++) {
		unsigned bits, k;

		e[i].af = i % 3 == 0 ? AF_INET6 : AF_INET;
		bits = e[i].af == AF_INET ? 32 : 128;
		for (k = 0; k < 16; k += 4) {
			uint32_t r = rnd32();

			memcpy(e[i].a + k, &r, 4);
		}
		if (e[i].af == AF_INET6)
			e[i].a[0] = 0x20;	/* keep clear of the IPv4-mapped range */
		e[i].a[1] &= 0x0f;		/* crowd them to make overlaps */
		e[i].plen = 8 + (unsigned)rand() % (bits - 7);
		for (k = e[i].plen; k < bits; k++)
			e[i].a[k / 8] &= (uint8_t)~(0x80u >> (k % 8));
		assert_int_equal(lim_cidr_add(c, e[i].af, e[i].a, e[i].plen, (uint32_t)i), 0);
	}
	print_message("100,000 prefixes: %zu distinct, %zu bytes\n", lim_cidr_count(c), lim_cidr_bytes(c));
	for (j = 0; j < 2 * Q; j++) {
		const struct ent *base = &e[rand() % N];
		uint8_t q[16];
		int af = base->af, best = -1;
		unsigned bits = af == AF_INET ? 32 : 128, k, bestlen = 0;
		uint32_t v;
		int got;

		if (j == Q)	/* second half: through the jump tables */
			assert_int_equal(lim_cidr_freeze(c), 0);
		memcpy(q, base->a, 16);
		for (k = base->plen; k < bits; k++)	/* random host part */
			if (rand() & 1)
				q[k / 8] |= (uint8_t)(0x80u >> (k % 8));
		for (i = 0; i < N; i++) {
			unsigned m;

			if (e[i].af != af || (best >= 0 && e[i].plen < bestlen))
				continue;
			for (m = 0; m < e[i].plen; m++)
				if (((q[m / 8] ^ e[i].a[m / 8]) >> (7 - m % 8)) & 1)
					break;
			if (m == e[i].plen && (best < 0 || e[i].plen > bestlen || i > best)) {
				best = i;	/* a later duplicate replaced the value */
				bestlen = e[i].plen;
			}
		}
		got = lim_cidr_lookup(c, af, q, &v);
		assert_int_equal(got, 1);
		assert_int_equal(v, (uint32_t)best);
	}
	lim_cidr_free(&c);
	free(e);
}

/* List text: comments, blanks, CRLF, both families; the first bad line and
 * the count; the cap; a file read through lim_cidr_file_load. */
static void
test_list_text(void **state)
{
	static const char good[] = "# feed\n\n  10.0.0.0/8 # net\r\n\t2001:db8::/32\n192.0.2.7";
	static const char bad[] = "10.0.0.0/8\n10.0.0.1/8\n#x\nnope\n";
	struct lim_cidr *c = lim_cidr_new();
	struct lim_cidr_err e;
	uint8_t a4[4] = { 10, 1, 2, 3 }, h4[4] = { 192, 0, 2, 7 }, a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1 };
	uint32_t v;
	char path[] = "/tmp/test-lim-cidr-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(lim_cidr_text_load(c, good, sizeof(good) - 1, 5, 100, &e), 3);
	assert_true(lim_cidr_lookup(c, AF_INET, a4, &v) && v == 5);
	assert_true(lim_cidr_lookup(c, AF_INET, h4, &v));
	assert_true(lim_cidr_lookup(c, AF_INET6, a6, &v));
	assert_int_equal(lim_cidr_text_load(c, bad, sizeof(bad) - 1, 5, 100, &e), -EINVAL);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.bad, 2);
	assert_non_null(strstr(e.msg, "\"10.0.0.1/8\""));
	assert_int_equal(lim_cidr_text_load(c, good, sizeof(good) - 1, 5, 2, &e), -EINVAL);
	assert_int_equal(e.line, 5);
	assert_non_null(strstr(e.msg, "more than 2"));
	assert_int_equal(lim_cidr_text_load(c, "", 0, 5, 2, &e), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, sizeof(good) - 1), (ssize_t)sizeof(good) - 1);
	close(fd);
	assert_int_equal(lim_cidr_file_load(c, path, 5, 100, &e), 3);
	unlink(path);
	assert_true(lim_cidr_file_load(c, path, 5, 100, &e) < 0);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.msg, "cannot open"));
	lim_cidr_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges_v4),
		cmocka_unit_test(test_edges_v6),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_random_vs_scan),
		cmocka_unit_test(test_list_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
