#ifndef TANDEM_SNAPSHOT_H
#define TANDEM_SNAPSHOT_H

#include "errs-t.h"
#include "snapshot-t.h"

/*
 * snapshot - build, publish and reference configuration snapshots.
 *
 * Build (snapshot_build) parses a file and prepares what can fail (binding
 * listeners) without touching what is serving; publish (snapshot_publish)
 * swaps the current pointer under a lock and bumps the generation. Workers
 * poll snapshot_generation() (one atomic load) at the top of each loop pass
 * and call snapshot_acquire() only when it changed: no lock on the data path.
 */

/* Sets how many sockets each listener gets (one per L7 worker, bound with
 * SO_REUSEPORT so the kernel spreads connections). Before the first build;
 * main thread only. */
void snapshot_workers_set(unsigned n);

/* Binary upgrade: fd is a listening socket of key ("address|port") handed
 * over by the old tandemd; the next build uses the inherited sockets of a
 * listener instead of binding when there is one per worker. 0 or -ENOMEM.
 * snapshot_inherit_drop() closes what no listener claimed. Main thread. */
int snapshot_inherit(const char *key, int fd);
void snapshot_inherit_drop(void);

/* Parses path and binds its listeners. Returns a new snapshot with one
 * reference owned by the caller, or NULL with the reasons in errs (JSON
 * paths). Main thread only. */
struct snapshot *snapshot_build(const char *path, struct errs *errs);

/* Makes s the current snapshot; takes ownership of the caller's reference.
 * Returns the new generation. Main thread only. */
unsigned long snapshot_publish(struct snapshot *s);

/* Returns a new reference to the current snapshot (NULL before the first
 * publish). Any thread. */
struct snapshot *snapshot_acquire(void);

/* Adds a reference to s (any thread). */
void snapshot_ref(struct snapshot *s);

/* Drops a reference; frees s (and closes listeners no other snapshot uses)
 * when it was the last. Sets *sp to NULL. Any thread. */
void snapshot_release(struct snapshot **sp);

/* The generation of the current snapshot; 0 before the first publish. */
unsigned long snapshot_generation(void);

/* Drops the current snapshot at shutdown. Main thread only. */
void snapshot_shutdown(void);

#endif
