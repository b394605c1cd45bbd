#ifndef TANDEM_TESTCONF_H
#define TANDEM_TESTCONF_H

#include "conf.h"

/*
 * The unit tests' config: text parsed by tandemd's own parser (conf_parse).
 */

/* The config text describes; every error it has is printed to stderr and
 * fails the test (cmocka). Free it with conf_free. */
struct conf *testconf_load(const char *text);

#endif
