#ifndef TANDEM_PEER_SYNC_H
#define TANDEM_PEER_SYNC_H

#include <stdint.h>

#include "peer.h"

struct lim_store;
struct l7_tls_keys;

/*
 * peer_sync - the peer link's collect/apply hooks for the limiter's tables
 * and bans (a struct lim_store) and the TLS ticket key ring. Either may be
 * NULL (that state is then neither sent nor accepted). Both must outlive
 * the link: free this after peer_stop.
 */
/* How a ban from the peer (or the state file) is applied: the running
 * daemon's lim_run_ban_apply also mirrors it into nftables. af is AF_INET6
 * with IPv4 mapped. */
typedef void (*peer_ban_apply_fn)(int af, const uint8_t *addr, uint64_t until_ms);

/* ban_apply NULL: straight into the store's ban set. */
struct peer_sync *peer_sync_new(struct lim_store *store, peer_ban_apply_fn ban_apply,
				struct l7_tls_keys *keys);
/* The hooks to put in peer_opts.sync (borrowed from s). */
const struct peer_sync_ops *peer_sync_ops(struct peer_sync *s);
void peer_sync_free(struct peer_sync **sp);

/* The limiter's whole state as records (new array; NULL on OOM): every
 * table's full export and every active ban at now (wall ms). No ticket
 * keys. Any thread. */
json_t *peer_sync_state(struct peer_sync *s, uint64_t now);
/* Applies one record as if the peer had sent it (the state file). */
int peer_sync_apply_rec(struct peer_sync *s, const struct peer_rec *r, const char **err);

/* ---- peer_snap.c: the limiter's state on disk ---- */

/* Writes peer_sync_state() to path atomically (path.tmp, fsync, rename,
 * fsync of the directory), mode 0600. 0 or -errno (logged). */
int peer_snap_save(struct peer_sync *s, const char *path);
/* Loads a file peer_snap_save wrote. 0 with *applied records, -ENOENT
 * without a file, -EINVAL when it is corrupt or of another format version
 * (nothing applied; logged with the reason). */
int peer_snap_load(struct peer_sync *s, const char *path, size_t *applied);

#endif
