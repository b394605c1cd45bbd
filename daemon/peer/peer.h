#ifndef TANDEM_PEER_H
#define TANDEM_PEER_H

#include <jansson.h>

#include "peer-t.h"

/*
 * peer - the link between the two tandemds of a pair: one TLS 1.3
 * connection, mutual certificate authentication against the pair's CA,
 * framed JSON messages, acknowledged batches, resume or resync after a
 * reconnect. Today it carries each node's member health view.
 *
 * The link runs in a thread of its own (blocking TLS with short poll
 * timeouts; nothing on the data path waits for it). The main loop hands it
 * the local health view (peer_health_set) and reads its status
 * (peer_status_json); both take the link's mutex briefly.
 */

/* ---- peer_frame.c: framing (pure) ---- */

/* Encodes msg (borrowed) as one frame: malloc'd bytes in *out, length in
 * *len. 0, -ENOMEM, or -EMSGSIZE over PEER_FRAME_MAX. */
int peer_frame_encode(const json_t *msg, unsigned char **out, size_t *len);

/* Parses the frame at the start of buf. Returns 1 with *msg (new reference)
 * and *used set when a whole valid frame is there, 0 when more bytes are
 * needed, -EMSGSIZE (length over PEER_FRAME_MAX) or -EBADMSG (not a JSON
 * object with a known "t") with a static reason in *err. */
int peer_frame_parse(const unsigned char *buf, size_t len, json_t **msg, size_t *used,
		     const char **err);

/* The type named by msg's "t"; PEER_MSG_INVALID when unknown. */
enum peer_msg_type peer_msg_type(const json_t *msg);
/* "hello", "batch", ...: the wire names. NULL for INVALID. */
const char *peer_msg_name(enum peer_msg_type t);

/* Decodes one batch record (borrowed) into *out (peer_rec_clear after).
 * 0, or -EBADMSG with a static reason in *err (unknown kind, missing or
 * mistyped field, bad base64, bad address). Pure. */
int peer_rec_decode(const json_t *rec, struct peer_rec *out, const char **err);
void peer_rec_clear(struct peer_rec *r);

/* Record builders (new references, NULL on OOM). */
json_t *peer_rec_lim(const char *rule, const unsigned char *data, size_t len);
json_t *peer_rec_ban(const uint8_t addr[16], uint64_t until_ms);
json_t *peer_rec_ticket_keys(const unsigned char *data, size_t len);

/* The pair's shared clock (CLOCK_REALTIME) in ms: ban ends, the limiter's
 * windows, the state file's time. */
uint64_t peer_wall_ms(void);

/* ---- peer_link.c: the link ---- */

struct peer;

/* The state the link keeps in sync besides the health view (limiter
 * counters, bans, ticket keys: peer_sync.c). Both run on the link's
 * thread. */
struct peer_sync_ops {
	/* Records to send (a new array, possibly empty, or NULL): what changed
	 * since the last call, or everything when full. */
	json_t *(*collect)(void *data, int full);
	/* Applies one decoded record of kind lim, ban or ticket_keys: 0, or
	 * -errno (counted as refused, with the reason in *err). */
	int (*apply)(void *data, const struct peer_rec *rec, const char **err);
	/* Called after a full batch from the peer was applied (optional). */
	void (*full_applied)(void *data);
	void *data;
};

struct peer_opts {
	const char *listen;	/* "ADDR:PORT" this node accepts the peer on */
	const char *connect;	/* "ADDR:PORT" of the peer */
	const char *dir;	/* ca.pem, node.pem, node.key (from tandemctl pair-init) */
	const struct peer_sync_ops *sync;	/* NULL: health view only */
	unsigned sync_ms;	/* how often changes are collected; 0 = 10 ms */
	unsigned gate_ms;	/* peer_synced() turns true after this long even
				 * without a full batch; 0 = 30 s */
};

/* Loads the certificates and starts the link's thread. The node whose
 * listen address sorts lower dials, the other accepts, so the pair keeps
 * one connection. 0 and *out, or -errno with the reason logged. */
int peer_start(const struct peer_opts *opts, struct peer **out);

/* Stops the thread, closes the link, frees; sets *pp to NULL. */
void peer_stop(struct peer **pp);

/* Drops the current connection so that it is made again (a resume when
 * nothing was lost). Any thread. */
void peer_kick(struct peer *p);

/* 1 once this process applied a full batch from the peer (it holds the
 * peer's whole state), or gate_ms after peer_start without one (the peer
 * is unreachable: the node must still be able to serve). Any thread. */
int peer_synced(struct peer *p);

/* Sets this node's health view (borrowed: copied) to be sent when it
 * differs from the last one sent. Main loop. */
void peer_health_set(struct peer *p, const json_t *members);

/* The link's status (new object): state, peer node, sessions, sequence
 * numbers, counters, last error, the peer's health view. Any thread. */
json_t *peer_status_json(struct peer *p);

/* Appends the link's Prometheus metrics (tandem_peer_*) to b: 0 or -1.
 * Any thread. */
struct buf;
int peer_metrics(struct peer *p, struct buf *b);

/* ---- peer_pki.c: the pair's certificates ---- */

/* Makes dir/ca.pem (+ dir/ca.key) and, for each of the two node names,
 * dir/<node>/{ca.pem,node.pem,node.key}: an EC P-256 CA valid 10 years and
 * node certificates (CN = node name, clientAuth + serverAuth) it signs.
 * Refuses to overwrite an existing ca.pem. 0 or -errno; msg says why. */
int peer_pki_pair_init(const char *dir, const char *node_a, const char *node_b, char *msg,
		       size_t msglen);

/* ---- peer_seed.c: the limiter's key-hash seed (why: see the file) ---- */

/* From the pair's CA (peer_dir/ca.pem): the same on both nodes. 0 or -errno. */
int peer_seed_pair(const char *peer_dir, uint64_t seed[2]);
/* Kept in path (16 bytes, 0600), made random when missing; -EINVAL when the
 * file is not 16 bytes. 0 or -errno. */
int peer_seed_file(const char *path, uint64_t seed[2]);
/* 16 random bytes (getrandom). 0 or -errno. */
int peer_seed_random(uint64_t seed[2]);

#endif
