/* Unit tests for daemon/core/loop's timer heap: timers armed, re-armed
 * (earlier and later, in place) and cancelled in a mixed order each fire
 * once, never early, in deadline order; cancelled ones never fire. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loop.h"

enum { N = 300 };

static struct loop_timer tm[N];
static int fired[N], want, got;
static uint64_t last;

static void
on_timer(struct loop *l, struct loop_timer *t)
{
	int k = (int)(t - tm);

	fired[k]++;
	assert_true(loop_now(l) >= t->deadline_ms);	/* never early */
	assert_true(t->deadline_ms >= last);		/* in deadline order */
	last = t->deadline_ms;
	assert_false(loop_timer_armed(t));
	if (++got == want)
		loop_stop(l);
}

static void
test_timer_heap(void **state)
{
	struct loop *l = loop_new();
	uint32_t x = 12345;
	int k;

	(void)state;
	assert_non_null(l);
	memset(tm, 0, sizeof(tm));
	for (k = 0; k < N; k++) {
		x = x * 1103515245u + 12345u;
		assert_int_equal(loop_timer_set(l, &tm[k], (x >> 16) % 40, on_timer, NULL), 0);
	}
	want = N;
	for (k = 0; k < N; k += 3) {	/* re-armed: some earlier, some later */
		x = x * 1103515245u + 12345u;
		assert_int_equal(loop_timer_set(l, &tm[k], (x >> 16) % 60, on_timer, NULL), 0);
		assert_true(loop_timer_armed(&tm[k]));
	}
	for (k = 1; k < N; k += 7) {
		loop_timer_cancel(l, &tm[k]);
		loop_timer_cancel(l, &tm[k]);	/* twice: harmless */
		assert_false(loop_timer_armed(&tm[k]));
		want--;
	}
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(got, want);
	for (k = 0; k < N; k++)
		assert_int_equal(fired[k], (k % 7 == 1) ? 0 : 1);
	loop_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
