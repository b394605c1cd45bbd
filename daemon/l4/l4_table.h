#ifndef TANDEM_L4_TABLE_H
#define TANDEM_L4_TABLE_H

#include "conf-t.h"
#include "l4-t.h"

/*
 * l4_table - sets of IPVS services (desired or dumped) and the pure
 * conversions around them. No kernel, no libnl: unit-testable as is.
 */

/* Appends a copy of svc (without its dests) to t. Returns the new entry or
 * NULL on out of memory. The entry's dests are empty. */
struct l4_svc *l4_table_add_svc(struct l4_table *t, const struct l4_svc *svc);

/* Appends a copy of d to svc's dests. 0 or -ENOMEM. */
int l4_svc_add_dest(struct l4_svc *svc, const struct l4_dest *d);

/* Sorts services by key and each service's dests by address, so the diff can
 * merge-join. */
void l4_table_sort(struct l4_table *t);

/* Finds a service by key in a sorted table; NULL when absent. */
struct l4_svc *l4_table_find(const struct l4_table *t, const struct l4_svc_key *k);

/* Frees everything t owns and leaves it empty (reusable). */
void l4_table_release(struct l4_table *t);

/* Builds the desired state of a config's "l4" section into t (sorted). Names
 * borrow from c, which must outlive t. 0 or -ENOMEM. */
int l4_table_from_conf(struct l4_table *t, const struct conf *c);

/* Orders of keys and dests (memcmp-like). */
int l4_svc_key_cmp(const struct l4_svc_key *a, const struct l4_svc_key *b);
int l4_dest_cmp(const struct l4_dest *a, const struct l4_dest *b);

/* Writes "TCP 10.0.0.1:80", "UDP [::1]:53" or "FWM 7 IPv6" into buf. */
void l4_svc_key_format(const struct l4_svc_key *k, char *buf, size_t len);
/* Writes "10.0.0.2:80" or "[::2]:80" into buf. */
void l4_dest_format(const struct l4_dest *d, char *buf, size_t len);

/* The owned-record line of a key: "tcp 10.0.0.1 80", "udp ::1 53",
 * "fwmark ipv4 7". l4_svc_key_parse() reads one back: 0 or -EINVAL. */
void l4_svc_key_record(const struct l4_svc_key *k, char *buf, size_t len);
int l4_svc_key_parse(const char *line, struct l4_svc_key *k);

#endif
