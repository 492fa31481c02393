/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_log.c - leveled logging; see kp_log.h.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "kp_log.h"

static _Atomic int log_level = KP_LOG_INFO;
static _Atomic int log_fd = 2;
static char log_ident[64] = "skald";

static const char *const level_names[] = {
	"ERROR", "WARN", "INFO", "DEBUG", "TRACE",
};
/* syslog priorities for journald: err, warning, info, debug, debug */
static const int level_prio[] = { 3, 4, 6, 7, 7 };

void kp_log_set_ident(const char *ident)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
}

void kp_log_set_level(enum kp_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum kp_log_level kp_log_get_level(void)
{
	return (enum kp_log_level)atomic_load(&log_level);
}

int kp_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warning") == 0)
		return KP_LOG_WARN;
	return -1;
}

void kp_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd < 0 ? 2 : fd);
}

void kp_vlog(enum kp_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;
	int saved_errno = errno;

	if (!kp_log_enabled(level))
		return;
	if (getenv("JOURNAL_STREAM") != NULL) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>%s: ",
				     level_prio[level], log_ident);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
				      level_names[level], log_ident);
	}
	if (n < sizeof(line)) {
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);

		if (m > 0)
			n += (size_t)m;
	}
	if (n >= sizeof(line) - 1) {	/* truncated: mark it */
		n = sizeof(line) - 1;
		memcpy(line + n - 3, "...", 3);
	}
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t w = write(atomic_load(&log_fd), line + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	errno = saved_errno;
}

void kp_log(enum kp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kp_vlog(level, fmt, ap);
	va_end(ap);
}

void kp_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
