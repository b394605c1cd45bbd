#ifndef TANDEM_JH_H
#define TANDEM_JH_H

#include <jansson.h>

/*
 * jh - JSON helpers shared by every program (jansson underneath).
 */

/* Canonical text of v: sorted keys, two-space indent, trailing newline, so the
 * same value always gives the same bytes. Returns malloc'd text or NULL. */
char *jh_dump_canonical(const json_t *v);

/* One-line compact text with sorted keys plus '\n' (control-socket frames).
 * Returns malloc'd text or NULL. */
char *jh_dump_line(const json_t *v);

/* Writes text to path atomically: path.tmp, fsync, rename, fsync of the dir.
 * mode is the new file's mode. 0 or -errno. */
int jh_write_file_atomic(const char *path, const char *text, unsigned mode);

/* The same for len bytes of data, which need not be text. Borrows data. */
int jh_write_buf_atomic(const char *path, const void *data, size_t len, unsigned mode);

#endif
