#ifndef TANDEM_LOOP_H
#define TANDEM_LOOP_H

#include "loop-t.h"

/*
 * loop - one single-threaded epoll loop (level-triggered) with a timer heap.
 * One loop per thread; a loop's functions are called only from its thread,
 * except loop_stop() and loop_wake(), which any thread may call.
 */

/* Returns a new loop or NULL (errno set). */
struct loop *loop_new(void);
/* Frees the loop; registered fds are not closed. Sets *lp to NULL. */
void loop_free(struct loop **lp);

/* Register / change / remove interest in io->fd. 0 or -errno. loop_io_del sets
 * io->fd to -1 (the caller keeps its own copy to close) and events of the
 * current pass for that io are dropped. */
int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events, loop_io_cb cb, void *data);
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
int loop_io_del(struct loop *l, struct loop_io *io);

/* Arms t to fire after ms milliseconds (re-arms when already armed). 0 or -ENOMEM. */
int loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t ms, loop_timer_cb cb, void *data);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline int loop_timer_armed(const struct loop_timer *t) { return t->heap_index != 0; }

/* Runs fn(data) after the current pass's I/O callbacks. Objects that embed a
 * loop_io must be freed this way, because another event for them may still be
 * pending in the same pass. 0 or -ENOMEM. */
int loop_defer(struct loop *l, void (*fn)(void *data), void *data);

/* Sets the callback run at the top of every pass. */
void loop_prepare_set(struct loop *l, loop_prepare_cb cb, void *data);

/* Runs until loop_stop(). Returns 0, or -errno if epoll_wait failed. */
int loop_run(struct loop *l);
/* Asks the loop to return from loop_run() (any thread; async-signal-safe). */
void loop_stop(struct loop *l);
/* Wakes a loop blocked in epoll_wait so it runs its prepare callback (any thread). */
void loop_wake(struct loop *l);

/* The loop's cached monotonic clock in milliseconds, refreshed every pass. */
uint64_t loop_now(const struct loop *l);
/* Monotonic clock read now, in milliseconds. */
uint64_t loop_clock_ms(void);

#endif
