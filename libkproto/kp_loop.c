/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_loop.c - the event loop; see kp_loop.h.
 *
 * File events live in a table indexed by fd (grown on demand).  Timers are
 * a min-heap ordered by (deadline, arming sequence); each timer knows its
 * heap slot, so stopping one is O(log n) without a search.  Posted calls sit
 * in a mutex-protected FIFO; the first post into an empty queue writes the
 * eventfd, and the loop drains the whole queue at once.  A call is either
 * allocated by kp_loop_post() and freed once run, or embedded in its
 * owner (kp_loop_post_call()), which keeps it from being queued twice.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "kp_log.h"
#include "kp_loop.h"

struct file_ev {
	int events;		/* mask requested; -1: not watched */
	kp_file_fn fn;
	void *arg;
};

struct kp_loop {
	int epfd;
	int evfd;
	struct file_ev *files;
	int nfiles;
	struct kp_timer **heap;
	int32_t nheap, capheap;
	uint64_t timer_seq;
	kp_call_fn before_sleep;
	void *before_sleep_arg;
	pthread_mutex_t post_mu;
	struct kp_loop_call *post_head, *post_tail;
	atomic_bool stop;
	/* nanoseconds spent waiting in epoll_wait: written by the loop's
	 * thread only (load + store), read by anyone (metrics) */
	_Atomic uint64_t idle_ns;
	struct epoll_event evs[256];
};

int64_t kp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t kp_loop_idle_ns(struct kp_loop *loop)
{
	return atomic_load_explicit(&loop->idle_ns, memory_order_relaxed);
}

int64_t kp_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct kp_loop *kp_loop_new(void)
{
	struct kp_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->evfd < 0)
		goto fail;
	ev.data.fd = loop->evfd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) < 0)
		goto fail;
	pthread_mutex_init(&loop->post_mu, NULL);
	return loop;
fail:
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->evfd >= 0)
		close(loop->evfd);
	free(loop);
	return NULL;
}

void kp_loop_free(struct kp_loop *loop)
{
	struct kp_loop_call *p, *next;

	if (loop == NULL)
		return;
	for (p = loop->post_head; p != NULL; p = next) {
		next = p->next;
		if (!p->embedded)
			free(p);
	}
	for (int32_t i = 0; i < loop->nheap; i++)
		loop->heap[i]->heap_idx = -1;
	pthread_mutex_destroy(&loop->post_mu);
	close(loop->epfd);
	close(loop->evfd);
	free(loop->files);
	free(loop->heap);
	free(loop);
}

/* ---- file events ---- */

static uint32_t to_epoll(int events)
{
	uint32_t e = 0;

	if (events & KP_EV_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & KP_EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

static int grow_files(struct kp_loop *loop, int fd)
{
	int n = loop->nfiles ? loop->nfiles : 64;
	struct file_ev *f;

	while (n <= fd)
		n *= 2;
	f = realloc(loop->files, (size_t)n * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	for (int i = loop->nfiles; i < n; i++)
		f[i].events = -1;
	loop->files = f;
	loop->nfiles = n;
	return 0;
}

int kp_loop_watch(struct kp_loop *loop, int fd, int events, kp_file_fn fn,
		  void *arg)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
	int op;

	if (fd < 0)
		return -EBADF;
	if (fd >= loop->nfiles && grow_files(loop, fd) < 0)
		return -ENOMEM;
	op = loop->files[fd].events < 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
		return -errno;
	loop->files[fd].events = events;
	loop->files[fd].fn = fn;
	loop->files[fd].arg = arg;
	return 0;
}

int kp_loop_set_events(struct kp_loop *loop, int fd, int events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };

	if (fd < 0 || fd >= loop->nfiles || loop->files[fd].events < 0)
		return -EBADF;
	if (loop->files[fd].events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	loop->files[fd].events = events;
	return 0;
}

int kp_loop_get_events(const struct kp_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfiles)
		return -1;
	return loop->files[fd].events;
}

void kp_loop_unwatch(struct kp_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfiles || loop->files[fd].events < 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->files[fd].events = -1;
	loop->files[fd].fn = NULL;
}

/* ---- timers ---- */

static bool timer_less(const struct kp_timer *a, const struct kp_timer *b)
{
	if (a->when_ms != b->when_ms)
		return a->when_ms < b->when_ms;
	return a->seq < b->seq;
}

static void heap_set(struct kp_loop *loop, int32_t i, struct kp_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct kp_loop *loop, int32_t i)
{
	struct kp_timer *t = loop->heap[i];

	while (i > 0) {
		int32_t parent = (i - 1) / 2;

		if (!timer_less(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct kp_loop *loop, int32_t i)
{
	struct kp_timer *t = loop->heap[i];

	for (;;) {
		int32_t c = 2 * i + 1;

		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && timer_less(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_less(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void kp_timer_init(struct kp_timer *t, kp_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->heap_idx = -1;
	t->fn = fn;
	t->arg = arg;
}

void kp_timer_stop(struct kp_loop *loop, struct kp_timer *t)
{
	int32_t i = t->heap_idx;
	struct kp_timer *last;

	if (i < 0)
		return;
	t->heap_idx = -1;
	last = loop->heap[--loop->nheap];
	if (i == loop->nheap)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

void kp_timer_start(struct kp_loop *loop, struct kp_timer *t, int64_t delay_ms)
{
	kp_timer_stop(loop, t);
	if (loop->nheap == loop->capheap) {
		int32_t cap = loop->capheap ? loop->capheap * 2 : 64;
		struct kp_timer **h = realloc(loop->heap, (size_t)cap * sizeof(*h));

		if (h == NULL)
			abort();	/* a lost timer would hang a request */
		loop->heap = h;
		loop->capheap = cap;
	}
	t->when_ms = kp_now_ms() + (delay_ms > 0 ? delay_ms : 0);
	t->seq = loop->timer_seq++;
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->heap_idx);
}

static void run_timers(struct kp_loop *loop)
{
	int64_t now = kp_now_ms();
	uint64_t seq_limit = loop->timer_seq;

	/* Timers armed by a callback in this round wait for the next one. */
	while (loop->nheap > 0) {
		struct kp_timer *t = loop->heap[0];

		if (t->when_ms > now || t->seq >= seq_limit)
			break;
		kp_timer_stop(loop, t);
		t->fn(loop, t->arg);
	}
}

static int next_timeout(struct kp_loop *loop, int timeout_ms)
{
	int64_t d;

	if (loop->nheap == 0)
		return timeout_ms;
	d = loop->heap[0]->when_ms - kp_now_ms();
	if (d < 0)
		d = 0;
	if (timeout_ms >= 0 && d > timeout_ms)
		d = timeout_ms;
	return d > 1000000 ? 1000000 : (int)d;
}

/* ---- posted calls ---- */

static void enqueue(struct kp_loop *loop, struct kp_loop_call *p)
{
	bool wake;

	p->next = NULL;
	pthread_mutex_lock(&loop->post_mu);
	wake = loop->post_head == NULL;
	if (loop->post_tail != NULL)
		loop->post_tail->next = p;
	else
		loop->post_head = p;
	loop->post_tail = p;
	pthread_mutex_unlock(&loop->post_mu);
	if (wake) {
		uint64_t one = 1;

		/* EAGAIN means the counter is already non-zero: awake anyway */
		(void)!write(loop->evfd, &one, sizeof(one));
	}
}

int kp_loop_post(struct kp_loop *loop, kp_call_fn fn, void *arg)
{
	struct kp_loop_call *p = malloc(sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->embedded = false;
	enqueue(loop, p);
	return 0;
}

void kp_loop_call_init(struct kp_loop_call *c, kp_call_fn fn, void *arg)
{
	c->next = NULL;
	c->fn = fn;
	c->arg = arg;
	c->embedded = true;
}

void kp_loop_post_call(struct kp_loop *loop, struct kp_loop_call *c)
{
	enqueue(loop, c);
}

static void run_posts(struct kp_loop *loop)
{
	struct kp_loop_call *p, *next;
	uint64_t v;

	(void)!read(loop->evfd, &v, sizeof(v));
	pthread_mutex_lock(&loop->post_mu);
	p = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->post_mu);
	for (; p != NULL; p = next) {
		/* an embedded call may be queued again while it runs */
		bool heap = !p->embedded;

		next = p->next;
		p->fn(p->arg);
		if (heap)
			free(p);
	}
}

void kp_loop_before_sleep(struct kp_loop *loop, kp_call_fn fn, void *arg)
{
	loop->before_sleep = fn;
	loop->before_sleep_arg = arg;
}

/* ---- running ---- */

int kp_loop_run_once(struct kp_loop *loop, int timeout_ms)
{
	struct timespec t0, t1;
	int n;

	if (loop->before_sleep != NULL)
		loop->before_sleep(loop->before_sleep_arg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = epoll_wait(loop->epfd, loop->evs, 256, next_timeout(loop, timeout_ms));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store_explicit(&loop->idle_ns,
			      atomic_load_explicit(&loop->idle_ns, memory_order_relaxed) +
			      (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
					 (t1.tv_nsec - t0.tv_nsec)),
			      memory_order_relaxed);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = loop->evs[i].data.fd;
		uint32_t e = loop->evs[i].events;
		int mask = 0;
		struct file_ev *f;

		if (fd == loop->evfd) {
			run_posts(loop);
			continue;
		}
		/* an earlier callback in this batch may have unwatched fd */
		if (fd >= loop->nfiles || loop->files[fd].events < 0)
			continue;
		f = &loop->files[fd];
		if (e & (EPOLLIN | EPOLLRDHUP))
			mask |= KP_EV_READ;
		if (e & EPOLLOUT)
			mask |= KP_EV_WRITE;
		/* as ae.c: an error or hang-up wakes readers and writers, who
		 * then see it from read() or write() */
		if (e & (EPOLLERR | EPOLLHUP))
			mask |= KP_EV_ERROR | KP_EV_READ | KP_EV_WRITE;
		mask &= f->events | KP_EV_ERROR;
		if (mask != 0 && f->fn != NULL)
			f->fn(loop, fd, mask, f->arg);
	}
	run_timers(loop);
	return 0;
}

int kp_loop_run(struct kp_loop *loop)
{
	/* a stop requested before the loop started still counts */
	while (!atomic_exchange(&loop->stop, false)) {
		int rc = kp_loop_run_once(loop, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static void stop_cb(void *arg)
{
	(void)arg;
}

void kp_loop_stop(struct kp_loop *loop)
{
	atomic_store(&loop->stop, true);
	kp_loop_post(loop, stop_cb, NULL);	/* wake it */
}

static void on_signal(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct signalfd_siginfo si;
	bool *stopping = arg;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	/* a write to a closed connection on this thread (OpenSSL's writes
	 * carry no MSG_NOSIGNAL): the write's error says it, nothing stops */
	if (si.ssi_signo == SIGPIPE)
		return;
	KP_INFO("signal %d: shutting down", (int)si.ssi_signo);
	*stopping = true;
	kp_loop_stop(loop);
}

int kp_loop_stop_on_signals(struct kp_loop *loop, bool *stopping)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);	/* threads inherit it */
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (kp_loop_watch(loop, fd, KP_EV_READ, on_signal, stopping) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
