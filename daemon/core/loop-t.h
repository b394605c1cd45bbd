#ifndef TANDEM_LOOP_T_H
#define TANDEM_LOOP_T_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_io;
struct loop_timer;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP) that fired. */
typedef void (*loop_io_cb)(struct loop *l, struct loop_io *io, uint32_t events);
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t);
/* Runs once per loop pass before waiting (e.g. adopt a new snapshot). */
typedef void (*loop_prepare_cb)(struct loop *l, void *data);

/* One registered file descriptor. Embed it in the owner's struct. */
struct loop_io {
	int fd;
	uint32_t events;	/* current interest */
	loop_io_cb cb;
	void *data;
};

/* A one-shot timer. Embed it in the owner's struct; heap_index is the loop's. */
struct loop_timer {
	uint64_t deadline_ms;
	size_t heap_index;	/* 0 = not armed */
	loop_timer_cb cb;
	void *data;
};

#endif
