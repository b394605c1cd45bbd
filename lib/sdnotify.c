/*
 * sdnotify - the sender side of systemd's sd_notify protocol (see
 * sdnotify.h and sd_notify(3)). Stateless: each call opens a datagram
 * socket, sends one message and closes it, so it is safe from any thread
 * and after fork.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

int
sdn_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t len;
	ssize_t n;
	int fd, rc;

	if (path == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	/* A path socket or an abstract one ("@name"); anything else (systemd
	 * also knows vsock addresses) is not for us. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* Abstract names are not NUL-terminated: the length carries them. */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	rc = n < 0 ? -errno : 1;
	close(fd);
	return rc;
}
