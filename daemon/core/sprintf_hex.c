/*
 * sprintf_hex - a fast path for sprintf(buf, "%02x", byte), interposed in
 * the tandemd executable only.
 *
 * Why: our TLS record layer takes the TLS 1.3 traffic secrets from
 * OpenSSL's keylog callback, the only source OpenSSL 3.0 has for the
 * client's secret (doc/tls.md, "Cost per handshake"). Before calling the
 * callback, OpenSSL 3.0 formats each of the five lines of a handshake
 * byte by byte with sprintf(cursor, "%02x", b) (ssl/ssl_lib.c,
 * nss_keylog_int): about 350 calls through glibc's vfprintf per
 * handshake, 5% of the CPU of a resumed handshake, the whole difference
 * to HAProxy in bench/l7.sh's tls-resume scenario.
 *
 * How: the executable's definitions come first in the dynamic linker's
 * lookup, so libssl's call to __sprintf_chk (Debian and Fedora build
 * OpenSSL with _FORTIFY_SOURCE) and to sprintf (a build without it) reach
 * these. Exactly "%02x" with a value below 256 is written here; every
 * other format, and a destination too small, goes to glibc's own
 * __vsprintf_chk / vsprintf, so behaviour is glibc's in every case. The
 * unit test compares both paths for all 256 bytes.
 *
 * This file includes no stdio.h: with _FORTIFY_SOURCE its declarations of
 * these names are macros and inline wrappers.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>

#include "sprintf_hex.h"

/* The two entry points interposed here, and glibc's own behind them. */
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int sprintf(char *s, const char *fmt, ...);
extern int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap);
extern int vsprintf(char *s, const char *fmt, va_list ap);

static const char sprintf_hex_digits[] = "0123456789abcdef";

int
sprintf_hex_fast(char *s, size_t room, const char *fmt, va_list ap)
{
	va_list copy;
	unsigned v;

	if (fmt[0] != '%' || fmt[1] != '0' || fmt[2] != '2' || fmt[3] != 'x' || fmt[4] != '\0')
		return -1;
	va_copy(copy, ap);	/* the caller may still hand ap to glibc */
	v = va_arg(copy, unsigned);
	va_end(copy);
	if (v > 0xff || room < 3)
		return -1;
	s[0] = sprintf_hex_digits[v >> 4];
	s[1] = sprintf_hex_digits[v & 0xf];
	s[2] = '\0';
	return 2;
}

int
__sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = sprintf_hex_fast(s, slen, fmt, ap);
	if (n < 0)
		n = __vsprintf_chk(s, flag, slen, fmt, ap);
	va_end(ap);
	return n;
}

int
sprintf(char *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = sprintf_hex_fast(s, (size_t)-1, fmt, ap);
	if (n < 0)
		n = vsprintf(s, fmt, ap);
	va_end(ap);
	return n;
}
