#ifndef TANDEM_JFIELD_H
#define TANDEM_JFIELD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "errs-t.h"

/*
 * jfield - field readers for the strict JSON parsers (tandemd's config, the
 * rate rules, VRRP, L4). Each problem is added to an errs list under the
 * field's JSON path ("$.pools[1].port") and parsing goes on, so an operator
 * sees every mistake of a document at once instead of one per apply.
 */

#define JF_PATH_LEN 160

/* Formats a JSON path into a JF_PATH_LEN buffer; a too-long path is cut
 * short, which only shortens an error message. */
void jf_pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports every key of obj that is not in allowed (NULL-terminated). */
void jf_check_keys(struct errs *e, json_t *obj, const char *path, const char *const *allowed);

/* A string field, borrowed from obj; NULL when absent (an error when
 * required) or invalid (not a string, or with a NUL inside). */
const char *jf_str(struct errs *e, json_t *obj, const char *path, const char *key, int required);

/* An integer field in [lo, hi]: 0 and *out set (dflt when absent and not
 * required), or -1 after adding an error. */
int jf_int(struct errs *e, json_t *obj, const char *path, const char *key, long lo, long hi,
	   int required, long dflt, long *out);

/* A boolean field: 0 and *out set (dflt when absent), or -1 (and *out =
 * dflt) after adding an error. */
int jf_bool(struct errs *e, json_t *obj, const char *path, const char *key, int dflt, bool *out);

/* A name of 1..max letters, digits, '.', '_' and '-', starting with a letter
 * or digit: what objects are called across config, API and console. */
int jf_name_valid(const char *s, size_t max);

#endif
