#ifndef TANDEM_L7_PROXYPROTO_IN_H
#define TANDEM_L7_PROXYPROTO_IN_H

#include <stddef.h>
#include <stdint.h>

/*
 * l7_proxyproto_in - parser of the PROXY protocol header (v1 text line or
 * v2 binary) that a trusted downstream (an L4 balancer) sends before the
 * client's bytes. Pure: bytes in, addresses or a verdict out; no I/O.
 */

/* The v1 line is at most 107 bytes; v2 headers above this are refused (the
 * addresses need 52 bytes; the rest is TLVs we skip). */
#define L7_PPIN_V1_MAX	107
#define L7_PPIN_V2_MAX	1024

#define L7_PPIN_AGAIN	0	/* a prefix of a header: read more */
#define L7_PPIN_ERROR	(-1)	/* malformed, or not a PROXY header at all */

struct l7_ppin {
	int family;		/* AF_INET or AF_INET6; AF_UNSPEC for LOCAL / UNKNOWN */
	uint8_t src[16], dst[16];	/* IPv4 as IPv4-mapped IPv6 */
	uint16_t sport, dport;	/* host order */
	int version;		/* 1 or 2 */
};

/* Parses the header at the start of buf[0..len). Returns its length (> 0,
 * the bytes to consume) with *out filled, L7_PPIN_AGAIN when buf is a
 * proper prefix of a possible header, or L7_PPIN_ERROR. Pure; any thread. */
int l7_ppin_parse(const void *buf, size_t len, struct l7_ppin *out);

/* 1 when buf starts like a PROXY header (v1 "PROXY " or the v2 signature,
 * or a prefix of either), else 0. Used to refuse one from an untrusted
 * client. Pure. */
int l7_ppin_looks_like(const void *buf, size_t len);

#endif
