#ifndef TANDEM_L4_HTTPCK_H
#define TANDEM_L4_HTTPCK_H

#include <stddef.h>

/*
 * l4_httpck - the status line of the L4 http health check's reply
 * ("HTTP/1.1 200 OK\r\n"). Pure; fuzzed by tests/fuzz/fuzz_l4http.c.
 */

/* Reads the status line at buf (len bytes, not NUL-terminated): 1 with
 * *code (100-599) when "HTTP/d.d ddd" is followed by a space or a line end,
 * 0 when more bytes are needed, -1 when it is not an HTTP status line. */
int l4_httpck_status(const char *buf, size_t len, unsigned *code);

#endif
