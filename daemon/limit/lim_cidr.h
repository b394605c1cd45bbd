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
