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

/* ---- vrrp_ka.c: the keepalived supervisor ---- */

struct vrrp;

struct vrrp_opts {
	const char *run_dir;	/* config, FIFO and pid files; created 0700 */
	const char *keepalived;	/* the binary (PATH is searched) */
};

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
