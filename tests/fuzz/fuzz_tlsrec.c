/*
 * fuzz_tlsrec - libFuzzer driver for the record open/parse path of our TLS
 * record layer (daemon/l7/l7_tlsrec.c): byte 0 picks TLS 1.2 or 1.3, the
 * suite and the mode. Raw mode: the rest is a stream of received records,
 * framed and opened like l7_tls_take does (header checks, length limits,
 * tag failures), alternately in place and into a separate buffer. Sealed
 * mode: the rest is cut into pieces (a length byte, a content type, the
 * content) that a client-side state seals, so that decryption succeeds and
 * the inner-plaintext parsing (content type, zero padding) runs on
 * arbitrary contents (TLS 1.3); byte 1 may flip one bit of the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "l7_tlsrec.h"

static unsigned char stream[8192 * 2 + L7_TLSREC_IN_MAX], out[L7_TLSREC_IN_MAX];

static const unsigned char csec[48] = { 1, 2, 3 }, ssec[48] = { 4, 5, 6 };

/* Our (server) side: reads with the client's secret, writes with ours. */
static int
init(struct l7_tlsrec *r, int v13, int suite)
{
	static const unsigned char master[48] = { 9 }, cr[32] = { 7 }, sr[32] = { 8 };

	if (v13)
		return l7_tlsrec_init13(r, suite, csec, ssec, suite == L7_TLSREC_AES256GCM ? 48 : 32, 0, 0);
	return l7_tlsrec_init12(r, suite, master, sizeof(master), cr, sr, 0, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct l7_tlsrec srv, cli;
	int v13, suite, sealed, rc;
	size_t len = 0, off = 0, i;

	if (n < 2 || n > 8192)
		return 0;
	v13 = d[0] & 1;
	suite = (d[0] >> 1) % 3;
	sealed = (d[0] >> 3) & 1;
	if (init(&srv, v13, suite) < 0)
		return 0;
	if (sealed && v13) {
		/* pieces: [len][type][len bytes], sealed by a client-side state */
		/* the client reads with our secret and writes with its own */
		if (l7_tlsrec_init13(&cli, suite, ssec, csec, suite == L7_TLSREC_AES256GCM ? 48 : 32,
				     0, 0) < 0) {
			l7_tlsrec_free(&srv);
			return 0;
		}
		for (i = 2; i + 2 <= n;) {
			size_t pl = d[i] * 8u;
			ssize_t r;

			if (i + 2 + pl > n)
				pl = n - i - 2;
			r = l7_tlsrec_seal(&cli, d[i + 1], d + i + 2, pl, stream + len);
			if (r < 0)
				break;
			len += (size_t)r;
			i += 2 + pl;
		}
		if (d[1] != 0 && len > 0)
			stream[d[1] % len] ^= 1;
		l7_tlsrec_free(&cli);
	} else {
		memcpy(stream, d + 1, n - 1);
		len = n - 1;
	}
	for (i = 0; off < len; i++) {
		unsigned char *pl;
		size_t plen;
		ssize_t rl = l7_tlsrec_reclen(&srv, stream + off, len - off);

		if (rl <= 0 || (size_t)rl > len - off)
			break;
		rc = l7_tlsrec_open(&srv, stream + off, (size_t)rl,
				    i % 2 ? l7_tlsrec_payload(&srv, stream + off) : out, &pl, &plen);
		if (rc < 0)
			break;
		if (plen > 0 && (pl[0] == 0xff || pl[plen - 1] == 0xff))
			out[0] ^= 1;	/* touch the plaintext: ASan checks its bounds */
		off += (size_t)rl;
	}
	l7_tlsrec_free(&srv);
	return 0;
}
