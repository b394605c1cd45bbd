#ifndef TANDEM_VRRP__CHILD_H
#define TANDEM_VRRP__CHILD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Shared by the two places that run keepalived (vrrp_ka.c when tandemd runs
 * it itself, vrrp_priv.c when the root supervisor does).
 */

/* In a fresh child, before exec: die with the parent, undo what the parent
 * set for itself (blocked signals, SIGPIPE ignored). Async-signal-safe. */
void vrrp_child_setup(pid_t parent);

/* Runs `keepalived -t -f conf`, collecting its output into msg (killed after
 * timeout_ms). Returns the exit status (0 = accepted), or -errno when it
 * could not be run (-ENOENT: no keepalived). */
int vrrp_keepalived_check(const char *keepalived, const char *conf, int timeout_ms, char *msg,
			  size_t msglen);

#endif
