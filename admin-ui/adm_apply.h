#ifndef TANDEM_ADM_APPLY_H
#define TANDEM_ADM_APPLY_H

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_apply - candidate -> revision -> config file -> tandemd reload, and
 * the recovery around it (import, interrupted applies, restoring the file).
 * Runs on the HTTP thread or at start-up, before serving.
 */

/* Validates the candidate with conf_parse, commits it as a revision by
 * author (borrowed strings), writes the config file, asks tandemd to reload
 * and fills rs with the verdict (200, 422 with "errors", 503, 500). */
void adm_apply(struct adm *a, const char *author, const char *comment, struct adm_resp *rs);

/* Stores a revision pushed by the pair's other node under its number n
 * (config sync): shared is its config without per-node fields; this node's
 * own fields are kept. stores (checked, or NULL) are the certificates and
 * CA bundles it names, stored in the same transaction (adm_syncstore.h). Validates, writes the file, asks tandemd to reload;
 * rs as for adm_apply (422 also when this node cannot run it: then the
 * revision is kept as 'failed'). The caller made number n free. */
void adm_apply_pushed(struct adm *a, long n, const char *author, long long created_at,
		      const char *comment, const json_t *shared, const json_t *stores,
		      struct adm_resp *rs);

/* Translates a tandemd/validator JSON path ("$.pools[0].members[1].port")
 * into an API field ("pools/demo/members/127.0.0.1:9001/port") using the
 * rendered config it refers to. Returns a new string or NULL when the path
 * names no object (e.g. "$"). */
char *adm_field_of_path(const json_t *config, const char *path);

/* Turns [{"path","message"}] into [{"field","path","message"}] against
 * config (borrowed). Returns a new array. */
json_t *adm_errors_translate(const json_t *config, const json_t *errors);

/* Imports a tandemd config file as revision (author "import"): validates,
 * loads into the candidate, commits, writes the config file and asks
 * tandemd to reload when it is reachable. Prints problems to stderr.
 * Returns 0 or -1. */
int adm_import(struct adm *a, const char *file);

/* Start-up recovery: settles revisions left 'pending' by a crash (applied
 * if tandemd runs that revision, failed otherwise), puts the last applied
 * revision back in the config file when needed, and writes the file when it
 * is missing. */
void adm_reconcile(struct adm *a);

/* The whole file (at most CONF_MAX_FILE bytes) as a new string, NULL with
 * errno set. */
char *adm_read_file(const char *path, size_t *len);

/* Canonical text of an empty config (revision 0); malloc'd. */
char *adm_empty_config_text(void);

#endif
