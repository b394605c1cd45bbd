#ifndef TANDEM_ADM_OCSP_H
#define TANDEM_ADM_OCSP_H

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_ocsp - /api/v1/certificates/{name}/ocsp (doc/api.md, doc/tls.md):
 * PUT {"der_base64"} checks the DER OCSP response against the certificate
 * (422 with the reason) and stores it; GET shows {this_update, next_update,
 * uploaded_at, bytes}; DELETE removes it. When tandemd uses the
 * certificate, PUT and DELETE update STATE/certs/NAME.ocsp and reload
 * tandemd at once ("reloaded" in the answer).
 */
void adm_ocsp_handle(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs,
		     const char *user);
/* Adds "ocsp" {this_update, next_update, uploaded_at, bytes, expired} to a
 * certificate object of the API when one is stored. */
void adm_ocsp_annotate(struct adm *a, json_t *cert, long long now);
/* At apply: writes dir/NAME.ocsp from the store, or removes it when none
 * is stored. 0 or -errno. */
int adm_ocsp_file(struct adm *a, const char *dir, const char *name);
/* Decodes base64 text (whitespace ignored, at most 96 KiB) into a new
 * buffer. 0 or -1. */
int adm_ocsp_b64(const char *in, unsigned char **out, size_t *len);

#endif
