#ifndef TANDEM_CTLC_H
#define TANDEM_CTLC_H

#include <jansson.h>

/*
 * ctlc - client side of tandemd's control socket.
 *
 * Protocol: a Unix stream socket; the client writes one JSON object on one
 * line ({"cmd":"status"|"reload"|"stats", ...}) and reads one JSON object on
 * one line back. Every answer has "ok": true|false; a refusal carries
 * "errors": [{"path","message"}]. The connection may carry more requests.
 */

/* Sends req (borrowed) to the socket at path and waits up to timeout_ms for the
 * answer. Returns 0 with *resp a new reference, or -errno (-ETIMEDOUT,
 * -ECONNREFUSED, -ENOENT, -EPROTO for a malformed answer). */
int ctlc_call(const char *path, const json_t *req, json_t **resp, int timeout_ms);

/* Largest request line tandemd accepts. */
#define CTLC_MAX_LINE (1024 * 1024)
/* Largest answer a client accepts: a status with the kernel's IPVS view of
 * 10,000 services with their real servers and counters is ~15 MB. */
#define CTLC_MAX_ANSWER (64 * 1024 * 1024)

#endif
