/*
 * loop - epoll event loop with a binary timer heap (see loop.h).
 *
 * Each pass: prepare callback, compute the timeout from the earliest timer,
 * epoll_wait, dispatch at most LOOP_MAX_EVENTS fds, then run the timers that
 * are due (at most LOOP_MAX_TIMERS per pass so a burst of expiries cannot
 * starve I/O). An eventfd wakes the loop from other threads.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_EVENTS 256
#define LOOP_MAX_TIMERS 1024

struct loop_deferred {
	void (*fn)(void *data);
	void *data;
};

/* A heap slot carries its timer's deadline: the sift compares read the
 * heap array, not each timer in its (cold) owner */
struct loop_hent {
	uint64_t deadline_ms;
	struct loop_timer *t;
};

struct loop {
	int epfd;
	int wakefd;
	atomic_int stop;
	uint64_t now_ms;
	struct loop_hent *heap;		/* 1-based binary min-heap */
	size_t heap_len;
	size_t heap_cap;
	struct loop_deferred *defer;	/* run after I/O of each pass */
	size_t defer_len;
	size_t defer_cap;
	loop_prepare_cb prepare;
	void *prepare_data;
};

uint64_t
loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
loop_now(const struct loop *l)
{
	return l->now_ms;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wakefd < 0)
		goto fail;
	ev.data.ptr = NULL; /* NULL marks the wake fd */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		goto fail;
	l->now_ms = loop_clock_ms();
	return l;
fail:
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	free(l);
	return NULL;
}

void
loop_free(struct loop **lp)
{
	struct loop *l = *lp;

	if (l == NULL)
		return;
	close(l->epfd);
	close(l->wakefd);
	free(l->heap);
	free(l->defer);
	free(l);
	*lp = NULL;
}

int
loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events, loop_io_cb cb, void *data)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int
loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

int
loop_io_del(struct loop *l, struct loop_io *io)
{
	if (io->fd < 0)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL) < 0)
		return -errno;
	io->fd = -1; /* events already fetched for it in this pass are skipped */
	return 0;
}

static void
loop_heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_hent e = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = e;
	l->heap[a].t->heap_index = a;
	l->heap[b].t->heap_index = b;
}

static void
loop_heap_up(struct loop *l, size_t i)
{
	while (i > 1 && l->heap[i / 2].deadline_ms > l->heap[i].deadline_ms) {
		loop_heap_swap(l, i, i / 2);
		i /= 2;
	}
}

static void
loop_heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i, m = i;

		if (c <= l->heap_len && l->heap[c].deadline_ms < l->heap[m].deadline_ms)
			m = c;
		if (c + 1 <= l->heap_len && l->heap[c + 1].deadline_ms < l->heap[m].deadline_ms)
			m = c + 1;
		if (m == i)
			return;
		loop_heap_swap(l, i, m);
		i = m;
	}
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_index;

	if (i == 0)
		return;
	if (i != l->heap_len) {
		loop_heap_swap(l, i, l->heap_len);
		l->heap_len--;
		loop_heap_up(l, i);
		loop_heap_down(l, i);
	} else {
		l->heap_len--;
	}
	t->heap_index = 0;
}

int
loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t ms, loop_timer_cb cb, void *data)
{
	uint64_t d = l->now_ms + ms;
	size_t i = t->heap_index;

	t->cb = cb;
	t->data = data;
	if (i != 0) {
		/* re-armed (a connection's timeout, every request): moved
		 * within the heap, not taken out and put back */
		uint64_t old = l->heap[i].deadline_ms;

		t->deadline_ms = l->heap[i].deadline_ms = d;
		if (d > old)
			loop_heap_down(l, i);
		else
			loop_heap_up(l, i);
		return 0;
	}
	if (l->heap_len + 1 >= l->heap_cap) {
		size_t ncap = l->heap_cap ? l->heap_cap * 2 : 64;
		struct loop_hent *n = realloc(l->heap, ncap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		l->heap = n;
		l->heap_cap = ncap;
	}
	t->deadline_ms = d;
	l->heap[++l->heap_len] = (struct loop_hent){ d, t };
	t->heap_index = l->heap_len;
	loop_heap_up(l, l->heap_len);
	return 0;
}

void
loop_prepare_set(struct loop *l, loop_prepare_cb cb, void *data)
{
	l->prepare = cb;
	l->prepare_data = data;
}

void
loop_stop(struct loop *l)
{
	atomic_store(&l->stop, 1);
	loop_wake(l);
}

void
loop_wake(struct loop *l)
{
	uint64_t one = 1;

	/* EAGAIN means a wake-up is already pending: fine. */
	if (write(l->wakefd, &one, sizeof(one)) < 0)
		return;
}

int
loop_defer(struct loop *l, void (*fn)(void *data), void *data)
{
	if (l->defer_len == l->defer_cap) {
		size_t ncap = l->defer_cap ? l->defer_cap * 2 : 64;
		struct loop_deferred *n = realloc(l->defer, ncap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		l->defer = n;
		l->defer_cap = ncap;
	}
	l->defer[l->defer_len].fn = fn;
	l->defer[l->defer_len].data = data;
	l->defer_len++;
	return 0;
}

static void
loop_run_deferred(struct loop *l)
{
	size_t i;

	/* Callbacks may defer more work; it runs in this same sweep. */
	for (i = 0; i < l->defer_len; i++)
		l->defer[i].fn(l->defer[i].data);
	l->defer_len = 0;
}

static void
loop_run_timers(struct loop *l)
{
	int n = 0;

	while (l->heap_len > 0 && l->heap[1].deadline_ms <= l->now_ms && n++ < LOOP_MAX_TIMERS) {
		struct loop_timer *t = l->heap[1].t;

		loop_timer_cancel(l, t);
		t->cb(l, t);
	}
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	while (!atomic_load(&l->stop)) {
		int timeout = -1, n, i;

		l->now_ms = loop_clock_ms();
		if (l->prepare != NULL)
			l->prepare(l, l->prepare_data);
		if (l->heap_len > 0) {
			uint64_t d = l->heap[1].deadline_ms;

			timeout = d <= l->now_ms ? 0 : (int)(d - l->now_ms > 60000 ? 60000 : d - l->now_ms);
		}
		n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->now_ms = loop_clock_ms();
		for (i = 0; i < n; i++) {
			struct loop_io *io = evs[i].data.ptr;

			if (io == NULL) {
				uint64_t v;

				if (read(l->wakefd, &v, sizeof(v)) < 0)
					continue;
				continue;
			}
			if (io->fd >= 0)
				io->cb(l, io, evs[i].events);
		}
		loop_run_deferred(l);
		loop_run_timers(l);
		loop_run_deferred(l);
	}
	return 0;
}
