#ifndef TANDEM_L7_PROXY_T_H
#define TANDEM_L7_PROXY_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf-t.h"
#include "conf-t.h"
#include "dlist-t.h"
#include "l7_freelist.h"
#include "l7_h2sess.h"
#include "l7_mpool.h"
#include "l7_http1-t.h"
#include "l7_io.h"
#include "l7_pool-t.h"
#include "l7_stats-t.h"
#include "lim-t.h"
#include "loop-t.h"
#include "snapshot-t.h"

/*
 * Types of the L7 worker (l7_proxy.c). Everything here belongs to one worker
 * thread except the counters in struct l7_stats, which the control thread
 * reads with relaxed atomic loads.
 */

/* One size for the four I/O buffers of a connection: a request head must
 * fit whole in the client input buffer, and a rewritten head (added
 * headers) in the output buffers. The buffers come from the worker's free
 * list and go back to it whenever a connection waits for a request. */
#define L7_BUF_SIZE		(L7_HTTP1_MAX_HEAD + 512)
#define L7_BUF_FREE_MAX		256	/* free buffers a worker keeps (4 MiB) */
#define L7_REC_FREE_MAX		256	/* free request records a worker keeps */

/* The other timeouts are per listener (conf_l7_timeouts). */
#define L7_TIMEOUT_LINGER_MS		2000	/* draining a client after our last byte */
#define L7_QUEUE_TICK_MS		20	/* re-try queued requests (slots freed elsewhere) */

/* Idle upstream connections kept per member per worker, and for how long.
 * One loop pass can finish many responses at once; a small cap closed most
 * of them and made 0.46 new upstream connects per request under keep-alive
 * load (bench/l7.sh, doc/performance.md). */
#define L7_UP_IDLE_MAX		1024
#define L7_UP_IDLE_TIMEOUT_MS	10000

#define L7_ACCEPT_BATCH		64	/* accepts per event, so one listener cannot starve */
#define L7_STEP_ROUNDS		32	/* state machine rounds per event */

#define L7_CONN_MAGIC	0x4c37434eu	/* "L7CN" */
#define L7_UP_MAGIC	0x4c375550u	/* "L7UP" */

/* Per-worker counters; written by the worker, read by anyone (relaxed). */
struct l7_stats {
	atomic_ulong accepted;
	atomic_ulong active;
	atomic_ulong requests;
	atomic_ulong responses[6];	/* [1..5]: 1xx..5xx final responses sent; [0] other */
	atomic_ulong upstream_errors;	/* connect failures, timeouts, bad or cut responses */
	atomic_ulong upstream_connects;
	atomic_ulong upstream_reuses;
	atomic_ulong bad_requests;	/* refused by the parser */
	atomic_ulong dropped_oom;
	atomic_ulong refused_max_conns;	/* listener max_connections reached: 503 and close */
	atomic_ulong queued;		/* requests that waited for a member slot */
	atomic_ulong queue_timeouts;
	atomic_ulong retries;		/* requests sent again to another member */
	atomic_ulong io_buffers;	/* I/O buffers held by connections now */
	atomic_ulong h2_connections;	/* client connections that spoke HTTP/2 */
	atomic_ulong h2_streams;	/* streams handed to the proxy as requests */
	atomic_ulong h2_abuse;		/* connections closed for a flood or protocol error */
	atomic_ulong tls_handshakes;	/* completed, full or resumed */
	atomic_ulong tls_resumed;
	atomic_ulong tls_failed;	/* handshakes that failed (bad ClientHello, plain HTTP, ...) */
	atomic_ulong refused_banned;	/* rate rules: banned client closed at accept */
	atomic_ulong limit_denied;	/* rate rules and WAF: requests answered by a deny */
};

/* A snapshot as one worker uses it: the snapshot reference plus the runtime
 * state map; refs counts the worker itself and each connection (one thread,
 * plain integer). */
struct l7_view {
	struct snapshot *snap;
	struct l7_pool_map *map;
	int64_t **swrr;			/* [pool][member]: this worker's smooth WRR weights */
	struct l7_stats_map *smap;	/* per-object counters (l7_stats) */
	unsigned refs;
};

struct l7_worker;

/* One listening socket in this worker's epoll. */
struct l7_lsn {
	struct loop_io io;
	struct l7_worker *w;
	struct lsock *ls;		/* identity across snapshots */
	size_t index;			/* in the current view's conf->listeners */
	struct l7_lsn *next;
};

enum l7_up_state {
	L7_UP_CONNECTING = 0,
	L7_UP_TLS,			/* TLS pools: connected, handshake running */
	L7_UP_BUSY,
	L7_UP_IDLE,
};

/* One connection to a member. Busy with one client connection, or idle in
 * the worker's pool, keyed by the member's runtime state. */
struct l7_up {
	unsigned magic;
	struct loop_io io;
	int fd;
	struct loop_timer timer;
	struct l7_worker *w;
	struct l7_member_state *ms;
	struct l7_conn *c;		/* when busy */
	enum l7_up_state state;
	bool reused;			/* has served an earlier request */
	bool rready, wready, eof;
	bool wr_dead;			/* a write failed: the response may still be readable */
	struct l7_h2sess *sess;		/* HTTP/2 pools: the shared member connection, */
	struct l7_h2up_st *st;		/* and this request's stream on it (fd is -1) */
	struct l7_io tio;		/* plain, or TLS for pools with "tls" (l7_tls_up) */
	struct dlist_node ilink;	/* worker's idle list */
};

enum l7_conn_state {
	L7_C_HEAD = 0,			/* waiting for (the rest of) a request head */
	L7_C_FORWARD,			/* one request in flight */
	L7_C_CLOSING,			/* flushing our last bytes, then lingering close */
	L7_C_TARPIT,			/* a rate rule holds the request, then answers it */
};

enum l7_resp_state {
	L7_R_NONE = 0,
	L7_R_CONNECTING,
	L7_R_HEAD,
	L7_R_BODY,
};

/* What the access log and the request id header need of the request in
 * flight (strings copied: the head's buffer is consumed before the request
 * ends). Taken from the worker's free list per request, so that an idle
 * connection does not carry it. */
struct l7_reqrec {
	char method[16], host[96], path[256], rid[40];
	struct lim_verdict lim;		/* the rate rules' verdict (nlog 0: none), for the
					 * answer (tarpit: after the delay) and the log */
};

/* One client connection. Requests are served one at a time in arrival
 * order; pipelined ones wait in ibuf, which answers them in order. Kept
 * small: while it waits for a request it holds no buffer, no record. */
struct l7_conn {
	unsigned magic;
	struct loop_io io;
	int fd;
	struct l7_io tio;		/* plain or TLS transport on fd (l7_io.h) */
	char *client_subject;		/* verified client certificate subject, or NULL */
	struct loop_timer timer;
	struct l7_worker *w;
	struct l7_view *view;		/* the snapshot this connection was accepted on */
	size_t lindex;			/* listener index in view's conf */
	struct lsock *ls;		/* the listener's identity across views */
	char peer[64];			/* "addr:port", for logs */
	char client_ip[48];		/* address only, for X-Forwarded-For */
	uint8_t client[16];		/* IPv4-mapped, for client_cidrs and hashing */
	uint8_t local[16];		/* the address the client connected to (PROXY) */
	uint16_t client_port, local_port;

	struct buf ibuf;		/* client -> proxy */
	struct buf ubuf;		/* proxy -> upstream; the first usent bytes are sent but kept */
	struct buf rbuf;		/* upstream -> proxy */
	struct buf obuf;		/* proxy -> client */
	size_t usent;

	enum l7_conn_state state;
	enum l7_resp_state rstate;
	bool rready, wready, rd_eof, shut_wr, closed;
	bool head_timer;		/* the client timer is the head timeout, not idle */
	bool pp_wait;			/* the listener accepts PROXY: not looked at yet */
	unsigned long nreq;

	struct l7_http1_body reqb, respb;
	enum l7_http1_method req_method;
	int req_minor;
	bool req_keepalive, req_done, idempotent;
	bool client_close;		/* the client asked to close after this request */
	bool fast_close;		/* closing after a clean end: no lingering */
	bool replayable;		/* ubuf still holds every byte of the request sent so far */
	unsigned replays;
	bool resp_started;		/* a final response head went to obuf */
	bool resp_keepalive, client_keep;

	const struct conf_pool *pool;
	const struct conf_route *route;	/* of the request in flight */
	struct l7_pick pick;		/* hash key and sticky member of the request */
	bool set_sticky;		/* the response inserts the sticky cookie */
	bool retried;			/* already sent again to another member */
	bool fresh_only;		/* after a stale keep-alive connection: connect anew */
	bool upgrade;			/* the request asks for an Upgrade (WebSocket) */
	bool tunnel;			/* 101 relayed: bytes copied both ways */
	bool pp_in_ubuf;		/* ubuf starts with the PROXY header */
	bool last_request;		/* the listener went away: close after this one */
	uint64_t deadline;		/* total timeout (monotonic ms), 0 = none */
	/* access log of the request in flight */
	bool log_pending;
	uint64_t t_start, t_connect, t_first;
	uint64_t bytes_out;
	size_t msg_head_len;
	int status;
	struct l7_reqrec *rec;		/* while a request is in flight */
	struct loop_timer tarpit;	/* the rate rules' tarpit: answers rec->lim later */
	struct dlist_node qlink;	/* worker's queue (linked: waiting for a member slot) */
	uint64_t tried;			/* members already tried for this request */
	int member;
	struct l7_up *up;
	struct l7_stats_req sr;		/* per-object counters of this connection */

	/* HTTP/2 (l7_h2): a connection speaking it carries h2 and no request
	 * of its own; each stream is a connection object of its own without a
	 * socket (h2s set, stream true) whose client side is the stream */
	struct l7_h2_conn *h2;
	struct l7_h2_stream *h2s;
	bool stream;
	bool via_tls;			/* a stream whose connection is TLS */
	bool grpc;			/* a gRPC request on a stream: gRPC-shaped local answers */
	/* l7__h2_*_kick: queued on the worker's kick list, run again soon */
	struct dlist_node klink;
	unsigned kround;		/* the worker's kick round it was queued for */

	struct dlist_node link;		/* worker's list, for shutdown */
};

struct l7_worker {
	unsigned index;
	pthread_t thread;
	bool started;
	bool stopping;
	struct loop *loop;
	struct l7_view *view;		/* current */
	unsigned long gen;
	struct l7_lsn *lsns;
	struct dlist conns;		/* struct l7_conn (link) */
	struct dlist idle;		/* idle struct l7_up (ilink), newest first */
	unsigned nidle;			/* connections in idle */
	struct l7_h2sess_set h2s;	/* HTTP/2 pools' member connections */
	struct dlist queue;		/* l7_conn (qlink) waiting for a member slot, FIFO */
	struct loop_timer qtick;
	void *md;			/* pcre2 match data for route regexes */
	uint64_t rng;			/* xorshift state: power of two choices, request ids */
	uint64_t rid_seq;
	/* The head being parsed, request or response: it is used within one
	 * call (parse, then route or rewrite), so one per worker is enough. */
	struct l7_http1_msg msg;
	struct l7_freelist bufs;	/* L7_BUF_SIZE I/O buffers */
	struct l7_freelist recs;	/* struct l7_reqrec */
	struct l7_mpool mp;		/* HTTP/2 streams, their requests, nghttp2's objects */
	uint64_t trim_at;		/* next trim of the free lists (loop clock, ms) */
	/* connections kicked by l7_h2 (l7__h2_request_kick), run in order by
	 * one 0 ms timer instead of a timer each (the heap per stream costs) */
	struct dlist kicks;		/* struct l7_conn (klink), FIFO */
	unsigned kick_round;
	struct loop_timer kick;
	struct l7_stats stats;
};

#endif
