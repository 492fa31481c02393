/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_metrics.c - kp_metrics: single-writer counters and histograms,
 * the Prometheus text exposition (escaping, cumulative buckets, process
 * metrics), the metrics.listener syntax, and the HTTP endpoint answering
 * GET /metrics on its own thread.
 */
#include "check_run.h"
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_metrics.h"

START_TEST(samples_and_escaping)
{
	struct kp_mtext t;
	const char *lab[] = { "topic", "a\"b\\c\nd", "partition", "3" };

	kp_mtext_init(&t);
	kp_mtext_family(&t, "kafka_log_log_size", "gauge", "Size\\of\nthe log");
	kp_mtext_sample(&t, "kafka_log_log_size", lab, 2, 1234);
	kp_mtext_sample(&t, "kafka_log_log_size", NULL, 0, 0.5);
	kp_mtext_sample(&t, "x", NULL, 0, 1.0 / 0.0);
	ck_assert(!t.failed);
	ck_assert_str_eq(t.p,
			 "# HELP kafka_log_log_size Size\\\\of\\nthe log\n"
			 "# TYPE kafka_log_log_size gauge\n"
			 "kafka_log_log_size{topic=\"a\\\"b\\\\c\\nd\",partition=\"3\"} 1234\n"
			 "kafka_log_log_size 0.5\n"
			 "x +Inf\n");
	kp_mtext_free(&t);
}
END_TEST

START_TEST(histograms_are_cumulative)
{
	struct kp_mhist *h = calloc(2, sizeof(*h));
	struct kp_mhist_sum s;
	struct kp_mtext t;
	const char *lab[] = { "request", "Produce" };

	ck_assert_ptr_nonnull(h);
	kp_mhist_observe_us(&h[0], 500);	/* 0.5 ms: le 1 */
	kp_mhist_observe_us(&h[0], 1000);	/* 1 ms: le 1 (bounds inclusive) */
	kp_mhist_observe_us(&h[1], 3000);	/* le 5 */
	kp_mhist_observe_us(&h[1], 60000000);	/* 60 s: above every bound */
	memset(&s, 0, sizeof(s));
	kp_mhist_sum_add(&s, &h[0]);
	kp_mhist_sum_add(&s, &h[1]);
	ck_assert_uint_eq(s.count, 4);
	ck_assert_uint_eq(s.sum_us, 500 + 1000 + 3000 + 60000000);
	kp_mtext_init(&t);
	kp_mtext_hist(&t, "m", lab, 1, &s);
	ck_assert(!t.failed);
	ck_assert_ptr_nonnull(strstr(t.p, "m_bucket{request=\"Produce\",le=\"1\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_bucket{request=\"Produce\",le=\"2\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_bucket{request=\"Produce\",le=\"5\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_bucket{request=\"Produce\",le=\"30000\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_bucket{request=\"Produce\",le=\"+Inf\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_sum{request=\"Produce\"} 60004.5\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "m_count{request=\"Produce\"} 4\n"));
	kp_mtext_free(&t);
	free(h);
}
END_TEST

START_TEST(process_metrics)
{
	struct kp_mtext t;

	kp_mtext_init(&t);
	kp_mtext_process(&t);
	ck_assert(!t.failed);
	ck_assert_ptr_nonnull(t.p);
	ck_assert_ptr_nonnull(strstr(t.p, "\nprocess_cpu_seconds_total "));
	ck_assert_ptr_nonnull(strstr(t.p, "\nprocess_resident_memory_bytes "));
	ck_assert_ptr_nonnull(strstr(t.p, "\nprocess_open_fds "));
	ck_assert_ptr_nonnull(strstr(t.p, "\nprocess_start_time_seconds "));
	kp_mtext_free(&t);
}
END_TEST

START_TEST(listener_syntax)
{
	char host[64], err[256];
	int port;

	ck_assert_int_eq(kp_metrics_parse_listener("http://0.0.0.0:9404", host, sizeof(host),
						   &port, err, sizeof(err)), 0);
	ck_assert_str_eq(host, "0.0.0.0");
	ck_assert_int_eq(port, 9404);
	ck_assert_int_eq(kp_metrics_parse_listener("http://:0", host, sizeof(host),
						   &port, err, sizeof(err)), 0);
	ck_assert_str_eq(host, "");
	ck_assert_int_eq(port, 0);
	ck_assert_int_eq(kp_metrics_parse_listener("http://[::1]:80", host, sizeof(host),
						   &port, err, sizeof(err)), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(kp_metrics_parse_listener("https://h:1", host, sizeof(host),
						   &port, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "http://HOST:PORT"));
	ck_assert_int_eq(kp_metrics_parse_listener("http://h:65536", host, sizeof(host),
						   &port, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_metrics_parse_listener("http://h", host, sizeof(host),
						   &port, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_metrics_parse_listener("http://h:12x", host, sizeof(host),
						   &port, err, sizeof(err)), -1);
	ck_assert_int_eq(kp_metrics_parse_listener("http://[::1:80", host, sizeof(host),
						   &port, err, sizeof(err)), -1);
}
END_TEST

static int renders;

static void render(struct kp_mtext *t, void *arg)
{
	const char *lab[] = { "who", arg };

	renders++;
	kp_mtext_family(t, "test_up", "gauge", "Up");
	kp_mtext_sample(t, "test_up", lab, 1, 1);
}

/* One HTTP/1.0 GET; the whole answer in buf. */
static void get(int port, const char *req, char *buf, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = 0;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

START_TEST(http_endpoint)
{
	struct kp_metrics_http *h;
	char err[256], buf[4096];
	int port;

	ck_assert_ptr_null(kp_metrics_http_start("ftp://x:1", render, "me", err, sizeof(err)));
	h = kp_metrics_http_start("http://127.0.0.1:0", render, "me", err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	port = kp_metrics_http_port(h);
	ck_assert_int_gt(port, 0);
	get(port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "HTTP/1.0 200", 12) == 0 || strncmp(buf, "HTTP/1.1 200", 12) == 0,
		      "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\n# HELP test_up Up\n# TYPE test_up gauge\n"
				     "test_up{who=\"me\"} 1\n"));
	ck_assert_int_eq(renders, 1);
	get(port, "GET /other HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, " 404 "));
	get(port, "DELETE /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, " 405 "));
	ck_assert_int_eq(renders, 1);
	kp_metrics_http_stop(h);
}
END_TEST

/* A broker over thousands of logs has descriptors past FD_SETSIZE when
 * it starts the listener: it must still listen and serve. */
START_TEST(http_endpoint_past_fd_setsize)
{
	struct kp_metrics_http *h;
	struct rlimit rl;
	char err[256], buf[4096];
	int fds[FD_SETSIZE + 16], n = 0, port;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < FD_SETSIZE + 64) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < FD_SETSIZE + 64)
			return;	/* cannot get there here (not a failure of ours) */
		rl.rlim_cur = FD_SETSIZE + 64;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	while (n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fds[n], 0);
		if (fds[n++] > FD_SETSIZE + 4)
			break;
	}
	renders = 0;
	h = kp_metrics_http_start("http://127.0.0.1:0", render, "me", err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	port = kp_metrics_http_port(h);
	ck_assert_int_gt(port, 0);
	get(port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "test_up{who=\"me\"} 1\n"));
	ck_assert_int_eq(renders, 1);
	kp_metrics_http_stop(h);
	while (n > 0)
		close(fds[--n]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, samples_and_escaping);
	tcase_add_test(tc, histograms_are_cumulative);
	tcase_add_test(tc, process_metrics);
	tcase_add_test(tc, listener_syntax);
	tcase_add_test(tc, http_endpoint);
	tcase_add_test(tc, http_endpoint_past_fd_setsize);
	suite_add_tcase(s, tc);
	return check_run(s);
}
