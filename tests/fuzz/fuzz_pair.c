/*
 * libFuzzer driver for what one console reads from the other (admin-ui/
 * adm_pairmsg.c): the HTTP/1.x response reader and the checks of every
 * pairing and config sync message (a push's certificate stores too). Any
 * bytes give an answer or a refusal, never a crash; an accepted body lies inside the input; a refused message
 * says why.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adm_pairmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *body = NULL;
	size_t blen = 0;
	long status = 0;
	char err[256], fp[65], *s;
	json_t *m;

	if (adm_pairmsg_response(buf, size, &status, &body, &blen) == 0) {
		if (status < 100 || status > 999 || body < buf || body + blen > buf + size)
			__builtin_trap();
		m = json_loadb(body, blen, 0, NULL);
	} else {
		/* also feed the raw bytes as a message */
		m = json_loadb(buf, size, 0, NULL);
	}
	if (m != NULL) {
		int (*checks[])(const json_t *, char *, size_t) = {
			adm_pairmsg_accept_req, adm_pairmsg_accept_resp, adm_pairmsg_state, adm_pairmsg_push,
			adm_pairmsg_stores,
		};
		size_t i;

		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
			err[0] = '\0';
			if (checks[i](m, err, sizeof(err)) < 0 && err[0] == '\0')
				__builtin_trap();
		}
		json_decref(m);
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (adm_pairmsg_fingerprint(s, fp) == 0 && strlen(fp) != 64)
		__builtin_trap();
	if (adm_pairmsg_node_ok(s) && (strlen(s) == 0 || strlen(s) > 63))
		__builtin_trap();
	free(s);
	return 0;
}
