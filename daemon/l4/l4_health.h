#ifndef TANDEM_L4_HEALTH_H
#define TANDEM_L4_HEALTH_H

#include <jansson.h>

#include "conf-t.h"
#include "l4-t.h"

/*
 * l4_health - active health checks of L4 real servers (TCP connect, or
 * connect + send + expect a string, e.g. Redis "PING\r\n" / "+PONG"), run
 * non-blocking on tandemd's main loop. A real that fails `fall` checks in a
 * row is DOWN and gets weight 0 in IPVS (existing connections finish); one
 * that passes `rise` in a row is UP again with its configured weight. State
 * is keyed by the real's stable id ("service/address:port") and so carries
 * across reloads; a real starts UP. Main thread only.
 */

struct loop;

/* Called after a real changed state; the callee reconciles IPVS. */
typedef void (*l4_health_cb)(void *data);

/* Sets the loop the checks run on and the change callback. Borrowed. */
void l4_health_init(struct loop *l, l4_health_cb cb, void *data);

/* Makes the set of running checks match c (borrowed; the current snapshot):
 * starts checks of new reals, stops those of removed ones, picks up new
 * parameters. Keeps the state of reals that stay. */
void l4_health_sync(const struct conf *c);

/* Sets weight 0 on every dest of s (or of every service of t) whose real
 * is DOWN; services are matched by name, so s->name must be set (desired
 * state built from the conf of the last l4_health_sync). O(1) when no real
 * is down. */
void l4_health_apply_svc(struct l4_svc *s);
void l4_health_apply(struct l4_table *t);

/* [{"id","up","checks","fails","last_error"}...] as a new JSON array. */
json_t *l4_health_json(void);

/* Stops every check and frees the table. */
void l4_health_shutdown(void);

#endif
