#ifndef TANDEM_ADM_PEERC_H
#define TANDEM_ADM_PEERC_H

#include <stddef.h>

#include <jansson.h>

/*
 * adm_peerc - the client side of console-to-console calls: one HTTPS
 * request to the other node's tandem-admin, whose certificate must have the
 * pinned SHA-256 fingerprint (no CA: both consoles are self-signed). Any
 * thread; blocking, bounded by a timeout.
 */

/* "https://ADDR:PORT", "ADDR:PORT" or "[V6]:PORT" (numeric addresses, an
 * optional trailing "/") into the canonical "https://ADDR:PORT" (canon,
 * >= 80 bytes). 0 or -EINVAL. */
int adm_peerc_console(const char *in, char *canon, size_t len);

/* Calls METHOD /api/v1PATH on console (canonical form) with body (may be
 * NULL) and, when bearer is not NULL, "Authorization: Bearer <bearer>".
 * 0 with *status and *resp (the JSON answer, or NULL when there is none);
 * -EPERM when the certificate's fingerprint is not fp; other -errno when
 * the peer cannot be reached or answers garbage. err says why in words. */
int adm_peerc_call(const char *console, const char *fp, const char *method, const char *path,
		   const char *bearer, const json_t *body, int timeout_ms, long *status,
		   json_t **resp, char *err, size_t errlen);

/* SHA-256 fingerprint (lower-case hex) of the first certificate in pem. */
int adm_peerc_pem_fingerprint(const char *pem, char out[65]);

#endif
