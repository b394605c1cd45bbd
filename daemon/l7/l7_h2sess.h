#ifndef TANDEM_L7_H2SESS_H
#define TANDEM_L7_H2SESS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf-t.h"
#include "dlist-t.h"
#include "loop-t.h"

/*
 * l7_h2sess - the member connections of HTTP/2 pools ("upstream_protocol"
 * "h2c", or "h2" over the pool's TLS), one worker's set (doc/http2.md).
 *
 * A session owns its socket (connect, TLS with ALPN h2, reads and writes)
 * and one l7_h2up; many requests share it, each holding a stream
 * (l7_h2sess_open) instead of a connection. The session wakes a stream's
 * owner (the wake callback) when the stream has news: the connection is
 * up or failed, response bytes arrived, the request may go on. A request
 * is sent on an existing session of its member while it has room (the
 * pool's max_streams_per_connection and the member's
 * SETTINGS_MAX_CONCURRENT_STREAMS), else on a new connection.
 *
 * Lifetime: a session stays in the worker's set while it may carry new
 * streams. After the member's GOAWAY it takes none and closes when its
 * last stream ends; a session that died (connection lost) leaves the set
 * at once and is freed when its last stream is closed; one without
 * streams closes after the idle timeout.
 */

struct l7_member_state;
struct snapshot;
struct l7_h2up_st;
struct l7_h2sess;

/* One worker's sessions. */
struct l7_h2sess_set {
	struct loop *loop;
	struct dlist list;		/* struct l7_h2sess that may take streams */
	bool stopping;			/* free at once: the loop no longer runs */
	void (*wake)(void *owner);	/* a stream's owner has news */
	unsigned long connects;		/* connections opened (statistics) */
};

enum l7_h2sess_state {
	L7_H2SESS_CONNECTING = 0,	/* TCP connect or TLS handshake running */
	L7_H2SESS_READY,
	L7_H2SESS_DEAD,			/* the connection is gone */
};

/* A session made under snap to the member whose runtime state is ms that
 * can take another stream, or NULL. */
struct l7_h2sess *l7_h2sess_find(struct l7_h2sess_set *set, const struct snapshot *snap,
				 const struct l7_member_state *ms);

/* Opens a new connection to the member; NULL when the connect failed at
 * once (reported to the member's state: *oom 0) or out of resources
 * (*oom 1). The session holds a reference to snap. */
struct l7_h2sess *l7_h2sess_connect(struct l7_h2sess_set *set, struct snapshot *snap, size_t pi,
				    size_t mi, struct l7_member_state *ms, int *oom);

/* A stream on s for owner, or NULL (no room: l7_h2sess_find said yes, so
 * only out of memory). */
struct l7_h2up_st *l7_h2sess_open(struct l7_h2sess *s, void *owner);
/* Closes the owner's stream (reset when unfinished); may free s. */
void l7_h2sess_close(struct l7_h2sess *s, struct l7_h2up_st **st);

/* Sends what the session has to send (after l7_h2up_take or
 * l7_h2up_response) at the end of this loop pass, so that the frames of
 * many streams leave in one write; 0, or -1 when the connection is gone.
 * l7_h2sess_flush_now writes at once. */
int l7_h2sess_flush(struct l7_h2sess *s);
int l7_h2sess_flush_now(struct l7_h2sess *s);

enum l7_h2sess_state l7_h2sess_state(const struct l7_h2sess *s);
/* 1 when s carried a stream to its end before (a stale session is possible). */
int l7_h2sess_used(const struct l7_h2sess *s);
/* Why a dead session died (for logs), "" otherwise. */
const char *l7_h2sess_why(const struct l7_h2sess *s);

/* The reason for a failed TLS handshake of an HTTP/2 member connection
 * (l7_tls_up_why's text in why): a member that knows no h2 says so with
 * an alert, which is rewritten to say what the operator must fix. */
void l7_h2sess_tls_why(char *why, size_t len);

/* Frees every session of the set (worker teardown, streams all closed). */
void l7_h2sess_free_all(struct l7_h2sess_set *set);

#endif
