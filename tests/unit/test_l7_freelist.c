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
	l7_freelist_put(&fl, c);	/* over max_free: freed, not kept */
	l7_freelist_put(&fl, NULL);	/* ignored */
	assert_int_equal(fl.nfree, 2);
	assert_int_equal(fl.in_use, 0);
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

/* Under load (many blocks in use) up to half of them are kept beyond
 * max_free, so a busy worker does not free and malloc blocks all the time;
 * once the load is gone the extra ones are freed as they come back. */
static void
test_keeps_half_of_in_use_under_load(void **state)
{
	struct l7_freelist fl;
	void *p[10];
	int i;

	(void)state;
	l7_freelist_init(&fl, 64, 2);
	for (i = 0; i < 10; i++)
		assert_non_null(p[i] = l7_freelist_get(&fl));
	/* 9, 8, 7 in use as they come back: all kept (3 < 7 / 2 + 1) */
	for (i = 0; i < 3; i++)
		l7_freelist_put(&fl, p[i]);
	assert_int_equal(fl.nfree, 3);
	/* 6 in use: 3 kept is half of it, so the rest are freed */
	for (i = 3; i < 10; i++)
		l7_freelist_put(&fl, p[i]);
	assert_int_equal(fl.nfree, 3);
	assert_int_equal(fl.in_use, 0);
	l7_freelist_release(&fl);
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
		cmocka_unit_test(test_keeps_half_of_in_use_under_load),
		cmocka_unit_test(test_tiny_blocks_hold_a_pointer),
		cmocka_unit_test(test_buf_idle_release_and_retake),
		cmocka_unit_test(test_buf_idle_mid_pipeline_keeps_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
