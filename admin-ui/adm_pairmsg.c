/*
 * adm_pairmsg - response reader and message checks for console-to-console
 * calls. Everything here reads bytes or JSON from the other node, which is
 * authenticated but still checked: a bad message is refused whole.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adm_pairmsg.h"

#define ADM_PAIRMSG_HEAD_MAX (16 * 1024)

/* Finds "\r\n\r\n" within the first n bytes of buf. */
static const char *
adm_pairmsg_head_end(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

int
adm_pairmsg_response(const char *buf, size_t len, long *status, const char **body, size_t *blen)
{
	const char *end, *line, *eol;
	size_t head, clen = (size_t)-1;
	long code;

	end = adm_pairmsg_head_end(buf, len < ADM_PAIRMSG_HEAD_MAX ? len : ADM_PAIRMSG_HEAD_MAX);
	if (end == NULL || len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return -EPROTO;
	if (!isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]) || (len > 12 && buf[12] != ' ' && buf[12] != '\r'))
		return -EPROTO;
	code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (code < 100)
		return -EPROTO;
	head = (size_t)(end - buf) + 4;
	/* header lines after the status line */
	for (line = memchr(buf, '\n', head) + 1; line < end; line = eol + 1) {
		const char *colon, *v;

		eol = memchr(line, '\n', (size_t)(end + 2 - line));
		if (eol == NULL)
			return -EPROTO;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL)
			return -EPROTO;
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(colon - line) == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			size_t n = 0;
			const char *p = v;

			if (p >= eol || !isdigit((unsigned char)*p))
				return -EPROTO;
			while (p < eol && isdigit((unsigned char)*p)) {
				if (n > ADM_PAIRMSG_MAX)
					return -EPROTO;
				n = n * 10 + (size_t)(*p++ - '0');
			}
			while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p != eol || (clen != (size_t)-1 && clen != n))
				return -EPROTO;
			clen = n;
		} else if ((size_t)(colon - line) == 17 &&
			   strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return -EPROTO;
		}
	}
	if (clen != (size_t)-1) {
		if (len - head < clen)
			return -EPROTO;
	} else {
		clen = len - head;
	}
	*status = code;
	*body = buf + head;
	*blen = clen;
	return 0;
}

int
adm_pairmsg_fingerprint(const char *in, char out[65])
{
	size_t n = 0;

	for (; in != NULL && *in != '\0'; in++) {
		if (*in == ':' || *in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || n == 64)
			return -EINVAL;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -EINVAL;
}

int
adm_pairmsg_node_ok(const char *s)
{
	size_t i;

	if (s == NULL || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 63 || !(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* err := "<what>: <why>"; returns -1. */
static int
adm_pairmsg_bad(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "%s: %s", what, why);
	return -1;
}

/* A string member of at most max bytes with no control characters. */
static int
adm_pairmsg_str(const json_t *m, const char *key, size_t max, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(m, key));
	size_t i, n;

	if (s == NULL)
		return adm_pairmsg_bad(err, errlen, key, "missing or not a string");
	n = json_string_length(json_object_get(m, key));
	if (n == 0 || n > max || strlen(s) != n)
		return adm_pairmsg_bad(err, errlen, key, "empty, too long or has a NUL");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r')
			return adm_pairmsg_bad(err, errlen, key, "control character");
	return 0;
}

static int
adm_pairmsg_hex(const json_t *m, const char *key, size_t len, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(m, key));
	size_t i;

	if (s == NULL || strlen(s) != len)
		return adm_pairmsg_bad(err, errlen, key, "wrong length");
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return adm_pairmsg_bad(err, errlen, key, "not lower-case hex");
	return 0;
}

static int
adm_pairmsg_int(const json_t *m, const char *key, long long lo, long long hi, char *err,
		size_t errlen)
{
	const json_t *v = json_object_get(m, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return adm_pairmsg_bad(err, errlen, key, "missing or out of range");
	return 0;
}

static int
adm_pairmsg_node(const json_t *m, char *err, size_t errlen)
{
	if (!adm_pairmsg_node_ok(json_string_value(json_object_get(m, "node"))))
		return adm_pairmsg_bad(err, errlen, "node", "not a node name");
	return 0;
}

int
adm_pairmsg_accept_req(const json_t *m, char *err, size_t errlen)
{
	if (!json_is_object(m))
		return adm_pairmsg_bad(err, errlen, "message", "not an object");
	if (adm_pairmsg_str(m, "token", 128, err, errlen) < 0 || adm_pairmsg_node(m, err, errlen) < 0 ||
	    adm_pairmsg_str(m, "console", 255, err, errlen) < 0 ||
	    adm_pairmsg_hex(m, "fingerprint", 64, err, errlen) < 0 ||
	    adm_pairmsg_hex(m, "key", 64, err, errlen) < 0)
		return -1;
	return 0;
}

int
adm_pairmsg_accept_resp(const json_t *m, char *err, size_t errlen)
{
	if (!json_is_object(m))
		return adm_pairmsg_bad(err, errlen, "message", "not an object");
	if (adm_pairmsg_node(m, err, errlen) < 0 || adm_pairmsg_hex(m, "key", 64, err, errlen) < 0 ||
	    adm_pairmsg_str(m, "ca_pem", 16384, err, errlen) < 0 ||
	    adm_pairmsg_str(m, "node_pem", 16384, err, errlen) < 0 ||
	    adm_pairmsg_str(m, "node_key", 16384, err, errlen) < 0)
		return -1;
	return 0;
}

int
adm_pairmsg_state(const json_t *m, char *err, size_t errlen)
{
	const json_t *run;

	if (!json_is_object(m))
		return adm_pairmsg_bad(err, errlen, "message", "not an object");
	if (adm_pairmsg_node(m, err, errlen) < 0 || adm_pairmsg_str(m, "role", 16, err, errlen) < 0 ||
	    adm_pairmsg_int(m, "priority", 0, 255, err, errlen) < 0)
		return -1;
	if (!json_is_boolean(json_object_get(m, "writable")))
		return adm_pairmsg_bad(err, errlen, "writable", "not a boolean");
	run = json_object_get(m, "running");
	if (!json_is_object(run))
		return adm_pairmsg_bad(err, errlen, "running", "not an object");
	if (adm_pairmsg_int(run, "number", 0, 1LL << 50, err, errlen) < 0)
		return -1;
	if (json_integer_value(json_object_get(run, "number")) > 0 &&
	    adm_pairmsg_hex(run, "hash", 64, err, errlen) < 0)
		return -1;
	return 0;
}

/* An array of at most 1000 strings (names, SANs, subjects). */
static int
adm_pairmsg_strings(const json_t *m, const char *key, char *err, size_t errlen)
{
	const json_t *a = json_object_get(m, key), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > 1000)
		return adm_pairmsg_bad(err, errlen, key, "not an array of strings");
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return adm_pairmsg_bad(err, errlen, key, "not an array of strings");
	return 0;
}

/* One certificate of a push's "stores" (adm_syncstore.h). */
static int
adm_pairmsg_cert(const json_t *c, char *err, size_t errlen)
{
	const char *kt = json_string_value(json_object_get(c, "key_type"));
	const json_t *o = json_object_get(c, "ocsp");

	if (!json_is_object(c))
		return adm_pairmsg_bad(err, errlen, "certificate", "not an object");
	if (adm_pairmsg_str(c, "cert_pem", 256 * 1024, err, errlen) < 0 ||
	    adm_pairmsg_str(c, "key_pem", 64 * 1024, err, errlen) < 0 ||
	    adm_pairmsg_str(c, "subject", 4096, err, errlen) < 0 ||
	    adm_pairmsg_str(c, "issuer", 4096, err, errlen) < 0 ||
	    adm_pairmsg_str(c, "fingerprint", 128, err, errlen) < 0 ||
	    adm_pairmsg_strings(c, "sans", err, errlen) < 0 ||
	    adm_pairmsg_int(c, "key_bits", 1, 65536, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "not_before", -(1LL << 40), 1LL << 40, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "not_after", -(1LL << 40), 1LL << 40, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "chain_length", 1, 100, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "created_at", 0, 1LL << 40, err, errlen) < 0)
		return -1;
	if (kt == NULL || (strcmp(kt, "RSA") != 0 && strcmp(kt, "ECDSA") != 0))
		return adm_pairmsg_bad(err, errlen, "key_type", "not RSA or ECDSA");
	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return adm_pairmsg_bad(err, errlen, "ocsp", "not an object");
	if (adm_pairmsg_str(o, "der_base64", 96 * 1024, err, errlen) < 0 ||
	    adm_pairmsg_int(o, "this_update", 0, 1LL << 40, err, errlen) < 0 ||
	    adm_pairmsg_int(o, "next_update", 0, 1LL << 40, err, errlen) < 0 ||
	    adm_pairmsg_int(o, "uploaded_at", 0, 1LL << 40, err, errlen) < 0)
		return -1;
	return 0;
}

static int
adm_pairmsg_ca(const json_t *c, char *err, size_t errlen)
{
	if (!json_is_object(c))
		return adm_pairmsg_bad(err, errlen, "CA bundle", "not an object");
	if (adm_pairmsg_str(c, "pem", 1024 * 1024, err, errlen) < 0 ||
	    adm_pairmsg_str(c, "fingerprint", 128, err, errlen) < 0 ||
	    adm_pairmsg_strings(c, "subjects", err, errlen) < 0 ||
	    adm_pairmsg_int(c, "count", 1, 100000, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "not_after", -(1LL << 40), 1LL << 40, err, errlen) < 0 ||
	    adm_pairmsg_int(c, "created_at", 0, 1LL << 40, err, errlen) < 0)
		return -1;
	return 0;
}

int
adm_pairmsg_stores(const json_t *s, char *err, size_t errlen)
{
	const json_t *certs, *cas, *c;
	const char *name;

	if (!json_is_object(s))
		return adm_pairmsg_bad(err, errlen, "stores", "not an object");
	certs = json_object_get(s, "certificates");
	cas = json_object_get(s, "ca_bundles");
	if (!json_is_object(certs) || !json_is_object(cas))
		return adm_pairmsg_bad(err, errlen, "stores", "certificates or ca_bundles is not an object");
	/* names: the config's name rule, which is the node name's */
	json_object_foreach((json_t *)certs, name, c) {
		if (!adm_pairmsg_node_ok(name))
			return adm_pairmsg_bad(err, errlen, "stores.certificates", "not a name");
		if (adm_pairmsg_cert(c, err, errlen) < 0)
			return -1;
	}
	json_object_foreach((json_t *)cas, name, c) {
		if (!adm_pairmsg_node_ok(name))
			return adm_pairmsg_bad(err, errlen, "stores.ca_bundles", "not a name");
		if (adm_pairmsg_ca(c, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
adm_pairmsg_push(const json_t *m, char *err, size_t errlen)
{
	const json_t *rev;

	if (!json_is_object(m))
		return adm_pairmsg_bad(err, errlen, "message", "not an object");
	if (adm_pairmsg_node(m, err, errlen) < 0 ||
	    adm_pairmsg_int(m, "priority", 0, 255, err, errlen) < 0 ||
	    adm_pairmsg_int(m, "base", 0, 1LL << 50, err, errlen) < 0)
		return -1;
	rev = json_object_get(m, "revision");
	if (!json_is_object(rev))
		return adm_pairmsg_bad(err, errlen, "revision", "not an object");
	if (adm_pairmsg_int(rev, "number", 1, 1LL << 50, err, errlen) < 0 ||
	    adm_pairmsg_str(rev, "author", 255, err, errlen) < 0 ||
	    adm_pairmsg_int(rev, "created_at", 0, 1LL << 40, err, errlen) < 0)
		return -1;
	if (json_integer_value(json_object_get(rev, "number")) <= json_integer_value(json_object_get(m, "base")))
		return adm_pairmsg_bad(err, errlen, "revision.number", "not after base");
	if (!json_is_string(json_object_get(rev, "comment")))
		return adm_pairmsg_bad(err, errlen, "revision.comment", "not a string");
	if (!json_is_object(json_object_get(rev, "config")))
		return adm_pairmsg_bad(err, errlen, "revision.config", "not an object");
	/* absent from a peer that does not carry stores yet (an upgrade) */
	if (json_object_get(m, "stores") != NULL)
		return adm_pairmsg_stores(json_object_get(m, "stores"), err, errlen);
	return 0;
}
