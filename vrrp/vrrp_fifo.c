/*
 * vrrp_fifo - parse the lines keepalived writes to its vrrp_notify_fifo.
 *
 *   INSTANCE "VI_1" MASTER 100       a state: MASTER BACKUP FAULT STOP DELETED
 *   GROUP "SG_1" BACKUP 0            the same for a sync group
 *   INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100   an event, not a state
 *   INSTANCE "VI_1" MASTER_PRIORITY 90        (with notify_priority_changes)
 *
 * Pure and allocation-free: the input is any bytes (it comes from a FIFO any
 * root process may write to), so every field is bounded and checked, and a
 * line that is not exactly this shape is refused, never guessed at.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "vrrp.h"

static const struct {
	const char *word;
	enum vrrp_fifo_kind kind;
	enum vrrp_role role;
} vrrp_words[] = {
	{ "MASTER", VRRP_FIFO_STATE, VRRP_ROLE_MASTER },
	{ "BACKUP", VRRP_FIFO_STATE, VRRP_ROLE_BACKUP },
	{ "FAULT", VRRP_FIFO_STATE, VRRP_ROLE_FAULT },
	{ "STOP", VRRP_FIFO_STATE, VRRP_ROLE_STOP },
	{ "DELETED", VRRP_FIFO_STATE, VRRP_ROLE_DELETED },
	{ "MASTER_RX_LOWER_PRI", VRRP_FIFO_MASTER_RX_LOWER_PRI, VRRP_ROLE_UNKNOWN },
	{ "MASTER_PRIORITY", VRRP_FIFO_MASTER_PRIORITY, VRRP_ROLE_UNKNOWN },
	{ "BACKUP_PRIORITY", VRRP_FIFO_BACKUP_PRIORITY, VRRP_ROLE_UNKNOWN },
};

const char *
vrrp_role_name(enum vrrp_role r)
{
	switch (r) {
	case VRRP_ROLE_BACKUP: return "BACKUP";
	case VRRP_ROLE_MASTER: return "MASTER";
	case VRRP_ROLE_FAULT: return "FAULT";
	case VRRP_ROLE_STOP: return "STOP";
	case VRRP_ROLE_DELETED: return "DELETED";
	case VRRP_ROLE_UNKNOWN: break;
	}
	return "UNKNOWN";
}

/* Length of the token at p (up to a space or the end). */
static size_t
tok(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ')
		q++;
	return (size_t)(q - p);
}

static int
word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(p, w, n) == 0;
}

int
vrrp_fifo_parse(const char *line, size_t len, struct vrrp_fifo_msg *out, const char **err)
{
	const char *p = line, *end = line + len, *q;
	size_t n, i;

	memset(out, 0, sizeof(*out));
	out->priority = -1;
	*err = NULL;
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
		*err = "NUL byte in line";
		return -EINVAL;
	}
	/* TYPE */
	n = tok(p, end);
	if (word_is(p, n, "INSTANCE")) {
		out->group = false;
	} else if (word_is(p, n, "GROUP")) {
		out->group = true;
	} else if (word_is(p, n, "VS") || word_is(p, n, "RS")) {
		*err = "checker line, not VRRP";
		return -ENOTSUP;
	} else {
		*err = "line must start with INSTANCE or GROUP";
		return -EINVAL;
	}
	p += n;
	if (p >= end || *p != ' ') {
		*err = "missing name";
		return -EINVAL;
	}
	p++;
	/* "NAME": keepalived quotes it; a name never holds a quote itself */
	if (p >= end || *p != '"') {
		*err = "name must be quoted";
		return -EINVAL;
	}
	p++;
	q = memchr(p, '"', (size_t)(end - p));
	if (q == NULL) {
		*err = "unterminated name";
		return -EINVAL;
	}
	n = (size_t)(q - p);
	if (n == 0 || n > VRRP_NAME_MAX) {
		*err = "name empty or too long";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e) {
			*err = "name has a blank or non-printable character";
			return -EINVAL;
		}
	}
	memcpy(out->name, p, n);
	out->name[n] = '\0';
	p = q + 1;
	if (p >= end || *p != ' ') {
		*err = "missing state";
		return -EINVAL;
	}
	p++;
	/* STATE or EVENT */
	n = tok(p, end);
	for (i = 0; i < sizeof(vrrp_words) / sizeof(vrrp_words[0]); i++)
		if (word_is(p, n, vrrp_words[i].word))
			break;
	if (i == sizeof(vrrp_words) / sizeof(vrrp_words[0])) {
		*err = "unknown state or event";
		return -EINVAL;
	}
	out->kind = vrrp_words[i].kind;
	out->role = vrrp_words[i].role;
	p += n;
	if (p == end)
		return 0;	/* no priority (older keepalived, some GROUP lines) */
	if (*p != ' ' || p + 1 == end) {
		*err = "garbage after the state";
		return -EINVAL;
	}
	p++;
	/* PRIORITY: 0-255 */
	out->priority = 0;
	for (n = 0; p < end; p++, n++) {
		if (*p < '0' || *p > '9' || n == 3) {
			*err = "priority must be 0-255";
			out->priority = -1;
			return -EINVAL;
		}
		out->priority = out->priority * 10 + (*p - '0');
	}
	if (out->priority > 255) {
		*err = "priority must be 0-255";
		out->priority = -1;
		return -EINVAL;
	}
	return 0;
}
