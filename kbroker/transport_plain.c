/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_plain.c - the plaintext socket: recv, send (MSG_MORE between
 * the pieces of one response), sendfile from the page cache; no
 * handshake, nothing held inside.  See transport.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

static struct transport *plain_accept(const struct transport_type *type, int fd)
{
	struct transport *t = malloc(sizeof(*t));

	if (t == NULL) {
		close(fd);
		return NULL;
	}
	t->type = type;
	t->fd = fd;
	return t;
}

/* A failed call: "try again" or an error (errno kept). */
static ssize_t failed(bool writing)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return writing ? TRANSPORT_WANT_WRITE : TRANSPORT_WANT_READ;
	return TRANSPORT_ERROR;
}

static ssize_t plain_read(struct transport *t, void *buf, size_t n)
{
	ssize_t got = recv(t->fd, buf, n, 0);

	return got >= 0 ? got : failed(false);
}

static ssize_t plain_write(struct transport *t, const void *buf, size_t n, bool more)
{
	ssize_t put = send(t->fd, buf, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));

	return put >= 0 ? put : failed(true);
}

static ssize_t plain_sendfile(struct transport *t, int fd, int64_t *pos, size_t n)
{
	off_t off = (off_t)*pos;
	ssize_t put = sendfile(t->fd, fd, &off, n);

	if (put < 0)
		return failed(true);
	*pos = (int64_t)off;
	return put;
}

static void plain_close(struct transport *t)
{
	close(t->fd);
	free(t);
}

const struct transport_type transport_plain = {
	.name = "PLAINTEXT",
	.accept = plain_accept,
	.handshake = NULL,
	.read = plain_read,
	.write = plain_write,
	.sendfile = plain_sendfile,
	.pending = NULL,
	.close = plain_close,
};
