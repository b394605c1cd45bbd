/* sprintf_hex - fast "%02x" for OpenSSL's keylog lines (see sprintf_hex.c). */
#ifndef TANDEM_SPRINTF_HEX_H
#define TANDEM_SPRINTF_HEX_H

#include <stdarg.h>
#include <stddef.h>

/* When fmt is exactly "%02x", the next argument of ap is below 256 and
 * room >= 3: writes two lower-case hex digits and a NUL into s and
 * returns 2. Otherwise writes nothing and returns -1 (use glibc). ap is
 * left as it was. */
int sprintf_hex_fast(char *s, size_t room, const char *fmt, va_list ap);

#endif
