#ifndef TANDEM_L4_NFT_H
#define TANDEM_L4_NFT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf-t.h"

/*
 * l4_nft - Tandem's own nftables table ("inet tandem"), programmed with
 * libnftables (the only module that includes it). It holds the allow/deny
 * lists, the ban sets and the per-service, per-source limits of the config's
 * "l4" section (doc/l4.md "Rate rules and ban lists"). No other table is ever
 * read or written.
 *
 * Reconcile never flushes. Every ruleset object is named after a hash of its
 * content: a change creates the new chain (and sets) beside the old ones,
 * points the base chain's single jump rule at it with "replace rule", and
 * deletes what is no longer referenced, all in one nftables transaction, so
 * packets see either the old rules or the new ones, never none. Rate and
 * connection-count sets keep their state across reloads that do not change
 * that service's limits; the ban sets are never recreated.
 */

#define L4_NFT_TABLE "tandem"
#define L4_NFT_NAME_MAX 64

/* What the builder needs to know of the kernel's copy of our table. */
struct l4_nft_state {
	int exists;			/* table inet tandem exists */
	int base;			/* its base chain "pre" exists */
	uint64_t jump_handle;		/* handle of pre's jump rule, 0 = none */
	char jump_to[L4_NFT_NAME_MAX];	/* the chain it jumps to */
	char (*names)[L4_NFT_NAME_MAX];	/* chains and sets in the table */
	size_t nnames;
};

/* 1 when c asks for nftables at all (a filter section or a service with
 * limits); otherwise tandemd removes its table if present. */
int l4_nft_wanted(const struct conf *c);

/* Pure: the nft commands turning st into c's ruleset, as one script for one
 * transaction (a new string in *text, the caller frees it; "" when nothing is
 * to be done) and the number of commands in *nops. 0 or -ENOMEM. */
int l4_nft_build(const struct conf *c, const struct l4_nft_state *st, char **text, size_t *nops);

/* Pure: reads the JSON of "nft -j -a list table inet tandem" into st
 * (names malloc'd; release with l4_nft_state_release). 0 or -EINVAL. */
int l4_nft_state_parse(const char *json, struct l4_nft_state *st);
void l4_nft_state_release(struct l4_nft_state *st);

/* Reconciles the kernel's table with c (borrowed). Main thread. Returns a
 * new JSON summary {"enabled","ops","ms","error"}; never fails a reload. */
json_t *l4_nft_reconcile(const struct conf *c);

/* Adds addr (numeric IPv4 or IPv6) to the ban set for timeout_s seconds
 * (0 = the config's ban_timeout), replacing the timeout of an existing ban.
 * Any thread (serialised by a mutex); blocks for one netlink transaction, so
 * L7 workers hand bans to a thread that may block. 0, -EINVAL (bad address),
 * -ENOENT (no table: nftables not configured) or -EIO (err, if not NULL, gets
 * nft's message, at most errlen bytes). */
int l4_nft_ban_add(const char *addr, unsigned timeout_s, char *err, size_t errlen);

/* Counters and the last pass, as a new JSON object. */
json_t *l4_nft_status_json(void);

/* Frees the libnftables contexts. The table stays in the kernel. */
void l4_nft_shutdown(void);

#endif
