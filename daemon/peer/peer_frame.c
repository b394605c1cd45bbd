/*
 * peer_frame - the peer link's framing: a 4-byte big-endian length and one
 * JSON object. Pure (no I/O), so the unit tests and a fuzz driver can feed
 * it anything; the link never trusts a length before checking it against
 * PEER_FRAME_MAX.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- batch records ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding: JSON strings carry the binary batches. */
static char *
peer_b64_encode(const unsigned char *p, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
peer_b64_val(char c)
{
	const char *q = c ? strchr(b64, c) : NULL;

	return q ? (int)(q - b64) : -1;
}

/* Strict decoder: length a multiple of 4, padding only at the end. */
static int
peer_b64_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
	size_t i, pad = 0, o = 0;
	unsigned char *p;

	if (n % 4 != 0)
		return -EINVAL;
	if (n > 0 && s[n - 1] == '=')
		pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
	p = malloc(n / 4 * 3 + 1);
	if (p == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i += 4) {
		int v[4], k;

		for (k = 0; k < 4; k++) {
			v[k] = i + (size_t)k >= n - pad ? 0 : peer_b64_val(s[i + (size_t)k]);
			if (v[k] < 0) {
				free(p);
				return -EINVAL;
			}
		}
		p[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		p[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		p[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*out = p;
	*len = o - pad;
	return 0;
}

static const char *const peer_rec_names[] = {
	[PEER_REC_HEALTH] = "health", [PEER_REC_LIM] = "lim", [PEER_REC_BAN] = "ban",
	[PEER_REC_TICKET_KEYS] = "ticket_keys",
};

int
peer_rec_decode(const json_t *rec, struct peer_rec *out, const char **err)
{
	const char *k = json_string_value(json_object_get(rec, "k")), *s;
	json_t *v;
	int i;

	memset(out, 0, sizeof(*out));
	*err = "record without a known \"k\"";
	for (i = PEER_REC_HEALTH; k != NULL && i <= PEER_REC_TICKET_KEYS; i++)
		if (peer_rec_names[i] != NULL && strcmp(peer_rec_names[i], k) == 0)
			out->kind = (enum peer_rec_kind)i;
	switch (out->kind) {
	case PEER_REC_HEALTH:
		out->members = json_object_get(rec, "members");
		*err = "health without a members array";
		return json_is_array(out->members) ? 0 : -EBADMSG;
	case PEER_REC_LIM:
		out->rule = json_string_value(json_object_get(rec, "rule"));
		if (out->rule == NULL || out->rule[0] == '\0') {
			*err = "lim without a rule name";
			return -EBADMSG;
		}
		/* fall through: data */
		__attribute__((fallthrough));
	case PEER_REC_TICKET_KEYS:
		v = json_object_get(rec, "data");
		s = json_string_value(v);
		if (s == NULL || peer_b64_decode(s, json_string_length(v), &out->data, &out->len) < 0) {
			*err = "data is not base64";
			return -EBADMSG;
		}
		return 0;
	case PEER_REC_BAN: {
		struct in_addr a4;

		s = json_string_value(json_object_get(rec, "ip"));
		v = json_object_get(rec, "until");
		*err = "ban needs an ip and a positive \"until\" (ms)";
		if (s == NULL || !json_is_integer(v) || json_integer_value(v) <= 0)
			return -EBADMSG;
		out->until_ms = (uint64_t)json_integer_value(v);
		if (inet_pton(AF_INET, s, &a4) == 1) {
			memset(out->addr, 0, 10);	/* IPv4 mapped, as lim_ban keeps it */
			out->addr[10] = out->addr[11] = 0xff;
			memcpy(out->addr + 12, &a4, 4);
			return 0;
		}
		*err = "ban ip is not an address";
		return inet_pton(AF_INET6, s, out->addr) == 1 ? 0 : -EBADMSG;
	}
	default:
		return -EBADMSG;
	}
}

void
peer_rec_clear(struct peer_rec *r)
{
	free(r->data);
	memset(r, 0, sizeof(*r));
}

/* {k, [rule,] data: base64}. */
static json_t *
peer_rec_blob(const char *k, const char *rule, const unsigned char *data, size_t len)
{
	char *text = peer_b64_encode(data, len);
	json_t *o = text ? json_pack("{s:s, s:s}", "k", k, "data", text) : NULL;

	free(text);
	if (o != NULL && rule != NULL && json_object_set_new(o, "rule", json_string(rule)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
peer_rec_lim(const char *rule, const unsigned char *data, size_t len)
{
	return peer_rec_blob("lim", rule, data, len);
}

json_t *
peer_rec_ticket_keys(const unsigned char *data, size_t len)
{
	return peer_rec_blob("ticket_keys", NULL, data, len);
}

json_t *
peer_rec_ban(const uint8_t addr[16], uint64_t until_ms)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char ip[INET6_ADDRSTRLEN];

	if (memcmp(addr, mapped, 12) == 0)
		inet_ntop(AF_INET, addr + 12, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, addr, ip, sizeof(ip));
	return json_pack("{s:s, s:s, s:I}", "k", "ban", "ip", ip, "until", (json_int_t)until_ms);
}

uint64_t
peer_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
