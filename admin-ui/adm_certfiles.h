#ifndef TANDEM_ADM_CERTFILES_H
#define TANDEM_ADM_CERTFILES_H

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_certfiles - at apply, writes the certificate store entries that the
 * config's TLS listeners and pools name to files tandemd loads (doc/tls.md):
 * STATE/certs/NAME.crt (chain, 0640), NAME.key (0600), NAME.ca (client_auth
 * CA bundle, 0640), in a 0750 directory
 * owned by the user tandem-admin runs as (tandem, like tandemd's data plane).
 * Key material is wiped from memory after writing and never logged.
 */

/* Calls fn(arg, name, ca, path) for each certificate (ca 0) and CA bundle
 * (ca 1) name cfg's TLS listeners and TLS pools use; path is its JSON path.
 * Stops at and returns fn's first negative result, else 0. */
typedef int (*adm_certfiles_fn)(void *arg, const char *name, int ca, const char *path);
int adm_certfiles_each(const json_t *cfg, adm_certfiles_fn fn, void *arg);
/* 1 when cfg uses certificate (ca 0) or CA bundle (ca 1) name, with the
 * first user in who ("listener \"web\"", "pool \"api\""), else 0 (who
 * untouched). */
int adm_certfiles_user(const json_t *cfg, const char *name, int ca, char *who, size_t len);

/* Writes the files for every certificate cfg's listeners and pools name. Returns 0,
 * or -ENOENT with *errors (a JSON error list, JSON paths into cfg) when a
 * name is not in the store, or another -errno with *errors describing a
 * write failure. */
int adm_certfiles_write(struct adm *a, const json_t *cfg, json_t **errors);
/* After a successful apply: removes the files of certificates cfg no longer
 * names (keys do not linger on disk). Best effort. */
void adm_certfiles_prune(struct adm *a, const json_t *cfg);
/* STATE/certs into out. 0 or -ENAMETOOLONG. */
int adm_certfiles_dir(const struct adm *a, char *out, size_t len);

#endif
