/*
 * ctl - control socket server (see ctl.h).
 *
 * Each client gets a small read buffer; a line longer than CTLC_MAX_LINE or a
 * line that is not a JSON object is answered with an error and the client is
 * closed, so a broken client cannot grow our memory.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "ctlc.h"
#include "jh.h"
#include "log.h"
#include "loop.h"

struct ctl_client {
	struct loop_io io;
	struct ctl_server *srv;
	char *in;
	size_t inlen, incap;
	char *out;		/* pending answer bytes */
	size_t outlen, outoff;
	int closing;
	struct ctl_client *next;
};

struct ctl_server {
	struct loop *loop;
	struct loop_io io;
	int fd;
	char *path;
	ino_t ino;		/* the socket file we bound, unlinked only if still ours */
	ctl_handler_fn handler;
	void *data;
	struct ctl_client *clients;
};

/* Descriptors the handler attached to its answer (ctl_answer_fds). */
static const int *ctl_fds;
static size_t ctl_nfds;
/* The client whose request the handler is answering (ctl_peer). */
static int ctl_cur_fd = -1;

int
ctl_peer(pid_t *pid, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (ctl_cur_fd < 0 || getsockopt(ctl_cur_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -1;
	*pid = cr.pid;
	*uid = cr.uid;
	return 0;
}

void
ctl_answer_fds(const int *fds, size_t n)
{
	ctl_fds = fds;
	ctl_nfds = n;
}

/* Sends line with the attached descriptors (SCM_RIGHTS) at once: only with
 * nothing else pending, so the descriptors arrive with this line's bytes. */
static int
ctl_client_send_fds(struct ctl_client *c, const char *line)
{
	size_t len = strlen(line), cl = CMSG_SPACE(ctl_nfds * sizeof(int));
	struct iovec iov = { .iov_base = (void *)line, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	char *cbuf;
	ssize_t n;

	if (c->outlen > c->outoff)
		return -EBUSY;
	cbuf = calloc(1, cl);
	if (cbuf == NULL)
		return -ENOMEM;
	m.msg_control = cbuf;
	m.msg_controllen = cl;
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(ctl_nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), ctl_fds, ctl_nfds * sizeof(int));
	n = sendmsg(c->io.fd, &m, MSG_NOSIGNAL);
	free(cbuf);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void
ctl_client_free(void *p)
{
	struct ctl_client *c = p;

	free(c->in);
	free(c->out);
	free(c);
}

static void
ctl_client_close(struct ctl_client *c)
{
	struct ctl_client **pp;
	int fd = c->io.fd;

	if (c->closing)
		return;
	c->closing = 1;
	loop_io_del(c->srv->loop, &c->io);
	close(fd);
	for (pp = &c->srv->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (loop_defer(c->srv->loop, ctl_client_free, c) < 0)
		ctl_client_free(c); /* no pending event can reach it: io was removed */
}

/* Queues one answer line; returns 0 or -ENOMEM. */
static int
ctl_client_queue(struct ctl_client *c, json_t *resp)
{
	char *line = jh_dump_line(resp);
	size_t len;
	char *n;

	if (line == NULL)
		return -ENOMEM;
	len = strlen(line);
	n = realloc(c->out, c->outlen + len);
	if (n == NULL) {
		free(line);
		return -ENOMEM;
	}
	memcpy(n + c->outlen, line, len);
	c->out = n;
	c->outlen += len;
	free(line);
	return 0;
}

static void
ctl_client_handle_lines(struct ctl_client *c)
{
	char *nl;

	while (!c->closing && (nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		size_t linelen = (size_t)(nl - c->in);
		json_error_t jerr;
		json_t *req, *resp;

		req = json_loadb(c->in, linelen, 0, &jerr);
		if (req == NULL || !json_is_object(req)) {
			resp = json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$",
					 "message", "request must be one JSON object on one line");
		} else {
			ctl_cur_fd = c->io.fd;
			resp = c->srv->handler(req, c->srv->data);
			ctl_cur_fd = -1;
		}
		json_decref(req);
		if (resp == NULL)
			ctl_nfds = 0;	/* nothing to attach them to */
		if (resp != NULL && ctl_nfds > 0) {
			char *line = jh_dump_line(resp);
			int rc = line ? ctl_client_send_fds(c, line) : -ENOMEM;

			free(line);
			ctl_nfds = 0;
			json_decref(resp);
			resp = NULL;
			if (rc == 0)
				goto next;
		}
		if (resp == NULL || ctl_client_queue(c, resp) < 0) {
			json_decref(resp);
			ctl_client_close(c);
			return;
		}
		json_decref(resp);
next:
		memmove(c->in, nl + 1, c->inlen - linelen - 1);
		c->inlen -= linelen + 1;
	}
}

static void
ctl_client_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct ctl_client *c = io->data;

	if (events & EPOLLIN) {
		ssize_t n;

		if (c->inlen == c->incap) {
			size_t ncap = c->incap ? c->incap * 2 : 4096;
			char *nin;

			if (ncap > CTLC_MAX_LINE) {
				log_warn("control client sent a line over %d bytes; closing", CTLC_MAX_LINE);
				ctl_client_close(c);
				return;
			}
			nin = realloc(c->in, ncap);
			if (nin == NULL) {
				ctl_client_close(c);
				return;
			}
			c->in = nin;
			c->incap = ncap;
		}
		n = recv(io->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			ctl_client_close(c);
			return;
		}
		if (n > 0) {
			c->inlen += (size_t)n;
			ctl_client_handle_lines(c);
		}
	}
	if (c->closing)
		return;
	if (c->outoff < c->outlen) {
		ssize_t n = send(io->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			ctl_client_close(c);
			return;
		}
		if (n > 0)
			c->outoff += (size_t)n;
		if (c->outoff == c->outlen)
			c->outoff = c->outlen = 0;
	}
	loop_io_mod(l, io, EPOLLIN | (c->outlen > c->outoff ? EPOLLOUT : 0));
}

static void
ctl_server_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct ctl_server *s = io->data;
	int i;

	(void)events;
	for (i = 0; i < 16; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (c == NULL || loop_io_add(l, &c->io, fd, EPOLLIN, ctl_client_io, c) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->srv = s;
		c->next = s->clients;
		s->clients = c;
	}
}

int
ctl_server_start(struct loop *l, const char *path, const char *group,
		 ctl_handler_fn handler, void *data, struct ctl_server **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	struct stat st;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->loop = l;
	s->handler = handler;
	s->data = data;
	s->path = strdup(path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->path == NULL || s->fd < 0) {
		rc = s->path == NULL ? -ENOMEM : -errno;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		log_err("cannot bind control socket %s: %s", path, strerror(errno));
		goto fail;
	}
	/* 0660: root and the tandem group (tandem-admin) only. */
	if (chmod(path, 0660) < 0) {
		rc = -errno;
		log_err("cannot chmod control socket %s: %s", path, strerror(errno));
		goto fail;
	}
	if (group != NULL) {
		struct group *g = getgrnam(group);

		if (g == NULL) {
			rc = -ENOENT;
			log_err("control socket group \"%s\" does not exist", group);
			goto fail;
		}
		if (chown(path, (uid_t)-1, g->gr_gid) < 0) {
			rc = -errno;
			log_err("cannot chown control socket %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (stat(path, &st) == 0)
		s->ino = st.st_ino;
	if (listen(s->fd, 16) < 0 ||
	    loop_io_add(l, &s->io, s->fd, EPOLLIN, ctl_server_accept, s) < 0) {
		rc = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	return rc;
}

void
ctl_server_stop(struct ctl_server **sp)
{
	struct ctl_server *s = *sp;
	struct stat st;

	if (s == NULL)
		return;
	while (s->clients != NULL) {
		struct ctl_client *c = s->clients;
		int fd = c->io.fd;

		s->clients = c->next;
		loop_io_del(s->loop, &c->io);
		close(fd);
		ctl_client_free(c);
	}
	loop_io_del(s->loop, &s->io);
	close(s->fd); /* s->fd is our own copy; loop_io_del cleared s->io.fd */
	/* After a binary upgrade the path is the new tandemd's socket. */
	if (stat(s->path, &st) == 0 && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s);
	*sp = NULL;
}
