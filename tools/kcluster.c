/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kcluster - a local cluster in one command: ZooKeeper, controllers and
 * brokers on free loopback ports, for development and fault tests.
 *
 *   kcluster up --dir DIR [--brokers N] [--controllers N]
 *               [--zookeepers N | --zookeeper CONNECT] [--zk-chroot /PATH]
 *               [--set key=value]... [--controller-set key=value]...
 *               [--racks R1,R2,...]
 *               [--listeners NAME,NAME...] [--security sasl_ssl]
 *   kcluster down --dir DIR
 *   kcluster kill|stop|start|pause|resume --dir DIR broker|controller|zookeeper ID
 *   kcluster status --dir DIR
 *
 * ZooKeeper is one standalone server, or with --zookeepers 3 or 5 a real
 * ensemble: per server a directory zookeeper-ID with its zoo.cfg (every
 * server.ID=127.0.0.1:QUORUM:ELECTION line), data/myid and log4j
 * configuration; the connect string lists every server's client port,
 * then the chroot if one is asked for (created before any daemon starts).
 * status asks each server `srvr` (a four-letter word the configuration
 * whitelists) for its mode and so names the ensemble's leader.
 *
 * Everything lives in DIR: kcluster.state (what was started, on which
 * ports), one NAME.properties, NAME.log and NAME.pid per process, data
 * directories.  Processes run detached in their own session; later
 * invocations find them through the pid files.  Waits are on conditions
 * (ZooKeeper answering, /brokers/ids/<id>, /controller), never sleeps of a
 * guessed length.
 *
 * --security sasl_ssl (kcluster_security.c): a CA and certificate made
 * with the openssl command, SCRAM-SHA-512 users broker, controller and
 * admin written to /config/users before the daemons start, ZooKeeper
 * ACLs with a digest identity, every broker listener SASL_SSL, and
 * DIR/client.properties for the admin user.  The controllers' listeners
 * are SASL_SSL too, and they reach the brokers over the brokers' first
 * (inter-broker) listener as the user controller.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_client.h"
#include "kp_config.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "kcluster_security.h"

#define ZK_JAR "/usr/share/java/zookeeper.jar"
#define CONTROLLER_BASE 100	/* controller ids: 101, 102, ... */
#define WAIT_MS 90000
#define MAX_ZK 9		/* --zookeepers: 1 to 9, odd */

static const char *dir;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("kcluster: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fputs("Usage: kcluster up --dir DIR [--brokers N] [--controllers N]\n"
	      "                   [--zookeepers N | --zookeeper CONNECT]\n"
	      "                   [--zk-chroot /PATH] [--set key=value]...\n"
	      "                   [--controller-set key=value]... [--racks R1,R2,...]\n"
	      "                   [--listeners NAME,NAME...] [--security sasl_ssl]\n"
	      "       kcluster down --dir DIR\n"
	      "       kcluster kill|stop|start|pause|resume --dir DIR\n"
	      "                broker|controller|zookeeper ID\n"
	      "       kcluster status --dir DIR\n", f);
}

static void nap(void)
{
	struct timespec ts = { 0, 50 * 1000000L };

	nanosleep(&ts, NULL);
}

static char *path_of(const char *fmt, const char *name)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s%s", dir, name, fmt);
	return b;
}

/* A port for a daemon, below the ephemeral range (see kp_tcp_free_port),
 * never one handed out before: nothing listens on those yet. */
static int free_port(void)
{
	static int given[64], ngiven;

	for (int tries = 0; tries < 100; tries++) {
		int port = kp_tcp_free_port(20000, 32000);
		bool seen = false;

		if (port < 0)
			break;
		for (int i = 0; i < ngiven && !seen; i++)
			seen = given[i] == port;
		if (seen)
			continue;
		if (ngiven < (int)(sizeof(given) / sizeof(given[0])))
			given[ngiven++] = port;
		return port;
	}
	die("cannot find a free port between 20000 and 31999");
	return -1;
}

/* ------------------------------------------------------------ programs */

/* Next to us in the build tree (tools/../kbroker/kbroker), else installed. */
static const char *program(const char *name)
{
	static char buf[2][PATH_MAX];
	static int next;
	char *b = buf[next++ % 2], self[PATH_MAX / 2];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = 0;
			/* libtool runs us from tools/.libs */
			snprintf(b, PATH_MAX, "%s/../%s/%s", self, name, name);
			if (access(b, X_OK) == 0)
				return b;
			snprintf(b, PATH_MAX, "%s/../../%s/%s", self, name, name);
			if (access(b, X_OK) == 0)
				return b;
		}
	}
	snprintf(b, PATH_MAX, "%s/%s", SBINDIR, name);
	return b;
}

/* ------------------------------------------------------------ processes */

static pid_t read_pid(const char *name)
{
	FILE *f = fopen(path_of(".pid", name), "r");
	long pid = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* The process's state letter from /proc (R, S, T for stopped, ...); 0
 * when it is gone or a zombie nobody reaped. */
static char proc_state(pid_t pid)
{
	char p[64], buf[256], *rp, st = 0;
	FILE *f;

	if (pid <= 0 || kill(pid, 0) < 0)
		return 0;
	waitpid(pid, NULL, WNOHANG);	/* reap if it is ours */
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (rp = strrchr(buf, ')')) != NULL &&
	    rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X')
		st = rp[2];
	fclose(f);
	return st;
}

/* Running (not gone, not a zombie nobody reaped). */
static bool alive(pid_t pid)
{
	return proc_state(pid) != 0;
}

/* "running", "paused" (SIGSTOP) or "stopped". */
static const char *run_state(const char *name)
{
	char st = proc_state(read_pid(name));

	return st == 0 ? "stopped" : st == 'T' || st == 't' ? "paused" : "running";
}

/* Start argv detached, output to NAME.log, pid to NAME.pid. */
static pid_t spawn(const char *name, char *const argv[], const char *cwd)
{
	int pfd[2];
	pid_t pid, child = 0;

	if (alive(read_pid(name)))
		die("%s is already running (pid %d)", name, (int)read_pid(name));
	if (pipe(pfd) < 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd;

		close(pfd[0]);
		setsid();
		child = fork();
		if (child != 0) {
			/* the middle process reports the daemon's pid and goes */
			if (write(pfd[1], &child, sizeof(child)) < 0)
				_exit(1);
			_exit(0);
		}
		close(pfd[1]);
		fd = open(path_of(".log", name), O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		if (cwd != NULL && chdir(cwd) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "kcluster: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &child, sizeof(child)) != sizeof(child))
		die("cannot start %s", name);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	{
		FILE *f = fopen(path_of(".pid", name), "w");

		if (f == NULL)
			die("cannot write %s: %s", path_of(".pid", name), strerror(errno));
		fprintf(f, "%d\n", (int)child);
		fclose(f);
	}
	return child;
}

/* Signal NAME and wait until it is gone (SIGKILL after the wait for a
 * SIGTERM runs out).  Quiet when it is not running. */
static void end(const char *name, int sig)
{
	pid_t pid = read_pid(name);
	int64_t deadline = kp_now_ms() + WAIT_MS;

	if (!alive(pid))
		return;
	kill(pid, sig);
	while (alive(pid)) {
		if (kp_now_ms() > deadline) {
			fprintf(stderr, "kcluster: %s did not stop in time; killing it\n",
				name);
			kill(pid, SIGKILL);
			deadline = kp_now_ms() + WAIT_MS;
		}
		nap();
	}
	unlink(path_of(".pid", name));
}

/* ------------------------------------------------------------ state */

static struct kp_props state;

static const char *state_get(const char *key)
{
	const char *v = kp_props_get(&state, key);

	if (v == NULL)
		die("%s is not a kcluster directory (no %s in kcluster.state)", dir, key);
	return v;
}

static void state_load(void)
{
	char err[256];

	kp_props_init(&state);
	if (kp_props_load(&state, path_of("", "kcluster.state"), err, sizeof(err)) < 0)
		die("%s", err);
}

static void state_save(void)
{
	if (kp_props_store(&state, path_of("", "kcluster.state"),
			   "written by kcluster up") < 0)
		die("cannot write %s", path_of("", "kcluster.state"));
}

static void setf(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void setf(const char *key, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kp_props_set(&state, key, buf, 0);
}

/* The ids in a comma-separated state list. */
static int ids_of(const char *key, int *ids, int max)
{
	const char *s = state_get(key);
	int n = 0;

	while (*s && n < max) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		ids[n++] = (int)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* ----------------------------------------------------------- ZooKeeper */

static struct kp_zk *zk_connect(int timeout_ms)
{
	struct kp_zk_config zc = { 0 };
	struct kp_zk *zk = NULL;
	char err[256];

	zc.connect = state_get("zookeeper.connect");
	zc.session_timeout_ms = 10000;
	zc.connect_timeout_ms = timeout_ms;
	zc.quiet = true;
	/* the daemons' ZooKeeper identity and ACLs: the chroot we create
	 * gets them too */
	zc.digest_user = kp_props_get(&state, "zookeeper.digest.username");
	zc.digest_password = kp_props_get(&state, "zookeeper.digest.password");
	zc.set_acl = kp_props_get(&state, "zookeeper.set.acl") != NULL &&
		     strcmp(kp_props_get(&state, "zookeeper.set.acl"), "true") == 0;
	if (kp_zk_open(&zk, &zc, err, sizeof(err)) != 0)
		die("cannot reach ZooKeeper at %s: %s", zc.connect, err);
	return zk;
}

static bool zk_exists(struct kp_zk *zk, const char *path)
{
	return kp_zk_exists_sync(zk, path, NULL) == KP_ZK_OK;
}

static void wait_path(struct kp_zk *zk, const char *path, bool present,
		      const char *what)
{
	int64_t deadline = kp_now_ms() + WAIT_MS;

	while (zk_exists(zk, path) != present) {
		if (kp_now_ms() > deadline)
			die("timed out waiting for %s", what);
		nap();
	}
}

/* The active controller is one of ours. */
static void wait_controller(struct kp_zk *zk)
{
	int64_t deadline = kp_now_ms() + WAIT_MS;

	for (;;) {
		struct kp_zk_result res;
		int32_t id = -1;
		char err[128];

		if (kp_zk_get_sync(zk, "/controller", &res) == KP_ZK_OK && res.data != NULL &&
		    kp_zk_controller_decode(res.data, (size_t)res.len, &id, err,
					    sizeof(err)) == 0 && id > CONTROLLER_BASE) {
			kp_zk_result_free(&res);
			return;
		}
		kp_zk_result_free(&res);
		if (kp_now_ms() > deadline)
			die("timed out waiting for an active controller");
		nap();
	}
}

/* ------------------------------------------------------------ start */

/* The ids of the ZooKeeper servers kcluster runs (none with an outside
 * ensemble). */
static int zk_ids(int *ids, int max)
{
	if (strcmp(state_get("zookeeper.managed"), "true") != 0)
		return 0;
	return ids_of("zookeeper.servers", ids, max);
}

/* A server's name: "zookeeper" when it is the only one, as before
 * ensembles, else "zookeeper-ID". */
static const char *zk_name(int id)
{
	static char bufs[2][32];
	static int next;
	char *b = bufs[next++ % 2];
	int ids[MAX_ZK];

	if (zk_ids(ids, MAX_ZK) <= 1)
		snprintf(b, 32, "zookeeper");
	else
		snprintf(b, 32, "zookeeper-%d", id);
	return b;
}

static int zk_port(int id)
{
	char key[64];

	snprintf(key, sizeof(key), "zookeeper.%d.port", id);
	return atoi(state_get(key));
}

/*
 * Ask the server on port a four-letter word (here always `srvr`); its
 * answer in buf, false when it does not answer.  A server outside the
 * quorum answers that it is not serving requests; one in it says "Mode:
 * leader", "follower" or "standalone".
 */
static bool four_letter(int port, const char *word, char *buf, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 2, 0 };
	size_t got = 0;
	ssize_t r;
	int fd;

	buf[0] = 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, word, strlen(word)) != (ssize_t)strlen(word)) {
		close(fd);
		return false;
	}
	while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fd);
	return got > 0;
}

/* The server's mode from `srvr`: "leader", "follower", "standalone",
 * "not serving" (up, outside a quorum) or NULL (no answer). */
static const char *zk_mode(int port, char *buf, size_t n)
{
	char *m, *nl;

	if (!four_letter(port, "srvr", buf, n))
		return NULL;
	m = strstr(buf, "Mode: ");
	if (m == NULL)
		return "not serving";
	m += 6;
	nl = strchr(m, '\n');
	if (nl != NULL)
		*nl = 0;
	return m;
}

/* The ZooKeeper servers of ours that are running (not paused). */
static int zk_running(void)
{
	int ids[MAX_ZK], n = zk_ids(ids, MAX_ZK), up = 0;

	for (int i = 0; i < n; i++)
		up += strcmp(run_state(zk_name(ids[i])), "running") == 0;
	return up;
}

/*
 * Wait until server id answers `srvr`; and, when a majority of the
 * ensemble runs (so a quorum can form), until it serves as leader,
 * follower or standalone.  A server started while the quorum is lost only
 * waits to listen: it cannot serve before others come back.
 */
static void zk_wait_serving(int id)
{
	int64_t deadline = kp_now_ms() + WAIT_MS;
	int ids[MAX_ZK], n = zk_ids(ids, MAX_ZK);
	char buf[2048];

	for (;;) {
		const char *mode = zk_mode(zk_port(id), buf, sizeof(buf));

		if (!alive(read_pid(zk_name(id))))
			die("%s exited; see %s", zk_name(id), path_of(".log", zk_name(id)));
		if (mode != NULL && (strcmp(mode, "not serving") != 0 ||
				     zk_running() * 2 <= n))
			return;
		if (kp_now_ms() > deadline)
			die("timed out waiting for %s to serve (srvr: %s)", zk_name(id),
			    mode != NULL ? mode : "no answer");
		nap();
	}
}

static void spawn_zookeeper(int id)
{
	char *argv[] = { "java", "-Xmx256m", "-cp", NULL,
			 "org.apache.zookeeper.server.quorum.QuorumPeerMain", NULL, NULL };
	char cp[PATH_MAX + 64], cfg[PATH_MAX];
	const char *name = zk_name(id);

	/* log4j.properties is found on the class path: the server's dir */
	snprintf(cp, sizeof(cp), "%s:%s", path_of("", name), ZK_JAR);
	snprintf(cfg, sizeof(cfg), "%s", path_of("/zoo.cfg", name));
	argv[3] = cp;
	argv[5] = cfg;
	spawn(name, argv, path_of("", name));
}

static void start_zookeeper(int id)
{
	spawn_zookeeper(id);
	zk_wait_serving(id);
}

static void start_broker(int id, bool wait_old)
{
	char name[32], *argv[3];
	char zpath[64];
	struct kp_zk *zk = zk_connect(WAIT_MS);

	snprintf(name, sizeof(name), "broker-%d", id);
	snprintf(zpath, sizeof(zpath), "/brokers/ids/%d", id);
	/* a killed broker's registration lasts until its session times out */
	if (wait_old)
		wait_path(zk, zpath, false, "the old registration to expire");
	argv[0] = (char *)program("kbroker");
	argv[1] = path_of(".properties", name);
	argv[2] = NULL;
	spawn(name, argv, NULL);
	wait_path(zk, zpath, true, name);
	kp_zk_close(zk);
}

static void start_controller(int id)
{
	char name[32], *argv[3];

	snprintf(name, sizeof(name), "controller-%d", id);
	argv[0] = (char *)program("kcontroller");
	argv[1] = path_of(".properties", name);
	argv[2] = NULL;
	spawn(name, argv, NULL);
}

/* ------------------------------------------------------------ up */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* The rack of broker i (from 1) in "R1,R2,...", taken in turn; NULL
 * when racks is NULL. */
static const char *rack_of(const char *racks, int i, char *buf, size_t n)
{
	const char *p = racks, *comma;
	int count = 1;

	if (racks == NULL)
		return NULL;
	for (const char *q = racks; *q != 0; q++)
		count += *q == ',';
	for (i = (i - 1) % count; i > 0; i--)
		p = strchr(p, ',') + 1;
	comma = strchr(p, ',');
	snprintf(buf, n, "%.*s", (int)(comma != NULL ? (size_t)(comma - p) : strlen(p)), p);
	return buf;
}

/* --listeners: the broker listener names, the first in bootstrap.servers */
static char lnames[8][64];
static int nlnames;

/*
 * The configuration of ZooKeeper server id (of n, ports given): a
 * standalone server when n is 1, else a member of the ensemble with
 * every server.ID line and its myid.  Short ticks (500 ms) make elections
 * and session timeouts quick enough for tests; sessions may ask for 1 s
 * to 60 s.
 */
static void zk_write_config(int id, int n, const int *cport, const int *qport,
			    const int *eport)
{
	const char *name = zk_name(id);
	char buf[8192], d[PATH_MAX];
	int off;

	snprintf(d, sizeof(d), "%s", path_of("", name));
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		die("cannot create %s: %s", d, strerror(errno));
	snprintf(buf, sizeof(buf), "%s/data", d);
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		die("cannot create %s: %s", buf, strerror(errno));
	off = snprintf(buf, sizeof(buf),
		       "tickTime=500\ndataDir=%s/data\nclientPort=%d\n"
		       "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
		       "4lw.commands.whitelist=ruok,srvr,stat,mntr\n"
		       "minSessionTimeout=1000\nmaxSessionTimeout=60000\n",
		       d, cport[id - 1]);
	if (n > 1) {
		/* followers have 10 s to join a leader, 5 s to stay in step */
		off += snprintf(buf + off, sizeof(buf) - (size_t)off,
				"initLimit=20\nsyncLimit=10\n");
		for (int i = 1; i <= n && off < (int)sizeof(buf); i++)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					"server.%d=127.0.0.1:%d:%d\n", i, qport[i - 1],
					eport[i - 1]);
	}
	write_file(path_of("/zoo.cfg", name), buf);
	if (n > 1) {
		snprintf(buf, sizeof(buf), "%d\n", id);
		write_file(path_of("/data/myid", name), buf);
	}
	snprintf(buf, sizeof(buf),
		 "log4j.rootLogger=WARN, F\n"
		 "log4j.appender.F=org.apache.log4j.FileAppender\n"
		 "log4j.appender.F.File=%s\n"
		 "log4j.appender.F.layout=org.apache.log4j.PatternLayout\n"
		 "log4j.appender.F.layout.ConversionPattern=%%d %%p %%c: %%m%%n\n",
		 path_of(".log", name));
	write_file(path_of("/log4j.properties", name), buf);
}

static void cmd_up(int nbrokers, int ncontrollers, int nzk, const char *zk_given,
		   const char *chroot, const struct kp_props *bset,
		   const struct kp_props *cset, const char *racks, bool secure)
{
	char serr[512];
	char buf[8192], list[1024] = "", boot[2048] = "", rack[256];
	char lboot[8][2048] = { "" };
	struct kp_zk *zk;

	if (nbrokers < 1 || ncontrollers < 1)
		die("at least one broker and one controller");
	if (nzk < 1 || nzk > MAX_ZK || nzk % 2 == 0)
		die("--zookeepers wants an odd number from 1 to %d (a quorum is a "
		    "majority: 3 servers ride out one failure, 5 two), got %d", MAX_ZK, nzk);
	if (chroot != NULL && (chroot[0] != '/' || chroot[1] == 0 ||
			       chroot[strlen(chroot) - 1] == '/' ||
			       strstr(chroot, "//") != NULL || strchr(chroot, ',') != NULL))
		die("--zk-chroot wants a ZooKeeper path such as /skald, got '%s'", chroot);
	if (zk_given != NULL && nzk > 1)
		die("--zookeepers starts an ensemble; --zookeeper names one to use");
	if (zk_given != NULL && chroot != NULL && strchr(zk_given, '/') != NULL)
		die("--zookeeper %s already names a chroot", zk_given);
	/* with its parents, as mkdir -p */
	for (char *p = strchr(dir + 1, '/'); ; p = strchr(p + 1, '/')) {
		char part[PATH_MAX];

		snprintf(part, sizeof(part), "%.*s", p != NULL ? (int)(p - dir) : (int)strlen(dir),
			 dir);
		if (mkdir(part, 0755) < 0 && errno != EEXIST)
			die("cannot create %s: %s", part, strerror(errno));
		if (p == NULL)
			break;
	}
	if (access(path_of("", "kcluster.state"), F_OK) == 0) {
		state_load();
		for (int i = 1; i <= nbrokers; i++) {
			snprintf(buf, sizeof(buf), "broker-%d", i);
			if (alive(read_pid(buf)))
				die("a cluster is already running in %s (kcluster down first)",
				    dir);
		}
		kp_props_free(&state);
	}
	kp_props_init(&state);
	if (zk_given != NULL) {
		setf("zookeeper.connect", "%s%s", zk_given, chroot != NULL ? chroot : "");
		setf("zookeeper.managed", "false");
	} else {
		int cport[MAX_ZK], qport[MAX_ZK], eport[MAX_ZK], off = 0;
		char key[64];

		setf("zookeeper.managed", "true");
		for (int i = 1; i <= nzk; i++) {
			cport[i - 1] = free_port();
			qport[i - 1] = nzk > 1 ? free_port() : 0;
			eport[i - 1] = nzk > 1 ? free_port() : 0;
			snprintf(key, sizeof(key), "zookeeper.%d.port", i);
			setf(key, "%d", cport[i - 1]);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
				 i > 1 ? "," : "", i);
			off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%s127.0.0.1:%d",
					i > 1 ? "," : "", cport[i - 1]);
		}
		setf("zookeeper.servers", "%s", list);
		list[0] = 0;
		setf("zookeeper.connect", "%s%s", buf, chroot != NULL ? chroot : "");
		for (int i = 1; i <= nzk; i++)
			zk_write_config(i, nzk, cport, qport, eport);
	}
	if (secure && kcs_prepare(dir, &state, serr, sizeof(serr)) < 0)
		die("--security: %s", serr);
	/* the brokers' ZooKeeper identity is ours too */
	{
		static const char *const zkeys[] = {
			"zookeeper.set.acl", "zookeeper.digest.username",
			"zookeeper.digest.password",
		};

		for (size_t k = 0; k < sizeof(zkeys) / sizeof(zkeys[0]); k++)
			if (kp_props_get(bset, zkeys[k]) != NULL)
				setf(zkeys[k], "%s", kp_props_get(bset, zkeys[k]));
	}
	for (int i = 1; i <= nbrokers; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
			 i > 1 ? "," : "", i);
	setf("brokers", "%s", list);
	list[0] = 0;
	for (int i = 1; i <= ncontrollers; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
			 i > 1 ? "," : "", CONTROLLER_BASE + i);
	setf("controllers", "%s", list);
	for (int i = 1; i <= ncontrollers; i++) {
		char name[32];
		int off;

		snprintf(name, sizeof(name), "controller-%d", CONTROLLER_BASE + i);
		off = snprintf(buf, sizeof(buf), "controller.id=%d\nzookeeper.connect=%s\n"
			       "listeners=%s://127.0.0.1:0\n",
			       CONTROLLER_BASE + i, state_get("zookeeper.connect"),
			       secure ? "SASL_SSL" : "PLAINTEXT");
		if (secure)
			kcs_controller_props(dir, &state, lnames[0], buf, sizeof(buf), &off);
		/* every daemon serves Prometheus metrics on a port of its own */
		if (kp_props_get(cset, "metrics.listener") == NULL) {
			char key[64];
			int mport = free_port();

			snprintf(key, sizeof(key), "controller.%d.metrics", CONTROLLER_BASE + i);
			setf(key, "http://127.0.0.1:%d/metrics", mport);
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					"metrics.listener=http://127.0.0.1:%d\n", mport);
		}
		for (size_t j = 0; j < cset->count && off < (int)sizeof(buf); j++)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%s=%s\n",
					cset->items[j].key, cset->items[j].value);
		write_file(path_of(".properties", name), buf);
	}
	for (int i = 1; i <= nbrokers; i++) {
		char name[32], key[64];
		int port = free_port(), off;

		snprintf(name, sizeof(name), "broker-%d", i);
		snprintf(key, sizeof(key), "broker.%d.port", i);
		setf(key, "%d", port);
		off = snprintf(buf, sizeof(buf), "broker.id=%d\nlisteners=%s://127.0.0.1:%d",
			       i, lnames[0], port);
		snprintf(lboot[0] + strlen(lboot[0]), sizeof(lboot[0]) - strlen(lboot[0]),
			 "%s127.0.0.1:%d", i > 1 ? "," : "", port);
		for (int l = 1; l < nlnames; l++) {
			int lport = free_port();

			snprintf(key, sizeof(key), "broker.%d.port.%s", i, lnames[l]);
			setf(key, "%d", lport);
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					",%s://127.0.0.1:%d", lnames[l], lport);
			snprintf(lboot[l] + strlen(lboot[l]),
				 sizeof(lboot[l]) - strlen(lboot[l]), "%s127.0.0.1:%d",
				 i > 1 ? "," : "", lport);
		}
		off += snprintf(buf + off, sizeof(buf) - (size_t)off,
				"\nlog.dirs=%s\nzookeeper.connect=%s\n",
				path_of("-data", name), state_get("zookeeper.connect"));
		if (secure)
			kcs_broker_props(dir, &state, lnames, nlnames, buf, sizeof(buf), &off);
		if (kp_props_get(bset, "metrics.listener") == NULL) {
			int mport = free_port();

			snprintf(key, sizeof(key), "broker.%d.metrics", i);
			setf(key, "http://127.0.0.1:%d/metrics", mport);
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					"metrics.listener=http://127.0.0.1:%d\n", mport);
		}
		/* as Kafka's sample server.properties for small clusters: the
		 * offsets topic fits the cluster (unless --set says otherwise) */
		if (kp_props_get(bset, "offsets.topic.replication.factor") == NULL)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					"offsets.topic.replication.factor=%d\n",
					nbrokers < 3 ? nbrokers : 3);
		if (racks != NULL && off < (int)sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
					"broker.rack=%s\n", rack_of(racks, i, rack, sizeof(rack)));
		for (size_t j = 0; j < bset->count && off < (int)sizeof(buf); j++)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%s=%s\n",
					bset->items[j].key, bset->items[j].value);
		write_file(path_of(".properties", name), buf);
		snprintf(boot + strlen(boot), sizeof(boot) - strlen(boot), "%s127.0.0.1:%d",
			 i > 1 ? "," : "", port);
	}
	setf("bootstrap.servers", "%s", boot);
	for (int l = 1; l < nlnames; l++) {
		char key[96];

		snprintf(key, sizeof(key), "bootstrap.%s", lnames[l]);
		setf(key, "%s", lboot[l]);
	}
	state_save();
	if (zk_given == NULL) {
		/* all at once: a server alone cannot form a quorum */
		for (int i = 1; i <= nzk; i++)
			spawn_zookeeper(i);
		for (int i = 1; i <= nzk; i++)
			zk_wait_serving(i);
	}
	/* opening a session with the chroot creates it, as Kafka does */
	zk = zk_connect(WAIT_MS);
	/* the users' SCRAM credentials before anyone needs them (Kafka's
	 * kafka-configs --zookeeper for the inter-broker user) */
	if (secure && kcs_scram_users(zk, &state, serr, sizeof(serr)) < 0)
		die("--security: %s", serr);
	kp_zk_close(zk);
	for (int i = 1; i <= ncontrollers; i++)
		start_controller(CONTROLLER_BASE + i);
	for (int i = 1; i <= nbrokers; i++)
		start_broker(i, false);
	zk = zk_connect(WAIT_MS);
	wait_controller(zk);
	kp_zk_close(zk);
	printf("bootstrap.servers=%s\nzookeeper.connect=%s\n", boot,
	       state_get("zookeeper.connect"));
	for (int l = 1; l < nlnames; l++)
		printf("bootstrap.%s=%s\n", lnames[l], lboot[l]);
	if (secure) {
		char cpath[PATH_MAX];

		if (kcs_client_props(dir, &state, boot, cpath, sizeof(cpath), serr,
				     sizeof(serr)) < 0)
			die("--security: %s", serr);
		setf("client.properties", "%s", cpath);
		state_save();
		printf("client.properties=%s\n", cpath);
	}
	/* where Prometheus scrapes each daemon */
	for (int i = 1; i <= ncontrollers; i++) {
		char key[64];
		const char *url;

		snprintf(key, sizeof(key), "controller.%d.metrics", CONTROLLER_BASE + i);
		url = kp_props_get(&state, key);
		if (url != NULL)
			printf("metrics.controller.%d=%s\n", CONTROLLER_BASE + i, url);
	}
	for (int i = 1; i <= nbrokers; i++) {
		char key[64];
		const char *url;

		snprintf(key, sizeof(key), "broker.%d.metrics", i);
		url = kp_props_get(&state, key);
		if (url != NULL)
			printf("metrics.broker.%d=%s\n", i, url);
	}
}

/* ------------------------------------------------------------ the rest */

static void cmd_down(void)
{
	int ids[256], n;
	char name[32];

	state_load();
	n = ids_of("brokers", ids, 256);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "broker-%d", ids[i]);
		end(name, SIGTERM);
	}
	n = ids_of("controllers", ids, 256);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "controller-%d", ids[i]);
		end(name, SIGTERM);
	}
	n = zk_ids(ids, MAX_ZK);
	for (int i = 0; i < n; i++)
		end(zk_name(ids[i]), SIGTERM);
}

static void cmd_one(const char *verb, const char *what, const char *id_s)
{
	char name[32];
	int id = 0, ids[256], n;
	bool known = false;

	state_load();
	if (strcmp(what, "zookeeper") == 0) {
		char *end;

		if (strcmp(state_get("zookeeper.managed"), "true") != 0)
			die("this cluster uses an outside ZooKeeper");
		n = zk_ids(ids, MAX_ZK);
		if (id_s == NULL && n > 1)
			die("%s zookeeper needs an id: the ensemble has servers %s", verb,
			    state_get("zookeeper.servers"));
		id = id_s == NULL ? 1 : (int)strtol(id_s, &end, 10);
		if (id_s != NULL && *end != 0)
			die("bad id '%s'", id_s);
		for (int i = 0; i < n; i++)
			known |= ids[i] == id;
		if (!known)
			die("no zookeeper %d in this cluster (kcluster.state lists %s)", id,
			    state_get("zookeeper.servers"));
		snprintf(name, sizeof(name), "%s", zk_name(id));
	} else if (strcmp(what, "broker") == 0 || strcmp(what, "controller") == 0) {
		char *end;

		if (id_s == NULL)
			die("%s %s needs an id", verb, what);
		id = (int)strtol(id_s, &end, 10);
		if (*end != 0)
			die("bad id '%s'", id_s);
		n = ids_of(what[0] == 'b' ? "brokers" : "controllers", ids, 256);
		for (int i = 0; i < n; i++)
			known |= ids[i] == id;
		if (!known)
			die("no %s %d in this cluster (kcluster.state lists %s)", what, id,
			    state_get(what[0] == 'b' ? "brokers" : "controllers"));
		snprintf(name, sizeof(name), "%s-%d", what, id);
	} else {
		usage(stderr);
		exit(2);
	}
	if (strcmp(verb, "kill") == 0) {
		end(name, SIGKILL);
	} else if (strcmp(verb, "stop") == 0) {
		end(name, SIGTERM);
	} else if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0) {
		pid_t pid = read_pid(name);

		/* SIGSTOP / SIGCONT: a process that hangs, then wakes up as if
		 * nothing happened (the classic split-brain test) */
		if (!alive(pid))
			die("%s is not running", name);
		kill(pid, verb[0] == 'p' ? SIGSTOP : SIGCONT);
	} else if (strcmp(verb, "start") == 0) {
		if (what[0] == 'z')
			start_zookeeper(id);
		else if (what[0] == 'b')
			start_broker(id, true);
		else
			start_controller(id);
	}
}

static void cmd_status(void)
{
	int ids[256], n, leader = 0;
	char name[32];

	state_load();
	printf("zookeeper.connect=%s\n", state_get("zookeeper.connect"));
	printf("bootstrap.servers=%s\n", state_get("bootstrap.servers"));
	/* each server: its state, its mode as `srvr` tells, its client
	 * address; then the leader (none while the quorum is lost) */
	n = zk_ids(ids, MAX_ZK);
	for (int i = 0; i < n; i++) {
		const char *st = run_state(zk_name(ids[i])), *mode = NULL;
		char buf[2048];

		if (strcmp(st, "running") == 0)
			mode = zk_mode(zk_port(ids[i]), buf, sizeof(buf));
		printf("%s: %s%s%s 127.0.0.1:%d\n", zk_name(ids[i]), st,
		       mode != NULL ? " " : "", mode != NULL ? mode : "", zk_port(ids[i]));
		if (mode != NULL && (strcmp(mode, "leader") == 0 ||
				     strcmp(mode, "standalone") == 0))
			leader = ids[i];
	}
	if (n > 0 && leader > 0)
		printf("zookeeper.leader=%d\n", leader);
	else if (n > 0)
		printf("zookeeper.leader=none\n");
	n = ids_of("controllers", ids, 256);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "controller-%d", ids[i]);
		printf("%s: %s\n", name, run_state(name));
	}
	n = ids_of("brokers", ids, 256);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "broker-%d", ids[i]);
		printf("%s: %s\n", name, run_state(name));
	}
}

static void add_set(struct kp_props *p, const char *arg)
{
	char *copy = strdup(arg), *eq = copy != NULL ? strchr(copy, '=') : NULL;

	if (eq == NULL || eq == copy)
		die("--set wants key=value, got '%s'", arg);
	*eq = 0;
	kp_props_set(p, copy, eq + 1, 0);
	free(copy);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "brokers", required_argument, NULL, 'b' },
		{ "controllers", required_argument, NULL, 'c' },
		{ "zookeeper", required_argument, NULL, 'z' },
		{ "zookeepers", required_argument, NULL, 'Z' },
		{ "zk-chroot", required_argument, NULL, 'C' },
		{ "set", required_argument, NULL, 's' },
		{ "controller-set", required_argument, NULL, 'S' },
		{ "racks", required_argument, NULL, 'r' },
		{ "listeners", required_argument, NULL, 'l' },
		{ "security", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_props bset, cset;
	const char *verb, *zk_given = NULL, *racks = NULL, *chroot = NULL;
	int nbrokers = 3, ncontrollers = 2, nzk = 1, ch;
	bool secure = false, named = false;
	char absdir[PATH_MAX];

	snprintf(lnames[0], sizeof(lnames[0]), "PLAINTEXT");
	nlnames = 1;
	kp_log_set_ident("kcluster");
	kp_log_set_level(KP_LOG_ERROR);
	kp_props_init(&bset);
	kp_props_init(&cset);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(verb, "--version") == 0) {
		printf("kcluster (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'b':
			nbrokers = atoi(optarg);
			break;
		case 'c':
			ncontrollers = atoi(optarg);
			break;
		case 'z':
			zk_given = optarg;
			break;
		case 'Z':
			nzk = atoi(optarg);
			break;
		case 'C':
			chroot = optarg;
			break;
		case 's':
			add_set(&bset, optarg);
			break;
		case 'S':
			add_set(&cset, optarg);
			break;
		case 'r':
			if (optarg[0] == 0 || strstr(optarg, ",,") != NULL ||
			    optarg[0] == ',' || optarg[strlen(optarg) - 1] == ',') {
				fprintf(stderr, "kcluster: --racks wants R1,R2,..., got '%s'\n",
					optarg);
				return 2;
			}
			racks = optarg;
			break;
		case 'x':
			if (strcasecmp(optarg, "sasl_ssl") == 0) {
				secure = true;
			} else if (strcasecmp(optarg, "plaintext") != 0) {
				fprintf(stderr, "kcluster: --security wants sasl_ssl or "
					"plaintext, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'l':
			named = true;
			nlnames = 0;
			for (const char *p = optarg; *p != 0 && nlnames < 8;) {
				size_t n = strcspn(p, ",");

				if (n == 0 || n >= sizeof(lnames[0])) {
					fprintf(stderr, "kcluster: --listeners wants NAME,NAME..., "
						"got '%s'\n", optarg);
					return 2;
				}
				memcpy(lnames[nlnames], p, n);
				lnames[nlnames++][n] = 0;
				p += n + (p[n] == ',');
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "kcluster: --dir DIR is required\n");
		return 2;
	}
	/* children must not depend on our working directory */
	if (dir[0] != '/' && getcwd(absdir, sizeof(absdir) - strlen(dir) - 2) != NULL) {
		strcat(absdir, "/");
		strcat(absdir, dir);
		dir = absdir;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(verb, "up") == 0) {
		if (optind != argc)
			die("unexpected argument '%s'", argv[optind]);
		/* every listener SASL_SSL: the default one is named so */
		if (secure && !named)
			snprintf(lnames[0], sizeof(lnames[0]), "SASL_SSL");
		cmd_up(nbrokers, ncontrollers, nzk, zk_given, chroot, &bset, &cset, racks,
		       secure);
	} else if (strcmp(verb, "down") == 0) {
		cmd_down();
	} else if (strcmp(verb, "status") == 0) {
		cmd_status();
	} else if (strcmp(verb, "kill") == 0 || strcmp(verb, "stop") == 0 ||
		   strcmp(verb, "start") == 0 || strcmp(verb, "pause") == 0 ||
		   strcmp(verb, "resume") == 0) {
		if (optind >= argc)
			die("%s needs broker|controller|zookeeper [ID]", verb);
		cmd_one(verb, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL);
	} else {
		usage(stderr);
		return 2;
	}
	kp_props_free(&bset);
	kp_props_free(&cset);
	return 0;
}
