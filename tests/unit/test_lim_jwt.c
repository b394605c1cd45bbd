/* Unit tests for daemon/limit/lim_jwt: HS256, RS256 and ES256 (PEM and
 * JWKS) with keys made at run time, the pinned algorithm (alg none, swapped
 * alg, HS/RS confusion), exp/nbf with leeway, strict base64url, sizes and
 * claim extraction. Tokens are signed here with OpenSSL directly. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwt_testkeys.h"
#include "lim_jwt.h"

#define NOW 1700000000LL
#define SECRET JWT_TEST_SECRET

static EVP_PKEY *rsa_key, *ec_key, *ec_key2;

/* Signs header.payload with alg using key (secret for HS256). */
static char *
sign(const char *alg_signed_as, const char *header, const char *payload, EVP_PKEY *pk)
{
	char *tok = malloc(16384);
	unsigned char sig[1024], raw[64];
	size_t slen = sizeof(sig), n;

	jwt_test_b64url((const unsigned char *)header, strlen(header), tok);
	n = strlen(tok);
	tok[n++] = '.';
	jwt_test_b64url((const unsigned char *)payload, strlen(payload), tok + n);
	n = strlen(tok);
	if (strcmp(alg_signed_as, "HS256") == 0) {
		assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, strlen(SECRET),
					  (unsigned char *)tok, n, sig, sizeof(sig), &slen));
	} else {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, pk, NULL), 1);
		assert_int_equal(EVP_DigestSign(md, sig, &slen, (unsigned char *)tok, n), 1);
		EVP_MD_CTX_free(md);
		if (strcmp(alg_signed_as, "ES256") == 0) {	/* DER -> r || s */
			const unsigned char *p = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);

			assert_non_null(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
			ECDSA_SIG_free(es);
			memcpy(sig, raw, 64);
			slen = 64;
		}
	}
	tok[n++] = '.';
	jwt_test_b64url(sig, slen, tok + n);
	return tok;
}

static char *
pem_of(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_int_equal(PEM_write_bio_PUBKEY(b, pk), 1);
	n = BIO_get_mem_data(b, &data);
	out = calloc(1, (size_t)n + 1);
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	return out;
}

static struct lim_jwt_verifier *
verifier(enum lim_jwt_alg alg, EVP_PKEY *pk, uint32_t leeway)
{
	char err[256] = "";
	struct lim_jwt_verifier *v;

	if (alg == LIM_JWT_HS256) {
		v = lim_jwt_verifier_new(alg, SECRET, strlen(SECRET), leeway, err, sizeof(err));
	} else {
		char *pem = pem_of(pk);

		v = lim_jwt_verifier_new(alg, pem, strlen(pem), leeway, err, sizeof(err));
		free(pem);
	}
	if (v == NULL)
		print_message("verifier: %s\n", err);
	assert_non_null(v);
	return v;
}

static enum lim_jwt_err
check(const struct lim_jwt_verifier *v, const char *tok, char *out)
{
	char buf[256];

	return lim_jwt_verify(v, tok, strlen(tok), NOW, "sub", out ? out : buf, 256);
}

static int
setup(void **state)
{
	(void)state;
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return rsa_key && ec_key && ec_key2 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ec_key2);
	return 0;
}

static void
test_hs256(void **state)
{
	struct lim_jwt_verifier *v = verifier(LIM_JWT_HS256, NULL, 30);
	char out[256], *t;

	(void)state;
	t = sign("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"alice\",\"exp\":1700000100}", NULL);
	assert_int_equal(check(v, t, out), LIM_JWT_OK);
	assert_string_equal(out, "alice");
	/* a changed signature character */
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(check(v, t, NULL), LIM_JWT_E_SIGNATURE);
	free(t);
	/* integer claims come out in decimal */
	t = sign("HS256", "{\"alg\":\"HS256\"}", "{\"sub\":12345}", NULL);
	assert_int_equal(check(v, t, out), LIM_JWT_OK);
	assert_string_equal(out, "12345");
	free(t);
	t = sign("HS256", "{\"alg\":\"HS256\"}", "{\"sub\":[1]}", NULL);
	assert_int_equal(check(v, t, out), LIM_JWT_E_NO_CLAIM);
	free(t);
	t = sign("HS256", "{\"alg\":\"HS256\"}", "{\"user\":\"x\"}", NULL);
	assert_int_equal(check(v, t, out), LIM_JWT_E_NO_CLAIM);
	assert_int_equal(lim_jwt_verify(v, t, strlen(t), NOW, NULL, NULL, 0), LIM_JWT_OK);
	free(t);
	t = sign("HS256", "{\"alg\":\"HS256\"}", "{\"sub\":\"0123456789\"}", NULL);
	assert_int_equal(lim_jwt_verify(v, t, strlen(t), NOW, "sub", out, 10), LIM_JWT_E_CLAIM_SIZE);
	free(t);
	t = sign("HS256", "{\"alg\":\"HS256\"}", "[\"sub\"]", NULL);
	assert_int_equal(check(v, t, out), LIM_JWT_E_PAYLOAD);
	free(t);
	lim_jwt_verifier_free(&v);
	assert_null(v);
}

static void
test_times(void **state)
{
	struct lim_jwt_verifier *v = verifier(LIM_JWT_HS256, NULL, 30);
	char p[128], *t;
	static const struct { const char *claims; enum lim_jwt_err want; } cases[] = {
		{ "\"exp\":1700000001", LIM_JWT_OK },
		{ "\"exp\":1699999971", LIM_JWT_OK },		/* 29 s late: inside the leeway */
		{ "\"exp\":1699999970", LIM_JWT_E_EXPIRED },	/* 30 s late: out */
		{ "\"exp\":1000", LIM_JWT_E_EXPIRED },
		{ "\"nbf\":1700000030", LIM_JWT_OK },
		{ "\"nbf\":1700000031", LIM_JWT_E_NOT_YET },
		{ "\"exp\":\"tomorrow\"", LIM_JWT_E_TIME_CLAIM },
		{ "\"nbf\":null", LIM_JWT_E_TIME_CLAIM },
		{ "\"exp\":1700000100.5", LIM_JWT_OK },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(p, sizeof(p), "{\"sub\":\"a\",%s}", cases[i].claims);
		t = sign("HS256", "{\"alg\":\"HS256\"}", p, NULL);
		assert_int_equal(check(v, t, NULL), cases[i].want);
		free(t);
	}
	lim_jwt_verifier_free(&v);
}

/* The algorithm comes from the verifier, never from the token. */
static void
test_pinned_alg(void **state)
{
	struct lim_jwt_verifier *hs = verifier(LIM_JWT_HS256, NULL, 0);
	struct lim_jwt_verifier *rs = verifier(LIM_JWT_RS256, rsa_key, 0);
	char none[300], h[128], p[128], *t;

	(void)state;
	/* alg none, with and without a signature part */
	jwt_test_b64url((const unsigned char *)"{\"alg\":\"none\"}", 14, h);
	jwt_test_b64url((const unsigned char *)"{\"sub\":\"a\"}", 11, p);
	snprintf(none, sizeof(none), "%s.%s.", h, p);
	assert_int_equal(check(hs, none, NULL), LIM_JWT_E_FORMAT);
	assert_int_equal(check(rs, none, NULL), LIM_JWT_E_FORMAT);
	snprintf(none, sizeof(none), "%s.%s.AAAA", h, p);
	assert_int_equal(check(hs, none, NULL), LIM_JWT_E_ALG);
	assert_int_equal(check(rs, none, NULL), LIM_JWT_E_ALG);
	/* HS/RS confusion: an HS256 token MACed with the RSA public key PEM */
	{
		char *pem = pem_of(rsa_key);
		size_t n;
		char tok[8192];

		n = jwt_test_b64url((const unsigned char *)"{\"alg\":\"HS256\"}", 15, tok);
		tok[n++] = '.';
		n += jwt_test_b64url((const unsigned char *)"{\"sub\":\"a\"}", 11, tok + n);
		assert_true(jwt_test_hs256_sign(tok, n, pem) > n);
		assert_int_equal(check(rs, tok, NULL), LIM_JWT_E_ALG);
		free(pem);
	}
	/* an RS256 token to an HS256 rule, and the alg field swapped */
	t = sign("RS256", "{\"alg\":\"RS256\"}", "{\"sub\":\"a\"}", rsa_key);
	assert_int_equal(check(rs, t, NULL), LIM_JWT_OK);
	assert_int_equal(check(hs, t, NULL), LIM_JWT_E_ALG);
	free(t);
	t = sign("RS256", "{\"alg\":\"RS384\"}", "{\"sub\":\"a\"}", rsa_key);
	assert_int_equal(check(rs, t, NULL), LIM_JWT_E_ALG);
	free(t);
	t = sign("RS256", "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", "{\"sub\":\"a\"}", rsa_key);
	assert_int_equal(check(rs, t, NULL), LIM_JWT_E_CRIT);
	free(t);
	t = sign("RS256", "{\"alg\":\"RS256\",\"alg\":\"RS256\"}", "{\"sub\":\"a\"}", rsa_key);
	assert_int_equal(check(rs, t, NULL), LIM_JWT_E_HEADER);	/* duplicate member */
	free(t);
	lim_jwt_verifier_free(&hs);
	lim_jwt_verifier_free(&rs);
}

static void
test_es256(void **state)
{
	struct lim_jwt_verifier *es = verifier(LIM_JWT_ES256, ec_key, 0);
	char out[256], *t;

	(void)state;
	t = sign("ES256", "{\"alg\":\"ES256\"}", "{\"sub\":\"bob\"}", ec_key);
	assert_int_equal(check(es, t, out), LIM_JWT_OK);
	assert_string_equal(out, "bob");
	free(t);
	t = sign("ES256", "{\"alg\":\"ES256\"}", "{\"sub\":\"bob\"}", ec_key2);	/* other key */
	assert_int_equal(check(es, t, out), LIM_JWT_E_SIGNATURE);
	free(t);
	lim_jwt_verifier_free(&es);
}

static void
test_shape_and_base64(void **state)
{
	struct lim_jwt_verifier *v = verifier(LIM_JWT_HS256, NULL, 0);
	char *t, buf[LIM_JWT_MAX + 2];
	unsigned char out[16];
	size_t n;

	(void)state;
	assert_int_equal(check(v, "", NULL), LIM_JWT_E_SIZE);
	memset(buf, 'A', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(check(v, buf, NULL), LIM_JWT_E_SIZE);
	assert_int_equal(check(v, "abc", NULL), LIM_JWT_E_FORMAT);
	assert_int_equal(check(v, "a.b", NULL), LIM_JWT_E_FORMAT);
	assert_int_equal(check(v, "a.b.c.d", NULL), LIM_JWT_E_FORMAT);
	assert_int_equal(check(v, ".b.c", NULL), LIM_JWT_E_FORMAT);
	assert_int_equal(check(v, "a..c", NULL), LIM_JWT_E_FORMAT);
	t = sign("HS256", "{\"alg\":\"HS256\"}", "{\"sub\":\"a\"}", NULL);
	n = strlen(t);
	snprintf(buf, sizeof(buf), "%s=", t);	/* padding is not base64url in JWS */
	assert_int_equal(check(v, buf, NULL), LIM_JWT_E_BASE64);
	snprintf(buf, sizeof(buf), "%s", t);
	buf[3] = '+';
	assert_int_equal(check(v, buf, NULL), LIM_JWT_E_BASE64);
	free(t);
	(void)n;
	/* strict decoding: canonical tails only */
	assert_int_equal(lim_b64url_decode("QQ", 2, out), 1);
	assert_int_equal(lim_b64url_decode("QR", 2, out), -1);	/* non-zero unused bits */
	assert_int_equal(lim_b64url_decode("Q", 1, out), -1);
	assert_int_equal(lim_b64url_decode("QUI", 3, out), 2);
	assert_int_equal(lim_b64url_decode("QUJD", 4, out), 3);
	assert_memory_equal(out, "ABC", 3);
	assert_int_equal(lim_b64url_decode("-_8", 3, out), 2);
	assert_int_equal(out[0], 0xfb);
	lim_jwt_verifier_free(&v);
}

static void
test_verifier_errors(void **state)
{
	char err[256], *pem;

	(void)state;
	assert_null(lim_jwt_verifier_new(LIM_JWT_HS256, "short", 5, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "32 bytes"));
	pem = pem_of(ec_key);
	assert_null(lim_jwt_verifier_new(LIM_JWT_RS256, pem, strlen(pem), 0, err, sizeof(err)));
	assert_non_null(strstr(err, "RSA"));
	free(pem);
	pem = pem_of(rsa_key);
	assert_null(lim_jwt_verifier_new(LIM_JWT_ES256, pem, strlen(pem), 0, err, sizeof(err)));
	free(pem);
	assert_null(lim_jwt_verifier_new(LIM_JWT_RS256, "garbage", 7, 0, err, sizeof(err)));
	assert_string_equal(err, "no PEM public key found");
	assert_null(lim_jwt_verifier_new(LIM_JWT_RS256, "{\"keys\":[]}", 11, 0, err, sizeof(err)));
	assert_string_equal(lim_jwt_strerror(LIM_JWT_E_ALG), "alg is not the one the rule pins");
}

/* JWKS: keys picked by kid. */
static void
test_jwks(void **state)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[512], eb[8], x[32], y[32], pub[65];
	char nt[800], et[16], xt[64], yt[64], jwks[4096], err[256], *t;
	struct lim_jwt_verifier *v;
	size_t publen = 0;
	int nl, el;

	(void)state;
	assert_int_equal(EVP_PKEY_get_bn_param(rsa_key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(rsa_key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	jwt_test_b64url(nb, (size_t)nl, nt);
	jwt_test_b64url(eb, (size_t)el, et);
	snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}]}", nt, et);
	v = lim_jwt_verifier_new(LIM_JWT_RS256, jwks, strlen(jwks), 0, err, sizeof(err));
	assert_non_null(v);
	t = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"k1\"}", "{\"sub\":\"c\"}", rsa_key);
	assert_int_equal(check(v, t, NULL), LIM_JWT_OK);
	free(t);
	t = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"k2\"}", "{\"sub\":\"c\"}", rsa_key);
	assert_int_equal(check(v, t, NULL), LIM_JWT_E_KID);
	free(t);
	lim_jwt_verifier_free(&v);
	BN_free(n);
	BN_free(e);
	/* EC: x and y from the uncompressed point */
	assert_int_equal(EVP_PKEY_get_octet_string_param(ec_key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen), 1);
	assert_int_equal(publen, 65);
	memcpy(x, pub + 1, 32);
	memcpy(y, pub + 33, 32);
	jwt_test_b64url(x, 32, xt);
	jwt_test_b64url(y, 32, yt);
	snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e1\",\"x\":\"%s\",\"y\":\"%s\"}]}", xt, yt);
	v = lim_jwt_verifier_new(LIM_JWT_ES256, jwks, strlen(jwks), 0, err, sizeof(err));
	assert_non_null(v);
	t = sign("ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", "{\"sub\":\"d\"}", ec_key);
	assert_int_equal(check(v, t, NULL), LIM_JWT_OK);
	free(t);
	lim_jwt_verifier_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hs256),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_pinned_alg),
		cmocka_unit_test(test_es256),
		cmocka_unit_test(test_shape_and_base64),
		cmocka_unit_test(test_verifier_errors),
		cmocka_unit_test(test_jwks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
