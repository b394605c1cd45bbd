#ifndef TANDEM_ADM_DIFF_H
#define TANDEM_ADM_DIFF_H

/*
 * adm_diff - unified line diff of two texts (running vs candidate config).
 * Pure: no I/O, any thread.
 */

/* Returns a new string with the unified diff of a and b (3 lines of
 * context, "--- la" / "+++ lb" headers), "" when they are equal, or NULL on
 * OOM. Large inputs fall back to a whole-file replacement. */
char *adm_diff_unified(const char *a, const char *b, const char *la, const char *lb);

#endif
