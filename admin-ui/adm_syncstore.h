#ifndef TANDEM_ADM_SYNCSTORE_H
#define TANDEM_ADM_SYNCSTORE_H

#include <jansson.h>

#include "db-t.h"

/*
 * adm_syncstore - the certificate store entries a pushed revision needs
 * (doc/ha.md "Certificates and CA bundles"). The pusher collects the
 * certificates (chain, key, OCSP response) and CA bundles that the
 * revision's TLS listeners and pools name; the receiver stores them, by
 * name, in the transaction that stores the revision. Keys travel only in
 * the authenticated console-to-console call and are never logged.
 *
 * The message member "stores":
 *   {"certificates": {NAME: {cert_pem, key_pem, subject, issuer, sans,
 *                            key_type, key_bits, not_before, not_after,
 *                            fingerprint, chain_length, created_at,
 *                            [ocsp: {der_base64, this_update, next_update,
 *                                    uploaded_at}]}},
 *    "ca_bundles":   {NAME: {pem, subjects, count, not_after, fingerprint,
 *                            created_at}}}
 * (checked by adm_pairmsg_stores).
 */

/* The "stores" member for a revision whose config is cfg; NULL when out of
 * memory or the database fails. A name missing from this node's store is
 * left out (the receiver then refuses the revision as it would here).
 * Free with adm_syncstore_free (wipes the keys). */
json_t *adm_syncstore_collect(struct db *db, const json_t *cfg);
void adm_syncstore_free(json_t *stores);
/* Wipes the keys in stores (a received message's, before it is freed). */
void adm_syncstore_wipe(json_t *stores);
/* Replaces, by name, this node's entries with the ones in stores (already
 * checked). Call inside the transaction that stores the revision. 0 or
 * -errno. */
int adm_syncstore_save(struct db *db, const json_t *stores);

#endif
