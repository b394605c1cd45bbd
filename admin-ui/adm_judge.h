#ifndef TANDEM_ADM_JUDGE_H
#define TANDEM_ADM_JUDGE_H

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_judge - edit-time validation of one config section by tandemd's own
 * parser (used by the vrrp and l4 APIs): the prospective section is put into
 * the rendered candidate, conf_parse judges the whole, and the problems that
 * belong to the edited object come back as API fields. HTTP thread only.
 */

/* conf_parse on the candidate with section key set to value (borrowed).
 * Keeps each problem whose JSON path keep(path, arg) accepts, with the
 * field field(candidate, path after "$.<key>") (NULL from it: key). A new
 * array of {"field", "message"} (empty when clean), or NULL on an internal
 * error. */
json_t *adm_judge(struct adm *a, const char *key, json_t *value,
		  int (*keep)(const char *path, void *arg), void *arg,
		  char *(*field)(const json_t *config, const char *rest));

/* What follows prefix in path when path is prefix itself or below it
 * ("$.l4.services[1]" is under neither "$.l4.services[10]" nor the other way
 * round); NULL otherwise. */
const char *adm_path_under(const char *path, const char *prefix);

#endif
