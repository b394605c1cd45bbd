#ifndef TANDEM_CTL_H
#define TANDEM_CTL_H

#include <sys/types.h>

#include <jansson.h>

#include "loop-t.h"

/*
 * ctl - tandemd's control socket server (protocol in lib/ctlc.h): JSON lines
 * over a Unix stream socket, mode 0660, group configurable. Runs in the main
 * thread's loop; the handler is called there too.
 */

struct ctl_server;

/* Handles one request (borrowed) and returns a new reference to the answer. */
typedef json_t *(*ctl_handler_fn)(const json_t *req, void *data);

/* Binds path (an old socket file is replaced), sets mode 0660 and, when group
 * is not NULL, the group. Returns 0 and *out, or -errno with a message logged. */
int ctl_server_start(struct loop *l, const char *path, const char *group,
		     ctl_handler_fn handler, void *data, struct ctl_server **out);

/* Called from a handler: attaches n descriptors (borrowed; they must stay
 * open until the handler's caller sent them) to the answer being made, sent
 * with it as SCM_RIGHTS. Main thread. */
void ctl_answer_fds(const int *fds, size_t n);

/* Called from a handler: the pid and uid of the client whose request it
 * answers (SO_PEERCRED, as of its connect). 0, or -1 outside a handler. */
int ctl_peer(pid_t *pid, uid_t *uid);

/* Closes every client and the socket, unlinks path (unless another process
 * bound a new socket there since: a binary upgrade); sets *sp to NULL. */
void ctl_server_stop(struct ctl_server **sp);

#endif
