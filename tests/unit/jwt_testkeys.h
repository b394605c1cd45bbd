#ifndef TANDEM_JWT_TESTKEYS_H
#define TANDEM_JWT_TESTKEYS_H

#include <stddef.h>

/*
 * JWT test helpers shared by the unit tests (test_lim_jwt, test_lim_rule)
 * and the fuzz driver (tests/fuzz/fuzz_jwt.c): the HS256 secret they
 * configure, base64url, and the HS256 signature. No cmocka, so the fuzz
 * build can link it.
 */

/* 39 bytes: lim_jwt wants at least 32 for HS256. */
#define JWT_TEST_SECRET "0123456789abcdef0123456789abcdef-secret"

/* Writes in[0..len) as unpadded base64url to out (room for len * 4 / 3 + 4)
 * with a closing NUL; returns its length. */
size_t jwt_test_b64url(const unsigned char *in, size_t len, char *out);

/* Appends "." and the base64url HS256 signature of tok[0..n) with key
 * (a string, e.g. JWT_TEST_SECRET) to tok (room for n + 48); returns the
 * new length, 0 on an OpenSSL failure. */
size_t jwt_test_hs256_sign(char *tok, size_t n, const char *key);

#endif
