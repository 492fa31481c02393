/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_metrics.c - Prometheus text exposition and its HTTP endpoint
 * (libmicrohttpd); see kp_metrics.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "kp_metrics.h"

const double kp_mhist_bounds[KP_MHIST_NB] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
};

void kp_mhist_observe_us(struct kp_mhist *h, uint64_t us)
{
	double ms = (double)us / 1000.0;
	int i = 0;

	while (i < KP_MHIST_NB && ms > kp_mhist_bounds[i])
		i++;
	kp_mctr_add(&h->b[i], 1);
	kp_mctr_add(&h->sum_us, us);
}

void kp_mhist_sum_add(struct kp_mhist_sum *s, struct kp_mhist *h)
{
	for (int i = 0; i <= KP_MHIST_NB; i++) {
		uint64_t n = kp_mctr_get(&h->b[i]);

		s->b[i] += n;
		s->count += n;
	}
	s->sum_us += kp_mctr_get(&h->sum_us);
}

/* ---------------------------------------------------------------- text */

void kp_mtext_init(struct kp_mtext *t)
{
	memset(t, 0, sizeof(*t));
}

void kp_mtext_free(struct kp_mtext *t)
{
	free(t->p);
	memset(t, 0, sizeof(*t));
}

static void put(struct kp_mtext *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 4096;
		char *np;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		np = realloc(t->p, ncap);
		if (np == NULL) {
			t->failed = true;
			return;
		}
		t->p = np;
		t->cap = ncap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void puts_(struct kp_mtext *t, const char *s)
{
	put(t, s, strlen(s));
}

static void putf(struct kp_mtext *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct kp_mtext *t, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		t->failed = true;
		return;
	}
	put(t, buf, (size_t)n);
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void put_escaped(struct kp_mtext *t, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(t, "\\\\");
		else if (*s == '\n')
			puts_(t, "\\n");
		else if (quote && *s == '"')
			puts_(t, "\\\"");
		else
			put(t, s, 1);
	}
}

void kp_mtext_family(struct kp_mtext *t, const char *name, const char *type,
		     const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, false);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

static void put_labels(struct kp_mtext *t, const char *const *labels,
		       size_t nlab, const char *le)
{
	bool any = nlab > 0 || le != NULL;

	if (!any)
		return;
	puts_(t, "{");
	for (size_t i = 0; i < nlab; i++) {
		if (i > 0)
			puts_(t, ",");
		puts_(t, labels[2 * i]);
		puts_(t, "=\"");
		put_escaped(t, labels[2 * i + 1], true);
		puts_(t, "\"");
	}
	if (le != NULL) {
		if (nlab > 0)
			puts_(t, ",");
		puts_(t, "le=\"");
		puts_(t, le);
		puts_(t, "\"");
	}
	puts_(t, "}");
}

static void put_value(struct kp_mtext *t, double v)
{
	if (isnan(v))
		puts_(t, " NaN\n");
	else if (isinf(v))
		puts_(t, v > 0 ? " +Inf\n" : " -Inf\n");
	else if (v == floor(v) && fabs(v) < 9e15)
		putf(t, " %" PRId64 "\n", (int64_t)v);
	else {
		char buf[40];

		/* the shortest of 15 or 17 digits that reads back the same */
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		putf(t, " %s\n", buf);
	}
}

void kp_mtext_sample(struct kp_mtext *t, const char *name,
		     const char *const *labels, size_t nlab, double v)
{
	puts_(t, name);
	put_labels(t, labels, nlab, NULL);
	put_value(t, v);
}

void kp_mtext_hist(struct kp_mtext *t, const char *name,
		   const char *const *labels, size_t nlab,
		   const struct kp_mhist_sum *s)
{
	uint64_t cum = 0;
	char le[32];

	for (int i = 0; i <= KP_MHIST_NB; i++) {
		cum += s->b[i];
		if (i < KP_MHIST_NB)
			snprintf(le, sizeof(le), "%g", kp_mhist_bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		puts_(t, name);
		puts_(t, "_bucket");
		put_labels(t, labels, nlab, le);
		put_value(t, (double)cum);
	}
	puts_(t, name);
	puts_(t, "_sum");
	put_labels(t, labels, nlab, NULL);
	put_value(t, (double)s->sum_us / 1000.0);
	puts_(t, name);
	puts_(t, "_count");
	put_labels(t, labels, nlab, NULL);
	put_value(t, (double)cum);
}

void kp_mtext_append(struct kp_mtext *t, const struct kp_mtext *src)
{
	if (src->failed)
		t->failed = true;
	else if (src->len > 0)
		put(t, src->p, src->len);
}

/* ------------------------------------------------------------- process */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* the directory's own descriptor */
}

void kp_mtext_process(struct kp_mtext *t)
{
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime = 0, stime = 0, vsize = 0;
	unsigned long long start = 0;
	long rss = 0, threads = 0;
	struct rlimit rl;
	char buf[2048], *p;
	FILE *f;
	size_t n;
	int fds;

	f = fopen("/proc/self/stat", "r");
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command, which may hold spaces: from the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || tck <= 0 || page <= 0 ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
		   "%*d %*d %*d %*d %ld %*d %llu %lu %ld",
		   &utime, &stime, &threads, &start, &vsize, &rss) != 6)
		return;

	kp_mtext_family(t, "process_cpu_seconds_total", "counter",
			"User and system CPU time spent in seconds");
	kp_mtext_sample(t, "process_cpu_seconds_total", NULL, 0,
			(double)(utime + stime) / (double)tck);
	kp_mtext_family(t, "process_resident_memory_bytes", "gauge",
			"Resident memory size in bytes");
	kp_mtext_sample(t, "process_resident_memory_bytes", NULL, 0,
			(double)rss * (double)page);
	kp_mtext_family(t, "process_virtual_memory_bytes", "gauge",
			"Virtual memory size in bytes");
	kp_mtext_sample(t, "process_virtual_memory_bytes", NULL, 0, (double)vsize);
	kp_mtext_family(t, "process_threads", "gauge", "Threads of the process");
	kp_mtext_sample(t, "process_threads", NULL, 0, (double)threads);
	fds = count_fds();
	if (fds >= 0) {
		kp_mtext_family(t, "process_open_fds", "gauge",
				"Number of open file descriptors");
		kp_mtext_sample(t, "process_open_fds", NULL, 0, (double)fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		kp_mtext_family(t, "process_max_fds", "gauge",
				"Maximum number of open file descriptors");
		kp_mtext_sample(t, "process_max_fds", NULL, 0, (double)rl.rlim_cur);
	}
	f = fopen("/proc/stat", "r");
	if (f != NULL) {
		char line[256];
		unsigned long long btime = 0;

		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
		if (btime > 0) {
			kp_mtext_family(t, "process_start_time_seconds", "gauge",
					"Start time of the process since unix epoch in seconds");
			kp_mtext_sample(t, "process_start_time_seconds", NULL, 0,
					(double)btime + (double)start / (double)tck);
		}
	}
}

/* ---------------------------------------------------------------- HTTP */

int kp_metrics_parse_listener(const char *url, char *host, size_t hostlen,
			      int *port, char *err, size_t errlen)
{
	const char *h, *colon, *end;
	char *pend;
	size_t hl;
	long v;

	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "metrics.listener %s: expected http://HOST:PORT", url);
		return -1;
	}
	h = url + 7;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end[1] != ':') {
			snprintf(err, errlen, "metrics.listener %s: expected http://[IPv6]:PORT",
				 url);
			return -1;
		}
		h++;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL || memchr(h, '/', (size_t)(colon - h)) != NULL) {
			snprintf(err, errlen, "metrics.listener %s: expected http://HOST:PORT",
				 url);
			return -1;
		}
		hl = (size_t)(colon - h);
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "metrics.listener %s: host too long", url);
		return -1;
	}
	errno = 0;
	v = strtol(colon + 1, &pend, 10);
	if (colon[1] == '\0' || errno != 0 || v < 0 || v > 65535 ||
	    (*pend != '\0' && strcmp(pend, "/") != 0 && strcmp(pend, "/metrics") != 0)) {
		snprintf(err, errlen, "metrics.listener %s: bad port", url);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)v;
	return 0;
}

struct kp_metrics_http {
	struct MHD_Daemon *d;
	kp_metrics_render_fn render;
	void *arg;
	int port;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct kp_metrics_http *h = cls;
	struct MHD_Response *resp;
	struct kp_mtext t;
	unsigned code = MHD_HTTP_OK;
	enum MHD_Result ret;
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size != 0)
		return MHD_NO;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		resp = MHD_create_response_from_buffer(sizeof(bad_method) - 1,
						       (void *)bad_method,
						       MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0) {
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						       (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	} else {
		kp_mtext_init(&t);
		h->render(&t, h->arg);
		if (t.failed) {
			kp_mtext_free(&t);
			return MHD_NO;
		}
		/* MHD frees the text with free() once sent */
		resp = MHD_create_response_from_buffer(t.len, t.p != NULL ? t.p : (void *)"",
						       t.p != NULL ? MHD_RESPMEM_MUST_FREE
								   : MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			kp_mtext_free(&t);
		else
			MHD_add_response_header(resp, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
	}
	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct kp_metrics_http *kp_metrics_http_start(const char *url,
					      kp_metrics_render_fn render,
					      void *arg, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct kp_metrics_http *h;
	const union MHD_DaemonInfo *info;
	char host[256], portstr[16];
	/* epoll (or poll), never select(): a broker with thousands of logs
	 * holds descriptors past FD_SETSIZE, and libmicrohttpd refuses a
	 * select()-driven listen socket numbered above it */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int port, rc;

	if (kp_metrics_parse_listener(url, host, sizeof(host), &port, err, errlen) < 0)
		return NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "metrics.listener %s: %s", url, gai_strerror(rc));
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		freeaddrinfo(res);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->render = render;
	h->arg = arg;
	if (res->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, answer, h,
				MHD_OPTION_SOCK_ADDR, res->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_END);
	freeaddrinfo(res);
	if (h->d == NULL) {
		snprintf(err, errlen, "metrics.listener %s: cannot listen (%s)", url,
			 errno != 0 ? strerror(errno) : "libmicrohttpd refused");
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : port;
	return h;
}

int kp_metrics_http_port(const struct kp_metrics_http *h)
{
	return h->port;
}

void kp_metrics_http_stop(struct kp_metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
