/*
 * libFuzzer driver for daemon/l7/l7_proxyproto_in: the PROXY protocol
 * v1/v2 header parser. Beyond "no crash, no sanitizer report" it checks
 * what the proxy relies on: a header length within the input (and within
 * the v1/v2 bounds), every prefix of an accepted header asking for more,
 * and l7_ppin_looks_like true for anything the parser accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l7_proxyproto_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l7_ppin pp, pq;
	int n = l7_ppin_parse(data, size, &pp);

	if (n == L7_PPIN_AGAIN || n == L7_PPIN_ERROR)
		return 0;
	if (n < 0 || (size_t)n > size || n > 16 + L7_PPIN_V2_MAX)
		abort();
	if (pp.version == 1 && n > L7_PPIN_V1_MAX)
		abort();
	if (pp.family != AF_INET && pp.family != AF_INET6 && pp.family != AF_UNSPEC)
		abort();
	if (!l7_ppin_looks_like(data, size))
		abort();
	/* the proxy reads a header in pieces: a prefix must never be taken
	 * for a whole one, nor refused */
	for (size_t i = 0; i < (size_t)n; i += 1 + i / 8)
		if (l7_ppin_parse(data, i, &pq) != L7_PPIN_AGAIN)
			abort();
	return 0;
}
