#ifndef TANDEM_L7_HEALTH_H
#define TANDEM_L7_HEALTH_H

/*
 * l7_health - active health checks (TCP connect or HTTP GET) of the members
 * of every pool with a health_check, on one thread with its own loop. It
 * follows the published snapshot like a worker does; verdicts go to the
 * member states (l7_pool), which workers read without locks.
 */

/* Starts the health thread. 0 or -errno. Main thread only. */
int l7_health_start(void);

/* Wakes the thread so it adopts a newly published snapshot. Any thread. */
void l7_health_wake(void);

/* Stops and joins the thread; before l7_workers_stop(), which frees the
 * member states. Main thread only. */
void l7_health_stop(void);

#endif
