#ifndef TANDEM_L7_H2__PRIV_H
#define TANDEM_L7_H2__PRIV_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

/* Shared by the two nghttp2 files of l7 (l7_h2.c, l7_h2up.c) only. */

/* Parses "name: value\r\n" lines (a trailer section) at p[0..len) into at
 * most max entries of nv, lower-casing the names in place (nv points into
 * p). Lines without a colon (the final CRLF) are skipped. Returns the count. */
size_t l7_h2__fields_nv(char *p, size_t len, nghttp2_nv *nv, size_t max);

#endif
