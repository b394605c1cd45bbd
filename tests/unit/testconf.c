/* The unit tests' config: see testconf.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errs.h"
#include "testconf.h"

struct conf *
testconf_load(const char *text)
{
	struct errs e;
	struct conf *c;
	size_t i;

	errs_init(&e);
	c = conf_parse(text, strlen(text), &e);
	for (i = 0; c == NULL && i < e.count && i < e.cap; i++)
		fprintf(stderr, "  %s: %s\n", e.items[i].path, e.items[i].message);
	errs_release(&e);
	assert_non_null(c);
	return c;
}
