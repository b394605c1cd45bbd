#ifndef TANDEM_ERRS_H
#define TANDEM_ERRS_H

#include <jansson.h>

#include "errs-t.h"

/* Starts an empty list; nothing is allocated until the first add. */
static inline void errs_init(struct errs *e) { e->items = NULL; e->count = e->cap = 0; }
/* Frees every message. The list can be reused after errs_init(). */
void errs_release(struct errs *e);
/* Appends a message (copies path and the formatted text). On OOM the message is
 * dropped but count still grows past zero, so a failure is never lost. */
void errs_add(struct errs *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Returns a new JSON array [{"path":..,"message":..}, ...]. */
json_t *errs_to_json(const struct errs *e);

#endif
