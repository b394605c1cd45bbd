#ifndef TANDEM_BUF_T_H
#define TANDEM_BUF_T_H

#include <stddef.h>

/*
 * A fixed-capacity byte buffer for I/O: data lives in [rpos, wpos).
 * Readers consume from rpos, writers append at wpos; buf_compact() moves
 * the live bytes to the front when the tail runs out.
 */
struct buf {
	char *data;
	size_t cap;
	size_t rpos;
	size_t wpos;
};

#endif
