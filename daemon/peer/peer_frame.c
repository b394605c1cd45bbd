/*
 * peer_frame - the peer link's framing: a 4-byte big-endian length and one
 * JSON object. Pure (no I/O), so the unit tests and a fuzz driver can feed
 * it anything; the link never trusts a length before checking it against
 * PEER_FRAME_MAX.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

static const char *const peer_names[] = {
	[PEER_MSG_HELLO] = "hello", [PEER_MSG_BATCH] = "batch", [PEER_MSG_ACK] = "ack",
	[PEER_MSG_RESYNC] = "resync", [PEER_MSG_PING] = "ping", [PEER_MSG_PONG] = "pong",
};

const char *
peer_msg_name(enum peer_msg_type t)
{
	if (t <= PEER_MSG_INVALID || t > PEER_MSG_PONG)
		return NULL;
	return peer_names[t];
}

enum peer_msg_type
peer_msg_type(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "t"));
	int i;

	if (t == NULL)
		return PEER_MSG_INVALID;
	for (i = PEER_MSG_HELLO; i <= PEER_MSG_PONG; i++)
		if (strcmp(peer_names[i], t) == 0)
			return (enum peer_msg_type)i;
	return PEER_MSG_INVALID;
}

int
peer_frame_encode(const json_t *msg, unsigned char **out, size_t *len)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n;

	*out = NULL;
	*len = 0;
	if (text == NULL)
		return -ENOMEM;
	n = strlen(text);
	if (n > PEER_FRAME_MAX) {
		free(text);
		return -EMSGSIZE;
	}
	*out = malloc(n + 4);
	if (*out == NULL) {
		free(text);
		return -ENOMEM;
	}
	(*out)[0] = (unsigned char)(n >> 24);
	(*out)[1] = (unsigned char)(n >> 16);
	(*out)[2] = (unsigned char)(n >> 8);
	(*out)[3] = (unsigned char)n;
	memcpy(*out + 4, text, n);
	*len = n + 4;
	free(text);
	return 0;
}

int
peer_frame_parse(const unsigned char *buf, size_t len, json_t **msg, size_t *used,
		 const char **err)
{
	size_t n;
	json_t *m;

	*msg = NULL;
	*used = 0;
	if (len < 4)
		return 0;
	n = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	if (n > PEER_FRAME_MAX) {
		*err = "frame longer than the limit";
		return -EMSGSIZE;
	}
	if (len - 4 < n)
		return 0;
	m = json_loadb((const char *)buf + 4, n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(m) || peer_msg_type(m) == PEER_MSG_INVALID) {
		json_decref(m);
		*err = "not a JSON object with a known \"t\"";
		return -EBADMSG;
	}
	*msg = m;
	*used = n + 4;
	return 1;
}
