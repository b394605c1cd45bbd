/*
 * l7_alog - the JSON access log, written off the data path.
 *
 * Each worker owns one single-producer single-consumer ring of fixed slots.
 * A worker formats a line into the next free slot and publishes it with one
 * release store of its head; when the ring is full the line is dropped and
 * counted, so a slow disk never blocks a worker. One logger thread drains
 * every ring every 100 ms (or at once when a worker's ring is half full),
 * appends each line to its file (opened O_APPEND, kept open, reopened after
 * every reload so that logrotate's "copytruncate"-free rotation works with a
 * reload) or sends it to syslog (l7_syslog), and is the only thread that
 * touches files and sockets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "l7_alog.h"
#include "l7_syslog.h"

#define L7_ALOG_SLOTS	1024		/* per worker, a power of two */
#define L7_ALOG_PATH	200
#define L7_ALOG_LINE	(1024 - L7_ALOG_PATH)
#define L7_ALOG_FILES	32

struct l7_alog_slot {
	char path[L7_ALOG_PATH];
	char line[L7_ALOG_LINE];
};

struct l7_alog_ring {
	_Alignas(64) atomic_uint head;	/* written by the worker */
	_Alignas(64) atomic_uint tail;	/* written by the logger */
	atomic_ulong dropped;
	struct l7_alog_slot *slots;
};

/* An open target: a file, or a syslog socket (l7_syslog). A target that
 * failed to open keeps fd -1 until retry_ms, so a missing directory or a
 * stopped syslog daemon costs one warning per second, not one per line. */
struct l7_alog_file {
	char path[L7_ALOG_PATH];
	int fd;
	bool syslog;
	int pri;
	char tag[40];
	uint64_t retry_ms;
};

static struct l7_alog_ring *l7_alog_rings;
static unsigned l7_alog_nrings;
static pthread_t l7_alog_thread;
static bool l7_alog_running;
static atomic_bool l7_alog_stop;
static atomic_bool l7_alog_reopen;
static pthread_mutex_t l7_alog_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t l7_alog_cv = PTHREAD_COND_INITIALIZER;
static struct l7_alog_file l7_alog_files[L7_ALOG_FILES];
static unsigned l7_alog_nfiles;
static atomic_ulong l7_alog_written;

/* Opens f's target (f->path set); fd -1 and a warning on failure. */
static void
l7_alog_open(struct l7_alog_file *f)
{
	const char *sock;
	int rc = l7_syslog_parse(f->path, &f->pri, f->tag, sizeof(f->tag), &sock);

	f->syslog = rc == 1;
	if (rc < 0)
		f->fd = -EINVAL;
	else if (f->syslog)
		f->fd = l7_syslog_open(sock);
	else if ((f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0)
		f->fd = -errno;
	if (f->fd < 0) {
		log_warn("access log %s: %s", f->path, strerror(-f->fd));
		f->fd = -1;
		f->retry_ms = loop_clock_ms() + 1000;
	}
}

/* The open target for path (opened on first use), or NULL. */
static struct l7_alog_file *
l7_alog_file(const char *path)
{
	struct l7_alog_file *f;
	unsigned i;

	for (i = 0; i < l7_alog_nfiles; i++) {
		f = &l7_alog_files[i];
		if (strcmp(f->path, path) != 0)
			continue;
		if (f->fd < 0 && loop_clock_ms() >= f->retry_ms)
			l7_alog_open(f);
		return f->fd >= 0 ? f : NULL;
	}
	if (l7_alog_nfiles == L7_ALOG_FILES) {
		/* more files than slots: the oldest one is closed */
		if (l7_alog_files[0].fd >= 0)
			close(l7_alog_files[0].fd);
		memmove(l7_alog_files, l7_alog_files + 1, (L7_ALOG_FILES - 1) * sizeof(*l7_alog_files));
		l7_alog_nfiles--;
	}
	f = &l7_alog_files[l7_alog_nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, L7_ALOG_PATH, "%s", path);
	l7_alog_open(f);
	return f->fd >= 0 ? f : NULL;
}

/* Writes one line to f. 0 or -1. */
static int
l7_alog_put(struct l7_alog_file *f, const char *line)
{
	size_t len = strlen(line);
	int rc;

	if (!f->syslog)
		return write(f->fd, line, len) == (ssize_t)len ? 0 : -1;
	rc = l7_syslog_send(f->fd, f->pri, f->tag, line, len);
	if (rc == -ECONNREFUSED || rc == -ENOTCONN) {
		/* the syslog daemon made a new socket (restart): connect again */
		close(f->fd);
		l7_alog_open(f);
		rc = f->fd >= 0 ? l7_syslog_send(f->fd, f->pri, f->tag, line, len) : -1;
	}
	return rc < 0 ? -1 : 0;
}

static void
l7_alog_close_all(void)
{
	while (l7_alog_nfiles > 0)
		if (l7_alog_files[--l7_alog_nfiles].fd >= 0)
			close(l7_alog_files[l7_alog_nfiles].fd);
}

/* Drains every ring once; lines for one file are written in one go when
 * they follow each other. */
static void
l7_alog_drain(void)
{
	unsigned r;

	if (atomic_exchange(&l7_alog_reopen, false))
		l7_alog_close_all();
	for (r = 0; r < l7_alog_nrings; r++) {
		struct l7_alog_ring *ring = &l7_alog_rings[r];
		unsigned tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		unsigned head = atomic_load_explicit(&ring->head, memory_order_acquire);

		while (tail != head) {
			struct l7_alog_slot *sl = &ring->slots[tail & (L7_ALOG_SLOTS - 1)];
			struct l7_alog_file *f = l7_alog_file(sl->path);

			if (f != NULL && l7_alog_put(f, sl->line) == 0)
				atomic_fetch_add_explicit(&l7_alog_written, 1, memory_order_relaxed);
			tail++;
			atomic_store_explicit(&ring->tail, tail, memory_order_release);
		}
	}
}

static void *
l7_alog_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&l7_alog_stop)) {
		struct timespec ts;

		l7_alog_drain();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&l7_alog_mu);
		if (!atomic_load(&l7_alog_stop))
			pthread_cond_timedwait(&l7_alog_cv, &l7_alog_mu, &ts);
		pthread_mutex_unlock(&l7_alog_mu);
	}
	l7_alog_drain();
	l7_alog_close_all();
	return NULL;
}

int
l7_alog_start(unsigned nworkers)
{
	unsigned i;
	int rc;

	l7_alog_rings = calloc(nworkers, sizeof(*l7_alog_rings));
	if (l7_alog_rings == NULL)
		return -ENOMEM;
	l7_alog_nrings = nworkers;
	for (i = 0; i < nworkers; i++) {
		l7_alog_rings[i].slots = calloc(L7_ALOG_SLOTS, sizeof(struct l7_alog_slot));
		if (l7_alog_rings[i].slots == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	atomic_store(&l7_alog_stop, false);
	rc = -pthread_create(&l7_alog_thread, NULL, l7_alog_main, NULL);
	if (rc < 0)
		goto fail;
	l7_alog_running = true;
	return 0;
fail:
	for (i = 0; i < nworkers; i++)
		free(l7_alog_rings[i].slots);
	free(l7_alog_rings);
	l7_alog_rings = NULL;
	l7_alog_nrings = 0;
	return rc;
}

void
l7_alog_stop_all(void)
{
	unsigned i;

	if (!l7_alog_running)
		return;
	pthread_mutex_lock(&l7_alog_mu);
	atomic_store(&l7_alog_stop, true);
	pthread_cond_signal(&l7_alog_cv);
	pthread_mutex_unlock(&l7_alog_mu);
	pthread_join(l7_alog_thread, NULL);
	l7_alog_running = false;
	for (i = 0; i < l7_alog_nrings; i++)
		free(l7_alog_rings[i].slots);
	free(l7_alog_rings);
	l7_alog_rings = NULL;
	l7_alog_nrings = 0;
}

void
l7_alog_reopen_files(void)
{
	atomic_store(&l7_alog_reopen, true);
}

char *
l7_alog_slot(unsigned worker, const char *path, size_t *cap)
{
	struct l7_alog_ring *ring;
	unsigned head, tail;
	struct l7_alog_slot *sl;

	if (worker >= l7_alog_nrings)
		return NULL;
	ring = &l7_alog_rings[worker];
	head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
	if (head - tail >= L7_ALOG_SLOTS) {
		atomic_fetch_add_explicit(&ring->dropped, 1, memory_order_relaxed);
		return NULL;
	}
	sl = &ring->slots[head & (L7_ALOG_SLOTS - 1)];
	snprintf(sl->path, sizeof(sl->path), "%s", path);
	*cap = sizeof(sl->line);
	return sl->line;
}

void
l7_alog_commit(unsigned worker)
{
	struct l7_alog_ring *ring = &l7_alog_rings[worker];
	unsigned head = atomic_load_explicit(&ring->head, memory_order_relaxed) + 1;

	atomic_store_explicit(&ring->head, head, memory_order_release);
	/* half full: do not wait for the next tick (never blocks: trylock) */
	if (head - atomic_load_explicit(&ring->tail, memory_order_relaxed) == L7_ALOG_SLOTS / 2 &&
	    pthread_mutex_trylock(&l7_alog_mu) == 0) {
		pthread_cond_signal(&l7_alog_cv);
		pthread_mutex_unlock(&l7_alog_mu);
	}
}

void
l7_alog_counters(unsigned long *written, unsigned long *dropped)
{
	unsigned i;

	*written = atomic_load_explicit(&l7_alog_written, memory_order_relaxed);
	*dropped = 0;
	for (i = 0; i < l7_alog_nrings; i++)
		*dropped += atomic_load_explicit(&l7_alog_rings[i].dropped, memory_order_relaxed);
}
