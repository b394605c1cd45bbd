/*
 * l7_proxyproto_in - the PROXY protocol header accepted from trusted
 * downstreams (haproxy's proxy-protocol.txt, v1 and v2).
 *
 * v1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" or "PROXY UNKNOWN
 * ...\r\n", at most 107 bytes. Addresses must be numeric and of the named
 * family, ports decimal 0..65535 without leading zeros; anything else is
 * an error (never guessed at).
 * v2: the 12-byte signature, version 2, command LOCAL (keep the real
 * peer) or PROXY, family/protocol, a 16-bit length, then the addresses
 * (TCP or UDP over IPv4/IPv6; other families count as LOCAL) and TLVs,
 * which we skip. Length is bounded so a header always fits our buffer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "l7_proxyproto_in.h"

static const uint8_t l7_ppin_sig2[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
	0x55, 0x49, 0x54, 0x0a };

int
l7_ppin_looks_like(const void *buf, size_t len)
{
	size_t n1 = len < 6 ? len : 6, n2 = len < 12 ? len : 12;

	return len > 0 && (memcmp(buf, "PROXY ", n1) == 0 || memcmp(buf, l7_ppin_sig2, n2) == 0);
}

/* Copies the next space-terminated field of s[*i..end) into out (NUL
 * terminated, at most cap-1 bytes). -1 when empty or too long. */
static int
l7_ppin_field(const char *s, size_t end, size_t *i, char *out, size_t cap, char stop)
{
	size_t n = 0;

	while (*i < end && s[*i] != stop) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = s[(*i)++];
	}
	if (n == 0 || *i >= end)
		return -1;
	out[n] = '\0';
	(*i)++;	/* the separator */
	return 0;
}

static int
l7_ppin_port(const char *p, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (p[0] == '\0' || (p[0] == '0' && p[1] != '\0') || strlen(p) > 5)
		return -1;
	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* An address of family af into its IPv4-mapped / IPv6 form. */
static int
l7_ppin_addr(int af, const char *s, uint8_t out[16])
{
	uint8_t a[16];

	if (inet_pton(af, s, a) != 1)
		return -1;
	memset(out, 0, 16);
	if (af == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
	return 0;
}

static int
l7_ppin_v1(const char *s, size_t len, struct l7_ppin *out)
{
	size_t lim = len < L7_PPIN_V1_MAX ? len : L7_PPIN_V1_MAX, end, i = 6;
	char proto[8], src[48], dst[48], sp[8], dp[8];
	const char *nl = memchr(s, '\n', lim);
	int af;

	if (nl == NULL)
		return len >= L7_PPIN_V1_MAX ? L7_PPIN_ERROR : L7_PPIN_AGAIN;
	end = (size_t)(nl - s);	/* index of '\n' */
	if (end < 7 || s[end - 1] != '\r')
		return L7_PPIN_ERROR;
	end--;	/* index of '\r': fields end there */
	for (size_t k = 0; k < end; k++)
		if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e)
			return L7_PPIN_ERROR;
	memset(out, 0, sizeof(*out));
	out->version = 1;
	if (end - i >= 7 && memcmp(s + i, "UNKNOWN", 7) == 0 && (end - i == 7 || s[i + 7] == ' ')) {
		out->family = AF_UNSPEC;	/* the rest of the line is ignored */
		return (int)(end + 2);
	}
	if (l7_ppin_field(s, end, &i, proto, sizeof(proto), ' ') < 0)
		return L7_PPIN_ERROR;
	if (strcmp(proto, "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		af = AF_INET6;
	else
		return L7_PPIN_ERROR;
	/* the last field ends at '\r', so scan it with '\r' as the stop */
	if (l7_ppin_field(s, end, &i, src, sizeof(src), ' ') < 0 ||
	    l7_ppin_field(s, end, &i, dst, sizeof(dst), ' ') < 0 ||
	    l7_ppin_field(s, end, &i, sp, sizeof(sp), ' ') < 0 ||
	    l7_ppin_field(s, end + 1, &i, dp, sizeof(dp), '\r') < 0 || i != end + 1)
		return L7_PPIN_ERROR;
	if (l7_ppin_addr(af, src, out->src) < 0 || l7_ppin_addr(af, dst, out->dst) < 0 ||
	    l7_ppin_port(sp, &out->sport) < 0 || l7_ppin_port(dp, &out->dport) < 0)
		return L7_PPIN_ERROR;
	out->family = af;
	return (int)(end + 2);
}

static int
l7_ppin_v2(const uint8_t *b, size_t len, struct l7_ppin *out)
{
	size_t body, total;

	if (len < 16)
		return L7_PPIN_AGAIN;
	if ((b[12] >> 4) != 2 || (b[12] & 0x0f) > 1)
		return L7_PPIN_ERROR;	/* version 2; command LOCAL (0) or PROXY (1) */
	body = (size_t)b[14] << 8 | b[15];
	total = 16 + body;
	if (total > L7_PPIN_V2_MAX)
		return L7_PPIN_ERROR;
	if (len < total)
		return L7_PPIN_AGAIN;
	memset(out, 0, sizeof(*out));
	out->version = 2;
	out->family = AF_UNSPEC;
	if ((b[12] & 0x0f) == 0)
		return (int)total;	/* LOCAL: a health check of the downstream itself */
	switch (b[13]) {
	case 0x11: case 0x12:	/* TCP or UDP over IPv4 */
		if (body < 12)
			return L7_PPIN_ERROR;
		out->family = AF_INET;
		out->src[10] = out->src[11] = out->dst[10] = out->dst[11] = 0xff;
		memcpy(out->src + 12, b + 16, 4);
		memcpy(out->dst + 12, b + 20, 4);
		out->sport = (uint16_t)(b[24] << 8 | b[25]);
		out->dport = (uint16_t)(b[26] << 8 | b[27]);
		break;
	case 0x21: case 0x22:	/* over IPv6 */
		if (body < 36)
			return L7_PPIN_ERROR;
		out->family = AF_INET6;
		memcpy(out->src, b + 16, 16);
		memcpy(out->dst, b + 32, 16);
		out->sport = (uint16_t)(b[48] << 8 | b[49]);
		out->dport = (uint16_t)(b[50] << 8 | b[51]);
		break;
	case 0x00: case 0x31: case 0x32:	/* unspecified, unix: keep the peer */
		break;
	default:
		return L7_PPIN_ERROR;
	}
	return (int)total;
}

int
l7_ppin_parse(const void *buf, size_t len, struct l7_ppin *out)
{
	const uint8_t *b = buf;

	if (len == 0)
		return L7_PPIN_AGAIN;
	if (b[0] == 'P') {
		if (len < 6)
			return memcmp(b, "PROXY ", len) == 0 ? L7_PPIN_AGAIN : L7_PPIN_ERROR;
		if (memcmp(b, "PROXY ", 6) != 0)
			return L7_PPIN_ERROR;
		return l7_ppin_v1(buf, len, out);
	}
	if (memcmp(b, l7_ppin_sig2, len < 12 ? len : 12) != 0)
		return L7_PPIN_ERROR;
	return len < 12 ? L7_PPIN_AGAIN : l7_ppin_v2(b, len, out);
}
