/* Unit tests for daemon/core/sprintf_hex: the interposed sprintf and
 * __sprintf_chk write exactly what glibc writes, for the fast "%02x" path
 * and every fallback; the dynamic linker resolves both names to ours; and
 * a real TLS 1.3 handshake's keylog lines (formatted by OpenSSL through
 * them) carry the client random and secrets of the right length. */
#include "config.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "sprintf_hex.h"
#include "tls_testcerts.h"

/* The entry points under test, called by name: with _FORTIFY_SOURCE a
 * plain sprintf() in this file would be rewritten to __builtin___sprintf_chk. */
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
typedef int (*sprintf_fn)(char *s, const char *fmt, ...);
typedef int (*sprintf_chk_fn)(char *s, int flag, size_t slen, const char *fmt, ...);

static void
test_every_byte_as_glibc(void **state)
{
	sprintf_fn plain = (sprintf_fn)dlsym(RTLD_DEFAULT, "sprintf");
	char ours[8], chk[8], want[8];
	unsigned v;

	(void)state;
	assert_non_null(plain);
	for (v = 0; v < 256; v++) {
		memset(ours, 'X', sizeof(ours));
		memset(chk, 'X', sizeof(chk));
		assert_int_equal(snprintf(want, sizeof(want), "%02x", v), 2);
		assert_int_equal(plain(ours, "%02x", v), 2);
		assert_int_equal(__sprintf_chk(chk, 1, sizeof(chk), "%02x", v), 2);
		assert_string_equal(ours, want);
		assert_string_equal(chk, want);
		assert_int_equal(ours[3], 'X');	/* nothing past the NUL */
	}
}

static void
test_other_formats_go_to_glibc(void **state)
{
	sprintf_fn plain = (sprintf_fn)dlsym(RTLD_DEFAULT, "sprintf");
	char buf[64];

	(void)state;
	assert_int_equal(plain(buf, "%02x", 0x1ab), 3);	/* above a byte: glibc's three digits */
	assert_string_equal(buf, "1ab");
	assert_int_equal(__sprintf_chk(buf, 1, sizeof(buf), "%02x", 0x100), 3);
	assert_string_equal(buf, "100");
	assert_int_equal(plain(buf, "%02X", 0xab), 2);
	assert_string_equal(buf, "AB");
	assert_int_equal(plain(buf, "%02xz", 7), 3);	/* a longer format */
	assert_string_equal(buf, "07z");
	assert_int_equal(__sprintf_chk(buf, 1, sizeof(buf), "%s-%d", "a", 42), 4);
	assert_string_equal(buf, "a-42");
}

/* Calls sprintf_hex_fast; *after gets the argument read from ap after
 * the call, which must still be the first one (ap left as it was). */
static int
fast(char *s, size_t room, unsigned *after, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = sprintf_hex_fast(s, room, fmt, ap);
	*after = va_arg(ap, unsigned);
	va_end(ap);
	return n;
}

static void
test_fast_path_contract(void **state)
{
	char buf[8];
	unsigned after;

	(void)state;
	assert_int_equal(fast(buf, 3, &after, "%02x", 0xabu), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(after, 0xab);
	strcpy(buf, "zzz");
	assert_int_equal(fast(buf, 2, &after, "%02x", 1u), -1);	/* no room for the NUL */
	assert_int_equal(fast(buf, 8, &after, "%02x", 256u), -1);
	assert_int_equal(after, 256);
	assert_int_equal(fast(buf, 8, &after, "%2x", 1u), -1);
	assert_int_equal(fast(buf, 8, &after, "%02x ", 1u), -1);
	assert_int_equal(fast(buf, 8, &after, "", 1u), -1);
	assert_string_equal(buf, "zzz");	/* a refusal writes nothing */
}

static void
test_dynamic_linker_picks_ours(void **state)
{
	(void)state;
	/* libssl's PLT entries resolve through the same global scope */
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "__sprintf_chk"), (void *)__sprintf_chk);
	assert_ptr_not_equal(dlsym(RTLD_NEXT, "__sprintf_chk"), (void *)__sprintf_chk);
}

/* ---- a real handshake's keylog lines ---- */

static char keylog_lines[8][256];
static int keylog_n;

static void
keylog_cb(const SSL *s, const char *line)
{
	(void)s;
	if (keylog_n < 8 && strlen(line) < sizeof(keylog_lines[0]))
		strcpy(keylog_lines[keylog_n++], line);
}

static int
pump(SSL *client, SSL *server)
{
	int i, rc_c = 0, rc_s = 0;

	for (i = 0; i < 100 && (rc_c != 1 || rc_s != 1); i++) {
		if (rc_c != 1)
			rc_c = SSL_do_handshake(client);
		if (rc_s != 1)
			rc_s = SSL_do_handshake(server);
	}
	return rc_c == 1 && rc_s == 1;
}

static void
test_keylog_lines_of_a_handshake(void **state)
{
	EVP_PKEY *key = tc_key_ec("P-256");
	X509 *cert = tc_cert(key, "localhost", NULL, NULL, NULL, -60, 3600, 0);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
	SSL *srv, *cli;
	BIO *a, *b;
	unsigned char random[SSL3_RANDOM_SIZE];
	char hex[2 * SSL3_RANDOM_SIZE + 1];
	int i, seen_client_app = 0;

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	SSL_CTX_set_keylog_callback(sctx, keylog_cb);
	srv = SSL_new(sctx);
	cli = SSL_new(cctx);
	assert_int_equal(BIO_new_bio_pair(&a, 0, &b, 0), 1);
	SSL_set_bio(srv, a, a);
	SSL_set_bio(cli, b, b);
	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	assert_true(pump(cli, srv));
	assert_int_equal(SSL_version(srv), TLS1_3_VERSION);

	SSL_get_client_random(srv, random, sizeof(random));
	for (i = 0; i < SSL3_RANDOM_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", random[i]);
	assert_int_equal(keylog_n, 5);
	for (i = 0; i < keylog_n; i++) {
		const char *sp = strchr(keylog_lines[i], ' ');
		const char *secret;

		assert_non_null(sp);
		assert_memory_equal(sp + 1, hex, 2 * SSL3_RANDOM_SIZE);
		secret = sp + 1 + 2 * SSL3_RANDOM_SIZE;
		assert_int_equal(secret[0], ' ');
		assert_true(strlen(secret + 1) == 64 || strlen(secret + 1) == 96);	/* SHA-256 / SHA-384 */
		assert_int_equal(strspn(secret + 1, "0123456789abcdef"), strlen(secret + 1));
		if (strncmp(keylog_lines[i], "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
			seen_client_app = 1;
	}
	assert_true(seen_client_app);
	SSL_free(srv);
	SSL_free(cli);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_as_glibc),
		cmocka_unit_test(test_other_formats_go_to_glibc),
		cmocka_unit_test(test_fast_path_contract),
		cmocka_unit_test(test_dynamic_linker_picks_ours),
		cmocka_unit_test(test_keylog_lines_of_a_handshake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
