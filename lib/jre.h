#ifndef TANDEM_JRE_H
#define TANDEM_JRE_H

#include "arena-t.h"
#include "errs-t.h"

/*
 * jre - the regex field of the strict parsers (routes' path_regex, rate
 * rules' path_regex and WAF deny patterns): one way to compile, report and
 * free a PCRE2 pattern. The only file of lib/ that includes PCRE2; a program
 * that does not call it does not link PCRE2 for it.
 */

/* Compiles pattern (PCRE2, then JIT when the platform allows: without it
 * pcre2_match interprets) and ties its life to arena a (an arena cleanup).
 * Returns the pcre2_code, or NULL after adding an error at path (invalid
 * pattern with the offset, or out of memory). */
void *jre_compile(struct errs *e, struct arena *a, const char *pattern, const char *path);

#endif
