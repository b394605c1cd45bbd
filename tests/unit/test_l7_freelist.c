/* Unit tests for daemon/l7/l7_freelist: blocks are reused LIFO, the number
 * kept is bounded, and a buffer is given back only when it holds no byte,
 * so a connection that goes idle with a pipelined request (or half of one)
 * in its buffer loses nothing and gets a buffer again when it needs one. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "l7_freelist.h"
#include "l7_mpool.h"

static void
test_reuse_and_bound(void **state)
{
	struct l7_freelist fl;
	void *a, *b, *c, *d;

	(void)state;
	l7_freelist_init(&fl, 64, 2);
	a = l7_freelist_get(&fl);
	b = l7_freelist_get(&fl);
	c = l7_freelist_get(&fl);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(fl.in_use, 3);
	memset(a, 0xaa, 64);	/* the whole block is the caller's */
	l7_freelist_put(&fl, a);
	l7_freelist_put(&fl, b);
	l7_freelist_put(&fl, c);	/* kept until the trim: the period's peak was 3 */
	l7_freelist_put(&fl, NULL);	/* ignored */
	assert_int_equal(fl.nfree, 3);
	assert_int_equal(fl.in_use, 0);
	l7_freelist_trim(&fl);	/* the period needed 3 at its peak: 3 kept */
	assert_int_equal(fl.nfree, 3);
	l7_freelist_trim(&fl);	/* a period that needed none: max_free (c freed) */
	assert_int_equal(fl.nfree, 2);
	/* last in, first out: the most recently used (warm) block comes back */
	d = l7_freelist_get(&fl);
	assert_ptr_equal(d, b);
	assert_int_equal(fl.nfree, 1);
	l7_freelist_put(&fl, d);
	l7_freelist_release(&fl);
	assert_int_equal(fl.nfree, 0);
	assert_null(fl.head);
	/* usable again after release */
	d = l7_freelist_get(&fl);
	assert_non_null(d);
	l7_freelist_put(&fl, d);
	l7_freelist_release(&fl);
}

/* Under load the in-use count swings (HTTP/2 streams finish together):
 * every block is kept up to the period's peak, so taking them again costs
 * no malloc; the trim keeps what the last period needed at its peak, and
 * the next one (load gone) gives the rest back down to max_free. */
static void
test_keeps_the_peak_until_trimmed(void **state)
{
	struct l7_freelist fl;
	void *p[10];
	int i, round;

	(void)state;
	l7_freelist_init(&fl, 64, 2);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 10; i++)
			assert_non_null(p[i] = l7_freelist_get(&fl));
		if (round > 0)
			assert_int_equal(fl.nfree, 0);	/* all 10 came from the list */
		for (i = 0; i < 10; i++)
			l7_freelist_put(&fl, p[i]);
		assert_int_equal(fl.nfree, 10);
	}
	assert_int_equal(fl.peak, 10);
	/* 4 in use at the trim: the period's peak of 10 needs 6 more */
	for (i = 0; i < 4; i++)
		p[i] = l7_freelist_get(&fl);
	l7_freelist_trim(&fl);
	assert_int_equal(fl.nfree, 6);
	assert_int_equal(fl.peak, 4);
	for (i = 0; i < 4; i++)
		l7_freelist_put(&fl, p[i]);
	assert_int_equal(fl.nfree, 10);
	/* a quiet period (peak 4, nothing in use now): 4 kept; then max_free */
	l7_freelist_trim(&fl);
	assert_int_equal(fl.nfree, 4);
	l7_freelist_trim(&fl);
	assert_int_equal(fl.nfree, 2);
	assert_int_equal(fl.in_use, 0);
	l7_freelist_release(&fl);
}

/* l7_mpool: size classes, realloc keeps the bytes, big blocks from malloc,
 * every block counted until freed, reuse LIFO within a class. */
static void
test_mpool(void **state)
{
	struct l7_mpool mp;
	char *a, *b, *c, *big, *z;
	size_t i;

	(void)state;
	l7_mpool_init(&mp, 2);
	a = l7_mpool_alloc(&mp, 10);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 16, 0);
	memcpy(a, "0123456789", 10);
	a = l7_mpool_realloc(&mp, a, 40);	/* fits its class: same block */
	assert_memory_equal(a, "0123456789", 10);
	b = l7_mpool_realloc(&mp, a, 1000);	/* moves to a larger class */
	assert_non_null(b);
	assert_memory_equal(b, "0123456789", 10);
	assert_int_equal(l7_mpool_in_use(&mp), 1);
	c = l7_mpool_alloc(&mp, 20);
	assert_ptr_equal(c, a);	/* a's block went back to its class */
	big = l7_mpool_alloc(&mp, 100000);	/* above the classes */
	assert_non_null(big);
	memset(big, 1, 100000);
	z = l7_mpool_calloc(&mp, 3000);
	assert_non_null(z);
	for (i = 0; i < 3000; i++)
		assert_int_equal(z[i], 0);
	assert_int_equal(l7_mpool_in_use(&mp), 4);
	l7_mpool_free(b);
	l7_mpool_free(c);
	l7_mpool_free(big);
	l7_mpool_free(z);
	l7_mpool_free(NULL);
	assert_int_equal(l7_mpool_in_use(&mp), 0);
	a = l7_mpool_strndup(&mp, "abc", 2);
	assert_string_equal(a, "ab");
	l7_mpool_free(a);
	l7_mpool_trim(&mp);
	l7_mpool_release(&mp);
}

static void
test_tiny_blocks_hold_a_pointer(void **state)
{
	struct l7_freelist fl;
	void *p;

	(void)state;
	l7_freelist_init(&fl, 1, 4);
	assert_int_equal(fl.size, sizeof(void *));
	p = l7_freelist_get(&fl);
	assert_non_null(p);
	l7_freelist_put(&fl, p);
	l7_freelist_release(&fl);
}

/* A buffer taken lazily, filled, drained and given back when idle. */
static void
test_buf_idle_release_and_retake(void **state)
{
	struct l7_freelist fl;
	struct buf b = { 0 };
	char *first;

	(void)state;
	l7_freelist_init(&fl, 4096, 8);
	/* an idle connection holds no storage; giving back nothing is a no-op */
	l7_buf_give_if_empty(&fl, &b);
	assert_null(b.data);
	assert_int_equal(fl.in_use, 0);
	assert_int_equal(l7_buf_take(&fl, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(b.cap, 4096);
	assert_int_equal(buf_len(&b), 0);
	first = b.data;
	/* taking again keeps the same storage and its bytes */
	assert_int_equal(buf_append(&b, "GET / HTTP/1.1\r\n", 16), 0);
	assert_int_equal(l7_buf_take(&fl, &b), 0);
	assert_ptr_equal(b.data, first);
	assert_int_equal(buf_len(&b), 16);
	/* drained: goes back to the list, the struct says "no storage" */
	buf_consume(&b, 16);
	l7_buf_give_if_empty(&fl, &b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_room(&b), 0);
	assert_int_equal(fl.in_use, 0);
	assert_int_equal(fl.nfree, 1);
	/* the next request's bytes get the same (warm) block, empty */
	assert_int_equal(l7_buf_take(&fl, &b), 0);
	assert_ptr_equal(b.data, first);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_room(&b), 4096);
	l7_buf_give(&fl, &b);
	l7_freelist_release(&fl);
}

/* Idle with a pipelined request (or part of one) still buffered: nothing is
 * given back and nothing is lost; once consumed, the buffer goes back. */
static void
test_buf_idle_mid_pipeline_keeps_bytes(void **state)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo";
	struct l7_freelist fl;
	struct buf in = { 0 }, out = { 0 };

	(void)state;
	l7_freelist_init(&fl, 256, 8);
	assert_int_equal(l7_buf_take(&fl, &in), 0);
	assert_int_equal(l7_buf_take(&fl, &out), 0);
	assert_int_equal(buf_append(&in, two, sizeof(two) - 1), 0);
	buf_consume(&in, 28);	/* the first request was served */
	assert_int_equal(buf_append(&out, "HTTP/1.1 200 OK\r\n\r\n", 19), 0);
	/* the connection waits for the rest of /b, its answer to /a unsent */
	l7_buf_give_if_empty(&fl, &in);
	l7_buf_give_if_empty(&fl, &out);
	assert_non_null(in.data);
	assert_non_null(out.data);
	assert_int_equal(fl.in_use, 2);
	assert_int_equal(buf_len(&in), sizeof(two) - 1 - 28);
	assert_memory_equal(buf_head(&in), "GET /b HTTP/1.1\r\nHo", buf_len(&in));
	/* the rest arrives into the same buffer, after the kept bytes */
	assert_int_equal(l7_buf_take(&fl, &in), 0);
	assert_int_equal(buf_append(&in, "st: x\r\n\r\n", 9), 0);
	assert_memory_equal(buf_head(&in), "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", 28);
	buf_consume(&out, buf_len(&out));
	buf_consume(&in, buf_len(&in));
	l7_buf_give_if_empty(&fl, &in);
	l7_buf_give_if_empty(&fl, &out);
	assert_null(in.data);
	assert_null(out.data);
	assert_int_equal(fl.in_use, 0);
	l7_freelist_release(&fl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_and_bound),
		cmocka_unit_test(test_keeps_the_peak_until_trimmed),
		cmocka_unit_test(test_mpool),
		cmocka_unit_test(test_tiny_blocks_hold_a_pointer),
		cmocka_unit_test(test_buf_idle_release_and_retake),
		cmocka_unit_test(test_buf_idle_mid_pipeline_keeps_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
