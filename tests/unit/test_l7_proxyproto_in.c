/*
 * Unit tests of daemon/l7/l7_proxyproto_in: the PROXY protocol v1/v2 parser.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "l7_proxyproto_in.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
	0x54, 0x0a };

static void
test_v1_tcp4(void **state)
{
	const char *h = "PROXY TCP4 192.0.2.7 198.51.100.1 40000 80\r\nGET / HTTP/1.1\r\n";
	struct l7_ppin pp;
	int n;

	(void)state;
	n = l7_ppin_parse(h, strlen(h), &pp);
	assert_int_equal(n, 44);
	assert_int_equal(pp.family, AF_INET);
	assert_int_equal(pp.version, 1);
	assert_int_equal(pp.sport, 40000);
	assert_int_equal(pp.dport, 80);
	assert_int_equal(pp.src[10], 0xff);
	assert_int_equal(pp.src[12], 192);
	assert_int_equal(pp.src[15], 7);
	assert_int_equal(pp.dst[12], 198);
	/* every proper prefix asks for more */
	for (size_t i = 0; i < 44; i++)
		assert_int_equal(l7_ppin_parse(h, i, &pp), L7_PPIN_AGAIN);
}

static void
test_v1_tcp6_unknown(void **state)
{
	const char *h6 = "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n";
	const char *hu = "PROXY UNKNOWN whatever follows\r\n";
	struct l7_ppin pp;

	(void)state;
	assert_int_equal(l7_ppin_parse(h6, strlen(h6), &pp), (int)strlen(h6));
	assert_int_equal(pp.family, AF_INET6);
	assert_int_equal(pp.src[0], 0x20);
	assert_int_equal(pp.src[15], 1);
	assert_int_equal(pp.dport, 65535);
	assert_int_equal(l7_ppin_parse(hu, strlen(hu), &pp), (int)strlen(hu));
	assert_int_equal(pp.family, AF_UNSPEC);
	assert_int_equal(l7_ppin_parse("PROXY UNKNOWN\r\n", 15, &pp), 15);
}

static void
test_v1_bad(void **state)
{
	static const char *const bad[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 40000 80\n",		/* no CR */
		"PROXY TCP4 192.0.2.7 198.51.100.1 40000\r\n",		/* a field short */
		"PROXY TCP4 192.0.2.7 198.51.100.1 40000 80 1\r\n",	/* one too many */
		"PROXY TCP4  192.0.2.7 198.51.100.1 40000 80\r\n",	/* double space */
		"PROXY TCP4 2001:db8::1 198.51.100.1 40000 80\r\n",	/* wrong family */
		"PROXY TCP6 192.0.2.7 ::1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 80\r\n",	/* port range */
		"PROXY TCP4 192.0.2.7 198.51.100.1 080 80\r\n",		/* leading zero */
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 80\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 80\r\n",
		"PROXY tcp4 192.0.2.7 198.51.100.1 1 80\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 8\x01\r\n",
		"PROXI TCP4 1.2.3.4 1.2.3.4 1 1\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\n",
	};
	struct l7_ppin pp;
	char long_line[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(l7_ppin_parse(bad[i], strlen(bad[i]), &pp), L7_PPIN_ERROR);
	/* no line end within 107 bytes */
	memcpy(long_line, "PROXY TCP4 ", 11);
	memset(long_line + 11, '1', sizeof(long_line) - 11);
	assert_int_equal(l7_ppin_parse(long_line, sizeof(long_line), &pp), L7_PPIN_ERROR);
	assert_int_equal(l7_ppin_parse(long_line, 100, &pp), L7_PPIN_AGAIN);
}

/* A v2 header: cmd (0 LOCAL, 1 PROXY), family byte, address block, TLVs. */
static size_t
v2(uint8_t *out, int cmd, uint8_t fam, const uint8_t *addr, size_t alen, size_t tlvs)
{
	memcpy(out, sig, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = fam;
	out[14] = (uint8_t)((alen + tlvs) >> 8);
	out[15] = (uint8_t)(alen + tlvs);
	memcpy(out + 16, addr, alen);
	memset(out + 16 + alen, 0xaa, tlvs);
	return 16 + alen + tlvs;
}

static void
test_v2(void **state)
{
	uint8_t b[2048];
	const uint8_t a4[12] = { 10, 1, 2, 3, 127, 0, 0, 1, 0x9c, 0x40, 0, 80 };
	uint8_t a6[36] = { 0 };
	struct l7_ppin pp;
	size_t n;

	(void)state;
	n = v2(b, 1, 0x11, a4, sizeof(a4), 7);
	assert_int_equal(l7_ppin_parse(b, n, &pp), (int)n);
	assert_int_equal(pp.family, AF_INET);
	assert_int_equal(pp.version, 2);
	assert_int_equal(pp.src[12], 10);
	assert_int_equal(pp.src[15], 3);
	assert_int_equal(pp.sport, 40000);
	assert_int_equal(pp.dport, 80);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(l7_ppin_parse(b, i, &pp), L7_PPIN_AGAIN);
	a6[0] = 0x20; a6[1] = 0x01; a6[15] = 9; a6[31] = 1; a6[32] = 0x01; a6[35] = 0x50;
	n = v2(b, 1, 0x21, a6, sizeof(a6), 0);
	assert_int_equal(l7_ppin_parse(b, n, &pp), (int)n);
	assert_int_equal(pp.family, AF_INET6);
	assert_int_equal(pp.src[15], 9);
	assert_int_equal(pp.sport, 256);
	assert_int_equal(pp.dport, 80);
	/* LOCAL: no address, keep the peer */
	n = v2(b, 0, 0x00, a4, 0, 0);
	assert_int_equal(l7_ppin_parse(b, n, &pp), 16);
	assert_int_equal(pp.family, AF_UNSPEC);
	/* bad: version 1 in the v2 byte, command 2, short address block,
	 * unknown family, over-long */
	n = v2(b, 1, 0x11, a4, sizeof(a4), 0);
	b[12] = 0x11;
	assert_int_equal(l7_ppin_parse(b, n, &pp), L7_PPIN_ERROR);
	b[12] = 0x22;
	assert_int_equal(l7_ppin_parse(b, n, &pp), L7_PPIN_ERROR);
	n = v2(b, 1, 0x11, a4, 8, 0);
	assert_int_equal(l7_ppin_parse(b, n, &pp), L7_PPIN_ERROR);
	n = v2(b, 1, 0x21, a6, 20, 0);
	assert_int_equal(l7_ppin_parse(b, n, &pp), L7_PPIN_ERROR);
	n = v2(b, 1, 0x41, a4, sizeof(a4), 0);
	assert_int_equal(l7_ppin_parse(b, n, &pp), L7_PPIN_ERROR);
	n = v2(b, 1, 0x11, a4, sizeof(a4), L7_PPIN_V2_MAX);
	assert_int_equal(l7_ppin_parse(b, 16, &pp), L7_PPIN_ERROR);
}

static void
test_looks_like(void **state)
{
	(void)state;
	assert_true(l7_ppin_looks_like("PROXY TCP4", 10));
	assert_true(l7_ppin_looks_like("PRO", 3));
	assert_true(l7_ppin_looks_like(sig, 12));
	assert_true(l7_ppin_looks_like("\r\n\r\n", 4));
	assert_false(l7_ppin_looks_like("POST / HTTP/1.1", 15));
	assert_false(l7_ppin_looks_like("GET / HTTP/1.1", 14));
	assert_false(l7_ppin_looks_like("\r\nGET", 5));
	assert_false(l7_ppin_looks_like("", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6_unknown),
		cmocka_unit_test(test_v1_bad),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_looks_like),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
