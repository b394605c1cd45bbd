#ifndef TANDEM_LIM_CIDR_H
#define TANDEM_LIM_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "lim-t.h"

/*
 * lim_cidr - IPv4 and IPv6 prefix sets with longest-prefix match, for client
 * allow and deny lists. A path-compressed binary trie per family: a lookup
 * visits at most 33 (IPv4) or 129 (IPv6) nodes whatever the list size, and in
 * practice about log2(entries) + 1. Built at config time, then read-only:
 * lookups from any number of threads need no lock.
 */

/* Returns an empty set or NULL (out of memory). */
struct lim_cidr *lim_cidr_new(void);
/* Frees the set; sets *cp to NULL. */
void lim_cidr_free(struct lim_cidr **cp);

/* Adds af (AF_INET/AF_INET6) addr/plen with value; the host bits of addr
 * must be zero. Re-adding a prefix replaces its value. Returns 0, -EINVAL or
 * -ENOMEM. Config time only (not concurrent with lookups). */
int lim_cidr_add(struct lim_cidr *c, int af, const uint8_t *addr, unsigned plen, uint32_t value);

/* Parses "a.b.c.d[/n]" or "x::y[/n]" (no prefix: a single host) and adds it.
 * Returns 0, -EINVAL (bad text or host bits set) or -ENOMEM. */
int lim_cidr_add_str(struct lim_cidr *c, const char *s, uint32_t value);

/* List files: one address or prefix per line as lim_cidr_add_str takes it;
 * '#' starts a comment (to the end of the line); blank lines, spaces, tabs
 * and CR are ignored. The first bad line is described in e (line 0: the file
 * itself), with the number of bad lines; nothing is partial for the caller:
 * on error it must drop the set. */
struct lim_cidr_err {
	unsigned long line;	/* first bad line (1-based); 0: not about a line */
	unsigned long bad;	/* bad lines in all */
	char msg[160];
};

/* Adds every prefix of the list text (len bytes, need not end in NUL) with
 * value, at most max of them. Returns the number added, or -EINVAL (bad
 * lines, more than max) / -ENOMEM with *e filled. Config time. */
long lim_cidr_text_load(struct lim_cidr *c, const char *text, size_t len, uint32_t value, size_t max,
			struct lim_cidr_err *e);

/* Reads the regular file path (at most LIM_CIDR_FILE_MAX bytes) and loads it
 * as lim_cidr_text_load does. -errno of the open or read too. */
#define LIM_CIDR_FILE_MAX (64u << 20)
long lim_cidr_file_load(struct lim_cidr *c, const char *path, uint32_t value, size_t max,
			struct lim_cidr_err *e);

/* Longest-prefix match of addr (4 or 16 bytes by af; an IPv4-mapped IPv6
 * address is looked up as IPv4). Returns 1 and sets *value when a prefix
 * covers addr, else 0. Any thread. */
int lim_cidr_lookup(const struct lim_cidr *c, int af, const uint8_t *addr, uint32_t *value);

/* Builds the per-family jump tables (512 KiB each) that let a lookup skip
 * the top 16 levels; worth it from about a thousand prefixes. Call after the
 * last add (an add drops them). Returns 0 or -ENOMEM (lookups still work,
 * without the shortcut). Config time. */
int lim_cidr_freeze(struct lim_cidr *c);

/* Prefixes stored, and bytes of trie memory. */
size_t lim_cidr_count(const struct lim_cidr *c);
size_t lim_cidr_bytes(const struct lim_cidr *c);

#endif
