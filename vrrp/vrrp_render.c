/*
 * vrrp_render - keepalived.conf from the vrrp section of a snapshot.
 *
 * The file holds global_defs and one vrrp_instance per VIP group, nothing
 * else: no virtual_server blocks (tandemd alone writes IPVS), no scripts
 * (keepalived dies with tandemd instead of polling it). Every string written
 * was validated by conf_vrrp.c to an alphabet that needs no quoting, so the
 * output cannot carry a keyword the operator did not ask for.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp.h"

struct rbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void __attribute__((format(printf, 2, 3)))
rb_printf(struct rbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t ncap = b->cap ? b->cap * 2 : 4096;
			char *np;

			while (ncap < b->len + (size_t)n + 1)
				ncap *= 2;
			np = realloc(b->p, ncap);
			if (np == NULL) {
				b->oom = 1;
				return;
			}
			b->p = np;
			b->cap = ncap;
		}
	}
}

char *
vrrp_conf_render(const struct conf_vrrp *v, const char *fifo_path)
{
	return vrrp_conf_render_gated(v, fifo_path, 0);
}

char *
vrrp_conf_render_gated(const struct conf_vrrp *v, const char *fifo_path, int gated)
{
	struct rbuf b = { 0 };
	size_t i, j;

	rb_printf(&b, "# Rendered by tandemd from the vrrp section of its config. Do not edit:\n"
		      "# the next reload overwrites it.\n"
		      "global_defs {\n"
		      "    router_id %s\n"
		      "    vrrp_version 3\n"
		      /* script_user before the FIFO: on a reload keepalived
		       * sets the FIFO's user as it reads that line, and
		       * without a script user yet it falls back to
		       * keepalived_script, fails and drops the FIFO (no role
		       * change is reported after a SIGHUP) */
		      "    script_user root\n"
		      "    enable_script_security\n"
		      "    vrrp_notify_fifo %s\n"
		      "    fifo_write_vrrp_states_on_reload\n"
		      /* Under full load a VRRP process at nice 0 missed its
		       * adverts for longer than the master-down interval
		       * (spurious failovers in bench/ha-soak.sh): the
		       * strongest nice and no paging. Not real-time:
		       * keepalived 2.2.7's VRRP process with
		       * vrrp_rt_priority was SIGKILLed on every reload where
		       * it could not set RLIMIT_RTTIME (doc/ha.md). */
		      "    vrrp_priority -20\n"
		      "    vrrp_no_swap\n"
		      "}\n", v->router_id, fifo_path);
	for (i = 0; i < v->ngroups; i++) {
		const struct conf_vrrp_group *g = &v->groups[i];

		rb_printf(&b, "\nvrrp_instance %s {\n"
			      "    state BACKUP\n"
			      "    interface %s\n"
			      "    virtual_router_id %u\n"
			      "    priority %u\n"
			      "    advert_int %u.%02u\n",
			  g->name, g->interface, g->vrid, gated ? VRRP_GATED_PRIORITY : g->priority,
			  g->advert_ms / 1000, (g->advert_ms % 1000) / 10);
		if (!g->preempt)
			rb_printf(&b, "    nopreempt\n");
		if (g->unicast) {
			rb_printf(&b, "    unicast_src_ip %s\n    unicast_peer {\n", g->unicast_source);
			for (j = 0; j < g->npeers; j++)
				rb_printf(&b, "        %s\n", g->peers[j]);
			rb_printf(&b, "    }\n");
		}
		rb_printf(&b, "    virtual_ipaddress {\n");
		for (j = 0; j < g->nvips; j++)
			rb_printf(&b, "        %s/%u dev %s\n", g->vips[j].address, g->vips[j].prefix,
				  g->interface);
		rb_printf(&b, "    }\n}\n");
	}
	if (b.oom || b.p == NULL) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
