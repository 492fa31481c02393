/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_log.h - leveled logging to stderr (journald picks it up under systemd).
 *
 * One line per call, written with a single write() so lines from several
 * threads never interleave.  Format:
 *   2026-11-25T10:00:00.123Z INFO kbroker[1]: message
 * Under systemd (JOURNAL_STREAM set) the timestamp is left out and the
 * level is given as a "<N>" syslog prefix, which journald understands.
 */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum kp_log_level {
	KP_LOG_ERROR = 0,
	KP_LOG_WARN,
	KP_LOG_INFO,
	KP_LOG_DEBUG,
	KP_LOG_TRACE,
};

/* Program name shown on every line ("kbroker[1]" once an id is known). */
void kp_log_set_ident(const char *ident);
void kp_log_set_level(enum kp_log_level level);
enum kp_log_level kp_log_get_level(void);
/* Parse "error", "warn", "info", "debug", "trace"; -1 if unknown. */
int kp_log_level_parse(const char *s);
/* Redirect output (tests); -1 restores stderr. */
void kp_log_set_fd(int fd);

void kp_log(enum kp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kp_vlog(enum kp_log_level level, const char *fmt, va_list ap);

/* An error message for a caller's buffer (err may be NULL or errlen 0:
 * nothing is written), as the parsers and checks of libkproto give them. */
void kp_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define kp_log_enabled(lvl) ((lvl) <= kp_log_get_level())
#define KP_ERROR(...) kp_log(KP_LOG_ERROR, __VA_ARGS__)
#define KP_WARN(...) kp_log(KP_LOG_WARN, __VA_ARGS__)
#define KP_INFO(...) kp_log(KP_LOG_INFO, __VA_ARGS__)
#define KP_DEBUG(...) \
	do { if (kp_log_enabled(KP_LOG_DEBUG)) kp_log(KP_LOG_DEBUG, __VA_ARGS__); } while (0)
#define KP_TRACE(...) \
	do { if (kp_log_enabled(KP_LOG_TRACE)) kp_log(KP_LOG_TRACE, __VA_ARGS__); } while (0)

#endif /* KP_LOG_H */
