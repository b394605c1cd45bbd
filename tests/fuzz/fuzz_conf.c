/*
 * libFuzzer driver for the config parser (daemon/conf): any bytes must give
 * either a valid conf or a list of errors, never a crash or a leak.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "errs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errs e;
	struct conf *c;

	errs_init(&e);
	c = conf_parse((const char *)data, size, &e);
	/* Exactly one of the two outcomes. */
	if ((c == NULL) == (e.count == 0))
		__builtin_trap();
	conf_free(&c);
	errs_release(&e);
	return 0;
}
