/* Unit tests for lib/dlist.h: the intrusive doubly linked list. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dlist.h"

/* The node sits in the middle of its owner, so DLIST_ENTRY's offset is not 0. */
struct item {
	int id;
	struct dlist_node link;
	struct dlist_node other;	/* a second list the same item may be in */
};

/* The ids of l from first to last, checked against the back links. */
static size_t
ids(const struct dlist *l, int *out, size_t max)
{
	const struct dlist_node *n, *prev = NULL;
	size_t k = 0;

	for (n = l->first; n != NULL; prev = n, n = n->next) {
		assert_ptr_equal(n->prev, prev);
		assert_true(k < max);
		out[k++] = DLIST_ENTRY(n, struct item, link)->id;
	}
	assert_ptr_equal(l->last, prev);
	return k;
}

#define ASSERT_IDS(l, ...)							\
	do {									\
		const int want_[] = { __VA_ARGS__ };				\
		int got_[16];							\
		size_t n_ = ids((l), got_, 16);					\
		assert_int_equal(n_, sizeof(want_) / sizeof(want_[0]));	\
		assert_memory_equal(got_, want_, sizeof(want_));		\
	} while (0)

static void
test_zero_is_empty(void **state)
{
	struct dlist l;
	struct item it;

	(void)state;
	memset(&l, 0, sizeof(l));
	memset(&it, 0, sizeof(it));
	assert_true(dlist_empty(&l));
	assert_false(dlist_linked(&l, &it.link));
	assert_null(DLIST_ENTRY_OR_NULL(l.first, struct item, link));
	dlist_push_back(&l, &it.link);
	assert_false(dlist_empty(&l));
	assert_true(dlist_linked(&l, &it.link));	/* alone: NULL links, yet listed */
	assert_ptr_equal(DLIST_ENTRY_OR_NULL(l.first, struct item, link), &it);
	assert_ptr_equal(DLIST_ENTRY(l.last, struct item, link), &it);
	dlist_remove(&l, &it.link);
	assert_false(dlist_linked(&l, &it.link));
	assert_true(dlist_empty(&l));
	assert_null(l.last);
	assert_null(it.link.prev);
	assert_null(it.link.next);
}

static void
test_fifo_and_lifo_order(void **state)
{
	struct dlist q = { 0 }, s = { 0 };
	struct item it[4];
	int i;

	(void)state;
	memset(it, 0, sizeof(it));
	for (i = 0; i < 4; i++) {
		it[i].id = i;
		dlist_push_back(&q, &it[i].link);
		dlist_push_front(&s, &it[i].other);
	}
	ASSERT_IDS(&q, 0, 1, 2, 3);
	/* the other list is a stack over the same items */
	assert_ptr_equal(DLIST_ENTRY(s.first, struct item, other), &it[3]);
	assert_ptr_equal(DLIST_ENTRY(s.last, struct item, other), &it[0]);
	/* a queue drains in arrival order; what is appended meanwhile comes last */
	dlist_remove(&q, q.first);
	dlist_push_back(&q, &it[0].link);
	ASSERT_IDS(&q, 1, 2, 3, 0);
}

static void
test_remove_first_middle_last(void **state)
{
	struct dlist l = { 0 };
	struct item it[5];
	int i;

	(void)state;
	memset(it, 0, sizeof(it));
	for (i = 0; i < 5; i++) {
		it[i].id = i;
		dlist_push_front(&l, &it[i].link);
	}
	ASSERT_IDS(&l, 4, 3, 2, 1, 0);
	dlist_remove(&l, &it[2].link);	/* middle */
	ASSERT_IDS(&l, 4, 3, 1, 0);
	dlist_remove(&l, &it[4].link);	/* first */
	ASSERT_IDS(&l, 3, 1, 0);
	dlist_remove(&l, &it[0].link);	/* last */
	ASSERT_IDS(&l, 3, 1);
	assert_true(dlist_linked(&l, &it[3].link));	/* first */
	assert_true(dlist_linked(&l, &it[1].link));	/* last */
	assert_false(dlist_linked(&l, &it[0].link));
	assert_false(dlist_linked(&l, &it[2].link));
	assert_null(it[0].link.prev);
	assert_null(it[0].link.next);
	/* a removed node may go in again, at either end */
	dlist_push_back(&l, &it[2].link);
	dlist_push_front(&l, &it[0].link);
	ASSERT_IDS(&l, 0, 3, 1, 2);
	dlist_remove(&l, &it[3].link);
	dlist_remove(&l, &it[1].link);
	dlist_remove(&l, &it[0].link);
	dlist_remove(&l, &it[2].link);
	assert_true(dlist_empty(&l));
	assert_null(l.last);
}

static void
test_foreach_and_unlink_while_walking(void **state)
{
	struct dlist l = { 0 };
	struct item it[6], *e;
	struct dlist_node *n, *next;
	int i, sum = 0, seen = 0;

	(void)state;
	memset(it, 0, sizeof(it));
	DLIST_FOREACH(e, &l, link)
		seen++;
	assert_int_equal(seen, 0);
	for (i = 0; i < 6; i++) {
		it[i].id = i;
		dlist_push_back(&l, &it[i].link);
	}
	DLIST_FOREACH(e, &l, link) {
		assert_int_equal(e->id, seen);
		seen++;
		sum += e->id;
	}
	assert_int_equal(seen, 6);
	assert_int_equal(sum, 15);
	/* the owners' pattern for removing while walking: the next one saved */
	for (n = l.first; n != NULL; n = next) {
		next = n->next;
		if (DLIST_ENTRY(n, struct item, link)->id % 2 == 0)
			dlist_remove(&l, n);
	}
	ASSERT_IDS(&l, 1, 3, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_is_empty),
		cmocka_unit_test(test_fifo_and_lifo_order),
		cmocka_unit_test(test_remove_first_middle_last),
		cmocka_unit_test(test_foreach_and_unlink_while_walking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
