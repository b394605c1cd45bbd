/*
 * adm_judge - see adm_judge.h. One validator for admin and daemon: the API
 * never re-implements a rule of conf_parse, it asks it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "adm_judge.h"
#include "conf.h"
#include "db.h"
#include "errs.h"
#include "jh.h"

const char *
adm_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (path == NULL || strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] != '\0' && path[n] != '.' && path[n] != '[')
		return NULL;
	return path + n;
}

json_t *
adm_judge(struct adm *a, const char *key, json_t *value,
	  int (*keep)(const char *path, void *arg), void *arg,
	  char *(*field)(const json_t *config, const char *rest))
{
	json_t *cfg = NULL, *raw = NULL, *out = NULL, *e;
	struct errs errs;
	struct conf *c;
	char *text = NULL;
	size_t i, klen = strlen(key) + 2;	/* "$." key */

	errs_init(&errs);
	if (db_candidate_render(a->db, 0, &cfg) < 0 || json_object_set(cfg, key, value) < 0 ||
	    (text = jh_dump_canonical(cfg)) == NULL)
		goto out;
	out = json_array();
	c = conf_parse(text, strlen(text), &errs);
	if (c != NULL) {
		conf_free(&c);
		goto out;
	}
	raw = errs_to_json(&errs);
	json_array_foreach(raw, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		char *f;

		if (path == NULL || strlen(path) < klen || !keep(path, arg))
			continue;
		f = field(cfg, path + klen);
		json_array_append_new(out, json_pack("{s:s, s:O}", "field", f ? f : key,
						     "message", json_object_get(e, "message")));
		free(f);
	}
out:
	errs_release(&errs);
	json_decref(raw);
	json_decref(cfg);
	free(text);
	return out;
}
