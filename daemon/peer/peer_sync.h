#ifndef TANDEM_PEER_SYNC_H
#define TANDEM_PEER_SYNC_H

#include "peer.h"

struct lim_store;
struct l7_tls_keys;

/*
 * peer_sync - the peer link's collect/apply hooks for the limiter's tables
 * and bans (a struct lim_store) and the TLS ticket key ring. Either may be
 * NULL (that state is then neither sent nor accepted). Both must outlive
 * the link: free this after peer_stop.
 */
struct peer_sync *peer_sync_new(struct lim_store *store, struct l7_tls_keys *keys);
/* The hooks to put in peer_opts.sync (borrowed from s). */
const struct peer_sync_ops *peer_sync_ops(struct peer_sync *s);
void peer_sync_free(struct peer_sync **sp);

#endif
