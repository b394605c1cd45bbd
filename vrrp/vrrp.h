#ifndef TANDEM_VRRP_H
#define TANDEM_VRRP_H

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"
#include "loop-t.h"
#include "vrrp-t.h"

/*
 * vrrp - keepalived glue: render keepalived.conf from the snapshot's vrrp
 * section, supervise keepalived as tandemd's child, read its notify FIFO and
 * keep each VIP group's role.
 *
 * The pure parts (vrrp_fifo_parse, vrrp_conf_render) are safe anywhere; the
 * supervisor (struct vrrp) lives on tandemd's main loop and every one of its
 * functions is called from that thread only.
 */

/* ---- vrrp_fifo.c: the notify-FIFO line parser (pure) ---- */

/* Parses one line (without its '\n'; a trailing '\r' or blanks are allowed)
 * of keepalived's vrrp_notify_fifo: `INSTANCE "VI_1" MASTER 100`. Returns 0
 * and fills *out, or -EINVAL with a static reason in *err. -ENOTSUP for a
 * well-formed line that is not about VRRP (VS/RS checker lines). */
int vrrp_fifo_parse(const char *line, size_t len, struct vrrp_fifo_msg *out, const char **err);

/* "MASTER", "BACKUP", ...; "UNKNOWN" for VRRP_ROLE_UNKNOWN. Static strings. */
const char *vrrp_role_name(enum vrrp_role r);

/* ---- vrrp_render.c: keepalived.conf from the config (pure) ---- */

/* Renders v as a keepalived.conf holding only global_defs and one
 * vrrp_instance per group (never a virtual_server: tandemd alone writes
 * IPVS). fifo_path is the notify FIFO. Returns a new malloc'd string (the
 * caller frees it) or NULL on out of memory. Same input, same bytes. */
char *vrrp_conf_render(const struct conf_vrrp *v, const char *fifo_path);

/* Same, with every group's priority VRRP_GATED_PRIORITY when gated: a node
 * that has not loaded the peer's state yet (doc/ha.md "Sync gate") never
 * outbids the peer; alone, it still becomes MASTER. */
#define VRRP_GATED_PRIORITY 1
char *vrrp_conf_render_gated(const struct conf_vrrp *v, const char *fifo_path, int gated);

/* ---- vrrp_ka.c: the keepalived supervisor ---- */

struct vrrp;

struct vrrp_opts {
	const char *run_dir;	/* config, FIFO and pid files; created 0700 */
	const char *keepalived;	/* the binary (PATH is searched) */
	/* Privilege split (vrrp_priv.c): > 0 is the supervisor's socket, and
	 * keepalived is checked, started, signalled and reaped through it;
	 * fifo_path is then the FIFO the supervisor made. 0: direct child. */
	int priv_fd;
	const char *fifo_path;
};

/* ---- vrrp_priv.c: the privilege split ---- */

/* With tandemd started as root: forks; the parent becomes the root
 * supervisor of keepalived and never returns (it exits with the data
 * plane's status); the child drops to user keeping CAP_NET_ADMIN,
 * CAP_NET_BIND_SERVICE and CAP_NET_RAW and returns 0 with *fd_out the
 * supervisor's socket and fifo_out the notify FIFO's path. priv_dir is the
 * supervisor's own dir (created 0711; its parent must be root's and not
 * group/other-writable, so the data plane cannot swap it). Started as user
 * already: returns 0 with *fd_out = -1 (no split). run_dir, keepalived:
 * as in vrrp_opts; the directory of socket_path is handed to user. -errno
 * on failure (logged). Call first thing in main, before any thread. */
int vrrp_priv_split(const char *user, const char *run_dir, const char *priv_dir,
		    const char *keepalived, const char *socket_path, int *fd_out,
		    char *fifo_out, size_t fifo_len);

/* Records the command line (kept, not copied) and the binary to exec on an
 * UPGRADE request: the supervisor re-executes itself in place, so its pid
 * (systemd's main pid) and keepalived survive; the new binary forks a new
 * data plane that takes the listeners over from the old one. Call before
 * vrrp_priv_split. */
void vrrp_priv_exec_args(char **argv);

/* One request to the supervisor ("CHECK", "START", "HUP", "TERM", "KILL",
 * "WAIT"; "UPGRADE": exec the new binary, answered with the new data plane's
 * pid; "TOOK": the new data plane took over): its number (status, pid or -errno), its text into text, and the
 * fd it passed (START: a pidfd) into *fd_out. Blocks. -errno when the
 * supervisor cannot be reached. */
long vrrp_priv_call(int fd, const char *req, char *text, size_t textlen, int *fd_out);

/* Creates the supervisor on loop l (nothing is started until the first
 * vrrp_commit with a vrrp section). opts are copied. 0 and *out or -errno. */
int vrrp_new(struct loop *l, const struct vrrp_opts *opts, struct vrrp **out);

/* Prepares c's vrrp section (borrowed) for a reload: renders it beside the
 * live file and checks it with `keepalived -t`. Blocks the main loop for
 * the length of the check (a few ms; 5 s at most). Returns 0, or -1 with
 * the reasons in errs under "$.vrrp". Nothing live changes. */
int vrrp_prepare(struct vrrp *v, const struct conf *c, struct errs *errs);

/* Applies what the last vrrp_prepare made: swaps the file in (rename) and
 * starts keepalived, sends it SIGHUP when its config changed, or stops it
 * when the section is gone. Call after the snapshot was published. */
void vrrp_commit(struct vrrp *v);

/* Drops what vrrp_prepare made (the reload was refused elsewhere). */
void vrrp_abort(struct vrrp *v);

/* Stops keepalived (SIGTERM, so it gives the VIPs up and tells the peer at
 * once; SIGKILL after 5 s) and frees everything; sets *vp to NULL. */
void vrrp_free(struct vrrp **vp);

/* Gates (1) or ungates (0) the priority of every group (see
 * vrrp_conf_render_gated). Returns 1 when that changed: the caller then
 * runs vrrp_prepare and vrrp_commit on the current config to apply it. */
int vrrp_set_gated(struct vrrp *v, int gated);
int vrrp_gated(const struct vrrp *v);

/* Binary upgrade, old side: forgets keepalived without stopping it (the new
 * tandemd's supervisor has it) and stops reading the FIFO; roles stay for
 * status. vrrp_free afterwards stops nothing. */
void vrrp_detach(struct vrrp *v);

/* Registers cb to run on every role change of any group. 0 or -ENOMEM. */
int vrrp_role_hook_add(struct vrrp *v, vrrp_role_cb cb, void *data);

/* The role of group name (VRRP_ROLE_UNKNOWN when no such group). */
enum vrrp_role vrrp_group_role(const struct vrrp *v, const char *name);

/* Status for the control socket: a new JSON object (caller owns it). */
json_t *vrrp_status_json(const struct vrrp *v);

/* Feeds one FIFO line to the role table as if keepalived had written it
 * (tests, and the FIFO reader itself). */
void vrrp_fifo_line(struct vrrp *v, const char *line, size_t len);

#endif
