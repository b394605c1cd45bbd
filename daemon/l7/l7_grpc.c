/*
 * l7_grpc - gRPC-shaped local answers (see l7_grpc.h).
 *
 * The mapping follows gRPC's own HTTP-to-status table where it has one
 * (doc/statuscodes.md, "HTTP to gRPC Status Code Mapping") and is more
 * precise where we know why we answered: a rate rule's 429 is
 * RESOURCE_EXHAUSTED (not UNAVAILABLE: retrying at once will not help), our
 * 504 is DEADLINE_EXCEEDED.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "l7_grpc.h"
#include "l7_http1.h"

enum {
	GRPC_UNKNOWN = 2,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_UNAUTHENTICATED = 16,
};

int
l7_grpc_request(const char *buf, const struct l7_http1_msg *m)
{
	static const char ct[] = "application/grpc";
	size_t i, n = sizeof(ct) - 1;

	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *h = &m->headers[i];
		const char *v = buf + h->value.off;

		if (!l7_http1_span_eq(buf, h->name, "content-type"))
			continue;
		/* application/grpc, application/grpc+proto, application/grpc;x=y */
		return h->value.len >= n && strncasecmp(v, ct, n) == 0 &&
		       (h->value.len == n || v[n] == '+' || v[n] == ';');
	}
	return 0;
}

int
l7_grpc_status(int status)
{
	switch (status) {
	case 400:
	case 500:
		return GRPC_INTERNAL;
	case 401:
		return GRPC_UNAUTHENTICATED;
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
	case 405:
	case 501:
		return GRPC_UNIMPLEMENTED;
	case 408:
	case 504:
		return GRPC_DEADLINE_EXCEEDED;
	case 413:
	case 414:
	case 429:
	case 431:
		return GRPC_RESOURCE_EXHAUSTED;
	case 502:
	case 503:
		return GRPC_UNAVAILABLE;
	default:
		return GRPC_UNKNOWN;
	}
}

int
l7_grpc_answer(struct buf *out, int status, const char *extra)
{
	/* grpc-message is percent-encoded; our reason phrases are plain ASCII
	 * without '%', so they go as they are */
	return buf_appendf(out, "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
			   "grpc-status: %d\r\ngrpc-message: %d %s\r\n%sContent-Length: 0\r\n\r\n",
			   l7_grpc_status(status), status, l7_http1_reason(status),
			   extra ? extra : "");
}
