/*
 * jre - compile a config regex (PCRE2) with a path-tagged error.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>

#include "arena.h"
#include "errs.h"
#include "jre.h"

static void
jre_free(void *re)
{
	pcre2_code_free(re);
}

void *
jre_compile(struct errs *e, struct arena *a, const char *pattern, const char *path)
{
	PCRE2_SIZE eoff;
	pcre2_code *re;
	int ecode;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ecode, &eoff, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		errs_add(e, path, "invalid regular expression at offset %zu: %s", (size_t)eoff,
			 (const char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if (arena_cleanup_add(a, jre_free, re) < 0) {
		pcre2_code_free(re);
		errs_add(e, path, "out of memory");
		return NULL;
	}
	return re;
}
