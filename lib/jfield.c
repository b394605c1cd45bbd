/*
 * jfield - JSON field readers that report into an errs list (see jfield.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errs.h"
#include "jfield.h"

void
jf_pathf(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, JF_PATH_LEN, fmt, ap);
	va_end(ap);
}

void
jf_check_keys(struct errs *e, json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;

		(void)v;
		for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
			;
		if (*a == NULL) {
			char p[JF_PATH_LEN];

			jf_pathf(p, "%s.%s", path, key);
			errs_add(e, p, "unknown field");
		}
	}
}

const char *
jf_str(struct errs *e, json_t *obj, const char *path, const char *key, int required)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PATH_LEN];

	jf_pathf(p, "%s.%s", path, key);
	if (v == NULL) {
		if (required)
			errs_add(e, p, "is required");
		return NULL;
	}
	if (!json_is_string(v)) {
		errs_add(e, p, "must be a string");
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		errs_add(e, p, "must not contain NUL");
		return NULL;
	}
	return json_string_value(v);
}

int
jf_int(struct errs *e, json_t *obj, const char *path, const char *key, long lo, long hi,
       int required, long dflt, long *out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PATH_LEN];

	jf_pathf(p, "%s.%s", path, key);
	*out = dflt;
	if (v == NULL) {
		if (required) {
			errs_add(e, p, "is required");
			return -1;
		}
		return 0;
	}
	if (!json_is_integer(v)) {
		errs_add(e, p, "must be an integer");
		return -1;
	}
	if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		errs_add(e, p, "must be between %ld and %ld", lo, hi);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

int
jf_bool(struct errs *e, json_t *obj, const char *path, const char *key, int dflt, bool *out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PATH_LEN];

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		jf_pathf(p, "%s.%s", path, key);
		errs_add(e, p, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
jf_name_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}
