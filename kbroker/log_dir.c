/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_dir.c - a log directory; see log_dir.h.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_config.h"
#include "kp_log.h"
#include "log_dir.h"

#define CLEAN_MARKER ".kafka_cleanshutdown"
#define LOCK_FILE ".lock"

static int join(char *buf, size_t n, const char *dir, const char *name)
{
	int len = snprintf(buf, n, "%s/%s", dir, name);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static void read_cp(struct log_dir *ld, const char *name,
		    struct log_checkpoint *cp)
{
	char p[PATH_MAX];
	int rc;

	join(p, sizeof(p), ld->path, name);
	rc = log_checkpoint_read(p, cp);
	if (rc < 0 && rc != -ENOENT) {
		KP_WARN("%s: %s; ignoring it (logs recover from their data)", p,
			rc == -EINVAL ? "malformed" : strerror(-rc));
		if (cp == &ld->recovery)
			ld->clean = false;
	}
}

int log_dir_open(const char *path, struct log_dir **out)
{
	struct log_dir *ld = calloc(1, sizeof(*ld));
	char p[PATH_MAX];
	int rc;

	if (ld == NULL)
		return -ENOMEM;
	ld->lock_fd = -1;
	ld->path = strdup(path);
	if (ld->path == NULL) {
		free(ld);
		return -ENOMEM;
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		KP_ERROR("log dir %s: %s", path, strerror(errno));
		goto fail;
	}
	join(p, sizeof(p), path, LOCK_FILE);
	ld->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ld->lock_fd < 0) {
		rc = -errno;
		KP_ERROR("log dir %s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(ld->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		KP_ERROR("log dir %s is in use by another process (%s is locked)",
			 path, p);
		goto fail;
	}
	join(p, sizeof(p), path, CLEAN_MARKER);
	ld->clean = access(p, F_OK) == 0;
	if (ld->clean && unlink(p) < 0) {
		rc = -errno;
		goto fail;
	}
	log_fsync_dir(path);
	read_cp(ld, "recovery-point-offset-checkpoint", &ld->recovery);
	read_cp(ld, "log-start-offset-checkpoint", &ld->starts);
	read_cp(ld, "replication-offset-checkpoint", &ld->hw);
	read_cp(ld, "cleaner-offset-checkpoint", &ld->cleaned);
	*out = ld;
	return 0;
fail:
	log_dir_close(ld, false);
	return rc;
}

struct log *log_dir_find(const struct log_dir *ld, const char *topic,
			 int32_t partition)
{
	for (int i = 0; i < ld->nlogs; i++)
		if (ld->logs[i]->partition == partition &&
		    strcmp(ld->logs[i]->topic, topic) == 0)
			return ld->logs[i];
	return NULL;
}

struct log_dir *log_dir_holding(struct log_dir *const *dirs, int n,
				const struct log *log)
{
	for (int d = 0; d < n; d++)
		for (int i = 0; i < dirs[d]->nlogs; i++)
			if (dirs[d]->logs[i] == log)
				return dirs[d];
	return NULL;
}

static int push_log(struct log_dir *ld, struct log *log)
{
	if (ld->nlogs == ld->caplogs) {
		int ncap = ld->caplogs ? ld->caplogs * 2 : 64;
		struct log **nl = realloc(ld->logs, (size_t)ncap * sizeof(*nl));

		if (nl == NULL)
			return -ENOMEM;
		ld->logs = nl;
		ld->caplogs = ncap;
	}
	ld->logs[ld->nlogs++] = log;
	return 0;
}

void log_dir_fail(struct log_dir *ld)
{
	if (atomic_exchange(&ld->offline, true))
		return;
	KP_ERROR("log dir %s is offline after a storage error: its partitions "
		 "answer KAFKA_STORAGE_ERROR until the broker restarts", ld->path);
	if (ld->on_offline != NULL)
		ld->on_offline(ld, ld->on_offline_arg);
}

static void dir_failed(void *arg)
{
	log_dir_fail(arg);
}

int log_dir_open_log(struct log_dir *ld, const char *name, const char *topic,
		     int32_t partition, const struct log_config *cfg,
		     int64_t recovery_point, int64_t start_offset, bool clean,
		     struct log **out)
{
	char p[PATH_MAX];
	int rc = join(p, sizeof(p), ld->path, name);

	if (rc < 0)
		return rc;
	rc = log_open(p, topic, partition, cfg, recovery_point, start_offset,
		      clean, out);
	if (rc == 0) {
		(*out)->dir_offline = &ld->offline;
		(*out)->dir_failed = dir_failed;
		(*out)->dir_failed_arg = ld;
	}
	return rc;
}

static int open_one(struct log_dir *ld, const char *topic, int32_t partition,
		    const struct log_config *cfg, struct log **out)
{
	char name[300];
	int rc = log_dir_name(name, sizeof(name), topic, partition);

	if (rc < 0)
		return rc;
	rc = log_dir_open_log(ld, name, topic, partition, cfg,
			      log_checkpoint_get(&ld->recovery, topic, partition, -1),
			      log_checkpoint_get(&ld->starts, topic, partition, -1),
			      ld->clean, out);
	if (rc == 0)
		(*out)->first_dirty = log_checkpoint_get(&ld->cleaned, topic,
							 partition, 0);
	return rc;
}

int log_dir_adopt(struct log_dir *ld, struct log *log)
{
	return push_log(ld, log);
}

void log_dir_forget(struct log_dir *ld, struct log *log)
{
	for (int i = 0; i < ld->nlogs; i++) {
		if (ld->logs[i] != log)
			continue;
		ld->logs[i] = ld->logs[--ld->nlogs];
		log_checkpoint_remove(&ld->recovery, log->topic, log->partition);
		log_checkpoint_remove(&ld->starts, log->topic, log->partition);
		log_checkpoint_remove(&ld->hw, log->topic, log->partition);
		ld->hw_on_disk = false;
		log_checkpoint_remove(&ld->cleaned, log->topic, log->partition);
		return;
	}
}

void log_dir_random_hex(char hex[33])
{
	unsigned char rnd[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
}

int log_dir_add(struct log_dir *ld, const char *topic, int32_t partition,
		const struct log_config *cfg, struct log **out)
{
	struct log *log = log_dir_find(ld, topic, partition);
	int rc;

	if (log != NULL) {
		*out = log;
		return 0;
	}
	rc = open_one(ld, topic, partition, cfg, &log);
	if (rc < 0)
		return rc;
	rc = push_log(ld, log);
	if (rc < 0) {
		log_close(log, false);
		return rc;
	}
	*out = log;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void log_dir_remove_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		KP_WARN("removing %s: %s", path, strerror(errno));
}

/* ---- parallel loading ---- */

struct load_job {
	char topic[256];
	int32_t partition;
	struct log_config cfg;
	struct log *log;
	int rc;
};

struct load_ctx {
	struct log_dir *ld;
	struct load_job *jobs;
	int njobs;
	atomic_int next;
};

static void *load_worker(void *arg)
{
	struct load_ctx *c = arg;
	int i;

	while ((i = atomic_fetch_add(&c->next, 1)) < c->njobs) {
		struct load_job *j = &c->jobs[i];

		j->rc = open_one(c->ld, j->topic, j->partition, &j->cfg, &j->log);
	}
	return NULL;
}

static int job_cmp(const void *a, const void *b)
{
	const struct load_job *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return x->partition < y->partition ? -1 : x->partition > y->partition;
}

int log_dir_load(struct log_dir *ld, log_dir_config_fn cfg_fn, void *arg,
		 int threads)
{
	DIR *d = opendir(ld->path);
	struct dirent *de;
	struct load_ctx c = { .ld = ld };
	int cap = 0, rc = 0;
	pthread_t *th;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct load_job *j;
		char p[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		join(p, sizeof(p), ld->path, de->d_name);
		/* the entry's type when the file system gives it: one stat
		 * less per log (10,000 logs, 10,000 stats) */
		if (de->d_type != DT_DIR &&
		    (de->d_type != DT_UNKNOWN || stat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		if (strlen(de->d_name) > 7 &&
		    strcmp(de->d_name + strlen(de->d_name) - 7, "-delete") == 0) {
			KP_INFO("%s: finishing the deletion of %s", ld->path, de->d_name);
			log_dir_remove_tree(p);
			continue;
		}
		/* a replica moving here (AlterReplicaLogDirs): log_move.c
		 * resumes or finishes it once every dir is loaded */
		if (strlen(de->d_name) > 7 &&
		    strcmp(de->d_name + strlen(de->d_name) - 7, "-future") == 0)
			continue;
		if (c.njobs == cap) {
			struct load_job *nj;

			cap = cap ? cap * 2 : 64;
			nj = realloc(c.jobs, (size_t)cap * sizeof(*nj));
			if (nj == NULL) {
				rc = -ENOMEM;
				break;
			}
			c.jobs = nj;
		}
		j = &c.jobs[c.njobs];
		memset(j, 0, sizeof(*j));
		if (log_parse_dir_name(de->d_name, j->topic, sizeof(j->topic),
				       &j->partition) < 0 ||
		    log_dir_find(ld, j->topic, j->partition) != NULL) {
			KP_WARN("%s: ignoring %s (not <topic>-<partition>)",
				ld->path, de->d_name);
			continue;
		}
		c.njobs++;
	}
	closedir(d);
	/* by topic, partition: a topic's settings (from ZooKeeper, a round
	 * trip each) are asked for once, not once per partition */
	if (c.njobs > 1)
		qsort(c.jobs, (size_t)c.njobs, sizeof(*c.jobs), job_cmp);
	for (int i = 0; i < c.njobs; i++) {
		struct load_job *j = &c.jobs[i];

		if (i > 0 && strcmp(j[-1].topic, j->topic) == 0) {
			j->cfg = j[-1].cfg;
			continue;
		}
		log_config_defaults(&j->cfg);
		if (cfg_fn != NULL)
			cfg_fn(j->topic, &j->cfg, arg);
	}
	if (rc == 0 && c.njobs > 0) {
		if (threads < 1)
			threads = 1;
		if (threads > c.njobs)
			threads = c.njobs;
		th = calloc((size_t)threads, sizeof(*th));
		atomic_init(&c.next, 0);
		for (int i = 1; th != NULL && i < threads; i++)
			if (pthread_create(&th[i], NULL, load_worker, &c) != 0)
				th[i] = 0;
		load_worker(&c);	/* this thread works too */
		for (int i = 1; th != NULL && i < threads; i++)
			if (th[i])
				pthread_join(th[i], NULL);
		free(th);
	}
	for (int i = 0; i < c.njobs; i++) {
		struct load_job *j = &c.jobs[i];

		if (j->rc < 0) {
			KP_ERROR("%s: loading %s-%d: %s", ld->path, j->topic,
				 j->partition, strerror(-j->rc));
			if (rc == 0)
				rc = j->rc;
		} else if (rc == 0 && push_log(ld, j->log) == 0) {
			continue;
		} else {
			log_close(j->log, false);
		}
	}
	free(c.jobs);
	return rc;
}

int log_dir_delete_log(struct log_dir *ld, const char *topic,
		       int32_t partition)
{
	char name[300], from[PATH_MAX], to[PATH_MAX + 64];
	char hex[33];

	for (int i = 0; i < ld->nlogs; i++) {
		if (ld->logs[i]->partition != partition ||
		    strcmp(ld->logs[i]->topic, topic) != 0)
			continue;
		log_close(ld->logs[i], false);
		ld->logs[i] = ld->logs[--ld->nlogs];
		break;
	}
	log_checkpoint_remove(&ld->recovery, topic, partition);
	log_checkpoint_remove(&ld->starts, topic, partition);
	log_checkpoint_remove(&ld->hw, topic, partition);
	ld->hw_on_disk = false;
	log_checkpoint_remove(&ld->cleaned, topic, partition);
	log_dir_name(name, sizeof(name), topic, partition);
	join(from, sizeof(from), ld->path, name);
	/* Kafka's "<topic>-<partition>.<uuid>-delete" */
	log_dir_random_hex(hex);
	snprintf(to, sizeof(to), "%s.%s-delete", from, hex);
	if (rename(from, to) < 0)
		return errno == ENOENT ? 0 : -errno;
	log_fsync_dir(ld->path);
	log_dir_remove_tree(to);
	return 0;
}

int log_dir_checkpoint(struct log_dir *ld)
{
	struct log_checkpoint rp, so;
	char p[PATH_MAX];
	int rc = 0;

	if (log_dir_is_offline(ld))
		return -EIO;	/* nothing is written there any more */
	log_checkpoint_init(&rp);
	log_checkpoint_init(&so);
	for (int i = 0; i < ld->nlogs && rc == 0; i++) {
		struct log *log = ld->logs[i];

		rc = log_checkpoint_put(&rp, log->topic, log->partition,
					log->recovery_point);
		if (rc == 0 && log_start_offset(log) > log_first_base(log))
			rc = log_checkpoint_put(&so, log->topic, log->partition,
						log_start_offset(log));
	}
	if (rc == 0) {
		join(p, sizeof(p), ld->path, "recovery-point-offset-checkpoint");
		rc = log_checkpoint_write(p, &rp);
	}
	if (rc == 0) {
		join(p, sizeof(p), ld->path, "log-start-offset-checkpoint");
		rc = log_checkpoint_write(p, &so);
	}
	if (rc < 0)
		KP_ERROR("%s: writing checkpoints: %s", ld->path, strerror(-rc));
	log_checkpoint_free(&rp);
	log_checkpoint_free(&so);
	if (rc == 0)
		rc = log_dir_write_cleaned(ld);
	return rc;
}

int log_dir_write_cleaned(struct log_dir *ld)
{
	struct log_checkpoint cp;
	char p[PATH_MAX];
	int rc = 0;

	log_checkpoint_init(&cp);
	for (int i = 0; i < ld->nlogs && rc == 0; i++) {
		struct log *log = ld->logs[i];
		int64_t off = atomic_load(&log->first_dirty);

		if (off > 0)
			rc = log_checkpoint_put(&cp, log->topic, log->partition, off);
	}
	if (rc == 0) {
		join(p, sizeof(p), ld->path, "cleaner-offset-checkpoint");
		rc = log_checkpoint_write(p, &cp);
	}
	if (rc < 0)
		KP_ERROR("%s: writing cleaner-offset-checkpoint: %s", ld->path,
			 strerror(-rc));
	log_checkpoint_free(&cp);
	return rc;
}

int log_dir_write_hw(struct log_dir *ld, const struct log_checkpoint *hw)
{
	char p[PATH_MAX];

	join(p, sizeof(p), ld->path, "replication-offset-checkpoint");
	return log_checkpoint_write(p, hw);
}

int log_dir_read_meta(const struct log_dir *ld, int32_t *broker_id,
		      char *cluster_id, size_t n)
{
	struct kp_props props;
	char p[PATH_MAX];
	const char *v, *id;
	char *end;
	long bid;
	int rc;

	join(p, sizeof(p), ld->path, "meta.properties");
	if (access(p, F_OK) != 0)
		return -ENOENT;
	kp_props_init(&props);
	rc = kp_props_load(&props, p, NULL, 0);
	if (rc < 0) {
		kp_props_free(&props);
		return -EINVAL;
	}
	v = kp_props_get(&props, "version");
	id = kp_props_get(&props, "broker.id");
	rc = -EINVAL;
	if (v != NULL && strcmp(v, "0") == 0 && id != NULL) {
		errno = 0;
		bid = strtol(id, &end, 10);
		if (*end == 0 && errno == 0 && bid >= 0 && bid <= INT32_MAX) {
			*broker_id = (int32_t)bid;
			v = kp_props_get(&props, "cluster.id");
			snprintf(cluster_id, n, "%s", v != NULL ? v : "");
			rc = 0;
		}
	}
	kp_props_free(&props);
	return rc;
}

int log_dir_write_meta(const struct log_dir *ld, int32_t broker_id,
		       const char *cluster_id)
{
	char p[PATH_MAX], buf[512];
	int len;

	join(p, sizeof(p), ld->path, "meta.properties");
	len = snprintf(buf, sizeof(buf),
		       "#\n#Written by kbroker; do not edit while it runs\n"
		       "version=0\nbroker.id=%" PRId32 "\ncluster.id=%s\n",
		       broker_id, cluster_id);
	return log_write_file_atomic(p, buf, (size_t)len);
}

void log_dir_close(struct log_dir *ld, bool clean)
{
	char p[PATH_MAX];
	int rc = 0;
	bool epochs_failed = false;

	if (ld == NULL)
		return;
	/* an offline dir is not touched: the next start recovers it */
	if (clean && log_dir_is_offline(ld))
		clean = false;
	if (clean) {
		/* producer snapshots at the log ends (Kafka's Log.close),
		 * made durable by the sync below */
		for (int i = 0; i < ld->nlogs; i++) {
			rc = log_snapshot_producers(ld->logs[i]);
			if (rc < 0)
				KP_WARN("%s: producer snapshot: %s", ld->logs[i]->dir,
					strerror(-rc));
			/* and the epochs not written yet (log_epoch.h): one
			 * that fails leaves the dir to recovery */
			if (log_epoch_write(&ld->logs[i]->epochs) < 0)
				epochs_failed = true;
		}
		rc = epochs_failed ? -EIO : 0;
		/* flush, then the checkpoints say "all of it is on disk",
		 * then the marker says the checkpoints can be trusted.  One
		 * syncfs makes everything durable at once (10,000 logs
		 * flushed one by one took a minute); the logs' own flushes
		 * only if it fails. */
		if (syncfs(ld->lock_fd) == 0) {
			for (int i = 0; i < ld->nlogs; i++)
				log_mark_flushed(ld->logs[i]);
		} else {
			KP_WARN("%s: syncfs: %s; flushing log by log", ld->path,
				strerror(errno));
			for (int i = 0; i < ld->nlogs && rc == 0; i++)
				rc = log_flush(ld->logs[i], log_end_offset(ld->logs[i]));
		}
		if (rc == 0)
			rc = log_dir_checkpoint(ld);
	}
	for (int i = 0; i < ld->nlogs; i++)
		log_close(ld->logs[i], false);
	if (clean && rc == 0) {
		join(p, sizeof(p), ld->path, CLEAN_MARKER);
		rc = log_write_file_atomic(p, "", 0);
		if (rc < 0)
			KP_ERROR("%s: %s", p, strerror(-rc));
	}
	free(ld->logs);
	log_checkpoint_free(&ld->recovery);
	log_checkpoint_free(&ld->starts);
	log_checkpoint_free(&ld->hw);
	log_checkpoint_free(&ld->cleaned);
	if (ld->lock_fd >= 0)
		close(ld->lock_fd);
	free(ld->path);
	free(ld);
}
