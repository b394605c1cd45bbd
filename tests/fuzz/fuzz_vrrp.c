/*
 * libFuzzer driver for the keepalived notify-FIFO line parser (vrrp/): any
 * bytes give either a message or an error with a reason, never a crash; an
 * accepted name is printable, bounded and NUL-terminated.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vrrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vrrp_fifo_msg m;
	const char *err = NULL;
	int rc = vrrp_fifo_parse((const char *)data, size, &m, &err);

	if (rc == 0) {
		size_t n = strlen(m.name);

		if (n == 0 || n > VRRP_NAME_MAX || m.priority < -1 || m.priority > 255)
			__builtin_trap();
		if (m.kind == VRRP_FIFO_STATE && m.role == VRRP_ROLE_UNKNOWN)
			__builtin_trap();
		if (vrrp_role_name(m.role) == NULL)
			__builtin_trap();
	} else if ((rc != -EINVAL && rc != -ENOTSUP) || err == NULL) {
		__builtin_trap();
	}
	return 0;
}
