/*
 * libFuzzer driver for the L4 http health check's status-line reader
 * (daemon/l4/l4_httpck.c): any bytes give -1, 0 or 1, never a read past the
 * input; an accepted code is 100-599; the verdict on a prefix never
 * contradicts the verdict on the whole input (the check reads in pieces).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "l4_httpck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned code = 0, pcode = 0;
	char *copy = malloc(size ? size : 1);	/* exact size: ASan catches over-reads */
	size_t cut = size ? data[0] % (size + 1) : 0;
	int rc, prc;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	rc = l4_httpck_status(copy, size, &code);
	if (rc < -1 || rc > 1 || (rc == 1 && (code < 100 || code > 599)))
		__builtin_trap();
	prc = l4_httpck_status(copy, cut, &pcode);
	if ((prc == 1 && (rc != 1 || pcode != code)) || (prc == -1 && rc != -1))
		__builtin_trap();
	free(copy);
	return 0;
}
