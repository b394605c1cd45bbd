/*
 * errs - validation message list (see errs-t.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errs.h"

void
errs_release(struct errs *e)
{
	size_t i;

	for (i = 0; i < e->count && e->items != NULL; i++) {
		free(e->items[i].path);
		free(e->items[i].message);
	}
	free(e->items);
	errs_init(e);
}

void
errs_add(struct errs *e, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->count == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		struct errs_item *n = realloc(e->items, ncap * sizeof(*n));

		if (n == NULL) {
			e->count++; /* remember that something failed */
			return;
		}
		e->items = n;
		e->cap = ncap;
	}
	if (e->count >= e->cap) {
		e->count++;
		return;
	}
	e->items[e->count].path = strdup(path ? path : "$");
	e->items[e->count].message = strdup(msg);
	e->count++;
}

json_t *
errs_to_json(const struct errs *e)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < e->count; i++) {
		const char *p = i < e->cap && e->items[i].path ? e->items[i].path : "$";
		const char *m = i < e->cap && e->items[i].message ? e->items[i].message
								  : "out of memory";
		json_array_append_new(arr, json_pack("{s:s,s:s}", "path", p, "message", m));
	}
	return arr;
}
