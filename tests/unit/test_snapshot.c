/* Unit tests for core/snapshot.c's inherited sockets (binary upgrade): a
 * listener whose sockets were handed over uses them instead of binding, a
 * count that does not match the workers is not used, and what no listener
 * claims is closed. Real sockets on 127.0.0.1, a real config file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "errs.h"
#include "snapshot.h"

/* A listening socket on 127.0.0.1 (SO_REUSEPORT, like tandemd's); its port
 * into *port. */
static int
listener(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static const char *
config(unsigned port)
{
	static char path[] = "/tmp/tandem-test-snapshot.XXXXXX";
	static int made;
	FILE *f;

	if (!made) {
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd);
		made = 1;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"version\":1,\"listeners\":[{\"name\":\"web\",\"address\":\"127.0.0.1\","
		"\"port\":%u}],\"pools\":[{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\","
		"\"port\":9}]}],\"routes\":[{\"name\":\"all\",\"listener\":\"web\",\"pool\":\"app\"}]}\n",
		port);
	fclose(f);
	return path;
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static struct snapshot *
build(unsigned port)
{
	struct errs e;
	struct snapshot *s;

	errs_init(&e);
	s = snapshot_build(config(port), &e);
	errs_release(&e);
	assert_non_null(s);
	return s;
}

static void
test_inherited_socket_is_used(void **state)
{
	unsigned port;
	int fd = listener(&port);
	char key[64];
	struct snapshot *s;

	(void)state;
	snapshot_workers_set(1);
	snprintf(key, sizeof(key), "127.0.0.1|%u", port);
	assert_int_equal(snapshot_inherit(key, fd), 0);
	s = build(port);
	assert_int_equal(s->lsocks[0]->nfds, 1);
	assert_int_equal(s->lsocks[0]->fds[0], fd);	/* taken, not bound anew */
	snapshot_inherit_drop();
	assert_true(is_open(fd));		/* claimed: drop leaves it */
	snapshot_release(&s);
	assert_false(is_open(fd));		/* the last snapshot closes it */
}

static void
test_count_mismatch_binds_and_drop_closes(void **state)
{
	unsigned port;
	int fd = listener(&port);
	char key[64];
	struct snapshot *s;

	(void)state;
	snapshot_workers_set(2);		/* two workers, one socket handed over */
	snprintf(key, sizeof(key), "127.0.0.1|%u", port);
	assert_int_equal(snapshot_inherit(key, fd), 0);
	s = build(port);
	assert_int_equal(s->lsocks[0]->nfds, 2);
	assert_int_not_equal(s->lsocks[0]->fds[0], fd);
	assert_int_not_equal(s->lsocks[0]->fds[1], fd);
	assert_true(is_open(fd));
	snapshot_inherit_drop();
	assert_false(is_open(fd));		/* unclaimed: closed */
	snapshot_release(&s);
	snapshot_workers_set(1);
}

static void
test_unclaimed_key_is_closed(void **state)
{
	unsigned port, other;
	int fd = listener(&port), fd2 = listener(&other);
	char key[64];
	struct snapshot *s;

	(void)state;
	snprintf(key, sizeof(key), "127.0.0.1|%u", other);	/* not in the config */
	assert_int_equal(snapshot_inherit(key, fd2), 0);
	close(fd);				/* the config's port binds anew */
	s = build(port);
	assert_int_equal(s->lsocks[0]->nfds, 1);
	snapshot_inherit_drop();
	assert_false(is_open(fd2));
	snapshot_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inherited_socket_is_used),
		cmocka_unit_test(test_count_mismatch_binds_and_drop_closes),
		cmocka_unit_test(test_unclaimed_key_is_closed),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	unlink(config(0));
	return rc;
}
