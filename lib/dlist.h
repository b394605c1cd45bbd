#ifndef TANDEM_DLIST_H
#define TANDEM_DLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "dlist-t.h"

/*
 * dlist - intrusive doubly linked list helpers (types in dlist-t.h).
 *
 * A node is in at most one list at a time; dlist_remove detaches it (both
 * links NULL again). A node that is alone in its list has NULL links as
 * well, so whether it is listed is asked of the list too (dlist_linked).
 * Nothing here allocates or locks: one list, one thread.
 */

/* The struct of type that embeds node n as member (n must not be NULL). */
#define DLIST_ENTRY(n, type, member) \
	((type *)(void *)((char *)(n) - offsetof(type, member)))

/* Like DLIST_ENTRY, NULL for NULL (evaluates n twice). */
#define DLIST_ENTRY_OR_NULL(n, type, member) \
	((n) != NULL ? DLIST_ENTRY(n, type, member) : NULL)

/* for (each entry e of list l, first to last), e a typed pointer already
 * declared. The body must not unlink e: walk the nodes with the next one
 * saved for that. */
#define DLIST_FOREACH(e, l, member)						\
	for (struct dlist_node *e##_dl_ = (l)->first;				\
	     e##_dl_ != NULL && ((e) = DLIST_ENTRY(e##_dl_, __typeof__(*(e)), member), 1); \
	     e##_dl_ = e##_dl_->next)

static inline bool
dlist_empty(const struct dlist *l)
{
	return l->first == NULL;
}

/* Is n in l? (n is in no list, or in l: a node alone in its list has NULL
 * links like a detached one, so the list's first node tells them apart.) */
static inline bool
dlist_linked(const struct dlist *l, const struct dlist_node *n)
{
	return n->prev != NULL || l->first == n;
}

/* Links n in front of the first node (newest first). */
static inline void
dlist_push_front(struct dlist *l, struct dlist_node *n)
{
	n->prev = NULL;
	n->next = l->first;
	if (l->first != NULL)
		l->first->prev = n;
	else
		l->last = n;
	l->first = n;
}

/* Links n after the last node (FIFO order). */
static inline void
dlist_push_back(struct dlist *l, struct dlist_node *n)
{
	n->next = NULL;
	n->prev = l->last;
	if (l->last != NULL)
		l->last->next = n;
	else
		l->first = n;
	l->last = n;
}

/* Unlinks n, which must be in l. */
static inline void
dlist_remove(struct dlist *l, struct dlist_node *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		l->first = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		l->last = n->prev;
	n->prev = n->next = NULL;
}

#endif
