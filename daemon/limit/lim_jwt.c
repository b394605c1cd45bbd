/*
 * lim_jwt - JWT verification for rate-rule keys and access rules.
 *
 * Order of checks, each failing closed: size, shape (three parts), strict
 * base64url, header JSON, pinned "alg" (and no "crit"), key selection by
 * "kid", signature, then payload JSON, exp/nbf with leeway, and the claim.
 * The payload is only parsed after the signature verified, so an attacker's
 * JSON never reaches the parser unless signed by a trusted key... except the
 * header, which is small, bounded and parsed by jansson.
 *
 * This is the one module of daemon/limit that links OpenSSL.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "lim_jwt.h"

#define LIM_JWT_KEYS_MAX	16
#define LIM_JWT_KID_MAX		128
#define LIM_JWT_SECRET_MIN	32

struct lim_jwt_key {
	EVP_PKEY *pkey;
	char kid[LIM_JWT_KID_MAX];	/* "" when the key has none (PEM) */
};

struct lim_jwt_verifier {
	enum lim_jwt_alg alg;
	uint32_t leeway_s;
	unsigned char *secret;	/* HS256 */
	size_t secret_len;
	struct lim_jwt_key keys[LIM_JWT_KEYS_MAX];
	size_t nkeys;
};

static const char *const lim_jwt_errs[] = {
	[LIM_JWT_OK] = "ok",
	[LIM_JWT_E_SIZE] = "token is empty or too long",
	[LIM_JWT_E_FORMAT] = "token is not three dot-separated parts",
	[LIM_JWT_E_BASE64] = "token part is not strict base64url",
	[LIM_JWT_E_HEADER] = "header is not a JSON object with a string alg",
	[LIM_JWT_E_ALG] = "alg is not the one the rule pins",
	[LIM_JWT_E_CRIT] = "header has crit extensions",
	[LIM_JWT_E_KID] = "no key with the token's kid",
	[LIM_JWT_E_SIGNATURE] = "signature does not verify",
	[LIM_JWT_E_PAYLOAD] = "payload is not a JSON object",
	[LIM_JWT_E_EXPIRED] = "token has expired",
	[LIM_JWT_E_NOT_YET] = "token is not valid yet (nbf)",
	[LIM_JWT_E_TIME_CLAIM] = "exp or nbf is not a number",
	[LIM_JWT_E_NO_CLAIM] = "claim is absent or not a string or integer",
	[LIM_JWT_E_CLAIM_SIZE] = "claim value is too long",
	[LIM_JWT_E_INTERNAL] = "internal error (OpenSSL or memory)",
};

const char *
lim_jwt_strerror(enum lim_jwt_err e)
{
	if ((unsigned)e >= sizeof(lim_jwt_errs) / sizeof(lim_jwt_errs[0]))
		return "unknown error";
	return lim_jwt_errs[e];
}

static int
lim_b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

long
lim_b64url_decode(const char *in, size_t len, unsigned char *out)
{
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	if (len % 4 == 1)
		return -1;	/* one leftover character carries < 8 bits */
	for (i = 0; i < len; i++) {
		v = lim_b64val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;	/* non-canonical: unused bits must be zero */
	return (long)o;
}

static void __attribute__((format(printf, 3, 4)))
lim_jwt_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* 1 when pk fits alg: RSA >= 2048 bits for RS256, EC P-256 for ES256. */
static int
lim_jwt_key_ok(enum lim_jwt_alg alg, EVP_PKEY *pk)
{
	char group[64];
	size_t glen = 0;

	if (alg == LIM_JWT_RS256)
		return EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) >= 2048;
	if (alg == LIM_JWT_ES256)
		return EVP_PKEY_is_a(pk, "EC") &&
		       EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						      sizeof(group), &glen) == 1 &&
		       strcmp(group, "prime256v1") == 0;
	return 0;
}

/* Decodes a base64url JSON member into a new BIGNUM-ready buffer. */
static long
lim_jwk_bytes(json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
	json_t *v = json_object_get(jwk, name);
	size_t len;

	if (!json_is_string(v))
		return -1;
	len = json_string_length(v);
	if (len * 3 / 4 + 1 > cap)
		return -1;
	return lim_b64url_decode(json_string_value(v), len, out);
}

/* Builds a public key from one JWK (kty RSA with n/e, or EC P-256 with x/y). */
static EVP_PKEY *
lim_jwk_pkey(json_t *jwk, enum lim_jwt_alg alg)
{
	unsigned char a[1024], b[1024], pub[65];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *n = NULL, *e = NULL;
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	long la, lb;

	if (kty == NULL || (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (alg == LIM_JWT_RS256 && strcmp(kty, "RSA") == 0) {
		la = lim_jwk_bytes(jwk, "n", a, sizeof(a));
		lb = lim_jwk_bytes(jwk, "e", b, sizeof(b));
		if (la <= 0 || lb <= 0 || (n = BN_bin2bn(a, (int)la, NULL)) == NULL ||
		    (e = BN_bin2bn(b, (int)lb, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else if (alg == LIM_JWT_ES256 && strcmp(kty, "EC") == 0) {
		const char *crv = json_string_value(json_object_get(jwk, "crv"));

		la = lim_jwk_bytes(jwk, "x", a, sizeof(a));
		lb = lim_jwk_bytes(jwk, "y", b, sizeof(b));
		if (crv == NULL || strcmp(crv, "P-256") != 0 || la != 32 || lb != 32)
			goto out;
		pub[0] = 0x04;	/* uncompressed point */
		memcpy(pub + 1, a, 32);
		memcpy(pub + 33, b, 32);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

/* Loads a JWKS document into v; returns 0 or -1 with err set. */
static int
lim_jwt_load_jwks(struct lim_jwt_verifier *v, const void *key, size_t keylen, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(key, keylen, JSON_REJECT_DUPLICATES, &jerr), *keys, *jwk;
	size_t i;
	int rc = -1;

	keys = root ? json_object_get(root, "keys") : NULL;
	if (!json_is_array(keys)) {
		lim_jwt_seterr(err, errlen, "JWKS is not a JSON object with a \"keys\" array");
		goto out;
	}
	json_array_foreach(keys, i, jwk) {
		const char *use = json_string_value(json_object_get(jwk, "use"));
		const char *kid = json_string_value(json_object_get(jwk, "kid"));
		const char *jalg = json_string_value(json_object_get(jwk, "alg"));
		EVP_PKEY *pk;

		if ((use != NULL && strcmp(use, "sig") != 0) ||
		    (jalg != NULL && strcmp(jalg, v->alg == LIM_JWT_RS256 ? "RS256" : "ES256") != 0))
			continue;	/* keys for other uses or algorithms are not ours */
		pk = lim_jwk_pkey(jwk, v->alg);
		if (pk == NULL || !lim_jwt_key_ok(v->alg, pk)) {
			EVP_PKEY_free(pk);
			continue;
		}
		if (v->nkeys == LIM_JWT_KEYS_MAX || (kid != NULL && strlen(kid) >= LIM_JWT_KID_MAX)) {
			EVP_PKEY_free(pk);
			lim_jwt_seterr(err, errlen, "JWKS key %zu: too many keys or kid too long", i);
			goto out;
		}
		v->keys[v->nkeys].pkey = pk;
		snprintf(v->keys[v->nkeys].kid, LIM_JWT_KID_MAX, "%s", kid ? kid : "");
		v->nkeys++;
	}
	if (v->nkeys == 0) {
		lim_jwt_seterr(err, errlen, "JWKS holds no usable key for this algorithm");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

struct lim_jwt_verifier *
lim_jwt_verifier_new(enum lim_jwt_alg alg, const void *key, size_t keylen, uint32_t leeway_s,
		     char *err, size_t errlen)
{
	struct lim_jwt_verifier *v = calloc(1, sizeof(*v));
	BIO *bio = NULL;
	EVP_PKEY *pk;

	if (v == NULL) {
		lim_jwt_seterr(err, errlen, "out of memory");
		return NULL;
	}
	v->alg = alg;
	v->leeway_s = leeway_s;
	if (alg == LIM_JWT_HS256) {
		if (keylen < LIM_JWT_SECRET_MIN) {
			lim_jwt_seterr(err, errlen, "HS256 secret must be at least %d bytes", LIM_JWT_SECRET_MIN);
			goto fail;
		}
		v->secret = malloc(keylen);
		if (v->secret == NULL) {
			lim_jwt_seterr(err, errlen, "out of memory");
			goto fail;
		}
		memcpy(v->secret, key, keylen);
		v->secret_len = keylen;
		return v;
	}
	if (alg != LIM_JWT_RS256 && alg != LIM_JWT_ES256) {
		lim_jwt_seterr(err, errlen, "unsupported algorithm");
		goto fail;
	}
	if (keylen > 0 && ((const char *)key)[0] == '{') {
		if (lim_jwt_load_jwks(v, key, keylen, err, errlen) < 0)
			goto fail;
		return v;
	}
	bio = BIO_new_mem_buf(key, (int)keylen);
	while (bio != NULL && (pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
		if (!lim_jwt_key_ok(alg, pk) || v->nkeys == LIM_JWT_KEYS_MAX) {
			EVP_PKEY_free(pk);
			lim_jwt_seterr(err, errlen, v->nkeys == LIM_JWT_KEYS_MAX ? "more than %d keys" :
				    "key %d is not an %s public key", v->nkeys == LIM_JWT_KEYS_MAX ?
				    LIM_JWT_KEYS_MAX : (int)v->nkeys + 1,
				    alg == LIM_JWT_RS256 ? "RSA (>= 2048 bits)" : "EC P-256");
			goto fail;
		}
		v->keys[v->nkeys++].pkey = pk;
	}
	ERR_clear_error();	/* the loop ends on a "no start line" error */
	if (v->nkeys == 0) {
		lim_jwt_seterr(err, errlen, "no PEM public key found");
		goto fail;
	}
	BIO_free(bio);
	return v;
fail:
	BIO_free(bio);
	lim_jwt_verifier_free(&v);
	return NULL;
}

void
lim_jwt_verifier_free(struct lim_jwt_verifier **vp)
{
	struct lim_jwt_verifier *v = *vp;
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nkeys; i++)
		EVP_PKEY_free(v->keys[i].pkey);
	if (v->secret != NULL) {
		OPENSSL_cleanse(v->secret, v->secret_len);
		free(v->secret);
	}
	free(v);
	*vp = NULL;
}

/* Verifies sig over data with one public key; 1 when it verifies. */
static int
lim_jwt_pk_verify(enum lim_jwt_alg alg, EVP_PKEY *pk, const unsigned char *data, size_t dlen,
		  const unsigned char *sig, size_t slen)
{
	unsigned char der[80], *dp = der;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int ok = 0, dlen2;

	if (alg == LIM_JWT_ES256) {
		/* JWS carries r || s (32 bytes each); OpenSSL wants DER */
		if (slen != 64 || (es = ECDSA_SIG_new()) == NULL ||
		    (r = BN_bin2bn(sig, 32, NULL)) == NULL || (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL ||
		    ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL;	/* owned by es now */
		if (i2d_ECDSA_SIG(es, NULL) > (int)sizeof(der))
			goto out;
		dlen2 = i2d_ECDSA_SIG(es, &dp);
		if (dlen2 <= 0)
			goto out;
		sig = der;
		slen = (size_t)dlen2;
	} else if (slen != (size_t)EVP_PKEY_get_size(pk)) {
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md != NULL && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pk, NULL) == 1 &&
	    EVP_DigestVerify(md, sig, slen, data, dlen) == 1)
		ok = 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return ok;
}

/* Reads a NumericDate member: 0 absent, 1 present (*out), -1 not a number. */
static int
lim_jwt_time(json_t *payload, const char *name, double *out)
{
	json_t *v = json_object_get(payload, name);

	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 1;
}

enum lim_jwt_err
lim_jwt_verify(const struct lim_jwt_verifier *v, const char *tok, size_t len, int64_t now_s,
	       const char *claim, char *out, size_t outlen)
{
	unsigned char hbuf[LIM_JWT_MAX * 3 / 4 + 1], pbuf[LIM_JWT_MAX * 3 / 4 + 1];
	unsigned char sbuf[LIM_JWT_MAX * 3 / 4 + 1];
	const char *d1, *d2, *alg, *kid, *want;
	json_t *hdr = NULL, *pl = NULL, *c;
	long hl, pln, sl;
	enum lim_jwt_err rc;
	double t;
	size_t i;
	int ok = 0, r;

	if (len == 0 || len > LIM_JWT_MAX)
		return LIM_JWT_E_SIZE;
	d1 = memchr(tok, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL ||
	    d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return LIM_JWT_E_FORMAT;
	hl = lim_b64url_decode(tok, (size_t)(d1 - tok), hbuf);
	pln = lim_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), pbuf);
	sl = lim_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), sbuf);
	if (hl <= 0 || pln <= 0 || sl <= 0)
		return LIM_JWT_E_BASE64;
	rc = LIM_JWT_E_HEADER;
	hdr = json_loadb((const char *)hbuf, (size_t)hl, JSON_REJECT_DUPLICATES, NULL);
	alg = hdr ? json_string_value(json_object_get(hdr, "alg")) : NULL;
	if (!json_is_object(hdr) || alg == NULL)
		goto out;
	want = v->alg == LIM_JWT_HS256 ? "HS256" : v->alg == LIM_JWT_RS256 ? "RS256" : "ES256";
	rc = LIM_JWT_E_ALG;
	if (strcmp(alg, want) != 0)
		goto out;
	rc = LIM_JWT_E_CRIT;
	if (json_object_get(hdr, "crit") != NULL)
		goto out;
	kid = json_string_value(json_object_get(hdr, "kid"));
	rc = LIM_JWT_E_SIGNATURE;
	if (v->alg == LIM_JWT_HS256) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		size_t maclen = 0;

		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, v->secret, v->secret_len,
			      (const unsigned char *)tok, (size_t)(d2 - tok), mac, sizeof(mac), &maclen) == NULL) {
			rc = LIM_JWT_E_INTERNAL;
			goto out;
		}
		ok = sl == 32 && maclen == 32 && CRYPTO_memcmp(mac, sbuf, 32) == 0;
	} else {
		int any_kid = 0;

		for (i = 0; i < v->nkeys && !ok; i++) {
			if (kid != NULL && v->keys[i].kid[0] != '\0' && strcmp(kid, v->keys[i].kid) != 0)
				continue;
			any_kid = 1;
			ok = lim_jwt_pk_verify(v->alg, v->keys[i].pkey, (const unsigned char *)tok,
					       (size_t)(d2 - tok), sbuf, (size_t)sl);
		}
		if (!any_kid) {
			rc = LIM_JWT_E_KID;
			goto out;
		}
	}
	if (!ok)
		goto out;
	rc = LIM_JWT_E_PAYLOAD;
	pl = json_loadb((const char *)pbuf, (size_t)pln, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(pl))
		goto out;
	rc = LIM_JWT_E_TIME_CLAIM;
	r = lim_jwt_time(pl, "exp", &t);
	if (r < 0)
		goto out;
	rc = LIM_JWT_E_EXPIRED;
	if (r > 0 && (double)now_s >= t + v->leeway_s)
		goto out;
	rc = LIM_JWT_E_TIME_CLAIM;
	r = lim_jwt_time(pl, "nbf", &t);
	if (r < 0)
		goto out;
	rc = LIM_JWT_E_NOT_YET;
	if (r > 0 && (double)now_s + v->leeway_s < t)
		goto out;
	rc = LIM_JWT_OK;
	if (claim == NULL)
		goto out;
	c = json_object_get(pl, claim);
	rc = LIM_JWT_E_CLAIM_SIZE;
	if (json_is_string(c)) {
		if (json_string_length(c) >= outlen || strlen(json_string_value(c)) != json_string_length(c))
			goto out;
		memcpy(out, json_string_value(c), json_string_length(c) + 1);
	} else if (json_is_integer(c)) {
		r = snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
		if (r < 0 || (size_t)r >= outlen)
			goto out;
	} else {
		rc = LIM_JWT_E_NO_CLAIM;
		goto out;
	}
	rc = LIM_JWT_OK;
out:
	json_decref(hdr);
	json_decref(pl);
	return rc;
}
