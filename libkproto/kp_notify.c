/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_notify.c - the service manager's notification datagram; see
 * kp_notify.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kp_notify.h"

/*
 * Fill sa from $NOTIFY_SOCKET's value.  Returns the address length, or -1
 * with errno set.
 */
static int notify_addr(const char *name, struct sockaddr_un *sa)
{
	size_t len = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (name[0] == '/') {
		/* room for the terminating NUL, which the kernel accepts */
		if (len >= sizeof(sa->sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sa->sun_path, name, len);
		return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	if (name[0] == '@') {
		/*
		 * Abstract namespace: a leading NUL byte, then the name.  The
		 * name is exactly the bytes given (no terminator counts), so
		 * the length must not include any padding.
		 */
		if (len > sizeof(sa->sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		sa->sun_path[0] = '\0';
		memcpy(sa->sun_path + 1, name + 1, len - 1);
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	/* newer managers also offer vsock addresses; we only need AF_UNIX */
	errno = EAFNOSUPPORT;
	return -1;
}

int kp_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len = strlen(state);
	ssize_t n;
	int alen, fd, saved;

	if (name == NULL || name[0] == '\0')
		return 0;
	alen = notify_addr(name, &sa);
	if (alen < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/*
	 * The manager learns our pid from the socket credentials it asks the
	 * kernel for, so a plain sendto() is enough; MSG_NOSIGNAL because a
	 * vanished manager must not kill us with SIGPIPE.
	 */
	do
		n = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
			   (socklen_t)alen);
	while (n < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	if ((size_t)n != len) {	/* a datagram goes whole or not at all */
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

int kp_notifyf(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	/* skip the formatting when nobody listens: the common case by hand */
	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	return kp_notify(buf);
}
