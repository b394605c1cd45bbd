/* JWT test helpers: see jwt_testkeys.h. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "jwt_testkeys.h"

size_t
jwt_test_b64url(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = tab[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = tab[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return o;
}

size_t
jwt_test_hs256_sign(char *tok, size_t n, const char *key)
{
	unsigned char mac[64];
	size_t ml = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, strlen(key),
		      (unsigned char *)tok, n, mac, sizeof(mac), &ml) == NULL)
		return 0;
	tok[n++] = '.';
	return n + jwt_test_b64url(mac, ml, tok + n);
}
