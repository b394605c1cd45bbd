#ifndef TANDEM_PEER_T_H
#define TANDEM_PEER_T_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Types of the peer link (doc/ha.md "The peer link").
 *
 * On the wire, after the TLS 1.3 handshake, each message is one frame: a
 * 4-byte big-endian length, then that many bytes of one JSON object whose
 * "t" names its type. JSON keeps the link debuggable and versionable; the
 * heavy traffic (limiter deltas) travels as the limiter's own binary
 * batches inside it (record "lim").
 */

/* Bytes of JSON in one frame. A full limiter snapshot travels in one
 * batch: 32 MiB holds about 750,000 keys (32 bytes each, base64). */
#define PEER_FRAME_MAX (32 * 1024 * 1024)
#define PEER_PROTO_VERSION 1

/* Message types ("t"). */
enum peer_msg_type {
	PEER_MSG_INVALID = 0,
	PEER_MSG_HELLO,		/* {node, version, session, rx_session, rx_seq} first, both ways */
	PEER_MSG_BATCH,		/* {seq, full, records: [...]} acked by ACK */
	PEER_MSG_ACK,		/* {seq}: every batch up to seq was applied */
	PEER_MSG_RESYNC,	/* {}: "I have no usable state of yours: send it all" */
	PEER_MSG_PING,		/* {ms}: keep-alive, answered by PONG with the same ms */
	PEER_MSG_PONG,
};

/* Record kinds inside a BATCH ("k"), doc/ha.md "Frames":
 *   health       {k, members: [{pool, address, port, state}]} this node's
 *                whole health view (idempotent: replaces the previous one)
 *   lim          {k, rule, data} one lim_table_export() batch of the rule's
 *                counter table, base64 ("TLIM" binary: delta or full, with
 *                its own batch id and checksum; lim_table_apply is
 *                idempotent and order-independent, doc/limits.md "Merge")
 *   ban          {k, ip, until} a ban with its absolute expiry (ms, the
 *                pair's wall clock); merging keeps the later expiry
 *   ticket_keys  {k, data} the whole TLS session ticket key ring as
 *                l7_tls_keys_export() writes it, base64 (secret: only ever
 *                inside the TLS link); the ring with the newer current key
 *                wins on both nodes */
enum peer_rec_kind {
	PEER_REC_INVALID = 0,
	PEER_REC_HEALTH,
	PEER_REC_LIM,
	PEER_REC_BAN,
	PEER_REC_TICKET_KEYS,
};

/* One decoded record (peer_rec_decode); pointers borrow from the JSON
 * except data, which peer_rec_clear frees. */
struct peer_rec {
	enum peer_rec_kind kind;
	const json_t *members;		/* health */
	const char *rule;		/* lim */
	unsigned char *data;		/* lim, ticket_keys: the decoded bytes */
	size_t len;
	uint8_t addr[16];		/* ban: IPv4 mapped into IPv6 */
	uint64_t until_ms;		/* ban */
	int full;			/* set by the link: it came in a full batch */
};

/* State of the link, as status shows it. */
enum peer_state {
	PEER_STATE_DISABLED = 0,	/* no --peer configured */
	PEER_STATE_CONNECTING,		/* dialling or waiting for the peer */
	PEER_STATE_HANDSHAKE,		/* TLS and HELLO */
	PEER_STATE_UP,			/* HELLOs exchanged, batches flow */
};

#endif
