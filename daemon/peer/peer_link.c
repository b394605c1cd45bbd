/*
 * peer_link - the connection between the two tandemds of a pair.
 *
 * One TCP connection, TLS 1.3 only, both ends presenting a certificate of
 * the pair's CA (and nothing else trusted); a peer whose certificate names
 * this node itself is refused too. The node whose listen address sorts
 * lower dials; the other listens and accepts one connection at a time.
 *
 * Messages (peer-t.h) flow as frames. Each node numbers its batches
 * (seq, per session: a random id drawn at start) and keeps them until the
 * peer acknowledges them (ACK carries the highest seq applied, cumulative).
 * HELLO, sent first by both, says which of the other's sessions the sender
 * holds state of and up to which seq (rx_session, rx_seq). After a
 * reconnect the sender then either *resumes* (the peer holds our current
 * session: resend the unacknowledged batches after its rx_seq) or, when it
 * cannot (the peer restarted, or our queue was trimmed), sends a *full*
 * batch. A node that holds no usable state of the peer's session (it
 * restarted, or sees a gap in seq) asks for one with RESYNC.
 *
 * Threading: the link runs in its own thread with a non-blocking socket and
 * poll(); the main loop only calls peer_health_set and peer_status_json,
 * which take p->mu. Every field below the mutex comment is guarded by it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "log.h"
#include "peer.h"

#define PEER_QUEUE_MAX 1024		/* unacknowledged batches kept for a resume */
#define PEER_TICK_MS 50
#define PEER_PING_MS 1000
#define PEER_DEAD_MS 3000		/* no frame for this long: reconnect */
#define PEER_HANDSHAKE_MS 3000
#define PEER_RETRY_MS 200
#define PEER_NAME_MAX 64
#define PEER_SYNC_MS 10			/* default collection interval */
#define PEER_GATE_MS 30000		/* default: synced without a full batch after this */
#define PEER_LAG_SAMPLES 1024		/* sync lags kept for the p99 in status */

struct peer_out {
	uint64_t seq;
	uint64_t ms;			/* when it was queued (sync lag) */
	unsigned char *frame;
	size_t len;
};

struct peer {
	pthread_t th;
	atomic_int stop;
	atomic_int kick;		/* drop the connection (tests, operators) */
	SSL_CTX *ctx;
	struct sockaddr_storage lsa, csa;
	socklen_t lsalen, csalen;
	char listen[128], connect[128];
	int dial;			/* 1: we dial, 0: we accept */
	int lfd;
	int next_fd;			/* accepted while a session ran: replaces it */
	SSL *next_ssl;
	char node[PEER_NAME_MAX];	/* our certificate's CN */
	struct peer_sync_ops sync;	/* collect == NULL: health only */
	unsigned sync_ms, gate_ms;
	uint64_t start_ms;
	uint64_t last_collect_ms;	/* link thread only */

	pthread_mutex_t mu;
	/* ---- guarded by mu ---- */
	enum peer_state state;
	char peer_node[PEER_NAME_MAX];
	char last_error[256];
	uint64_t session, out_seq, acked;
	struct peer_out q[PEER_QUEUE_MAX];
	size_t qhead, qlen;		/* ring of unacknowledged batches */
	uint64_t rx_session, rx_seq;	/* the peer's session we hold state of */
	json_t *peer_health;		/* the peer's health view (members) */
	json_t *health;			/* ours, as the main loop last set it */
	char *health_sent;		/* its text when last queued */
	unsigned long connects, resumes, fulls_sent, fulls_rx, resyncs_asked, refused;
	unsigned long batches_tx, batches_rx;
	unsigned long recs_applied, recs_refused, oversize;
	uint64_t last_rx_ms, up_since_ms;
	long rtt_ms;
	uint32_t lag[PEER_LAG_SAMPLES];	/* queue-to-ack times of the last batches */
	unsigned long nlag;
	uint32_t lag_max;
};

static uint64_t
peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Records the reason the link is down (log at notice once per change). */
static void
peer_error(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
peer_error(struct peer *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&p->mu);
	if (strcmp(msg, p->last_error) != 0)
		log_notice("peer: %s", msg);
	snprintf(p->last_error, sizeof(p->last_error), "%s", msg);
	pthread_mutex_unlock(&p->mu);
}

/* Parses "ADDR:PORT" or "[V6]:PORT". */
static int
peer_parse_addr(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon;
	char *end;
	long port;
	size_t n;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		n = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ TLS */

static const char *
peer_ssl_err(void)
{
	static __thread char buf[200];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "connection closed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* The CN of a certificate into out (empty when none). */
static void
peer_cert_cn(X509 *crt, char *out, size_t len)
{
	out[0] = '\0';
	if (crt == NULL ||
	    X509_NAME_get_text_by_NID(X509_get_subject_name(crt), NID_commonName, out, (int)len) < 0)
		out[0] = '\0';
}

static int
peer_ctx_load(struct peer *p, const char *dir)
{
	char ca[4200], crt[4200], key[4200];
	X509 *own;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(crt, sizeof(crt), "%s/node.pem", dir);
	snprintf(key, sizeof(key), "%s/node.key", dir);
	p->ctx = SSL_CTX_new(TLS_method());
	if (p->ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(p->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate_file(p->ctx, crt, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(p->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(p->ctx) != 1 ||
	    SSL_CTX_load_verify_locations(p->ctx, ca, NULL) != 1) {
		log_err("peer: cannot load the pair's certificates from %s: %s", dir, peer_ssl_err());
		return -EINVAL;
	}
	/* Only the pair's CA, from both sides, and no session resumption
	 * across the pair's restarts (a fresh handshake costs nothing here). */
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(p->ctx, 1);
	SSL_CTX_set_session_cache_mode(p->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(p->ctx, 0);
	SSL_CTX_set_mode(p->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	own = SSL_CTX_get0_certificate(p->ctx);
	peer_cert_cn(own, p->node, sizeof(p->node));
	if (p->node[0] == '\0') {
		log_err("peer: %s has no common name", crt);
		return -EINVAL;
	}
	return 0;
}

/* Waits until fd is ready for what SSL wants; -1 on timeout or stop. */
static int
peer_wait(struct peer *p, int fd, int err, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	uint64_t now = peer_now_ms();

	if (atomic_load(&p->stop) || now >= deadline)
		return -1;
	return poll(&pfd, 1, (int)(deadline - now > 100 ? 100 : deadline - now)) < 0 &&
	       errno != EINTR ? -1 : 0;
}

/* Writes all of buf (a frame) within PEER_DEAD_MS. 0 or -1. */
static int
peer_write(struct peer *p, SSL *ssl, int fd, const unsigned char *buf, size_t len)
{
	uint64_t deadline = peer_now_ms() + PEER_DEAD_MS;
	size_t done = 0;

	while (done < len) {
		int n = SSL_write(ssl, buf + done, (int)(len - done));

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		n = SSL_get_error(ssl, n);
		if ((n != SSL_ERROR_WANT_READ && n != SSL_ERROR_WANT_WRITE) ||
		    peer_wait(p, fd, n, deadline) < 0) {
			peer_error(p, "write to %s failed: %s", p->peer_node, peer_ssl_err());
			return -1;
		}
	}
	return 0;
}

static int
peer_send(struct peer *p, SSL *ssl, int fd, json_t *msg)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (msg == NULL || peer_frame_encode(msg, &buf, &len) < 0) {
		json_decref(msg);
		return -1;
	}
	json_decref(msg);
	rc = peer_write(p, ssl, fd, buf, len);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------- batches */

/* Queues a batch of records (taken) as the next seq; mu held. Returns the
 * queue entry (its frame is what to send) or NULL. */
static struct peer_out *
peer_queue(struct peer *p, json_t *records, int full)
{
	struct peer_out *o;
	json_t *msg;

	if (p->qlen == PEER_QUEUE_MAX) {
		/* The oldest goes; a peer that still needs it gets a full
		 * batch instead (the resume check sees the gap). */
		o = &p->q[p->qhead];
		free(o->frame);
		p->qhead = (p->qhead + 1) % PEER_QUEUE_MAX;
		p->qlen--;
	}
	o = &p->q[(p->qhead + p->qlen) % PEER_QUEUE_MAX];
	msg = json_pack("{s:s, s:I, s:b, s:o}", "t", "batch", "seq", (json_int_t)(p->out_seq + 1),
			"full", full, "records", records);
	if (msg == NULL || peer_frame_encode(msg, &o->frame, &o->len) < 0) {
		if (msg != NULL) {
			p->oversize++;	/* or out of memory: the peer misses it */
			snprintf(p->last_error, sizeof(p->last_error),
				 "a batch did not fit in a frame (%d bytes at most)", PEER_FRAME_MAX);
		}
		json_decref(msg);
		return NULL;
	}
	json_decref(msg);
	o->seq = ++p->out_seq;
	o->ms = peer_now_ms();
	p->qlen++;
	p->batches_tx++;
	return o;
}

/* Our health view as a record (new); mu held. */
static json_t *
peer_health_record(struct peer *p)
{
	return json_pack("{s:s, s:o}", "k", "health", "members",
			 p->health ? json_incref(p->health) : json_array());
}

/* Copies the frames of batches with seq > after; mu held. */
static size_t
peer_pending(struct peer *p, uint64_t after, struct peer_out *out)
{
	size_t i, n = 0;

	for (i = 0; i < p->qlen; i++) {
		struct peer_out *o = &p->q[(p->qhead + i) % PEER_QUEUE_MAX];

		if (o->seq > after) {
			out[n] = *o;
			out[n].frame = malloc(o->len);
			if (out[n].frame == NULL)
				break;
			memcpy(out[n].frame, o->frame, o->len);
			n++;
		}
	}
	return n;
}

static int
peer_send_frames(struct peer *p, SSL *ssl, int fd, struct peer_out *f, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = peer_write(p, ssl, fd, f[i].frame, f[i].len);
		free(f[i].frame);
	}
	return rc;
}

/* Queues records (taken) as the next batch and sends it; mu NOT held. */
static int
peer_queue_send(struct peer *p, SSL *ssl, int fd, json_t *recs, int full)
{
	struct peer_out *o, copy = { 0 };

	pthread_mutex_lock(&p->mu);
	o = peer_queue(p, recs, full);
	if (o != NULL) {
		copy = *o;
		copy.frame = malloc(o->len);
		if (copy.frame != NULL)
			memcpy(copy.frame, o->frame, o->len);
	}
	pthread_mutex_unlock(&p->mu);
	if (copy.frame == NULL)
		return o == NULL ? 0 : -1;	/* an oversize batch is dropped, counted */
	return peer_send_frames(p, ssl, fd, &copy, 1);
}

/* A full batch of everything we hold: the health view and what the sync
 * ops collect (limiter snapshots, bans, ticket keys). */
static int
peer_send_full(struct peer *p, SSL *ssl, int fd)
{
	json_t *recs = p->sync.collect ? p->sync.collect(p->sync.data, 1) : NULL;

	if (recs == NULL)
		recs = json_array();
	p->last_collect_ms = peer_now_ms();
	pthread_mutex_lock(&p->mu);
	json_array_insert_new(recs, 0, peer_health_record(p));
	free(p->health_sent);
	p->health_sent = p->health ? json_dumps(p->health, JSON_COMPACT) : NULL;
	p->fulls_sent++;
	pthread_mutex_unlock(&p->mu);
	return peer_queue_send(p, ssl, fd, recs, 1);
}

/* Applies one record of a batch; a record this node cannot use is counted
 * and logged, never fatal (the rest of the batch still applies). */
static void
peer_apply_rec(struct peer *p, const json_t *rec, int full)
{
	struct peer_rec r;
	const char *err = NULL;
	int rc = peer_rec_decode(rec, &r, &err);
	enum peer_rec_kind kind = r.kind;

	r.full = full;
	if (rc == 0 && kind == PEER_REC_HEALTH) {
		pthread_mutex_lock(&p->mu);
		json_decref(p->peer_health);
		p->peer_health = json_incref((json_t *)r.members);
		p->recs_applied++;
		pthread_mutex_unlock(&p->mu);
	} else if (rc == 0) {
		rc = p->sync.apply ? p->sync.apply(p->sync.data, &r, &err) : -ENOTSUP;
		if (rc == -ENOTSUP && err == NULL)
			err = "this node keeps no such state";
	}
	peer_rec_clear(&r);
	pthread_mutex_lock(&p->mu);
	if (rc == 0 && kind != PEER_REC_HEALTH)
		p->recs_applied++;
	if (rc < 0) {
		if (p->recs_refused++ < 10)
			log_warn("peer: a %s record from %s was refused: %s",
				 json_string_value(json_object_get(rec, "k")) ?: "?", p->peer_node,
				 err ? err : strerror(-rc));
		snprintf(p->last_error, sizeof(p->last_error), "record refused: %s",
			 err ? err : strerror(-rc));
	}
	pthread_mutex_unlock(&p->mu);
}

/* Applies one batch from the peer; answers ACK or RESYNC. */
static int
peer_on_batch(struct peer *p, SSL *ssl, int fd, json_t *m, uint64_t peer_session)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
	int full = json_is_true(json_object_get(m, "full"));
	json_t *rec;
	size_t i;

	pthread_mutex_lock(&p->mu);
	if (!full && (p->rx_session != peer_session || seq > p->rx_seq + 1)) {
		/* No base to apply it on, or a gap: ask for everything. */
		p->resyncs_asked++;
		pthread_mutex_unlock(&p->mu);
		return peer_send(p, ssl, fd, json_pack("{s:s}", "t", "resync"));
	}
	if (full || seq == p->rx_seq + 1) {
		/* Only this thread changes rx_*: apply without holding mu (a
		 * full limiter snapshot takes a while; status must not wait). */
		pthread_mutex_unlock(&p->mu);
		json_array_foreach(json_object_get(m, "records"), i, rec)
			peer_apply_rec(p, rec, full);
		if (full && p->sync.full_applied != NULL)
			p->sync.full_applied(p->sync.data);
		pthread_mutex_lock(&p->mu);
		p->rx_session = peer_session;
		p->rx_seq = seq;
		p->batches_rx++;
		if (full)
			p->fulls_rx++;
	}
	/* seq <= rx_seq: a duplicate after a resume; ack it again. */
	pthread_mutex_unlock(&p->mu);
	return peer_send(p, ssl, fd, json_pack("{s:s, s:I}", "t", "ack", "seq", (json_int_t)seq));
}

static void
peer_on_ack(struct peer *p, uint64_t seq)
{
	uint64_t now = peer_now_ms();

	pthread_mutex_lock(&p->mu);
	while (p->qlen > 0 && p->q[p->qhead].seq <= seq) {
		uint32_t lag = (uint32_t)(now - p->q[p->qhead].ms);

		p->lag[p->nlag++ % PEER_LAG_SAMPLES] = lag;
		if (lag > p->lag_max)
			p->lag_max = lag;
		free(p->q[p->qhead].frame);
		p->q[p->qhead].frame = NULL;
		p->qhead = (p->qhead + 1) % PEER_QUEUE_MAX;
		p->qlen--;
	}
	if (seq > p->acked)
		p->acked = seq;
	pthread_mutex_unlock(&p->mu);
}

/* After the peer's HELLO: resume our batches, or send a full one. */
static int
peer_resume(struct peer *p, SSL *ssl, int fd, uint64_t their_rx_session, uint64_t their_rx_seq)
{
	struct peer_out *f;
	size_t n = 0;
	int can;

	pthread_mutex_lock(&p->mu);
	/* The peer holds our session up to their_rx_seq: every later batch
	 * must still be queued (the oldest queued one follows it directly). */
	can = their_rx_session == p->session && their_rx_seq <= p->out_seq &&
	      (p->qlen == 0 ? their_rx_seq == p->out_seq : p->q[p->qhead].seq <= their_rx_seq + 1);
	f = can ? calloc(PEER_QUEUE_MAX, sizeof(*f)) : NULL;
	if (f != NULL) {
		n = peer_pending(p, their_rx_seq, f);
		p->resumes++;
		if (their_rx_seq > p->acked)
			p->acked = their_rx_seq;
	}
	pthread_mutex_unlock(&p->mu);
	if (f == NULL && their_rx_session != p->session)
		return 0;	/* it holds nothing of this session: its RESYNC follows */
	if (f == NULL)
		return peer_send_full(p, ssl, fd);	/* our queue no longer reaches back */
	log_info("peer: resuming with %s after seq %llu (%zu batch%s to resend)", p->peer_node,
		 (unsigned long long)their_rx_seq, n, n == 1 ? "" : "es");
	n = (size_t)peer_send_frames(p, ssl, fd, f, n);
	free(f);
	return (int)n;
}

/* ------------------------------------------------------------ sessions */

/* Reads what is there into buf; 1 = got bytes, 0 = nothing yet, -1 = gone. */
static int
peer_read(struct peer *p, SSL *ssl, unsigned char *buf, size_t cap, size_t *len)
{
	int got = 0;

	while (*len < cap) {
		int n = SSL_read(ssl, buf + *len, (int)(cap - *len));

		if (n > 0) {
			*len += (size_t)n;
			got = 1;
			continue;
		}
		n = SSL_get_error(ssl, n);
		if (n == SSL_ERROR_WANT_READ || n == SSL_ERROR_WANT_WRITE)
			return got;
		peer_error(p, "connection to %s lost: %s", p->peer_node[0] ? p->peer_node : "peer",
			   n == SSL_ERROR_ZERO_RETURN ? "closed by the peer" : peer_ssl_err());
		return -1;
	}
	return got;
}

static int peer_handshake(struct peer *p, int fd, int dial, uint64_t ms, SSL **out);

/* A connection arrived while a session runs: 1 when it is the peer's
 * (kept in next_fd/next_ssl to replace the session), 0 otherwise. */
static int
peer_accept_during(struct peer *p)
{
	int one = 1, fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	SSL *ssl;

	if (fd < 0)
		return 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (peer_handshake(p, fd, 0, 1000, &ssl) < 0) {
		close(fd);
		return 0;
	}
	log_notice("peer: a new connection from the peer replaces the current one");
	p->next_fd = fd;
	p->next_ssl = ssl;
	return 1;
}

/* One connection's life after the TLS handshake. */
static void
peer_session(struct peer *p, SSL *ssl, int fd)
{
	size_t cap = PEER_FRAME_MAX + 4, len = 0;
	unsigned char *buf = malloc(cap);
	uint64_t peer_session = 0, last_ping = 0, start = peer_now_ms();
	int hello = 0;
	json_t *m;

	if (buf == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	m = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "t", "hello", "node", p->node,
		      "version", PEER_PROTO_VERSION, "session", (json_int_t)p->session,
		      "rx_session", (json_int_t)p->rx_session, "rx_seq", (json_int_t)p->rx_seq);
	pthread_mutex_unlock(&p->mu);
	if (peer_send(p, ssl, fd, m) < 0)
		goto out;
	while (!atomic_load(&p->stop)) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
					 { .fd = p->lfd, .events = POLLIN } };
		uint64_t now = peer_now_ms();
		const char *err = NULL;
		size_t used;
		int rc, wait_ms;

		if (atomic_exchange(&p->kick, 0)) {
			peer_error(p, "reconnect requested");
			break;
		}
		if (!hello && now - start > PEER_HANDSHAKE_MS) {
			peer_error(p, "no hello from the peer within %d ms", PEER_HANDSHAKE_MS);
			break;
		}
		pthread_mutex_lock(&p->mu);
		if (hello && now - p->last_rx_ms > PEER_DEAD_MS) {
			pthread_mutex_unlock(&p->mu);
			peer_error(p, "%s silent for %d ms", p->peer_node, PEER_DEAD_MS);
			break;
		}
		/* Our health view changed: one batch with the new view. */
		if (hello && p->health != NULL) {
			char *text = json_dumps(p->health, JSON_COMPACT);

			if (text != NULL && (p->health_sent == NULL || strcmp(text, p->health_sent) != 0)) {
				json_t *recs = json_pack("[o]", peer_health_record(p));

				free(p->health_sent);
				p->health_sent = text;
				pthread_mutex_unlock(&p->mu);
				if (peer_queue_send(p, ssl, fd, recs, 0) < 0)
					break;
				pthread_mutex_lock(&p->mu);
			} else {
				free(text);
			}
		}
		pthread_mutex_unlock(&p->mu);
		/* Limiter deltas, new bans, a new ticket key: one batch. */
		if (hello && p->sync.collect != NULL && now - p->last_collect_ms >= p->sync_ms) {
			json_t *recs = p->sync.collect(p->sync.data, 0);

			if (json_array_size(recs) > 0) {
				if (peer_queue_send(p, ssl, fd, recs, 0) < 0)
					break;
			} else {
				json_decref(recs);
			}
			/* the interval runs from the end: a collection that took
			 * longer than the interval (a loaded machine, a burst of
			 * keys) is followed by a pause, not by another at once */
			p->last_collect_ms = peer_now_ms();
		}
		if (hello && now - last_ping >= PEER_PING_MS) {
			last_ping = now;
			if (peer_send(p, ssl, fd, json_pack("{s:s, s:I}", "t", "ping", "ms",
							    (json_int_t)now)) < 0)
				break;
		}
		/* wake for the next collection, not a whole interval after the
		 * last wake-up (an ack arriving just before it was due used to
		 * push it back by up to one interval) */
		wait_ms = PEER_TICK_MS;
		if (hello && p->sync.collect != NULL) {
			uint64_t since = peer_now_ms() - p->last_collect_ms;

			wait_ms = since >= p->sync_ms ? 0 : (int)(p->sync_ms - since);
		}
		if (SSL_pending(ssl) == 0 && poll(pfd, p->dial ? 1 : 2, wait_ms) < 0 &&
		    errno != EINTR)
			break;
		/* The acceptor keeps answering while the link is up: a client
		 * without the pair's certificate is refused at once, and the
		 * peer reconnecting (it restarted before we noticed the old
		 * connection die) replaces this session. */
		if (!p->dial && (pfd[1].revents & POLLIN) && peer_accept_during(p))
			break;
		rc = peer_read(p, ssl, buf, cap, &len);
		if (rc < 0)
			break;
		while ((rc = peer_frame_parse(buf, len, &m, &used, &err)) == 1) {
			enum peer_msg_type t = peer_msg_type(m);

			memmove(buf, buf + used, len - used);
			len -= used;
			pthread_mutex_lock(&p->mu);
			p->last_rx_ms = peer_now_ms();
			pthread_mutex_unlock(&p->mu);
			if (!hello && t != PEER_MSG_HELLO) {
				err = "a message before hello";
				rc = -1;
			} else if (t == PEER_MSG_HELLO) {
				const char *node = json_string_value(json_object_get(m, "node"));

				peer_session = (uint64_t)json_integer_value(json_object_get(m, "session"));
				pthread_mutex_lock(&p->mu);
				snprintf(p->peer_node, sizeof(p->peer_node), "%s", node ? node : "?");
				p->state = PEER_STATE_UP;
				p->up_since_ms = peer_now_ms();
				p->last_error[0] = '\0';
				p->connects++;
				rc = p->rx_session != peer_session;	/* no state of this session */
				if (rc)
					p->resyncs_asked++;
				pthread_mutex_unlock(&p->mu);
				hello = 1;
				log_notice("peer: link up with %s (%s)", p->peer_node, rc ? "resync" : "resume");
				if (rc && peer_send(p, ssl, fd, json_pack("{s:s}", "t", "resync")) < 0)
					rc = -1;
				else
					rc = peer_resume(p, ssl, fd,
						(uint64_t)json_integer_value(json_object_get(m, "rx_session")),
						(uint64_t)json_integer_value(json_object_get(m, "rx_seq")));
			} else if (t == PEER_MSG_BATCH) {
				rc = peer_on_batch(p, ssl, fd, m, peer_session);
			} else if (t == PEER_MSG_ACK) {
				peer_on_ack(p, (uint64_t)json_integer_value(json_object_get(m, "seq")));
				rc = 0;
			} else if (t == PEER_MSG_RESYNC) {
				rc = peer_send_full(p, ssl, fd);
			} else if (t == PEER_MSG_PING) {
				json_object_set_new(m, "t", json_string("pong"));
				rc = peer_send(p, ssl, fd, json_incref(m));
			} else {	/* PONG */
				pthread_mutex_lock(&p->mu);
				p->rtt_ms = (long)(peer_now_ms() -
					(uint64_t)json_integer_value(json_object_get(m, "ms")));
				pthread_mutex_unlock(&p->mu);
				rc = 0;
			}
			json_decref(m);
			if (rc < 0)
				break;
			rc = 1;
		}
		if (rc < 0) {
			if (err != NULL)
				peer_error(p, "protocol error from %s: %s", p->peer_node, err);
			break;
		}
	}
out:
	free(buf);
}

/* Dials or accepts one connection; the fd, or -1. */
static int
peer_get_fd(struct peer *p)
{
	int fd, one = 1;

	if (!p->dial) {
		struct pollfd pfd = { .fd = p->lfd, .events = POLLIN };

		if (poll(&pfd, 1, PEER_RETRY_MS) <= 0)
			return -1;
		fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	} else {
		struct pollfd pfd;
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(p->csa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&p->csa, p->csalen) < 0 && errno != EINPROGRESS) {
			peer_error(p, "cannot connect to %s: %s", p->connect, strerror(errno));
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
			peer_error(p, "cannot connect to %s: %s", p->connect,
				   err ? strerror(err) : "timed out");
			goto fail;
		}
	}
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	usleep(PEER_RETRY_MS * 1000);
	return -1;
}

/* TLS handshake on fd (dialled or accepted) within ms, and the checks on
 * the peer's certificate. 0 with *out, or -1 (counted, logged). */
static int
peer_handshake(struct peer *p, int fd, int dial, uint64_t ms, SSL **out)
{
	uint64_t deadline = peer_now_ms() + ms;
	char cn[PEER_NAME_MAX];
	SSL *ssl = SSL_new(p->ctx);
	int rc;

	*out = NULL;
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		goto fail;
	for (;;) {
		rc = dial ? SSL_connect(ssl) : SSL_accept(ssl);
		if (rc == 1)
			break;
		rc = SSL_get_error(ssl, rc);
		if ((rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE) ||
		    peer_wait(p, fd, rc, deadline) < 0) {
			peer_error(p, "TLS handshake %s %s failed: %s", dial ? "with" : "from",
				   dial ? p->connect : "a client", peer_ssl_err());
			goto refused;
		}
	}
	peer_cert_cn(SSL_get0_peer_certificate(ssl), cn, sizeof(cn));
	if (SSL_get_verify_result(ssl) != X509_V_OK || cn[0] == '\0' || strcmp(cn, p->node) == 0) {
		peer_error(p, "refused a peer presenting \"%s\" (this node's own name or unverified)", cn);
		goto refused;
	}
	*out = ssl;
	return 0;
refused:
	pthread_mutex_lock(&p->mu);
	p->refused++;
	pthread_mutex_unlock(&p->mu);
fail:
	SSL_free(ssl);
	return -1;
}

static void *
peer_thread(void *arg)
{
	struct peer *p = arg;
	sigset_t pipe;

	/* A write to a connection the peer closed must fail with EPIPE, not
	 * kill the process (tandemd ignores SIGPIPE; tests and benches may
	 * not): a blocked SIGPIPE raised by this thread's write stays pending. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	while (!atomic_load(&p->stop)) {
		SSL *ssl = NULL;
		int fd = p->next_fd;

		p->next_fd = -1;
		if (fd >= 0) {
			ssl = p->next_ssl;	/* accepted (and verified) during the last session */
			p->next_ssl = NULL;
		} else {
			fd = peer_get_fd(p);
			if (fd < 0)
				continue;
			pthread_mutex_lock(&p->mu);
			p->state = PEER_STATE_HANDSHAKE;
			pthread_mutex_unlock(&p->mu);
			if (peer_handshake(p, fd, p->dial, PEER_HANDSHAKE_MS, &ssl) < 0)
				goto next;
		}
		pthread_mutex_lock(&p->mu);
		p->last_rx_ms = peer_now_ms();
		pthread_mutex_unlock(&p->mu);
		peer_session(p, ssl, fd);
		SSL_shutdown(ssl);
next:
		SSL_free(ssl);
		close(fd);
		pthread_mutex_lock(&p->mu);
		p->state = PEER_STATE_CONNECTING;
		pthread_mutex_unlock(&p->mu);
	}
	if (p->next_fd >= 0) {
		SSL_free(p->next_ssl);
		close(p->next_fd);
	}
	return NULL;
}

/* ------------------------------------------------------------- the API */

int
peer_start(const struct peer_opts *opts, struct peer **out)
{
	struct peer *p;
	int one = 1, rc = -EINVAL;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->lfd = -1;
	p->next_fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	p->state = PEER_STATE_CONNECTING;
	snprintf(p->listen, sizeof(p->listen), "%s", opts->listen);
	if (opts->sync != NULL)
		p->sync = *opts->sync;
	p->sync_ms = opts->sync_ms ? opts->sync_ms : PEER_SYNC_MS;
	p->gate_ms = opts->gate_ms ? opts->gate_ms : PEER_GATE_MS;
	p->start_ms = peer_now_ms();
	snprintf(p->connect, sizeof(p->connect), "%s", opts->connect);
	if (peer_parse_addr(opts->listen, &p->lsa, &p->lsalen) < 0 ||
	    peer_parse_addr(opts->connect, &p->csa, &p->csalen) < 0) {
		log_err("peer: --peer-listen and --peer must be ADDR:PORT");
		goto fail;
	}
	if (getrandom(&p->session, sizeof(p->session), 0) != sizeof(p->session)) {
		rc = -errno;
		goto fail;
	}
	p->session &= 0x7fffffffffffffffULL;	/* JSON integers are signed */
	if (p->session == 0)
		p->session = 1;
	rc = peer_ctx_load(p, opts->dir);
	if (rc < 0)
		goto fail;
	/* One connection for the pair: the lower listen address dials. */
	p->dial = strcmp(p->listen, p->connect) < 0;
	if (!p->dial) {
		p->lfd = socket(p->lsa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->lfd < 0 || setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(p->lfd, (struct sockaddr *)&p->lsa, p->lsalen) < 0 || listen(p->lfd, 4) < 0) {
			rc = -errno;
			log_err("peer: cannot listen on %s: %s", p->listen, strerror(errno));
			goto fail;
		}
	}
	rc = -pthread_create(&p->th, NULL, peer_thread, p);
	if (rc < 0)
		goto fail;
	log_notice("peer: node %s, %s %s", p->node, p->dial ? "dialling" : "accepting on",
		   p->dial ? p->connect : p->listen);
	*out = p;
	return 0;
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	SSL_CTX_free(p->ctx);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return rc;
}

void
peer_stop(struct peer **pp)
{
	struct peer *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->th, NULL);
	if (p->lfd >= 0)
		close(p->lfd);
	for (i = 0; i < p->qlen; i++)
		free(p->q[(p->qhead + i) % PEER_QUEUE_MAX].frame);
	json_decref(p->peer_health);
	json_decref(p->health);
	free(p->health_sent);
	SSL_CTX_free(p->ctx);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}

void
peer_kick(struct peer *p)
{
	atomic_store(&p->kick, 1);
}

int
peer_synced(struct peer *p)
{
	int synced;

	pthread_mutex_lock(&p->mu);
	synced = p->fulls_rx > 0 || peer_now_ms() - p->start_ms >= p->gate_ms;
	pthread_mutex_unlock(&p->mu);
	return synced;
}

static int
peer_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p99 of the kept sync lags (ms), -1 without samples; mu held. */
static long
peer_lag_p99(struct peer *p)
{
	uint32_t v[PEER_LAG_SAMPLES];
	size_t n = p->nlag < PEER_LAG_SAMPLES ? p->nlag : PEER_LAG_SAMPLES;

	if (n == 0)
		return -1;
	memcpy(v, p->lag, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), peer_u32_cmp);
	return (long)v[(n * 99 + 99) / 100 - 1];
}

void
peer_health_set(struct peer *p, const json_t *members)
{
	json_t *copy = json_deep_copy(members);

	if (copy == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	json_decref(p->health);
	p->health = copy;
	pthread_mutex_unlock(&p->mu);
}

json_t *
peer_status_json(struct peer *p)
{
	static const char *const states[] = { "disabled", "connecting", "handshake", "up" };
	uint64_t now = peer_now_ms();
	json_t *o;

	pthread_mutex_lock(&p->mu);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:I,"
		      " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:O}",
		      "state", states[p->state], "node", p->node,
		      "role", p->dial ? "dial" : "accept", "listen", p->listen, "connect", p->connect,
		      "peer_node", p->peer_node[0] ? p->peer_node : NULL,
		      "last_error", p->last_error[0] ? p->last_error : NULL,
		      "session", (json_int_t)p->session, "out_seq", (json_int_t)p->out_seq,
		      "acked", (json_int_t)p->acked, "unacked", (json_int_t)p->qlen,
		      "rx_session", (json_int_t)p->rx_session, "rx_seq", (json_int_t)p->rx_seq,
		      "counters", "connects", (json_int_t)p->connects, "resumes", (json_int_t)p->resumes,
		      "fulls_sent", (json_int_t)p->fulls_sent, "fulls_received", (json_int_t)p->fulls_rx,
		      "resyncs_asked", (json_int_t)p->resyncs_asked, "refused", (json_int_t)p->refused,
		      "batches_sent", (json_int_t)p->batches_tx, "batches_received", (json_int_t)p->batches_rx,
		      "last_rx_ms_ago", (json_int_t)(p->state == PEER_STATE_UP ? now - p->last_rx_ms : 0),
		      "rtt_ms", (json_int_t)p->rtt_ms,
		      "peer_health", p->peer_health ? p->peer_health : json_null());
	if (o != NULL) {
		long p99 = peer_lag_p99(p);

		json_object_set_new(o, "synced", json_boolean(p->fulls_rx > 0));
		json_object_set_new(o, "gate_open", json_boolean(p->fulls_rx > 0 ||
								 now - p->start_ms >= p->gate_ms));
		json_object_set_new(o, "sync", json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}",
			"lag_last_ms", p->nlag ? json_integer(p->lag[(p->nlag - 1) % PEER_LAG_SAMPLES]) : json_null(),
			"lag_p99_ms", p99 >= 0 ? json_integer(p99) : json_null(),
			"lag_max_ms", (json_int_t)p->lag_max,
			"records_applied", (json_int_t)p->recs_applied,
			"records_refused", (json_int_t)p->recs_refused,
			"oversize_batches", (json_int_t)p->oversize));
	}
	pthread_mutex_unlock(&p->mu);
	return o;
}

int
peer_metrics(struct peer *p, struct buf *b)
{
	static const char *const counters[][2] = {
		{ "connects", "connects" }, { "resumes", "resumes" },
		{ "fulls_sent", "full_syncs_sent" }, { "fulls_received", "full_syncs_received" },
		{ "refused", "refused_handshakes" }, { "batches_sent", "batches_sent" },
		{ "batches_received", "batches_received" },
	};
	static const char *const gauges[][2] = {
		{ "unacked", "unacked_batches" }, { "rtt_ms", "rtt_ms" },
		{ "last_rx_ms_ago", "last_rx_age_ms" },
	};
	json_t *st = peer_status_json(p), *c, *sy;
	int rc = 0;
	size_t i;

	if (st == NULL)
		return -1;
	c = json_object_get(st, "counters");
	sy = json_object_get(st, "sync");
	/* node names are the pair's certificate CNs: no quotes or backslashes
	 * (pair-init refuses them), nothing to escape */
	rc |= buf_appendf(b, "# TYPE tandem_peer_up gauge\ntandem_peer_up{peer=\"%s\"} %d\n",
			  json_string_value(json_object_get(st, "peer_node")) ?: "",
			  strcmp(json_string_value(json_object_get(st, "state")) ?: "", "up") == 0);
	rc |= buf_appendf(b, "# TYPE tandem_peer_synced gauge\ntandem_peer_synced %d\n",
			  json_is_true(json_object_get(st, "synced")));
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		rc |= buf_appendf(b, "# TYPE tandem_peer_%s gauge\ntandem_peer_%s %lld\n", gauges[i][1],
				  gauges[i][1], (long long)json_integer_value(json_object_get(st, gauges[i][0])));
	/* sync lag: queued batch to the peer's ack, over the last 1,024 */
	if (json_is_integer(json_object_get(sy, "lag_p99_ms")))
		rc |= buf_appendf(b, "# TYPE tandem_peer_sync_lag_p99_ms gauge\n"
				  "tandem_peer_sync_lag_p99_ms %lld\n"
				  "# TYPE tandem_peer_sync_lag_max_ms gauge\n"
				  "tandem_peer_sync_lag_max_ms %lld\n",
				  (long long)json_integer_value(json_object_get(sy, "lag_p99_ms")),
				  (long long)json_integer_value(json_object_get(sy, "lag_max_ms")));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		rc |= buf_appendf(b, "# TYPE tandem_peer_%s_total counter\ntandem_peer_%s_total %lld\n",
				  counters[i][1], counters[i][1],
				  (long long)json_integer_value(json_object_get(c, counters[i][0])));
	rc |= buf_appendf(b, "# TYPE tandem_peer_records_applied_total counter\n"
			  "tandem_peer_records_applied_total %lld\n"
			  "# TYPE tandem_peer_records_refused_total counter\n"
			  "tandem_peer_records_refused_total %lld\n",
			  (long long)json_integer_value(json_object_get(sy, "records_applied")),
			  (long long)json_integer_value(json_object_get(sy, "records_refused")));
	json_decref(st);
	return rc < 0 ? -1 : 0;
}
