#ifndef TANDEM_LIM_JWT_H
#define TANDEM_LIM_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "lim-t.h"

/*
 * lim_jwt - JWS compact-serialization verification (RFC 7515/7519) with
 * OpenSSL 3 EVP, confined to this file. The algorithm is pinned by the
 * verifier, never read from the token: "none", a different "alg", or a key
 * of the wrong type never verifies (no HS/RS confusion: an RS256 verifier
 * holds only an RSA public key, an HS256 verifier only a secret).
 *
 * A verifier is built at config time and then read-only: lim_jwt_verify may
 * run in any number of threads at once.
 */

/* Builds a verifier for alg. HS256: key is the secret (>= 32 bytes, any
 * bytes). RS256/ES256: key is one or more PEM public keys (RSA >= 2048 bits,
 * EC P-256), or a JWKS JSON document ({"keys":[...]}, kty RSA/EC, "kid"
 * used to select). leeway_s applies to exp and nbf. Returns NULL with a
 * message in err (errlen bytes) on failure. Config time. */
struct lim_jwt_verifier *lim_jwt_verifier_new(enum lim_jwt_alg alg, const void *key, size_t keylen,
					      uint32_t leeway_s, char *err, size_t errlen);
/* Frees the verifier; sets *vp to NULL. */
void lim_jwt_verifier_free(struct lim_jwt_verifier **vp);

/* Verifies token (tok, len; borrowed) at now_s (Unix seconds) and copies the
 * string (or integer, in decimal) value of claim into out (outlen bytes,
 * NUL-terminated) when claim is not NULL. Returns LIM_JWT_OK or the first
 * problem found. Any thread. */
enum lim_jwt_err lim_jwt_verify(const struct lim_jwt_verifier *v, const char *tok, size_t len,
				int64_t now_s, const char *claim, char *out, size_t outlen);

/* A short English description of e ("signature does not verify"). */
const char *lim_jwt_strerror(enum lim_jwt_err e);

/* Strict base64url decode without padding (RFC 4648 section 5; the unused
 * low bits of the last character must be zero). Returns the decoded length
 * or -1. out must hold len * 3 / 4 + 1 bytes. */
long lim_b64url_decode(const char *in, size_t len, unsigned char *out);

#endif
