/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport.h - how a connection's bytes move, behind a table of
 * functions per transport (as Redis's ConnectionType): accept, an
 * optional handshake, read, write, an optional sendfile, close.  net.c
 * drives every connection through its transport only; the plaintext
 * socket (transport_plain.c) is the first, a TLS one (with SASL after
 * it) is meant to be the next.
 *
 * What read and write return when no byte moved: TRANSPORT_WANT_READ or
 * TRANSPORT_WANT_WRITE (try again once the socket is readable / writable:
 * a TLS record may need either for either), TRANSPORT_ERROR (errno says
 * why), and read's 0 at the end of the stream.  A transport without
 * sendfile (TLS encrypts in user space) leaves it NULL: net.c then reads
 * file ranges into a buffer and writes them.  A transport that holds
 * decrypted bytes epoll cannot see says so with pending, and net.c reads
 * on without waiting for the socket.
 *
 * Threads: a transport is used by its connection's worker only.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TRANSPORT_WANT_READ (-1)
#define TRANSPORT_WANT_WRITE (-2)
#define TRANSPORT_ERROR (-3)

struct transport_type;

/* One connection's transport; a type may embed it in a larger state. */
struct transport {
	const struct transport_type *type;
	int fd;
};

struct transport_type {
	const char *name;		/* the listener's security protocol */
	/* Take over an accepted socket: NULL (the socket closed) on failure. */
	struct transport *(*accept)(const struct transport_type *type, int fd);
	/* Advance the handshake: 0 done, TRANSPORT_WANT_*, TRANSPORT_ERROR.
	 * NULL: none, requests flow at once. */
	int (*handshake)(struct transport *t);
	/* Bytes read (> 0), 0 at the end, or TRANSPORT_WANT_* / _ERROR. */
	ssize_t (*read)(struct transport *t, void *buf, size_t n);
	/* Bytes written (> 0), or TRANSPORT_WANT_* / _ERROR; more: another
	 * piece of the same response follows at once. */
	ssize_t (*write)(struct transport *t, const void *buf, size_t n, bool more);
	/* n bytes of file fd from *pos (advanced), as write; 0 when the file
	 * ends before.  NULL: not possible on this transport. */
	ssize_t (*sendfile)(struct transport *t, int fd, int64_t *pos, size_t n);
	/* Bytes already read from the socket waiting inside.  NULL: never. */
	bool (*pending)(struct transport *t);
	/* Close the socket and free t. */
	void (*close)(struct transport *t);
	/* After the handshake: the name the peer authenticated as (a TLS
	 * client certificate's, through ssl.principal.mapping.rules), or
	 * NULL for none.  NULL: the transport authenticates nobody. */
	const char *(*principal)(struct transport *t);
};

/* The plaintext socket (Kafka's PLAINTEXT security protocol). */
extern const struct transport_type transport_plain;

#endif /* TRANSPORT_H */
