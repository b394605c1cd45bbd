/*
 * snapshot - config snapshots and the listening-socket registry.
 *
 * Invariants: snapshot_current is only written under snapshot_lock; every
 * lsock in the registry has refs > 0; a snapshot's lsocks[i] matches
 * conf->listeners[i].
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "errs.h"
#include "l7_tlsconf.h"
#include "lim_run.h"
#include "log.h"
#include "snapshot.h"

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *snapshot_current;
static atomic_ulong snapshot_gen;
static struct lsock *lsock_registry;	/* guarded by snapshot_lock */
static unsigned lsock_nfds = 1;

/* Binary upgrade (upgrade.c): listening sockets handed over by the old
 * tandemd, by key, waiting for the first build to claim them. Main thread. */
struct lsock_inherited {
	char key[80];
	int *fds;
	unsigned nfds;
	struct lsock_inherited *next;
};
static struct lsock_inherited *lsock_inherited;

void
snapshot_workers_set(unsigned n)
{
	lsock_nfds = n ? n : 1;
}

static void lsock_freebind(int fd, int family);

/* Binds and listens one socket for l; -1 with errs on failure. */
static int
lsock_bind(const struct conf_listener *l, const char *path, struct errs *errs)
{
	int fd, one = 1;

	fd = socket(l->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errs_add(errs, path, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (l->freebind)
		lsock_freebind(fd, l->sa.ss_family);
	if (bind(fd, (const struct sockaddr *)&l->sa, l->salen) < 0 || listen(fd, 1024) < 0) {
		errs_add(errs, path, "cannot listen on %s port %u: %s", l->address, l->port,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
lsock_key(const struct conf_listener *l, char *key, size_t len)
{
	snprintf(key, len, "%s|%u", l->address, l->port);
}

/* A listener on a VRRP VIP binds before this node owns the address, so the
 * new MASTER serves the moment the VIP arrives (no bind after failover). */
static void
lsock_freebind(int fd, int family)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
		log_warn("IP_FREEBIND: %s", strerror(errno));
#ifdef IPV6_FREEBIND
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
#else
	(void)family;
#endif
}

int
snapshot_inherit(const char *key, int fd)
{
	struct lsock_inherited *h;
	int *n;

	for (h = lsock_inherited; h != NULL && strcmp(h->key, key) != 0; h = h->next)
		;
	if (h == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		snprintf(h->key, sizeof(h->key), "%s", key);
		h->next = lsock_inherited;
		lsock_inherited = h;
	}
	n = realloc(h->fds, (h->nfds + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n[h->nfds++] = fd;
	h->fds = n;
	return 0;
}

/* Takes the inherited sockets of key when there is one per worker. */
static int *
lsock_inherited_take(const char *key)
{
	struct lsock_inherited **pp, *h;
	int *fds;

	for (pp = &lsock_inherited; (h = *pp) != NULL; pp = &h->next)
		if (strcmp(h->key, key) == 0)
			break;
	if (h == NULL || h->nfds != lsock_nfds)
		return NULL;
	*pp = h->next;
	fds = h->fds;
	free(h);
	log_notice("listener %s: taken over from the old tandemd (%u sockets)", key, lsock_nfds);
	return fds;
}

void
snapshot_inherit_drop(void)
{
	while (lsock_inherited != NULL) {
		struct lsock_inherited *h = lsock_inherited;

		lsock_inherited = h->next;
		log_notice("listener %s of the old tandemd is not in the config: closed", h->key);
		for (unsigned i = 0; i < h->nfds; i++)
			close(h->fds[i]);
		free(h->fds);
		free(h);
	}
}

/* Finds or binds the socket for l. Returns a new reference or NULL with errs. */
static struct lsock *
lsock_get(const struct conf_listener *l, struct errs *errs)
{
	struct lsock *ls;
	char key[80], path[64];
	int fd, *fds;
	unsigned i;

	lsock_key(l, key, sizeof(key));
	pthread_mutex_lock(&snapshot_lock);
	for (ls = lsock_registry; ls != NULL; ls = ls->next) {
		if (strcmp(ls->key, key) == 0) {
			atomic_fetch_add(&ls->refs, 1);
			pthread_mutex_unlock(&snapshot_lock);
			return ls;
		}
	}
	pthread_mutex_unlock(&snapshot_lock);

	snprintf(path, sizeof(path), "$.listeners[%zu].port", l->index);
	ls = calloc(1, sizeof(*ls));
	fds = lsock_inherited_take(key);
	if (fds != NULL && ls != NULL)
		goto have;
	if (fds == NULL)
		fds = calloc(lsock_nfds, sizeof(*fds));
	if (ls == NULL || fds == NULL) {
		errs_add(errs, path, "out of memory");
		free(ls);
		free(fds);
		return NULL;
	}
	for (i = 0; i < lsock_nfds; i++) {
		fds[i] = lsock_bind(l, path, errs);
		if (fds[i] < 0) {
			while (i-- > 0)
				close(fds[i]);
			free(fds);
			free(ls);
			return NULL;
		}
	}
	log_notice("listening on %s port %u", l->address, l->port);
have:
	ls->fds = fds;
	ls->nfds = lsock_nfds;
	fd = fds[0];
	atomic_init(&ls->refs, 1);
	ls->fd = fd;
	memcpy(ls->key, key, sizeof(ls->key));
	pthread_mutex_lock(&snapshot_lock);
	ls->next = lsock_registry;
	lsock_registry = ls;
	pthread_mutex_unlock(&snapshot_lock);
	return ls;
}

static void
lsock_put(struct lsock *ls)
{
	struct lsock **pp;

	if (atomic_fetch_sub(&ls->refs, 1) != 1)
		return;
	pthread_mutex_lock(&snapshot_lock);
	for (pp = &lsock_registry; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ls) {
			*pp = ls->next;
			break;
		}
	}
	pthread_mutex_unlock(&snapshot_lock);
	log_notice("closed listener %s", ls->key);
	for (unsigned i = 0; i < ls->nfds; i++)
		close(ls->fds[i]);
	free(ls->fds);
	free(ls);
}

static void
snapshot_free(struct snapshot *s)
{
	size_t i;

	for (i = 0; s->lsocks != NULL && i < s->conf->nlisteners; i++)
		if (s->lsocks[i] != NULL)
			lsock_put(s->lsocks[i]);
	free(s->lsocks);
	if (s->tls != NULL)
		l7_tlsconf_release(s->tls, s->conf->nlisteners);
	free(s->tls);
	if (s->uptls != NULL)
		l7_tlsconf_up_release(s->uptls, s->conf->npools);
	free(s->uptls);
	conf_free(&s->conf);
	s->magic = 0;
	free(s);
}

struct snapshot *
snapshot_build(const char *path, struct errs *errs)
{
	struct snapshot *s;
	size_t i, before = errs->count;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errs_add(errs, "$", "out of memory");
		return NULL;
	}
	s->magic = SNAPSHOT_MAGIC;
	atomic_init(&s->refs, 1);
	s->conf = conf_load_file(path, errs);
	if (s->conf == NULL)
		goto fail;
	/* rate rules take their counter tables (kept across reloads by name) */
	if (s->conf->rate_rules != NULL && lim_run_bind(s->conf->rate_rules) < 0) {
		errs_add(errs, "$.rate_rules", "out of memory for the counter tables");
		goto fail;
	}
	s->lsocks = calloc(s->conf->nlisteners + 1, sizeof(*s->lsocks));
	if (s->lsocks == NULL) {
		errs_add(errs, "$", "out of memory");
		goto fail;
	}
	/* Bind every listener; any failure throws the whole snapshot away and
	 * releases only what this build took (existing sockets stay open). */
	for (i = 0; i < s->conf->nlisteners; i++)
		s->lsocks[i] = lsock_get(&s->conf->listeners[i], errs);
	if (errs->count != before)
		goto fail;
	/* Certificates load before the snapshot is published: a bad one
	 * refuses the reload and the running one keeps serving. */
	s->tls = calloc(s->conf->nlisteners + 1, sizeof(*s->tls));
	if (s->tls == NULL) {
		errs_add(errs, "$", "out of memory");
		goto fail;
	}
	if (l7_tlsconf_build(s->conf, s->tls, errs) < 0)
		goto fail;
	s->uptls = calloc(s->conf->npools + 1, sizeof(*s->uptls));
	if (s->uptls == NULL) {
		errs_add(errs, "$", "out of memory");
		goto fail;
	}
	if (l7_tlsconf_up_build(s->conf, s->uptls, errs) < 0)
		goto fail;
	s->loaded_at = (long)time(NULL);
	return s;
fail:
	snapshot_free(s);
	return NULL;
}

unsigned long
snapshot_publish(struct snapshot *s)
{
	struct snapshot *old;
	unsigned long gen;

	pthread_mutex_lock(&snapshot_lock);
	old = snapshot_current;
	gen = atomic_load(&snapshot_gen) + 1;
	s->generation = gen;
	snapshot_current = s;
	atomic_store(&snapshot_gen, gen);
	pthread_mutex_unlock(&snapshot_lock);
	snapshot_release(&old);
	return gen;
}

struct snapshot *
snapshot_acquire(void)
{
	struct snapshot *s;

	pthread_mutex_lock(&snapshot_lock);
	s = snapshot_current;
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&snapshot_lock);
	return s;
}

void
snapshot_ref(struct snapshot *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void
snapshot_release(struct snapshot **sp)
{
	struct snapshot *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->magic != SNAPSHOT_MAGIC)
		abort(); /* a corrupted or double-freed snapshot: stop before worse */
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		snapshot_free(s);
}

unsigned long
snapshot_generation(void)
{
	return atomic_load(&snapshot_gen);
}

void
snapshot_shutdown(void)
{
	struct snapshot *s;

	pthread_mutex_lock(&snapshot_lock);
	s = snapshot_current;
	snapshot_current = NULL;
	pthread_mutex_unlock(&snapshot_lock);
	snapshot_release(&s);
}
