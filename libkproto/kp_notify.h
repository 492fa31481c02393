/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_notify.h - readiness and status notification to a service manager.
 *
 * systemd's Type=notify services tell the manager how they are doing by
 * sending newline-separated VAR=VALUE assignments ("READY=1",
 * "STOPPING=1", "RELOADING=1", "STATUS=free text") in one datagram to the
 * AF_UNIX socket named by $NOTIFY_SOCKET.  That is the whole protocol, so
 * it is implemented here rather than taking libsystemd as a dependency.
 *
 * $NOTIFY_SOCKET is a filesystem path ("/run/systemd/notify") or, when it
 * starts with '@', a name in Linux's abstract socket namespace.  Without
 * it (started by hand, by kcluster, by tests) every call does nothing, so
 * callers need no "are we under systemd" checks.
 */
#ifndef KP_NOTIFY_H
#define KP_NOTIFY_H

/*
 * Send state (e.g. "READY=1\nSTATUS=serving") as one datagram.  Returns 1
 * when sent, 0 when $NOTIFY_SOCKET is unset or empty, -1 with errno set
 * when the address is unusable (EAFNOSUPPORT for a form we do not speak,
 * ENAMETOOLONG) or sending failed.  The environment is left as it is.
 */
int kp_notify(const char *state);

/* kp_notify() of a formatted message; longer than 4 KiB gives EMSGSIZE. */
int kp_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KP_NOTIFY_H */
