/*
 * libFuzzer driver for JWT verification (daemon/limit/lim_jwt). The first
 * byte picks a mode:
 *   even: the rest is a token, verified by HS256, RS256 and ES256 verifiers;
 *   odd:  the rest is "header JSON" NUL "payload JSON", made into a token with
 *         a valid HS256 signature here, so the payload, time and claim checks
 *         see attacker-shaped JSON too.
 * Any input must give LIM_JWT_OK or an error, never a crash or a leak; a
 * token only verifies when its header says the pinned alg.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jwt_testkeys.h"
#include "lim_jwt.h"

#define SECRET JWT_TEST_SECRET

static const char ec_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEriAlZ97gXkow9TKzDhYWgyhQ461V\n"
	"Adblia/objNlAF/fU6Q8w647sTDsfmtmqSj4pWIwsfbWM70VBCDpPuSTmA==\n"
	"-----END PUBLIC KEY-----\n";
static const char rsa_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArZr4jFlwjuSzEuT5GtyU\n"
	"4Gcszksc5sNMYvCgJgZqZ2KbHd7GeSW464322xlhT93TId0QSXB8yJwgUm6F9lpr\n"
	"gBF86c6IeXr/y4D01UHts/8B44J+9dLWwdKzVRIFg+6E5Vd33TOSw3vH6AL8/+yr\n"
	"fEKEgYXZMCCDkLEhT2fzWgPB645GDZeRj2MyTuqoos/WAFUu80pZAuoPVJ+TKCyK\n"
	"eNjVdxo4o8Frm10VDoAECsaq4j6ywee9jXQLytrROacL3PtkHZLKbpdIYrs5HMT/\n"
	"5uU8Q7uWJtUG7fuebq0zdc2zTZFHtwb6zJD3FBYCsc1s+wzQN5rLOghunKfeBgA0\n"
	"4QIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static struct lim_jwt_verifier *hs, *rs, *es;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
init(void)
{
	char err[256];

	hs = lim_jwt_verifier_new(LIM_JWT_HS256, SECRET, strlen(SECRET), 60, err, sizeof(err));
	rs = lim_jwt_verifier_new(LIM_JWT_RS256, rsa_pem, strlen(rsa_pem), 0, err, sizeof(err));
	es = lim_jwt_verifier_new(LIM_JWT_ES256, ec_pem, strlen(ec_pem), 0, err, sizeof(err));
	if (hs == NULL || rs == NULL || es == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char tok[LIM_JWT_MAX * 2 + 128];
	char claim[64];
	enum lim_jwt_err e;

	if (hs == NULL)
		init();
	if (size == 0 || size > LIM_JWT_MAX)
		return 0;
	if ((data[0] & 1) == 0) {
		const char *t = (const char *)data + 1;

		e = lim_jwt_verify(hs, t, size - 1, 1700000000, "sub", claim, sizeof(claim));
		if (e == LIM_JWT_OK && (size < 4 || memmem(data, size, ".", 1) == NULL))
			__builtin_trap();
		lim_jwt_verify(rs, t, size - 1, 1700000000, "sub", claim, sizeof(claim));
		lim_jwt_verify(es, t, size - 1, 1700000000, NULL, NULL, 0);
	} else {
		const uint8_t *nul = memchr(data + 1, 0, size - 1);
		size_t hl, n;

		if (nul == NULL)
			return 0;
		hl = (size_t)(nul - (data + 1));
		n = jwt_test_b64url(data + 1, hl, tok);
		tok[n++] = '.';
		n += jwt_test_b64url(nul + 1, size - hl - 2, tok + n);
		n = jwt_test_hs256_sign(tok, n, SECRET);
		if (n == 0)
			__builtin_trap();
		if (n <= LIM_JWT_MAX) {
			e = lim_jwt_verify(hs, tok, n, 1700000000, "sub", claim, sizeof(claim));
			/* a validly signed token must never be refused for its signature */
			if (e == LIM_JWT_E_SIGNATURE)
				__builtin_trap();
			if (e == LIM_JWT_OK && memchr(claim, 0, sizeof(claim)) == NULL)
				__builtin_trap();
			/* nor accepted by verifiers of other algorithms */
			if (lim_jwt_verify(rs, tok, n, 1700000000, NULL, NULL, 0) == LIM_JWT_OK)
				__builtin_trap();
		}
	}
	return 0;
}
