/*
 * l4_httpck - see l4_httpck.h. Checked byte by byte against the pattern
 * "HTTP/d.d ddd" so that a wrong reply fails on its first bytes and a short
 * read waits for more; never reads past len.
 */
#include "config.h"

#include "l4_httpck.h"

int
l4_httpck_status(const char *buf, size_t len, unsigned *code)
{
	static const char pat[] = "HTTP/9.9 999";	/* 9: a digit */
	const size_t plen = sizeof(pat) - 1;
	unsigned c = 0;
	size_t i;

	for (i = 0; i < plen && i < len; i++) {
		unsigned char b = (unsigned char)buf[i];

		if (pat[i] == '9' ? b < '0' || b > '9' : b != (unsigned char)pat[i])
			return -1;
		if (i >= 9)
			c = c * 10 + (b - '0');
	}
	if (len <= plen)
		return 0;	/* the byte after the code decides */
	if (buf[plen] != ' ' && buf[plen] != '\r' && buf[plen] != '\n')
		return -1;
	if (c < 100 || c > 599)
		return -1;
	*code = c;
	return 1;
}
