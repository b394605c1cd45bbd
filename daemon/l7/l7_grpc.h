#ifndef TANDEM_L7_GRPC_H
#define TANDEM_L7_GRPC_H

#include "buf-t.h"
#include "l7_http1-t.h"

/*
 * l7_grpc - what tandemd needs to know about gRPC on its own: spotting a
 * gRPC request and shaping our local answers (deny, 429, 503, 504...) the
 * way gRPC clients read them: HTTP 200 with grpc-status and grpc-message in
 * a trailers-only answer (doc/http2.md has the mapping).
 */

/* 1 when the request m (parsed from buf) is gRPC: content-type
 * application/grpc, alone or with a "+proto"-style suffix or parameters. */
int l7_grpc_request(const char *buf, const struct l7_http1_msg *m);

/* The gRPC status code a local HTTP answer of status maps to. */
int l7_grpc_status(int status);

/* Appends to out the HTTP/1.1 form of the gRPC trailers-only answer for
 * our local HTTP status (extra: more header lines ending in CRLF, or NULL).
 * The HTTP/2 front end turns its empty body into HEADERS with END_STREAM.
 * 0, or -1 when out has no room. */
int l7_grpc_answer(struct buf *out, int status, const char *extra);

#endif
