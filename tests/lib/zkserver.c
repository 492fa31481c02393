/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zkserver.c - run ZooKeeper for C tests; see zkserver.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_client.h"
#include "zkserver.h"

/* Ask "srvr"; true once the reply names a mode (the server serves). */
static int serving(int port)
{
	struct sockaddr_in sa;
	char buf[2048];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 2, 0 };
	ssize_t n;

	if (fd < 0)
		return 0;
	/* A server that accepts but does not answer must not hang us. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, "srvr", 4) != 4) {
		close(fd);
		return 0;
	}
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return strstr(buf, "Mode:") != NULL;
}

static int spawn(struct zkserver *zs, int timeout_s)
{
	char cfg[512], cp[512], log[512];
	struct timespec t0, t;

	snprintf(cfg, sizeof(cfg), "%s/zoo.cfg", zs->dir);
	snprintf(cp, sizeof(cp), "%s:/usr/share/java/zookeeper.jar", zs->dir);
	snprintf(log, sizeof(log), "%s/stdout.log", zs->dir);
	zs->pid = fork();
	if (zs->pid < 0)
		return -1;
	if (zs->pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		(void)f;
		/* Never outlive the test process, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(1, 2);
		execlp("java", "java", "-Xmx256m", "-cp", cp,
		       "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg,
		       (char *)NULL);
		_exit(127);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int st;

		if (waitpid(zs->pid, &st, WNOHANG) == zs->pid) {
			fprintf(stderr, "zkserver: java exited; see %s\n", log);
			zs->pid = 0;
			return -1;
		}
		if (serving(zs->port))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > timeout_s) {
			fprintf(stderr, "zkserver: not serving after %d s; see %s\n",
				timeout_s, log);
			return -1;
		}
		usleep(100000);
	}
}

int zkserver_start(struct zkserver *zs, int timeout_s)
{
	char path[512];
	FILE *f;

	memset(zs, 0, sizeof(*zs));
	snprintf(zs->dir, sizeof(zs->dir), "/tmp/skald-zk-XXXXXX");
	if (mkdtemp(zs->dir) == NULL)
		return -1;
	zs->port = kp_tcp_free_port(20000, 32000);
	snprintf(zs->connect, sizeof(zs->connect), "127.0.0.1:%d", zs->port);
	snprintf(path, sizeof(path), "%s/zoo.cfg", zs->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "tickTime=500\ndataDir=%s/data\nclientPort=%d\n"
		"clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
		"4lw.commands.whitelist=ruok,srvr,stat\n"
		"minSessionTimeout=1000\nmaxSessionTimeout=60000\n",
		zs->dir, zs->port);
	fclose(f);
	snprintf(path, sizeof(path), "%s/log4j.properties", zs->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "log4j.rootLogger=WARN, C\n"
		"log4j.appender.C=org.apache.log4j.ConsoleAppender\n"
		"log4j.appender.C.layout=org.apache.log4j.PatternLayout\n");
	fclose(f);
	return spawn(zs, timeout_s);
}

int zkserver_restart(struct zkserver *zs, int timeout_s)
{
	return spawn(zs, timeout_s);
}

void zkserver_stop(struct zkserver *zs, int hard, int remove)
{
	char cmd[600];

	if (zs->pid > 0) {
		kill(zs->pid, hard ? SIGKILL : SIGTERM);
		waitpid(zs->pid, NULL, 0);
		zs->pid = 0;
	}
	if (remove && zs->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zs->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "zkserver: could not remove %s\n", zs->dir);
	}
}
