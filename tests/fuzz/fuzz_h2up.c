/*
 * fuzz_h2up - libFuzzer driver for the upstream HTTP/2 translator
 * (l7_h2up.c on nghttp2, l7_http1 for the request): two streams share the
 * session (as multiplexed requests do), each takes a canned HTTP/1.1
 * request (GET, or a chunked POST, by the first byte's bits), then the
 * input, after an empty server SETTINGS frame, is what the member answers
 * (frames for streams 1 and 3, GOAWAY, RST_STREAM...), fed in pieces of
 * 1..64 bytes; each stream's HTTP/1.1 response is drained through a small
 * buffer and read by the proxy's response parser; the second byte may
 * close the first stream early (a client that went away).
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
	struct l7_h2up *u = l7_h2up_new(4);
	struct l7_h2up_st *st[2] = { NULL, NULL };
	struct buf out = { 0 }, rb[2] = { { 0 }, { 0 } };
	size_t off = 2;
	int st_, cut[2] = { 0, 0 }, i;

	if (u == NULL || size < 2 || buf_init(&out, 16384) < 0 || buf_init(&rb[0], 4096) < 0 ||
	    buf_init(&rb[1], 4096) < 0)
		goto done;
	for (i = 0; i < 2; i++) {
		int which = (data[0] >> i) & 1;

		st[i] = l7_h2up_open(u, &st[i]);
		if (st[i] == NULL || l7_h2up_take(st[i], which ? post_req : get_req,
						  which ? sizeof(post_req) - 1 : sizeof(get_req) - 1) < 0)
			goto done;
	}
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
		if ((data[1] & 1) && off > size / 2)
			l7_h2up_close(&st[0]);	/* the client went away */
		while (l7_h2up_next_woken(u) != NULL)
			;
		for (i = 0; i < 2; i++)
			while (st[i] != NULL && l7_h2up_response(st[i], &rb[i]) > 0)
				if (buf_len(&rb[i]) > 2048) {
					rb[i].rpos = rb[i].wpos = 0;	/* the proxy took it */
					cut[i] = 1;
				}
		l7_h2up_output(u, &out);
		out.rpos = out.wpos = 0;
		(void)l7_h2up_can_open(u);
	}
	/* what it wrote is read by the proxy's strict parser: fields the
	 * member may send in HTTP/2 but HTTP/1.1 refuses make it a 502 */
	for (i = 0; i < 2; i++) {
		if (!cut[i] && buf_len(&rb[i]) > 0 &&
		    l7_http1_parse_response(buf_head(&rb[i]), buf_len(&rb[i]), L7_HTTP1_M_GET, &m, &st_) ==
		    L7_HTTP1_ERROR && st_ != 502)
			abort();
		if (st[i] != NULL) {
			(void)l7_h2up_done(st[i]);
			(void)l7_h2up_refused(st[i]);
		}
	}
done:
	/* streams outlive the session in the proxy too: free it first */
	l7_h2up_free(&u);
	l7_h2up_close(&st[0]);
	l7_h2up_close(&st[1]);
	buf_release(&out);
	buf_release(&rb[0]);
	buf_release(&rb[1]);
	return 0;
}
