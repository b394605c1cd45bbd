/*
 * l7_h2sess - HTTP/2 member connections shared by many requests (see
 * l7_h2sess.h). The socket side: connect, TLS (ALPN must say h2), reads
 * fed to l7_h2up, its frames written; then every stream with news wakes
 * its owner.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "dlist.h"
#include "l7_h2sess.h"
#include "l7_h2up.h"
#include "l7_io.h"
#include "l7_pool.h"
#include "l7_tls_up.h"
#include "log.h"
#include "loop.h"
#include "snapshot.h"

#define H2SESS_IDLE_MS	10000	/* a session without streams closes after this */
#define H2SESS_CONNECT_MS 10000	/* connect and TLS handshake at most this */
#define H2SESS_BUF	16384

struct l7_h2sess {
	struct loop_io io;
	struct loop_timer timer;	/* idle timeout */
	struct l7_h2sess_set *set;
	struct dlist_node link;		/* in set while it may take streams */
	int fd;
	struct l7_io tio;
	struct l7_h2up *h2;
	struct buf nin, nout;
	struct snapshot *snap;		/* reference: the pool and member below */
	size_t pi, mi;
	struct l7_member_state *ms;
	enum l7_h2sess_state state;
	bool connected;			/* TCP is up (TLS may still run) */
	bool used;			/* a stream ended on it */
	unsigned busy;			/* inside a wake pass: free later */
	bool free_me;
	bool flush_pending;		/* a deferred flush is queued (l7_h2sess_flush) */
	bool gone;			/* freed: the queued flush must not touch it */
	char why[192];
};

static const struct conf_pool *
h2sess_pool(const struct l7_h2sess *s)
{
	return &s->snap->conf->pools[s->pi];
}

static void
h2sess_unlist(struct l7_h2sess *s)
{
	struct l7_h2sess_set *set = s->set;

	if (dlist_linked(&set->list, &s->link))
		dlist_remove(&set->list, &s->link);
}

static void h2sess_wake(struct l7_h2sess *s);

static void
h2sess_free_cb(void *p)
{
	free(p);
}

/* Frees s now (no stream refers to it any more). */
static void
h2sess_free(struct l7_h2sess *s)
{
	struct l7_h2sess_set *set = s->set;

	if (s->busy > 0) {
		s->free_me = true;
		return;
	}
	h2sess_unlist(s);
	loop_timer_cancel(set->loop, &s->timer);
	if (s->fd >= 0) {
		loop_io_del(set->loop, &s->io);
		l7_io_free(&s->tio);
		close(s->fd);
		s->fd = -1;
	}
	l7_h2up_free(&s->h2);
	buf_release(&s->nin);
	buf_release(&s->nout);
	snapshot_release(&s->snap);
	s->gone = true;
	/* another event of this pass (or a queued flush) may still name it */
	if (set->stopping || loop_defer(set->loop, h2sess_free_cb, s) < 0)
		free(s);
}

/* The connection is gone: its streams fail (the owners are woken), the
 * session leaves the set and waits for them to close. */
static void
h2sess_die(struct l7_h2sess *s, const char *why)
{
	struct l7_h2sess_set *set = s->set;

	if (s->state == L7_H2SESS_DEAD)
		return;
	if (s->state == L7_H2SESS_CONNECTING)
		l7_pool_connect_result(s->ms, h2sess_pool(s), 0, loop_now(set->loop), why);
	/* a member closing an idle connection is routine */
	if (l7_h2up_streams(s->h2) > 0 || s->state == L7_H2SESS_CONNECTING)
		log_info("pool=%s member=%s: HTTP/2 connection %s (%u streams)", h2sess_pool(s)->name,
			 h2sess_pool(s)->members[s->mi].id, why, l7_h2up_streams(s->h2));
	else
		log_debug("pool=%s member=%s: idle HTTP/2 connection %s", h2sess_pool(s)->name,
			  h2sess_pool(s)->members[s->mi].id, why);
	snprintf(s->why, sizeof(s->why), "%s", why);
	s->state = L7_H2SESS_DEAD;
	h2sess_unlist(s);
	loop_timer_cancel(set->loop, &s->timer);
	loop_io_del(set->loop, &s->io);
	l7_io_free(&s->tio);
	close(s->fd);
	s->fd = -1;
	l7_h2up_kill(s->h2);
}

/* The idle timeout, or the connect timeout while connecting. */
static void
h2sess_idle(struct loop *l, struct loop_timer *t)
{
	struct l7_h2sess *s = t->data;

	(void)l;
	if (s->state == L7_H2SESS_CONNECTING) {
		h2sess_die(s, "connect timeout");
		h2sess_wake(s);		/* the waiting requests try elsewhere */
	} else if (l7_h2up_streams(s->h2) == 0) {
		h2sess_free(s);
	}
}

/* After I/O: no streams left on a session that takes no more: close; none
 * on a live one: the idle timeout runs. Returns 1 when s was freed. */
static int
h2sess_settle(struct l7_h2sess *s)
{
	if (l7_h2up_streams(s->h2) > 0 || s->busy > 0)
		return 0;
	if (s->state == L7_H2SESS_DEAD ||
	    (s->state == L7_H2SESS_READY && l7_h2up_goaway_seen(s->h2)) || s->set->stopping) {
		h2sess_free(s);
		return 1;
	}
	if (s->state == L7_H2SESS_READY && !loop_timer_armed(&s->timer) &&
	    loop_timer_set(s->set->loop, &s->timer, H2SESS_IDLE_MS, h2sess_idle, s) < 0) {
		h2sess_free(s);
		return 1;
	}
	return 0;
}

static void
h2sess_interest(struct l7_h2sess *s)
{
	uint32_t ev;

	if (s->state == L7_H2SESS_DEAD)
		return;
	if (s->state == L7_H2SESS_CONNECTING)
		ev = s->connected ? s->tio.hs_wait : EPOLLOUT;
	else
		ev = l7_io_events(&s->tio, true, buf_len(&s->nout) > 0);
	if (ev != s->io.events && loop_io_mod(s->set->loop, &s->io, ev) < 0)
		h2sess_die(s, "epoll failed");
}

int
l7_h2sess_flush_now(struct l7_h2sess *s)
{
	int more;

	if (s->state == L7_H2SESS_DEAD)
		return -1;
	if (s->state != L7_H2SESS_READY)
		return 0;
	do {
		ssize_t n;

		more = l7_h2up_output(s->h2, &s->nout);
		if (more < 0) {
			h2sess_die(s, "HTTP/2 error sending");
			return -1;
		}
		if (buf_len(&s->nout) == 0)
			break;
		n = l7_io_write_buf(&s->tio, &s->nout);
		if (n < 0 && n != -EAGAIN) {
			char why[96];

			snprintf(why, sizeof(why), "write: %s", strerror((int)-n));
			h2sess_die(s, why);
			return -1;
		}
		if (n <= 0 || buf_len(&s->nout) > 0)
			break;	/* the socket is full: EPOLLOUT brings us back */
	} while (more);
	h2sess_interest(s);
	return 0;
}

/* The queued flush: everything the streams of this loop pass submitted
 * leaves in one write; then the streams it unblocked are woken. */
static void
h2sess_flush_cb(void *p)
{
	struct l7_h2sess *s = p;

	if (s->gone)
		return;
	s->flush_pending = false;
	l7_h2sess_flush_now(s);
	h2sess_wake(s);
}

int
l7_h2sess_flush(struct l7_h2sess *s)
{
	if (s->state == L7_H2SESS_DEAD)
		return -1;
	if (s->state != L7_H2SESS_READY || s->flush_pending)
		return 0;
	if (s->set->stopping || loop_defer(s->set->loop, h2sess_flush_cb, s) < 0)
		return l7_h2sess_flush_now(s);
	s->flush_pending = true;
	return 0;
}

/* Reads what the member sent; 0, or -1 when the session died. */
static int
h2sess_read(struct l7_h2sess *s)
{
	for (;;) {
		ssize_t n = l7_io_read_buf(&s->tio, &s->nin);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			char why[96];

			snprintf(why, sizeof(why), "%s", n == 0 ? "closed by the member" :
				 strerror((int)-n));
			h2sess_die(s, why);
			return -1;
		}
		if (l7_h2up_input(s->h2, buf_head(&s->nin), buf_len(&s->nin)) < 0) {
			h2sess_die(s, "HTTP/2 protocol error from the member");
			return -1;
		}
		s->nin.rpos = s->nin.wpos = 0;
		if (!l7_h2up_alive(s->h2)) {
			h2sess_die(s, "ended by the member (GOAWAY)");
			return -1;
		}
	}
}

/* Connect and TLS; 1 once ready, 0 waiting, -1 died. */
static int
h2sess_connecting(struct l7_h2sess *s)
{
	char why[256];
	int err = 0, r;
	socklen_t len = sizeof(err);

	if (!s->connected) {
		/* the TCP connect's outcome */
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			h2sess_die(s, why);
			return -1;
		}
		s->connected = true;
	}
	r = l7_io_handshake(&s->tio);
	if (r == 0) {
		h2sess_interest(s);
		return 0;
	}
	if (r < 0) {
		l7_tls_up_why(s->tio.tls, why, sizeof(why));
		l7_h2sess_tls_why(why, sizeof(why));
		h2sess_die(s, why);
		return -1;
	}
	if (s->tio.tls != NULL &&
	    (l7_io_alpn(&s->tio) == NULL || strcmp(l7_io_alpn(&s->tio), "h2") != 0)) {
		log_warn("pool=%s member=%s: the member did not select h2 in TLS ALPN",
			 h2sess_pool(s)->name, h2sess_pool(s)->members[s->mi].id);
		h2sess_die(s, "the member did not select h2 in TLS ALPN");
		return -1;
	}
	l7_pool_connect_result(s->ms, h2sess_pool(s), 1, loop_now(s->set->loop), NULL);
	s->state = L7_H2SESS_READY;
	loop_timer_cancel(s->set->loop, &s->timer);	/* the connect timeout */
	l7_h2up_wake_all(s->h2);	/* the requests waiting for it may go */
	return 1;
}

/* Wakes every owner with news; they may close streams or open new ones. */
static void
h2sess_wake(struct l7_h2sess *s)
{
	void *owner;

	s->busy++;
	while ((owner = l7_h2up_next_woken(s->h2)) != NULL)
		s->set->wake(owner);
	s->busy--;
	if (s->free_me) {
		s->free_me = false;
		h2sess_free(s);
		return;
	}
	h2sess_settle(s);
}

static void
h2sess_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_h2sess *s = io->data;

	(void)l;
	(void)events;
	if (s->state == L7_H2SESS_CONNECTING && h2sess_connecting(s) == 0)
		return;
	if (s->state == L7_H2SESS_READY && h2sess_read(s) == 0)
		l7_h2sess_flush_now(s);	/* acks, and what EPOLLOUT waited for */
	h2sess_wake(s);
}

struct l7_h2sess *
l7_h2sess_find(struct l7_h2sess_set *set, const struct snapshot *snap,
	       const struct l7_member_state *ms)
{
	struct l7_h2sess *s;

	/* a session made under an older configuration (its stream limit, its
	 * TLS settings) takes no new streams: it ends with its idle timeout */
	DLIST_FOREACH(s, &set->list, link)
		if (s->ms == ms && s->snap == snap && l7_h2up_can_open(s->h2))
			return s;
	return NULL;
}

struct l7_h2sess *
l7_h2sess_connect(struct l7_h2sess_set *set, struct snapshot *snap, size_t pi, size_t mi,
		  struct l7_member_state *ms, int *oom)
{
	const struct conf_pool *p = &snap->conf->pools[pi];
	const struct conf_member *m = &p->members[mi];
	struct l7_tls_up *tu = snap->uptls != NULL ? snap->uptls[pi] : NULL;
	struct l7_tls_conn *t = NULL;
	struct l7_h2sess *s;
	int fd, one = 1, rc;

	*oom = 0;
	fd = socket(m->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*oom = 1;	/* fds or memory: ours, not the member's */
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set->connects++;
	rc = connect(fd, (const struct sockaddr *)&m->sa, m->salen);
	if (rc < 0 && errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(fd);
		l7_pool_connect_result(ms, p, 0, loop_now(set->loop), why);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (tu != NULL && (t = l7_tls_up_conn_new(tu, fd, mi, m->address)) == NULL))
		goto oom;
	s->set = set;
	s->fd = fd;
	s->pi = pi;
	s->mi = mi;
	s->ms = ms;
	l7_io_init_conn(&s->tio, fd, t);
	t = NULL;
	if ((s->h2 = l7_h2up_new(p->l7.max_streams)) == NULL ||
	    buf_init(&s->nin, H2SESS_BUF) < 0 || buf_init(&s->nout, H2SESS_BUF) < 0 ||
	    loop_io_add(set->loop, &s->io, fd, EPOLLOUT, h2sess_io, s) < 0)
		goto oom;
	if (loop_timer_set(set->loop, &s->timer, H2SESS_CONNECT_MS, h2sess_idle, s) < 0) {
		loop_io_del(set->loop, &s->io);
		goto oom;
	}
	snapshot_ref(snap);
	s->snap = snap;
	s->state = L7_H2SESS_CONNECTING;
	s->connected = rc == 0;
	dlist_push_front(&set->list, &s->link);
	return s;
oom:
	if (s != NULL) {
		l7_io_free(&s->tio);
		l7_h2up_free(&s->h2);
		buf_release(&s->nin);
		buf_release(&s->nout);
	}
	free(s);
	close(fd);
	*oom = 1;
	return NULL;
}

struct l7_h2up_st *
l7_h2sess_open(struct l7_h2sess *s, void *owner)
{
	struct l7_h2up_st *st = l7_h2up_open(s->h2, owner);

	if (st != NULL && s->state == L7_H2SESS_READY)
		loop_timer_cancel(s->set->loop, &s->timer);	/* the idle timeout */
	else
		h2sess_settle(s);
	return st;
}

void
l7_h2sess_close(struct l7_h2sess *s, struct l7_h2up_st **st)
{
	if (*st == NULL)
		return;
	if (l7_h2up_done(*st))
		s->used = true;
	l7_h2up_close(st);
	if (s->state == L7_H2SESS_READY)
		l7_h2sess_flush(s);	/* the RST_STREAM, WINDOW_UPDATE */
	h2sess_settle(s);
}

enum l7_h2sess_state
l7_h2sess_state(const struct l7_h2sess *s)
{
	return s->state;
}

int
l7_h2sess_used(const struct l7_h2sess *s)
{
	return s->used;
}

const char *
l7_h2sess_why(const struct l7_h2sess *s)
{
	return s->why;
}

void
l7_h2sess_tls_why(char *why, size_t len)
{
	if (strstr(why, "no application protocol") != NULL)
		snprintf(why, len, "the member did not select h2 in TLS ALPN "
			 "(alert: no application protocol)");
}

void
l7_h2sess_free_all(struct l7_h2sess_set *set)
{
	set->stopping = true;
	while (!dlist_empty(&set->list))
		h2sess_free(DLIST_ENTRY(set->list.first, struct l7_h2sess, link));
}
