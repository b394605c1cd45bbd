#ifndef TANDEM_DLIST_T_H
#define TANDEM_DLIST_T_H

/*
 * An intrusive doubly linked list (functions in dlist.h). The owner embeds
 * a struct dlist_node and finds itself again with DLIST_ENTRY, so linking
 * allocates nothing and costs no pointer chase beyond the neighbours'.
 *
 * Both ends are NULL-terminated and all-zero is valid: an empty list and a
 * detached node need no init, so calloc'd owners just work. The list keeps
 * its last node too, for FIFO queues (append at the tail, take the first).
 */
struct dlist_node {
	struct dlist_node *prev, *next;
};

struct dlist {
	struct dlist_node *first, *last;
};

#endif
