/*
 * lim_cidr - longest-prefix match over a path-compressed binary trie.
 *
 * Invariants: nodes live in one array and refer to each other by index
 * (LIM_NIL = none), so growing the array moves nothing that matters. A node's
 * key holds exactly plen significant bits (the rest zero). A child's prefix
 * extends its parent's, and child[b] continues with bit b at position plen.
 * Nodes created only to branch carry no value (LIM_NOVAL). IPv4 keys sit in
 * the top 32 bits of the 128-bit key, in a tree of their own.
 *
 * lim_cidr_freeze adds a jump table per family indexed by the top 16 bits:
 * for each /16 it holds the best value of the prefixes of length < 16 on the
 * path and the first node of length >= 16, so a lookup starts there. With
 * 100,000 prefixes that removes ~16 dependent cache misses per lookup.
 * Adding a prefix drops the jump tables (freeze again).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lim_cidr.h"

#define LIM_NIL		UINT32_MAX
#define LIM_NOVAL	0x80000000u	/* flag in node.has: no value here */

struct lim_cnode {
	uint64_t hi, lo;
	uint32_t value;
	uint32_t plen;	/* 0..128; bit 31 (LIM_NOVAL) set for branch-only nodes */
	uint32_t child[2];
};

#define LIM_JUMP_BITS	16
#define LIM_JUMP_HAS	0x80000000u	/* in jump.start: best is set */

struct lim_cjump {
	uint32_t start;	/* node index (LIM_NIL: none) | LIM_JUMP_HAS */
	uint32_t best;
};

struct lim_cidr {
	struct lim_cjump *jump[2];	/* NULL until lim_cidr_freeze */
	struct lim_cnode *n;
	uint32_t len, cap;
	uint32_t root[2];	/* [0] IPv4, [1] IPv6 */
	size_t count;
};

struct lim_cidr *
lim_cidr_new(void)
{
	struct lim_cidr *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->root[0] = c->root[1] = LIM_NIL;
	return c;
}

void
lim_cidr_free(struct lim_cidr **cp)
{
	if (*cp == NULL)
		return;
	free((*cp)->jump[0]);
	free((*cp)->jump[1]);
	free((*cp)->n);
	free(*cp);
	*cp = NULL;
}

static inline unsigned
lim_bit(uint64_t hi, uint64_t lo, unsigned i)
{
	return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u : (unsigned)(lo >> (127 - i)) & 1u;
}

static inline void
lim_mask(uint64_t *hi, uint64_t *lo, unsigned plen)
{
	if (plen == 0) {
		*hi = *lo = 0;
	} else if (plen < 64) {
		*hi &= ~0ULL << (64 - plen);
		*lo = 0;
	} else if (plen == 64) {
		*lo = 0;
	} else if (plen < 128) {
		*lo &= ~0ULL << (128 - plen);
	}
}

static inline unsigned
lim_common(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
	if (ah != bh)
		return (unsigned)__builtin_clzll(ah ^ bh);
	if (al != bl)
		return 64 + (unsigned)__builtin_clzll(al ^ bl);
	return 128;
}

/* Loads addr as a 128-bit key; returns the family's bit count (32 or 128)
 * and the tree index, converting IPv4-mapped IPv6 to IPv4. -1 for a bad af. */
static int
lim_key(int af, const uint8_t *addr, uint64_t *hi, uint64_t *lo, int *tree)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	int i;

	*hi = *lo = 0;
	if (af == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		af = AF_INET;
		addr += 12;
	}
	if (af == AF_INET) {
		for (i = 0; i < 4; i++)
			*hi = (*hi << 8) | addr[i];
		*hi <<= 32;
		*tree = 0;
		return 32;
	}
	if (af != AF_INET6)
		return -1;
	for (i = 0; i < 8; i++) {
		*hi = (*hi << 8) | addr[i];
		*lo = (*lo << 8) | addr[8 + i];
	}
	*tree = 1;
	return 128;
}

static uint32_t
lim_node(struct lim_cidr *c, uint64_t hi, uint64_t lo, unsigned plen, uint32_t value, int has)
{
	struct lim_cnode *n = &c->n[c->len];

	n->hi = hi;
	n->lo = lo;
	n->plen = plen | (has ? 0 : LIM_NOVAL);
	n->value = value;
	n->child[0] = n->child[1] = LIM_NIL;
	return c->len++;
}

int
lim_cidr_add(struct lim_cidr *c, int af, const uint8_t *addr, unsigned plen, uint32_t value)
{
	uint64_t hi, lo, mh, ml;
	uint32_t *link, idx;
	int tree, bits = lim_key(af, addr, &hi, &lo, &tree);

	if (bits < 0 || plen > (unsigned)bits)
		return -EINVAL;
	if (af == AF_INET6 && tree == 0)
		return -EINVAL;	/* write mapped addresses as IPv4 prefixes */
	mh = hi;
	ml = lo;
	lim_mask(&mh, &ml, plen);
	if (mh != hi || ml != lo)
		return -EINVAL;	/* host bits set */
	free(c->jump[tree]);	/* stale now */
	c->jump[tree] = NULL;
	if (c->len + 2 > c->cap) {	/* reserve first: no pointer moves below */
		uint32_t nc = c->cap ? c->cap * 2 : 64;
		struct lim_cnode *nn;

		if (nc < c->cap)
			return -ENOMEM;
		nn = realloc(c->n, (size_t)nc * sizeof(*nn));
		if (nn == NULL)
			return -ENOMEM;
		c->n = nn;
		c->cap = nc;
	}
	link = &c->root[tree];
	for (;;) {
		struct lim_cnode *n;
		unsigned np, common;

		if (*link == LIM_NIL) {
			*link = lim_node(c, hi, lo, plen, value, 1);
			c->count++;
			return 0;
		}
		n = &c->n[*link];
		np = n->plen & ~LIM_NOVAL;
		common = lim_common(hi, lo, n->hi, n->lo);
		if (common > np)
			common = np;
		if (common > plen)
			common = plen;
		if (common == np) {
			if (plen == np) {
				if (n->plen & LIM_NOVAL)
					c->count++;
				n->plen = np;
				n->value = value;
				return 0;
			}
			link = &n->child[lim_bit(hi, lo, np)];
			continue;
		}
		if (common == plen) {	/* the new prefix is an ancestor of n */
			idx = lim_node(c, hi, lo, plen, value, 1);
			c->n[idx].child[lim_bit(n->hi, n->lo, plen)] = *link;
			*link = idx;
			c->count++;
			return 0;
		}
		/* they diverge at bit common: a branch node holds both */
		mh = hi;
		ml = lo;
		lim_mask(&mh, &ml, common);
		idx = lim_node(c, mh, ml, common, 0, 0);
		c->n[idx].child[lim_bit(n->hi, n->lo, common)] = *link;
		c->n[idx].child[lim_bit(hi, lo, common)] = lim_node(c, hi, lo, plen, value, 1);
		*link = idx;
		c->count++;
		return 0;
	}
}

int
lim_cidr_add_str(struct lim_cidr *c, const char *s, uint32_t value)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	uint8_t addr[16];
	unsigned long plen;
	int af;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	af = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, addr) != 1)
		return -EINVAL;
	plen = af == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2] != '\0'))
			return -EINVAL;
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || plen > (af == AF_INET ? 32u : 128u))
			return -EINVAL;
	}
	return lim_cidr_add(c, af, addr, (unsigned)plen, value);
}

long
lim_cidr_text_load(struct lim_cidr *c, const char *text, size_t len, uint32_t value, size_t max,
		   struct lim_cidr_err *e)
{
	const char *p = text, *end = text + len, *nl, *a, *b, *h;
	unsigned long line = 0;
	char tok[INET6_ADDRSTRLEN + 8];
	long n = 0;
	int rc;

	memset(e, 0, sizeof(*e));
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line++;
		h = memchr(p, '#', (size_t)(nl - p));
		b = h != NULL ? h : nl;
		for (a = p; a < b && (*a == ' ' || *a == '\t' || *a == '\r'); a++)
			;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		if (a == b)
			continue;	/* blank or comment only */
		rc = -EINVAL;
		if ((size_t)(b - a) < sizeof(tok) && memchr(a, '\0', (size_t)(b - a)) == NULL) {
			memcpy(tok, a, (size_t)(b - a));
			tok[b - a] = '\0';
			rc = (size_t)n >= max ? -E2BIG : lim_cidr_add_str(c, tok, value);
		}
		if (rc == -ENOMEM) {
			e->line = line;
			snprintf(e->msg, sizeof(e->msg), "out of memory");
			return -ENOMEM;
		}
		if (rc == -E2BIG) {
			e->line = line;
			e->bad++;
			snprintf(e->msg, sizeof(e->msg), "more than %zu prefixes", max);
			return -EINVAL;
		}
		if (rc < 0) {
			if (e->bad++ == 0) {
				/* quote the start of the line, printable bytes only */
				int k, m = (int)(b - a > 40 ? 40 : b - a);

				e->line = line;
				snprintf(e->msg, sizeof(e->msg), "not an IPv4 or IPv6 address or prefix "
					 "(addr/len, host bits zero): \"");
				for (k = 0; k < m; k++) {
					size_t l = strlen(e->msg);

					if (l + 5 >= sizeof(e->msg))
						break;
					e->msg[l] = a[k] >= 0x20 && a[k] < 0x7f && a[k] != '"' ? a[k] : '?';
					e->msg[l + 1] = '\0';
				}
				strcat(e->msg, b - a > 40 ? "...\"" : "\"");
			}
			continue;
		}
		n++;
	}
	return e->bad ? -EINVAL : n;
}

long
lim_cidr_file_load(struct lim_cidr *c, const char *path, uint32_t value, size_t max,
		   struct lim_cidr_err *e)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long rc;
	size_t cap = 65536, len = 0, got;

	memset(e, 0, sizeof(*e));
	if (f == NULL) {
		rc = -errno;
		snprintf(e->msg, sizeof(e->msg), "cannot open: %s", strerror(errno));
		return rc;
	}
	/* read to the end (no fstat size: a FIFO or a growing file is bounded
	 * by LIM_CIDR_FILE_MAX all the same) */
	for (;;) {
		char *nb;

		if (len == cap || buf == NULL) {
			if (buf != NULL && cap >= LIM_CIDR_FILE_MAX) {
				snprintf(e->msg, sizeof(e->msg), "larger than %u bytes", LIM_CIDR_FILE_MAX);
				rc = -EFBIG;
				goto out;
			}
			cap = buf == NULL ? cap : cap * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				snprintf(e->msg, sizeof(e->msg), "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(e->msg, sizeof(e->msg), "cannot read: %s", strerror(errno));
		rc = -EIO;
		goto out;
	}
	rc = lim_cidr_text_load(c, buf, len, value, max, e);
out:
	free(buf);
	fclose(f);
	return rc;
}

int
lim_cidr_lookup(const struct lim_cidr *c, int af, const uint8_t *addr, uint32_t *value)
{
	uint64_t hi, lo;
	uint32_t idx;
	int tree, bits = lim_key(af, addr, &hi, &lo, &tree), found = 0;

	if (bits < 0)
		return 0;
	idx = c->root[tree];
	if (c->jump[tree] != NULL) {
		const struct lim_cjump *j = &c->jump[tree][hi >> (64 - LIM_JUMP_BITS)];

		if (j->start & LIM_JUMP_HAS) {
			*value = j->best;
			found = 1;
		}
		idx = j->start & ~LIM_JUMP_HAS;
		if (idx == (LIM_NIL & ~LIM_JUMP_HAS))
			idx = LIM_NIL;
	}
	while (idx != LIM_NIL) {
		const struct lim_cnode *n = &c->n[idx];
		unsigned np = n->plen & ~LIM_NOVAL;

		if (lim_common(hi, lo, n->hi, n->lo) < np)
			break;
		if (!(n->plen & LIM_NOVAL)) {
			*value = n->value;
			found = 1;
		}
		if (np >= (unsigned)bits)
			break;
		idx = n->child[lim_bit(hi, lo, np)];
	}
	return found;
}

int
lim_cidr_freeze(struct lim_cidr *c)
{
	uint32_t x, tree;

	if (c->len >= (LIM_NIL & ~LIM_JUMP_HAS))
		return -ENOMEM;	/* indexes must leave the flag bit free */
	for (tree = 0; tree < 2; tree++) {
		struct lim_cjump *j;

		free(c->jump[tree]);
		c->jump[tree] = NULL;
		if (c->root[tree] == LIM_NIL)
			continue;
		j = malloc(sizeof(*j) << LIM_JUMP_BITS);
		if (j == NULL)
			return -ENOMEM;
		for (x = 0; x < (1u << LIM_JUMP_BITS); x++) {
			uint64_t hi = (uint64_t)x << (64 - LIM_JUMP_BITS);
			uint32_t idx = c->root[tree], has = 0, best = 0;

			while (idx != LIM_NIL) {
				const struct lim_cnode *n = &c->n[idx];
				unsigned np = n->plen & ~LIM_NOVAL;

				if (np >= LIM_JUMP_BITS)
					break;	/* from here the host bits matter */
				if (lim_common(hi, 0, n->hi, n->lo) < np) {
					idx = LIM_NIL;
					break;
				}
				if (!(n->plen & LIM_NOVAL)) {
					has = LIM_JUMP_HAS;
					best = n->value;
				}
				idx = n->child[lim_bit(hi, 0, np)];
			}
			j[x].start = (idx == LIM_NIL ? (LIM_NIL & ~LIM_JUMP_HAS) : idx) | has;
			j[x].best = best;
		}
		c->jump[tree] = j;
	}
	return 0;
}

size_t
lim_cidr_count(const struct lim_cidr *c)
{
	return c->count;
}

size_t
lim_cidr_bytes(const struct lim_cidr *c)
{
	return (size_t)c->cap * sizeof(struct lim_cnode) + sizeof(*c) +
	       ((c->jump[0] != NULL) + (c->jump[1] != NULL)) * (sizeof(struct lim_cjump) << LIM_JUMP_BITS);
}
