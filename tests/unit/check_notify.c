/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_notify.c - kp_notify() speaks the service manager's datagram
 * protocol: the test plays the manager, binding a datagram socket at a
 * path and in the abstract namespace, pointing $NOTIFY_SOCKET at it and
 * reading what arrives, with the sender's credentials as systemd checks
 * them for NotifyAccess=main.
 */
#include "check_run.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kp_notify.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* A bound datagram socket that asks for the sender's credentials. */
static int manager_socket(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	ck_assert_msg(bind(fd, (const struct sockaddr *)sa, len) == 0, "bind: %s",
		      strerror(errno));
	return fd;
}

/* One datagram, within a second; its text in buf and the sender's pid. */
static void receive(int fd, char *buf, size_t size, pid_t *pid)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;

	ck_assert_msg(poll(&p, 1, 1000) == 1, "no datagram arrived");
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	ck_assert_int_ge(n, 0);
	ck_assert_msg(!(msg.msg_flags & MSG_TRUNC), "datagram truncated");
	buf[n] = 0;
	*pid = 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			*pid = uc.pid;
		}
}

static void expect(int fd, const char *want)
{
	char buf[8192];
	pid_t pid;

	receive(fd, buf, sizeof(buf), &pid);
	ck_assert_str_eq(buf, want);
	/* NotifyAccess=main: the manager accepts it only from our pid */
	ck_assert_int_eq(pid, getpid());
}

START_TEST(unset_is_a_no_op)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(kp_notify("READY=1"), 0);
	ck_assert_int_eq(kp_notifyf("STATUS=%d", 1), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(kp_notify("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(path_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[sizeof(sa.sun_path)];
	int fd;

	make_tmpdir();
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/notify", tmpdir),
			 (int)sizeof(path));
	memcpy(sa.sun_path, path, sizeof(path));
	fd = manager_socket(&sa, sizeof(sa));
	setenv("NOTIFY_SOCKET", path, 1);

	ck_assert_int_eq(kp_notify("READY=1"), 1);
	expect(fd, "READY=1");
	ck_assert_int_eq(kp_notify("STOPPING=1"), 1);
	expect(fd, "STOPPING=1");
	ck_assert_int_eq(kp_notify("RELOADING=1"), 1);
	expect(fd, "RELOADING=1");
	/* several assignments in one datagram, as the daemons send them */
	ck_assert_int_eq(kp_notifyf("READY=1\nSTATUS=serving as broker %d", 7), 1);
	expect(fd, "READY=1\nSTATUS=serving as broker 7");
	/* the environment stays, so later messages reach the manager too */
	ck_assert_str_eq(getenv("NOTIFY_SOCKET"), path);

	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(abstract_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64], env[80];
	size_t len;
	int fd;

	/* '@' stands for the leading NUL; the name is the bytes after it */
	len = (size_t)snprintf(name, sizeof(name), "skald/check_notify/%d", (int)getpid());
	memcpy(sa.sun_path + 1, name, len);
	fd = manager_socket(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len));
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);

	ck_assert_int_eq(kp_notify("READY=1\nSTATUS=ready"), 1);
	expect(fd, "READY=1\nSTATUS=ready");

	unsetenv("NOTIFY_SOCKET");
	close(fd);
}
END_TEST

START_TEST(bad_addresses_fail)
{
	char longpath[200];

	/* neither a path nor '@': vsock and friends are not ours to speak */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	errno = 0;
	ck_assert_int_eq(kp_notify("READY=1"), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	setenv("NOTIFY_SOCKET", longpath, 1);
	ck_assert_int_eq(kp_notify("READY=1"), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	longpath[0] = '@';
	setenv("NOTIFY_SOCKET", longpath, 1);
	ck_assert_int_eq(kp_notify("READY=1"), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);

	/* nobody listening: an error, which the daemons ignore */
	setenv("NOTIFY_SOCKET", "/nonexistent/skald/notify", 1);
	ck_assert_int_eq(kp_notify("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, unset_is_a_no_op);
	tcase_add_test(tc, path_socket);
	tcase_add_test(tc, abstract_socket);
	tcase_add_test(tc, bad_addresses_fail);
	suite_add_tcase(s, tc);
	return check_run(s);
}
