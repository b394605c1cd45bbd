#ifndef TANDEM_SDNOTIFY_H
#define TANDEM_SDNOTIFY_H

/*
 * sdnotify - systemd's readiness protocol without libsystemd.
 *
 * The protocol is one datagram of "KEY=VALUE\n" lines sent to the Unix
 * socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace). Our units are Type=notify: tandemd says READY=1 once its
 * listeners and control socket are up, RELOADING=1/READY=1 around a reload
 * and STOPPING=1 on the way out; tandem-admin says READY=1 once it serves.
 * Linking libsystemd for one sendmsg() would add a dependency (and its
 * transitive ones) to both programs; this is the whole protocol we use.
 */

/* Sends state (borrowed, e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset (not under systemd,
 * nothing to do), or -errno (-EINVAL for a malformed variable). Any thread;
 * blocking-free (one datagram on a fresh non-blocking socket). */
int sdn_notify(const char *state);

#endif
