#ifndef TANDEM_BUF_H
#define TANDEM_BUF_H

#include <sys/types.h>

#include "buf-t.h"

/* Allocates cap bytes of storage. 0 or -ENOMEM. */
int buf_init(struct buf *b, size_t cap);
/* Frees the storage; the struct itself is the caller's. */
void buf_release(struct buf *b);

static inline size_t buf_len(const struct buf *b) { return b->wpos - b->rpos; }
static inline char *buf_head(const struct buf *b) { return b->data + b->rpos; }
static inline char *buf_tail(const struct buf *b) { return b->data + b->wpos; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->wpos; }
static inline int buf_is_full(const struct buf *b) { return buf_len(b) == b->cap; }

/* Drops n bytes from the front (n <= buf_len). Resets positions when empty. */
void buf_consume(struct buf *b, size_t n);
/* Moves live bytes to the front so buf_room() is as large as it can be. */
void buf_compact(struct buf *b);
/* Appends len bytes; 0, or -ENOSPC (nothing appended) when they do not fit. */
int buf_append(struct buf *b, const void *p, size_t len);
/* Formats and appends; 0 or -ENOSPC (nothing appended). */
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* read(2) into the tail: >0 bytes read, 0 EOF, -EAGAIN, -ENOSPC, or -errno. */
ssize_t buf_read_fd(struct buf *b, int fd);
/* write(2) up to max bytes from the head (max 0 = all): >0 written, -EAGAIN or -errno. */
ssize_t buf_write_fd(struct buf *b, int fd, size_t max);

#endif
