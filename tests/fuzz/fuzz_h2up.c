/*
 * fuzz_h2up - libFuzzer driver for the upstream HTTP/2 translator
 * (l7_h2up.c on nghttp2, l7_http1 for the request): a canned HTTP/1.1
 * request (GET, or a chunked POST, by the first byte) is taken, then the
 * input, after an empty server SETTINGS frame, is what the member answers,
 * fed in pieces of 1..64 bytes; the HTTP/1.1 response it produces is
 * drained through a small buffer and read by the proxy's response parser.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "l7_h2up.h"
#include "l7_http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char get_req[] = "GET /x HTTP/1.1\r\nHost: m\r\nAccept: */*\r\n\r\n";
/* a gRPC-like POST with request trailers: its body holds NUL bytes, so
 * lengths come from sizeof */
static const char post_req[] = "POST /test.Echo/Unary HTTP/1.1\r\nHost: m\r\n"
	"content-type: application/grpc\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5\r\n\0\0\0\0\0\r\n0\r\nx-client-trailer: 1\r\n\r\n";	/* request trailers too */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	static struct l7_http1_msg m;
	struct l7_h2up *u = l7_h2up_new();
	struct buf out = { 0 }, rb = { 0 };
	size_t off = 1;
	int which, st, cut = 0;

	if (u == NULL || size < 1 || buf_init(&out, 16384) < 0 || buf_init(&rb, 4096) < 0)
		goto done;
	which = data[0] & 1;
	if (l7_h2up_take(u, which ? post_req : get_req,
			 which ? sizeof(post_req) - 1 : sizeof(get_req) - 1) < 0)
		goto done;
	l7_h2up_output(u, &out);
	out.rpos = out.wpos = 0;
	if (l7_h2up_input(u, settings, sizeof(settings)) < 0)
		goto done;
	while (off < size) {
		size_t n = (size_t)(data[off] & 63) + 1;

		if (n > size - off)
			n = size - off;
		if (l7_h2up_input(u, (const char *)data + off, n) < 0)
			break;
		off += n;
		while (l7_h2up_response(u, &rb) > 0)
			if (buf_len(&rb) > 2048) {
				rb.rpos = rb.wpos = 0;	/* the proxy took it */
				cut = 1;
			}
		l7_h2up_output(u, &out);
		out.rpos = out.wpos = 0;
	}
	/* what it wrote is read by the proxy's strict parser: fields the
	 * member may send in HTTP/2 but HTTP/1.1 refuses make it a 502 */
	if (!cut && buf_len(&rb) > 0 &&
	    l7_http1_parse_response(buf_head(&rb), buf_len(&rb), L7_HTTP1_M_GET, &m, &st) ==
	    L7_HTTP1_ERROR && st != 502)
		abort();
	l7_h2up_reusable(u);
done:
	l7_h2up_free(&u);
	buf_release(&out);
	buf_release(&rb);
	return 0;
}
