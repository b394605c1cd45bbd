#ifndef TANDEM_L7_ALOG_H
#define TANDEM_L7_ALOG_H

#include <stddef.h>

/*
 * l7_alog - the JSON access log: per-worker lock-free rings drained by one
 * logger thread that alone writes the files (see l7_alog.c).
 */

/* Starts the logger with one ring per worker. 0 or -errno. Main thread. */
int l7_alog_start(unsigned nworkers);

/* Drains what is left, closes the files, stops the thread. Main thread,
 * after the workers stopped. */
void l7_alog_stop_all(void);

/* Asks the logger to reopen its files (after a reload; log rotation). */
void l7_alog_reopen_files(void);

/* Returns the next free line of worker's ring for file path (cap gets its
 * size), or NULL when the ring is full (the line is dropped and counted).
 * The caller writes one NUL-terminated line ending in '\n', then calls
 * l7_alog_commit(worker). Worker thread `worker` only; never blocks. */
char *l7_alog_slot(unsigned worker, const char *path, size_t *cap);
void l7_alog_commit(unsigned worker);

/* Lines written and dropped so far. Any thread. */
void l7_alog_counters(unsigned long *written, unsigned long *dropped);

#endif
