#ifndef TANDEM_SNAPSHOT_T_H
#define TANDEM_SNAPSHOT_T_H

#include <stdatomic.h>
#include <stddef.h>

#include "conf-t.h"

struct l7_tls_ctx;
struct l7_tls_up;

#define SNAPSHOT_MAGIC 0x534e4150u /* "SNAP" */

/*
 * A listening socket shared by every snapshot that has a listener on the same
 * address and port, so sockets survive reloads. Reference-counted; the fd is
 * closed when the last snapshot using it is freed.
 */
struct lsock {
	atomic_int refs;
	int fd;			/* fds[0] */
	int *fds;		/* one SO_REUSEPORT socket per worker */
	unsigned nfds;
	atomic_uint conns;	/* open client connections, all workers (max_connections) */
	char key[80];		/* "address|port", the identity across reloads */
	struct lsock *next;	/* registry list, owned by snapshot.c */
};

/*
 * One published configuration: the parsed conf plus everything prepared for
 * it (bound listeners). Immutable after publication; reference-counted.
 */
struct snapshot {
	unsigned magic;
	atomic_int refs;
	unsigned long generation;	/* 1, 2, ... in publication order */
	struct conf *conf;		/* owned */
	struct lsock **lsocks;		/* one per conf->listeners[i], owned references */
	struct l7_tls_ctx **tls;	/* one per listener, NULL when plain (l7_tlsconf) */
	struct l7_tls_up **uptls;	/* one per pool, NULL when plain (l7_tlsconf_up) */
	long loaded_at;			/* wall clock seconds */
};

#endif
