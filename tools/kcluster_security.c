/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kcluster_security.c - kcluster up --security sasl_ssl; see
 * kcluster_security.h.
 *
 * Certificates come from the openssl command (Debian's openssl package):
 * an EC P-256 CA and one server certificate for every daemon, with
 * subjectAltName DNS:localhost and IP:127.0.0.1 so host name verification
 * (ssl.endpoint.identification.algorithm=https, the default) passes on
 * loopback.  Passwords are 32 random hex digits.  SCRAM credentials are
 * written as Kafka's ScramCredentialUtils keeps them, the znode created
 * under the ZooKeeper ACLs (a sensitive path: skald's identity only).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcluster_security.h"
#include "kp_config.h"
#include "kp_sasl.h"
#include "kp_zk.h"
#include "kp_zkdata.h"

#define ITERATIONS 4096

static const char *const users[] = { "broker", "controller", "admin" };

static int random_hex(char *out, size_t n)
{
	uint8_t b[16];

	if (n < 2 * sizeof(b) + 1 || kp_scram_random(b, sizeof(b)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* openssl with argv in tlsdir, its output appended to openssl.log. */
static int run_openssl(const char *tlsdir, char *const argv[], char *err, size_t errlen)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char log[PATH_MAX];
		int fd;

		if (chdir(tlsdir) < 0)
			_exit(127);
		snprintf(log, sizeof(log), "%s/openssl.log", tlsdir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp("openssl", argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "openssl %s failed (the openssl command is Debian's "
			 "openssl package); see %s/openssl.log", argv[1], tlsdir);
		return -1;
	}
	return 0;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* The concatenation of files into path. */
static int concat(const char *path, const char *const *files, int n, char *err,
		  size_t errlen)
{
	FILE *out = fopen(path, "w");

	if (out == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		FILE *in = fopen(files[i], "r");
		char buf[4096];
		size_t got;

		if (in == NULL) {
			snprintf(err, errlen, "cannot read %s: %s", files[i], strerror(errno));
			fclose(out);
			return -1;
		}
		while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, got, out);
		fclose(in);
	}
	if (fclose(out) != 0) {
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	return 0;
}

int kcs_prepare(const char *dir, struct kp_props *state, char *err, size_t errlen)
{
	char tls[PATH_MAX], p[PATH_MAX + 64], pw[64], key[64];
	char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
		       "-out", "ca.pem", "-days", "3650", "-subj", "/CN=kcluster CA", NULL };
	char *csr[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
			"-out", "server.csr", "-subj", "/O=skald/CN=localhost", NULL };
	char *sign[] = { "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
			 "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650",
			 "-extfile", "san.ext", "-out", "server.pem", NULL };
	const char *parts[3];
	char pk[PATH_MAX + 16], pc[PATH_MAX + 16], pca[PATH_MAX + 16];

	snprintf(tls, sizeof(tls), "%s/tls", dir);
	if (mkdir(tls, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", tls, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/san.ext", tls);
	if (write_text(p, "subjectAltName=DNS:localhost,IP:127.0.0.1\n", err, errlen) < 0 ||
	    run_openssl(tls, ca, err, errlen) < 0 || run_openssl(tls, csr, err, errlen) < 0 ||
	    run_openssl(tls, sign, err, errlen) < 0)
		return -1;
	snprintf(pk, sizeof(pk), "%s/server.key", tls);
	snprintf(pc, sizeof(pc), "%s/server.pem", tls);
	snprintf(pca, sizeof(pca), "%s/ca.pem", tls);
	parts[0] = pk;
	parts[1] = pc;
	parts[2] = pca;
	snprintf(p, sizeof(p), "%s/server-keystore.pem", tls);
	if (concat(p, parts, 3, err, errlen) < 0)
		return -1;
	kp_props_set(state, "security", "sasl_ssl", 0);
	kp_props_set(state, "zookeeper.set.acl", "true", 0);
	kp_props_set(state, "zookeeper.digest.username", KCS_ZK_USER, 0);
	if (random_hex(pw, sizeof(pw)) < 0)
		goto rnd;
	kp_props_set(state, "zookeeper.digest.password", pw, 0);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (random_hex(pw, sizeof(pw)) < 0)
			goto rnd;
		snprintf(key, sizeof(key), "sasl.%s.password", users[i]);
		kp_props_set(state, key, pw, 0);
	}
	return 0;
rnd:
	snprintf(err, errlen, "no random bytes for a password");
	return -1;
}

static const char *pw_of(const struct kp_props *state, const char *user)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "sasl.%s.password", user);
	v = kp_props_get(state, key);
	return v != NULL ? v : "";
}

#define ADD(...) do { \
	if (*off < (int)size) \
		*off += snprintf(buf + *off, size - (size_t)*off, __VA_ARGS__); \
} while (0)

/* What brokers and controllers both have: ZooKeeper and the TLS stores. */
static void common_props(const char *dir, const struct kp_props *state, char *buf,
			 size_t size, int *off)
{
	ADD("zookeeper.set.acl=true\nzookeeper.digest.username=%s\n"
	    "zookeeper.digest.password=%s\n", KCS_ZK_USER,
	    kp_props_get(state, "zookeeper.digest.password"));
	ADD("ssl.keystore.type=PEM\nssl.keystore.location=%s/tls/server-keystore.pem\n"
	    "ssl.truststore.type=PEM\nssl.truststore.location=%s/tls/ca.pem\n", dir, dir);
	ADD("sasl.enabled.mechanisms=%s\nsasl.mechanism.inter.broker.protocol=%s\n",
	    KCS_MECH, KCS_MECH);
}

static const char *lower(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] != 0 && i + 1 < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = 0;
	return buf;
}

void kcs_broker_props(const char *dir, const struct kp_props *state,
		      char (*names)[64], int n, char *buf, size_t size, int *off)
{
	char l[64];

	common_props(dir, state, buf, size, off);
	ADD("listener.security.protocol.map=");
	for (int i = 0; i < n; i++)
		ADD("%s%s:SASL_SSL", i > 0 ? "," : "", names[i]);
	ADD("\ninter.broker.listener.name=%s\n", names[0]);
	for (int i = 0; i < n; i++)
		ADD("listener.name.%s.scram-sha-512.sasl.jaas.config="
		    "org.apache.kafka.common.security.scram.ScramLoginModule required "
		    "username=\"broker\" password=\"%s\";\n", lower(names[i], l, sizeof(l)),
		    pw_of(state, "broker"));
}

void kcs_controller_props(const char *dir, const struct kp_props *state,
			  const char *listener, char *buf, size_t size, int *off)
{
	char l[64];

	common_props(dir, state, buf, size, off);
	/* its own listener SASL_SSL, and the brokers' listener by name */
	ADD("listener.security.protocol.map=SASL_SSL:SASL_SSL");
	if (strcmp(listener, "SASL_SSL") != 0)
		ADD(",%s:SASL_SSL", listener);
	ADD("\ninter.broker.listener.name=%s\n", listener);
	ADD("sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
	    "required username=\"controller\" password=\"%s\";\n", pw_of(state, "controller"));
	ADD("listener.name.%s.scram-sha-512.sasl.jaas.config="
	    "org.apache.kafka.common.security.scram.ScramLoginModule required "
	    "username=\"controller\" password=\"%s\";\n", lower(listener, l, sizeof(l)),
	    pw_of(state, "controller"));
}

int kcs_scram_users(struct kp_zk *zk, const struct kp_props *state, char *err,
		    size_t errlen)
{
	int rc = kp_zk_ensure_path(zk, "/config/users");

	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "creating /config/users: %s", kp_zk_strerror(rc));
		return -1;
	}
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		const char *pw = pw_of(state, users[i]);
		struct kp_zk_entity_config c = { 0 };
		struct kp_scram_cred cred;
		uint8_t salt[32], salted[KP_SCRAM_MAX_HASH];
		char text[512], path[64], *json;

		if (kp_scram_random(salt, sizeof(salt)) < 0 ||
		    kp_scram_salt_password(KP_SCRAM_SHA_512, pw, strlen(pw), salt, sizeof(salt),
					   ITERATIONS, salted) < 0 ||
		    kp_scram_cred_from_salted(KP_SCRAM_SHA_512, salted,
					      kp_scram_hash_len(KP_SCRAM_SHA_512), salt,
					      sizeof(salt), ITERATIONS, &cred) < 0 ||
		    kp_scram_cred_format(&cred, text, sizeof(text)) < 0 ||
		    kp_zk_config_set(&c, KCS_MECH, text) < 0 ||
		    (json = kp_zk_config_encode(&c)) == NULL) {
			kp_zk_config_free(&c);
			snprintf(err, errlen, "cannot make %s's SCRAM credential", users[i]);
			return -1;
		}
		kp_zk_config_free(&c);
		snprintf(path, sizeof(path), "/config/users/%s", users[i]);
		rc = kp_zk_create_sync(zk, path, json, (int32_t)strlen(json),
				       KP_ZK_PERSISTENT, NULL);
		if (rc == KP_ZK_NODEEXISTS)
			rc = kp_zk_set_sync(zk, path, json, (int32_t)strlen(json), -1, NULL);
		free(json);
		if (rc != KP_ZK_OK) {
			snprintf(err, errlen, "writing %s: %s", path, kp_zk_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int kcs_client_props(const char *dir, const struct kp_props *state,
		     const char *bootstrap, char *path, size_t pathlen, char *err,
		     size_t errlen)
{
	char text[2048];

	snprintf(path, pathlen, "%s/client.properties", dir);
	snprintf(text, sizeof(text),
		 "# written by kcluster up --security sasl_ssl: the admin user\n"
		 "bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\n"
		 "sasl.mechanism=%s\nsasl.username=admin\nsasl.password=%s\n"
		 "ssl.ca.location=%s/tls/ca.pem\n", bootstrap, KCS_MECH,
		 pw_of(state, "admin"), dir);
	return write_text(path, text, err, errlen);
}
