#ifndef TANDEM_ADM_PAIRMSG_H
#define TANDEM_ADM_PAIRMSG_H

#include <stddef.h>

#include <jansson.h>

/*
 * adm_pairmsg - the pure parts of console-to-console messages (pairing and
 * config sync, doc/ha.md): the HTTP/1.1 response reader of the sync client
 * and the checks of every JSON message the consoles exchange. No I/O, no
 * globals: unit-tested and fuzzed (tests/fuzz/run-pair.sh).
 */

/* Largest answer the client reads: a revision is at most 1 MiB (the API's
 * body limit) plus its JSON framing. */
#define ADM_PAIRMSG_MAX (4u * 1024 * 1024)

/* Reads an HTTP/1.x response held whole in buf (the server closed the
 * connection): status code, and the body (Content-Length bytes when the
 * header is there, else up to the end). 0, or -EPROTO when it is not a
 * response this client accepts (no status line, a chunked body, a body
 * shorter than Content-Length, a header section over 16 KiB). */
int adm_pairmsg_response(const char *buf, size_t len, long *status, const char **body,
			 size_t *blen);

/* Lower-case hex SHA-256 fingerprint from "AB:CD:..." or "abcd..." (any
 * case, colons and spaces ignored): 0, or -EINVAL unless 64 hex digits. */
int adm_pairmsg_fingerprint(const char *in, char out[65]);

/* A node name: 1-63 of [A-Za-z0-9._-], starting with a letter or digit. */
int adm_pairmsg_node_ok(const char *s);

/* Checks of the messages (doc/api.md "Pairing and config sync"): 0, or -1
 * with what is wrong in err. Borrowed JSON, nothing kept. */
/* POST /pair/peer/accept request: {token, node, console, fingerprint, key}. */
int adm_pairmsg_accept_req(const json_t *m, char *err, size_t errlen);
/* Its answer: {node, key, ca_pem, node_pem, node_key}. */
int adm_pairmsg_accept_resp(const json_t *m, char *err, size_t errlen);
/* GET /pair/peer/state answer: {node, role, priority, writable, console,
 * running: {number, hash}}. */
int adm_pairmsg_state(const json_t *m, char *err, size_t errlen);
/* POST /pair/peer/push: {node, priority, base, revision: {number, author,
 * created_at, comment, config}, [stores]}. */
int adm_pairmsg_push(const json_t *m, char *err, size_t errlen);
/* A push's "stores": the certificates and CA bundles the revision names
 * (adm_syncstore.h). */
int adm_pairmsg_stores(const json_t *s, char *err, size_t errlen);

#endif
