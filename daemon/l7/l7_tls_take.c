/*
 * l7_tls_take - after OpenSSL finished a server handshake, take the record
 * layer over (l7_tlsrec) and free the SSL object, so that an idle TLS
 * connection holds a few hundred bytes of our own instead of OpenSSL's
 * ~12 KiB (doc/tls.md "Record layer", doc/performance.md).
 *
 * What we need from OpenSSL, and where it comes from:
 * - TLS 1.3 traffic secrets: the keylog callback (CLIENT_/SERVER_TRAFFIC_
 *   SECRET_0), copied into this connection's capture and nowhere else.
 * - TLS 1.2 keys: SSL_SESSION_get_master_key and the hello randoms.
 * - Sequence numbers: the message callback reports every record header
 *   read and written (SSL3_RT_HEADER) and every handshake / CCS message;
 *   we count the records after the last key change in each direction
 *   (1.3: our / the client's Finished; 1.2: the ChangeCipherSpec).
 * - Nothing must sit inside OpenSSL unread: read-ahead is off during the
 *   handshake (OpenSSL then asks for exactly one record at a time) and we
 *   check SSL_has_pending() at takeover. OpenSSL reads through our own
 *   BIO (l7_tls_hsbio below), which reads the socket in large chunks and
 *   keeps what OpenSSL did not ask for: the handshake costs one read() per
 *   client flight instead of two per record, and what followed the
 *   client's Finished in the same segment (usually its first request)
 *   moves into our record layer at takeover.
 * Any case we do not handle (another cipher, a negotiated max_fragment_
 * length, bytes pending, a missing secret, accepted early data) keeps
 * OpenSSL's record layer.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "l7_tls.h"
#include "l7_tls__priv.h"
#include "l7_tlsrec.h"

/* What the callbacks collect during the handshake (freed at takeover). */
struct l7_tls_cap {
	unsigned char cs[L7_TLSREC_SECRET_MAX], ss[L7_TLSREC_SECRET_MAX];
	size_t cslen, sslen;
	uint64_t rd_recs, wr_recs;	/* records since the last key change */
};

/* Our record layer of one connection. The receive and send buffers are
 * per-thread scratch; a connection owns one only while bytes wait in it
 * (a partial record, plaintext the caller had no room for, a record the
 * socket did not take): an idle connection holds none. */
struct l7_tls_own {
	struct l7_tlsrec rec;
	int fd;
	bool closed;			/* close_notify received */
	bool dead;			/* fatal error: nothing more in or out */
	bool ku_answered;		/* a KeyUpdate sent and no application data since */
	unsigned char *rx;		/* owned carry, L7_TLSREC_IN_MAX, or NULL */
	size_t plain_off, plain_len;	/* decrypted bytes not returned yet */
	size_t raw_off, raw_len;	/* received record bytes not opened yet */
	unsigned char *tx;		/* owned: sealed bytes the socket did not take */
	size_t tx_off, tx_len;
	size_t tx_plain;		/* caller bytes those stand for (the retry's answer) */
};

static atomic_ulong l7_tls_layer_count[2];	/* open connections on OpenSSL's / our layer */

static __thread unsigned char l7_tls_rx_scratch[L7_TLSREC_IN_MAX];
static __thread unsigned char l7_tls_tx_scratch[L7_TLSREC_PLAIN_MAX + L7_TLSREC_OVERHEAD];

/* ---- the handshake's read side ---- */

/* What the socket gave and OpenSSL has not asked for yet. b is owned
 * (L7_TLSREC_IN_MAX bytes) only while bytes wait in it. */
struct l7_tls_hsbio {
	int fd;
	unsigned char *b;
	size_t off, len;
};

static BIO_METHOD *l7_tls_hsbio_method;
static int l7_tls_hsbio_type;
static pthread_once_t l7_tls_hsbio_once = PTHREAD_ONCE_INIT;

static int
l7_tls_hsbio_read(BIO *bio, char *out, int outl)
{
	struct l7_tls_hsbio *h = BIO_get_data(bio);
	unsigned char *scratch = l7_tls_rx_scratch;
	size_t want = outl > 0 ? (size_t)outl : 0;
	ssize_t n;

	BIO_clear_retry_flags(bio);
	if (h->len == 0) {
		/* a large ask (read-ahead back on after a fallback) goes
		 * straight into OpenSSL's buffer */
		if (want >= 4096) {
			n = read(h->fd, out, want);
		} else {
			n = read(h->fd, scratch, L7_TLSREC_IN_MAX);
			if (n > (ssize_t)want) {
				if (h->b == NULL && (h->b = malloc(L7_TLSREC_IN_MAX)) == NULL)
					return -1;
				memcpy(h->b, scratch + want, (size_t)n - want);
				h->off = 0;
				h->len = (size_t)n - want;
				n = (ssize_t)want;
			}
			if (n > 0)
				memcpy(out, scratch, (size_t)n);
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			BIO_set_retry_read(bio);
		return n < 0 ? -1 : (int)n;
	}
	if (want > h->len)
		want = h->len;
	memcpy(out, h->b + h->off, want);
	h->off += want;
	h->len -= want;
	if (h->len == 0) {
		free(h->b);
		h->b = NULL;
		h->off = 0;
	}
	return (int)want;
}

static long
l7_tls_hsbio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct l7_tls_hsbio *h = BIO_get_data(bio);

	(void)num;
	switch (cmd) {
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = h->fd;
		return h->fd;
	case BIO_CTRL_PENDING:
		return (long)h->len;
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int
l7_tls_hsbio_destroy(BIO *bio)
{
	struct l7_tls_hsbio *h = BIO_get_data(bio);

	if (h != NULL) {
		free(h->b);
		free(h);
	}
	BIO_set_data(bio, NULL);
	return 1;
}

static void
l7_tls_hsbio_init(void)
{
	int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
	BIO_METHOD *m = BIO_meth_new(type, "tandem handshake read");

	if (m != NULL && (BIO_meth_set_read(m, l7_tls_hsbio_read) != 1 ||
			  BIO_meth_set_ctrl(m, l7_tls_hsbio_ctrl) != 1 ||
			  BIO_meth_set_destroy(m, l7_tls_hsbio_destroy) != 1)) {
		BIO_meth_free(m);
		m = NULL;
	}
	l7_tls_hsbio_type = type;
	l7_tls_hsbio_method = m;
}

/* Makes a BIO of ours ssl's read side (its write side stays the socket
 * BIO). 0, or -1 (ssl unchanged). */
static int
l7_tls_hsbio_attach(SSL *ssl)
{
	struct l7_tls_hsbio *h;
	BIO *bio;

	pthread_once(&l7_tls_hsbio_once, l7_tls_hsbio_init);
	if (l7_tls_hsbio_method == NULL || SSL_get_fd(ssl) < 0)
		return -1;
	h = calloc(1, sizeof(*h));
	bio = h != NULL ? BIO_new(l7_tls_hsbio_method) : NULL;
	if (bio == NULL) {
		free(h);
		return -1;
	}
	h->fd = SSL_get_fd(ssl);
	BIO_set_data(bio, h);
	BIO_set_init(bio, 1);
	SSL_set0_rbio(ssl, bio);
	return 0;
}

/* Hands what waits in ssl's read BIO (if it is ours) to o. */
static void
l7_tls_hsbio_give(SSL *ssl, struct l7_tls_own *o)
{
	BIO *bio = SSL_get_rbio(ssl);
	struct l7_tls_hsbio *h;

	if (bio == NULL || l7_tls_hsbio_method == NULL ||
	    BIO_method_type(bio) != l7_tls_hsbio_type)
		return;
	h = BIO_get_data(bio);
	if (h == NULL || h->len == 0)
		return;
	o->rx = h->b;
	o->raw_off = h->off;
	o->raw_len = h->len;
	h->b = NULL;
	h->off = h->len = 0;
}

/* ---- handshake capture ---- */

static int
l7_tls_unhex(const char *s, size_t n, unsigned char *out, size_t max)
{
	size_t i;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return (int)(n / 2);
}

/* "LABEL <client random> <secret>": keeps the two application traffic
 * secrets of this connection. The line is OpenSSL's (wiped by it). */
static void
l7_tls_keylog_cb(const SSL *s, const char *line)
{
	struct l7_tls_conn *c = SSL_get_app_data(s);
	unsigned char *dst;
	size_t *dlen;
	const char *sp;
	int n;

	if (c == NULL || c->cap == NULL)
		return;
	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) {
		dst = c->cap->cs;
		dlen = &c->cap->cslen;
	} else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) {
		dst = c->cap->ss;
		dlen = &c->cap->sslen;
	} else {
		return;
	}
	sp = strchr(line + 24, ' ');
	if (sp == NULL)
		return;
	n = l7_tls_unhex(sp + 1, strlen(sp + 1), dst, L7_TLSREC_SECRET_MAX);
	*dlen = n > 0 ? (size_t)n : 0;
}

/* Counts records per direction since the last key change. */
static void
l7_tls_msg_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *s, void *arg)
{
	struct l7_tls_conn *c = arg;
	const unsigned char *p = buf;
	uint64_t *recs;
	int tls13 = SSL_version(s) == TLS1_3_VERSION;

	(void)version;
	if (c == NULL || c->cap == NULL)
		return;
	recs = write_p ? &c->cap->wr_recs : &c->cap->rd_recs;
	if (type == SSL3_RT_HEADER && len > 0 && p[0] == SSL3_RT_CHANGE_CIPHER_SPEC)
		*recs = 0;	/* 1.2: the CCS is the last record under the old key (OpenSSL
				 * 3.0 reports a received CCS by its record header only) */
	else if (type == SSL3_RT_HEADER)
		(*recs)++;
	else if (tls13 && type == SSL3_RT_HANDSHAKE && len > 0 && p[0] == SSL3_MT_FINISHED)
		*recs = 0;	/* 1.3: the Finished is the last record under the handshake key */
}

void
l7_tls_take_ctx(SSL_CTX *ctx)
{
	SSL_CTX_set_keylog_callback(ctx, l7_tls_keylog_cb);
}

int
l7_tls_take_begin(struct l7_tls_conn *c)
{
	c->cap = calloc(1, sizeof(*c->cap));
	if (c->cap == NULL)
		return -1;
	SSL_set_app_data(c->ssl, c);
	SSL_set_msg_callback(c->ssl, l7_tls_msg_cb);
	SSL_set_msg_callback_arg(c->ssl, c);
	/* one record per read: nothing past the client's Finished is buffered
	 * in OpenSSL (our BIO keeps it instead) */
	SSL_set_read_ahead(c->ssl, 0);
	(void)l7_tls_hsbio_attach(c->ssl);	/* without it: one read() per ask */
	return 0;
}

static void
l7_tls_cap_free(struct l7_tls_conn *c)
{
	if (c->cap == NULL)
		return;
	OPENSSL_cleanse(c->cap, sizeof(*c->cap));
	free(c->cap);
	c->cap = NULL;
}

/* The suite of an established connection, or -1 when we do not cover it. */
static int
l7_tls_take_suite(SSL *ssl)
{
	const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);

	if (ci == NULL || !SSL_CIPHER_is_aead(ci))
		return -1;
	switch (SSL_CIPHER_get_cipher_nid(ci)) {
	case NID_aes_128_gcm:
		return L7_TLSREC_AES128GCM;
	case NID_aes_256_gcm:
		return L7_TLSREC_AES256GCM;
	case NID_chacha20_poly1305:
		return L7_TLSREC_CHACHA20;
	default:
		return -1;
	}
}

static int
l7_tls_take_keys(struct l7_tls_conn *c, struct l7_tls_own *o, int suite)
{
	SSL *ssl = c->ssl;
	struct l7_tls_cap *k = c->cap;

	if (SSL_version(ssl) == TLS1_3_VERSION) {
		if (k->cslen == 0 || k->cslen != k->sslen)
			return -1;
		return l7_tlsrec_init13(&o->rec, (enum l7_tlsrec_suite)suite, k->cs, k->ss, k->cslen,
					k->rd_recs, k->wr_recs);
	}
	if (SSL_version(ssl) == TLS1_2_VERSION) {
		unsigned char master[SSL_MAX_MASTER_KEY_LENGTH], cr[32], sr[32];
		size_t mlen = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master));
		int rc = -1;

		if (mlen > 0 && SSL_get_client_random(ssl, cr, sizeof(cr)) == sizeof(cr) &&
		    SSL_get_server_random(ssl, sr, sizeof(sr)) == sizeof(sr))
			rc = l7_tlsrec_init12(&o->rec, (enum l7_tlsrec_suite)suite, master, mlen, cr, sr,
					      k->rd_recs, k->wr_recs);
		OPENSSL_cleanse(master, sizeof(master));
		return rc;
	}
	return -1;
}

/* Keeps what later code asks of the SSL object (l7_tls_conn_*). */
static int
l7_tls_take_facts(struct l7_tls_conn *c)
{
	const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
	char subj[1024];

	c->f_alpn = l7_tls_conn_alpn(c);
	c->f_version = SSL_get_version(c->ssl);	/* a static string */
	c->f_resumed = SSL_session_reused(c->ssl) != 0;
	if (sni != NULL && (c->f_sni = strdup(sni)) == NULL)
		return -1;
	if (l7_tls_conn_peer_subject(c, subj, sizeof(subj)) && (c->f_subject = strdup(subj)) == NULL)
		return -1;
	return 0;
}

int
l7_tls_take_over(struct l7_tls_conn *c)
{
	SSL *ssl = c->ssl;
	struct l7_tls_own *o;
	int suite = l7_tls_take_suite(ssl);
	SSL_SESSION *sess = SSL_get_session(ssl);

	if (c->cap == NULL) {	/* record_layer "openssl" */
		c->layer = 1;
		atomic_fetch_add(&l7_tls_layer_count[0], 1);
		return 0;
	}
	if (suite < 0 || SSL_has_pending(ssl) || sess == NULL ||
	    SSL_SESSION_get_max_fragment_length(sess) != TLSEXT_max_fragment_length_DISABLED ||
	    SSL_get_key_update_type(ssl) != SSL_KEY_UPDATE_NONE || SSL_get_fd(ssl) < 0 ||
	    SSL_get_early_data_status(ssl) == SSL_EARLY_DATA_ACCEPTED)	/* never enabled today */
		goto fallback;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		goto fallback;
	if (l7_tls_take_keys(c, o, suite) < 0 || l7_tls_take_facts(c) < 0) {
		l7_tlsrec_free(&o->rec);
		free(o);
		free(c->f_sni);
		free(c->f_subject);
		c->f_sni = c->f_subject = NULL;
		goto fallback;
	}
	o->fd = SSL_get_fd(ssl);
	l7_tls_hsbio_give(ssl, o);
	l7_tls_cap_free(c);
	/* freeing without close_notify would drop the session from the
	 * server cache (ssl_clear_bad_session): it is still good */
	SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(ssl);
	c->ssl = NULL;
	c->own = o;
	c->layer = 2;
	atomic_fetch_add(&l7_tls_layer_count[1], 1);
	return 1;
fallback:
	l7_tls_cap_free(c);
	SSL_set_msg_callback(ssl, NULL);
	SSL_set_read_ahead(ssl, 1);
	c->layer = 1;
	atomic_fetch_add(&l7_tls_layer_count[0], 1);
	return 0;
}

void
l7_tls_layer_counts(unsigned long *openssl, unsigned long *tandem)
{
	*openssl = atomic_load(&l7_tls_layer_count[0]);
	*tandem = atomic_load(&l7_tls_layer_count[1]);
}

/* ---- our record layer ---- */

/* Queues sealed bytes the socket has not taken; -1 on OOM. */
static int
l7_tls_own_queue(struct l7_tls_own *o, const unsigned char *p, size_t n)
{
	unsigned char *t;

	if (o->tx_off > 0) {
		memmove(o->tx, o->tx + o->tx_off, o->tx_len);
		o->tx_off = 0;
	}
	t = realloc(o->tx, o->tx_len + n);
	if (t == NULL)
		return -1;
	memcpy(t + o->tx_len, p, n);
	o->tx = t;
	o->tx_len += n;
	return 0;
}

/* Writes queued bytes: 1 all out, 0 the socket is full, -1 error. */
static int
l7_tls_own_flush(struct l7_tls_own *o)
{
	while (o->tx_len > 0) {
		ssize_t n = send(o->fd, o->tx + o->tx_off, o->tx_len, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		o->tx_off += (size_t)n;
		o->tx_len -= (size_t)n;
	}
	free(o->tx);
	o->tx = NULL;
	o->tx_off = 0;
	return 1;
}

/* Seals one record and sends it, queueing what the socket does not take.
 * 1 all out, 0 queued, -1 error. */
static int
l7_tls_own_send(struct l7_tls_own *o, uint8_t type, const void *p, size_t len)
{
	unsigned char *out = l7_tls_tx_scratch;
	ssize_t n = l7_tlsrec_seal(&o->rec, type, p, len, out), w = 0;

	if (n < 0)
		return -1;
	if (o->tx_len == 0) {
		w = send(o->fd, out, (size_t)n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -1;
			w = 0;
		}
	}
	if (w == n)
		return 1;
	return l7_tls_own_queue(o, out + w, (size_t)(n - w)) < 0 ? -1 : 0;
}

/* Sends a fatal alert (best effort) and stops the connection. */
static int
l7_tls_own_fail(struct l7_tls_own *o, int alert)
{
	unsigned char a[2] = { 2, (unsigned char)alert };

	if (!o->dead) {
		o->dead = true;
		(void)l7_tls_own_send(o, L7_TLSREC_ALERT, a, sizeof(a));
		(void)l7_tls_own_flush(o);
	}
	return L7_TLS_ERROR;
}

/* Sends our KeyUpdate (update_not_requested) under the old key, then
 * changes ours. 0 or -1. */
static int
l7_tls_own_key_update(struct l7_tls_own *o)
{
	static const unsigned char ku[5] = { 24, 0, 0, 1, 0 };

	if (l7_tls_own_send(o, L7_TLSREC_HANDSHAKE, ku, sizeof(ku)) < 0 ||
	    l7_tlsrec_update_write(&o->rec) < 0)
		return -1;
	return 0;
}

/* A post-handshake handshake record: in TLS 1.3 a KeyUpdate (one whole
 * message per record) is honoured; anything else (1.3 messages we never
 * asked for, a 1.2 renegotiation) closes the connection. */
static int
l7_tls_own_handshake(struct l7_tls_own *o, const unsigned char *p, size_t n)
{
	if (o->rec.version != 0x0304)
		return l7_tls_own_fail(o, 40);	/* handshake_failure: no renegotiation */
	if (n != 5 || p[0] != 24 || p[1] != 0 || p[2] != 0 || p[3] != 1)
		return l7_tls_own_fail(o, L7_TLSREC_A_UNEXPECTED);
	if (p[4] > 1)
		return l7_tls_own_fail(o, 47);	/* illegal_parameter (RFC 8446 4.6.3) */
	if (l7_tlsrec_update_read(&o->rec) < 0)
		return l7_tls_own_fail(o, L7_TLSREC_A_INTERNAL);
	if (p[4] == 1 && !o->ku_answered) {
		/* our KeyUpdate goes under the old key, then ours changes.
		 * Requests while we stay silent get one answer (RFC 8446
		 * 4.6.3): a client that never reads must not grow o->tx. */
		if (l7_tls_own_key_update(o) < 0)
			return l7_tls_own_fail(o, L7_TLSREC_A_INTERNAL);
		o->ku_answered = true;
	}
	return 0;
}

/* Moves what is left in the scratch buffer into an owned carry. */
static int
l7_tls_own_keep(struct l7_tls_own *o, unsigned char *b)
{
	unsigned char *k;

	if (o->plain_len == 0 && o->raw_len == 0) {
		if (o->rx != NULL)	/* NULL when b is the scratch */
			OPENSSL_cleanse(o->rx, L7_TLSREC_IN_MAX);
		free(o->rx);
		o->rx = NULL;
		o->plain_off = o->raw_off = 0;
		return 0;
	}
	if (b == o->rx)
		return 0;
	k = malloc(L7_TLSREC_IN_MAX);
	if (k == NULL) {
		o->plain_len = o->raw_len = 0;	/* lost with the connection; nothing points at b */
		return -1;
	}
	memcpy(k, b + o->plain_off, o->plain_len);
	memcpy(k + o->plain_len, b + o->raw_off, o->raw_len);
	o->plain_off = 0;
	o->raw_off = o->plain_len;
	o->rx = k;
	return 0;
}

/* Opens the complete records in b into out[0..len): bytes given (>= 0),
 * or an enum l7_tls_io value (CLOSED after a close_notify, ERROR). */
static ssize_t
l7_tls_own_open(struct l7_tls_own *o, unsigned char *b, unsigned char *out, size_t len)
{
	size_t got = 0;

	while (got < len) {
		unsigned char *rec = b + o->raw_off, *pl;
		ssize_t rl;
		size_t plen;
		int type, in_place;

		if (o->plain_len > 0) {
			size_t n = o->plain_len < len - got ? o->plain_len : len - got;

			memcpy(out + got, b + o->plain_off, n);
			o->plain_off += n;
			o->plain_len -= n;
			got += n;
			continue;
		}
		rl = l7_tlsrec_reclen(&o->rec, rec, o->raw_len);
		if (rl < 0)
			return l7_tls_own_fail(o, (int)-rl);
		if (rl == 0 || (size_t)rl > o->raw_len)
			break;
		in_place = l7_tlsrec_plain_max(&o->rec, (size_t)rl) > len - got;
		if (in_place && got > 0)
			break;	/* the caller comes back with room */
		type = l7_tlsrec_open(&o->rec, rec, (size_t)rl,
				      in_place ? l7_tlsrec_payload(&o->rec, rec) : out + got, &pl, &plen);
		if (type < 0)
			return l7_tls_own_fail(o, -type);
		o->raw_off += (size_t)rl;
		o->raw_len -= (size_t)rl;
		if (type == L7_TLSREC_APPDATA) {
			if (in_place) {
				o->plain_off = (size_t)(pl - b);
				o->plain_len = plen;
			} else {
				got += plen;
			}
		} else if (type == L7_TLSREC_ALERT) {
			/* close_notify ends the client's direction only: we
			 * may still answer (RFC 8446 6.1); any other alert
			 * ends the connection */
			o->closed = plen == 2 && pl[1] == L7_TLSREC_A_CLOSE_NOTIFY;
			if (!o->closed) {
				o->dead = true;
				return L7_TLS_ERROR;
			}
			break;
		} else if (l7_tls_own_handshake(o, pl, plen) < 0) {
			return L7_TLS_ERROR;
		}
	}
	return (ssize_t)got;
}

ssize_t
l7_tls_own_read(struct l7_tls_conn *c, void *buf, size_t len)
{
	struct l7_tls_own *o = c->own;
	unsigned char *b = o->rx != NULL ? o->rx : l7_tls_rx_scratch;
	ssize_t got = 0, n;

	if (o->dead)
		return L7_TLS_ERROR;
	if (o->closed && o->plain_len == 0)
		return L7_TLS_CLOSED;
	for (;;) {
		got = l7_tls_own_open(o, b, buf, len);
		if (got != 0 || o->closed)
			break;
		/* nothing complete: read more behind what is there */
		if (o->raw_off > 0 && o->plain_len == 0) {
			memmove(b, b + o->raw_off, o->raw_len);
			o->raw_off = 0;
		}
		n = read(o->fd, b + o->raw_off + o->raw_len, L7_TLSREC_IN_MAX - o->raw_off - o->raw_len);
		if (n > 0) {
			o->raw_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			got = L7_TLS_WANT_READ;
		else
			got = L7_TLS_ERROR;	/* an EOF without close_notify, like OpenSSL 3 */
		break;
	}
	if (got == L7_TLS_ERROR)
		o->dead = true;
	if (l7_tls_own_keep(o, b) < 0)
		return l7_tls_own_fail(o, L7_TLSREC_A_INTERNAL);
	if (got == 0 && o->closed)
		return L7_TLS_CLOSED;
	return got;
}

int
l7_tls_own_pending(struct l7_tls_conn *c)
{
	struct l7_tls_own *o = c->own;

	ssize_t rl;

	/* a close_notify read along with data: the EOF is still to be returned */
	if (o->plain_len > 0 || o->closed)
		return 1;
	if (o->raw_len == 0)
		return 0;
	/* a complete record, or a header we refuse: the next read says so
	 * at once (the client may send nothing more) */
	rl = l7_tlsrec_reclen(&o->rec, o->rx + o->raw_off, o->raw_len);
	return rl < 0 || (rl > 0 && (size_t)rl <= o->raw_len);
}

ssize_t
l7_tls_own_write(struct l7_tls_conn *c, const void *buf, size_t len)
{
	struct l7_tls_own *o = c->own;
	int r;

	if (o->dead)
		return L7_TLS_ERROR;
	if (o->tx_len > 0) {
		/* the retry of a write the socket did not take in full */
		r = l7_tls_own_flush(o);
		if (r <= 0)
			return r == 0 ? L7_TLS_WANT_WRITE : L7_TLS_ERROR;
		if (o->tx_plain > 0) {
			size_t n = o->tx_plain;

			o->tx_plain = 0;
			return (ssize_t)n;
		}
	}
	if (len > L7_TLSREC_PLAIN_MAX)
		len = L7_TLSREC_PLAIN_MAX;
	/* RFC 8446 5.5: a key seals a bounded number of records */
	if (l7_tlsrec_write_worn(&o->rec) && l7_tls_own_key_update(o) < 0) {
		o->dead = true;
		return L7_TLS_ERROR;
	}
	r = l7_tls_own_send(o, L7_TLSREC_APPDATA, buf, len);
	if (r < 0) {
		o->dead = true;
		return L7_TLS_ERROR;
	}
	o->ku_answered = false;
	if (r == 0) {
		o->tx_plain = len;
		return L7_TLS_WANT_WRITE;
	}
	return (ssize_t)len;
}

void
l7_tls_own_shutdown(struct l7_tls_conn *c)
{
	struct l7_tls_own *o = c->own;
	static const unsigned char cn[2] = { 1, L7_TLSREC_A_CLOSE_NOTIFY };

	if (o->dead)
		return;
	if (l7_tls_own_send(o, L7_TLSREC_ALERT, cn, sizeof(cn)) >= 0)
		(void)l7_tls_own_flush(o);
	o->dead = true;
}

void
l7_tls_own_free(struct l7_tls_conn *c)
{
	struct l7_tls_own *o = c->own;

	l7_tls_cap_free(c);
	if (c->layer != 0)
		atomic_fetch_sub(&l7_tls_layer_count[c->layer - 1], 1);
	c->layer = 0;
	if (o == NULL)
		return;
	l7_tlsrec_free(&o->rec);
	if (o->rx != NULL)
		OPENSSL_cleanse(o->rx, L7_TLSREC_IN_MAX);
	free(o->rx);
	free(o->tx);
	free(o);
	c->own = NULL;
	free(c->f_sni);
	free(c->f_subject);
}
