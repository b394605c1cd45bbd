#ifndef TANDEM_PEER_T_H
#define TANDEM_PEER_T_H

#include <stddef.h>
#include <stdint.h>

/*
 * Types of the peer link (doc/ha.md "The peer link").
 *
 * On the wire, after the TLS 1.3 handshake, each message is one frame: a
 * 4-byte big-endian length, then that many bytes of one JSON object whose
 * "t" names its type. JSON keeps the link debuggable and versionable; the
 * heavy traffic (limiter deltas) travels as the limiter's own binary
 * batches inside it (record "lim").
 */

#define PEER_FRAME_MAX (1024 * 1024)	/* bytes of JSON in one frame */
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

/* Record kinds inside a BATCH ("k"). Only HEALTH is sent today; the others
 * are the contract for the later parts of issue 7:
 *   health       {k, members: [{pool, address, port, state}]} this node's
 *                whole health view (idempotent: replaces the previous one)
 *   lim          {k, data} one lim_table_export() batch of daemon/limit,
 *                base64 ("TLIM" binary: delta or full, with its own batch
 *                id and checksum; lim_table_apply is idempotent and
 *                order-independent, doc/limits.md "Merge"), so the link
 *                adds no per-key encoding of its own
 *   ban          {k, ip, until, rule} a ban entry with its absolute expiry
 *   ban_del      {k, ip} an operator's unban
 *   ticket_keys  {k, keys: [{name, created, aes, hmac}]} the whole TLS
 *                session ticket key ring (encrypted on the wire by TLS) */
enum peer_rec_kind {
	PEER_REC_INVALID = 0,
	PEER_REC_HEALTH,
	PEER_REC_LIM,
	PEER_REC_BAN,
	PEER_REC_BAN_DEL,
	PEER_REC_TICKET_KEYS,
};

/* State of the link, as status shows it. */
enum peer_state {
	PEER_STATE_DISABLED = 0,	/* no --peer configured */
	PEER_STATE_CONNECTING,		/* dialling or waiting for the peer */
	PEER_STATE_HANDSHAKE,		/* TLS and HELLO */
	PEER_STATE_UP,			/* HELLOs exchanged, batches flow */
};

#endif
