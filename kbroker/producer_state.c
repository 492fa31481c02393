/* SPDX-License-Identifier: Apache-2.0 */
/*
 * producer_state.c - one partition's idempotent-producer state and its
 * snapshot files (see producer_state.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_log.h"
#include "kp_pidsnap.h"
#include "log_checkpoint.h"
#include "producer_state.h"

int32_t pstate_seq_add(int32_t seq, int32_t delta)
{
	if (seq > INT32_MAX - delta)
		return delta - (INT32_MAX - seq) - 1;
	return seq + delta;
}

int32_t pstate_seq_sub(int32_t seq, int32_t delta)
{
	if (seq < delta)
		return INT32_MAX - (delta - seq) + 1;
	return seq - delta;
}

void pstate_init(struct pstate *ps)
{
	memset(ps, 0, sizeof(*ps));
}

void pstate_clear(struct pstate *ps)
{
	for (size_t i = 0; i < ps->nbuckets; i++) {
		struct pstate_entry *e = ps->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		ps->buckets[i] = NULL;
	}
	ps->count = 0;
	ps->ongoing = 0;
	ps->nunrepl = 0;
}

void pstate_free(struct pstate *ps)
{
	pstate_clear(ps);
	free(ps->buckets);
	free(ps->unrepl);
	pstate_init(ps);
}

static size_t slot(int64_t pid, size_t n)
{
	uint64_t h = (uint64_t)pid * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (n - 1);
}

struct pstate_entry *pstate_find(const struct pstate *ps, int64_t pid)
{
	if (ps->nbuckets == 0)
		return NULL;
	for (struct pstate_entry *e = ps->buckets[slot(pid, ps->nbuckets)]; e != NULL;
	     e = e->next)
		if (e->pid == pid)
			return e;
	return NULL;
}

static int grow(struct pstate *ps)
{
	size_t n = ps->nbuckets ? ps->nbuckets * 2 : 16;
	struct pstate_entry **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ps->nbuckets; i++) {
		struct pstate_entry *e = ps->buckets[i], *next;

		for (; e != NULL; e = next) {
			size_t s = slot(e->pid, n);

			next = e->next;
			e->next = nb[s];
			nb[s] = e;
		}
	}
	free(ps->buckets);
	ps->buckets = nb;
	ps->nbuckets = n;
	return 0;
}

static struct pstate_entry *add_entry(struct pstate *ps, int64_t pid)
{
	struct pstate_entry *e;
	size_t s;

	if (ps->count >= ps->nbuckets && grow(ps) < 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->pid = pid;
	e->epoch = -1;
	e->coord_epoch = -1;
	e->last_ts = -1;
	e->txn_first_offset = -1;
	s = slot(pid, ps->nbuckets);
	e->next = ps->buckets[s];
	ps->buckets[s] = e;
	ps->count++;
	return e;
}

static void add_batch(struct pstate_entry *e, const struct pstate_batch *b)
{
	if (e->nb == PSTATE_BATCHES) {
		e->head = (e->head + 1) % PSTATE_BATCHES;
		e->nb--;
	}
	e->b[(e->head + e->nb) % PSTATE_BATCHES] = *b;
	e->nb++;
}

kp_err_t pstate_check(const struct pstate *ps, int64_t pid, int16_t epoch,
		      int32_t first_seq, int32_t last_seq, bool *is_dup,
		      struct pstate_dup *dup)
{
	const struct pstate_entry *e = pstate_find(ps, pid);
	int16_t cur_epoch = e != NULL ? e->epoch : -1;

	*is_dup = false;
	if (e == NULL)
		return KP_ERR_NONE;	/* any sequence: as 2.8 */
	/* findDuplicateBatch: same epoch, the exact sequence range */
	if (epoch == e->epoch) {
		for (int i = 0; i < e->nb; i++) {
			const struct pstate_batch *b = &e->b[(e->head + i) % PSTATE_BATCHES];

			if (b->last_seq == last_seq &&
			    pstate_seq_sub(b->last_seq, b->offset_delta) == first_seq) {
				*is_dup = true;
				dup->first_offset = b->last_offset - b->offset_delta;
				dup->last_offset = b->last_offset;
				dup->timestamp = b->timestamp;
				return KP_ERR_NONE;
			}
		}
	}
	/* checkProducerEpoch */
	if (epoch < cur_epoch)
		return KP_ERR_INVALID_PRODUCER_EPOCH;
	/* checkSequence */
	if (epoch != cur_epoch) {
		if (first_seq != 0 && cur_epoch != -1)
			return KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
		return KP_ERR_NONE;
	}
	if (cur_epoch == -1)
		return KP_ERR_NONE;
	{
		int32_t last = pstate_last_seq(e);

		if ((int64_t)first_seq == (int64_t)last + 1 ||
		    (first_seq == 0 && last == INT32_MAX))
			return KP_ERR_NONE;
	}
	return KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

int pstate_update(struct pstate *ps, int64_t pid, int16_t epoch,
		  int32_t first_seq, int64_t first_offset, int64_t last_offset,
		  int64_t timestamp)
{
	struct pstate_entry *e = pstate_find(ps, pid);
	struct pstate_batch b;
	int32_t delta = (int32_t)(last_offset - first_offset);

	if (e == NULL && (e = add_entry(ps, pid)) == NULL)
		return -ENOMEM;
	if (epoch < e->epoch)
		KP_DEBUG("producer %" PRId64 ": epoch %d below %d at offset %" PRId64
			 " (replicated)", pid, epoch, e->epoch, first_offset);
	if (epoch != e->epoch) {
		e->nb = 0;
		e->head = 0;
		e->epoch = epoch;
	}
	b.last_seq = pstate_seq_add(first_seq, delta);
	b.last_offset = last_offset;
	b.offset_delta = delta;
	b.timestamp = timestamp;
	add_batch(e, &b);
	e->last_ts = timestamp;
	return 0;
}

kp_err_t pstate_check_txn(const struct pstate *ps, int64_t pid, bool transactional)
{
	const struct pstate_entry *e = pstate_find(ps, pid);

	if (e != NULL && e->txn_first_offset >= 0 && !transactional)
		return KP_ERR_INVALID_TXN_STATE;
	return KP_ERR_NONE;
}

int pstate_begin_txn(struct pstate *ps, int64_t pid, int64_t first_offset)
{
	struct pstate_entry *e = pstate_find(ps, pid);

	if (e == NULL && (e = add_entry(ps, pid)) == NULL)
		return -ENOMEM;
	if (e->txn_first_offset < 0) {
		e->txn_first_offset = first_offset;
		ps->ongoing++;
	}
	return 0;
}

kp_err_t pstate_check_marker(const struct pstate *ps, int64_t pid, int16_t epoch,
			     int32_t coord_epoch)
{
	const struct pstate_entry *e = pstate_find(ps, pid);

	if (e == NULL)
		return KP_ERR_NONE;
	if (epoch < e->epoch)
		return KP_ERR_INVALID_PRODUCER_EPOCH;
	if (e->coord_epoch > coord_epoch)
		return KP_ERR_TRANSACTION_COORDINATOR_FENCED;
	return KP_ERR_NONE;
}

int pstate_end_txn(struct pstate *ps, int64_t pid, int16_t epoch,
		   int32_t coord_epoch, int64_t offset, int64_t timestamp,
		   bool abort, struct pstate_txn *done)
{
	struct pstate_entry *e = pstate_find(ps, pid);
	int rc = 0;

	if (e == NULL && (e = add_entry(ps, pid)) == NULL)
		return -ENOMEM;
	if (e->txn_first_offset >= 0) {
		struct pstate_txn t = { pid, e->txn_first_offset, offset, abort };

		if (ps->nunrepl == ps->capunrepl) {
			size_t n = ps->capunrepl ? ps->capunrepl * 2 : 8;
			struct pstate_txn *nv = realloc(ps->unrepl, n * sizeof(*nv));

			if (nv == NULL)
				return -ENOMEM;
			ps->unrepl = nv;
			ps->capunrepl = n;
		}
		ps->unrepl[ps->nunrepl++] = t;
		*done = t;
		e->txn_first_offset = -1;
		ps->ongoing--;
		rc = 1;
	}
	/* maybeUpdateProducerEpoch: a new epoch forgets the batches */
	if (epoch != e->epoch) {
		if (epoch < e->epoch)
			KP_DEBUG("producer %" PRId64 ": marker epoch %d below %d at "
				 "offset %" PRId64 " (replicated)", pid, epoch,
				 e->epoch, offset);
		else {
			e->nb = 0;
			e->head = 0;
			e->epoch = epoch;
		}
	}
	e->coord_epoch = coord_epoch;
	e->last_ts = timestamp;
	return rc;
}

int64_t pstate_abort_lso(const struct pstate *ps, int64_t pid, int64_t offset)
{
	int64_t best = INT64_MAX;

	for (size_t i = 0; ps->ongoing > 0 && i < ps->nbuckets; i++)
		for (const struct pstate_entry *e = ps->buckets[i]; e != NULL; e = e->next)
			if (e->pid != pid && e->txn_first_offset >= 0 &&
			    e->txn_first_offset < best)
				best = e->txn_first_offset;
	return best != INT64_MAX ? best : offset + 1;
}

void pstate_hw_moved(struct pstate *ps, int64_t hw)
{
	size_t k = 0;

	for (size_t i = 0; i < ps->nunrepl; i++)
		if (ps->unrepl[i].last >= hw)
			ps->unrepl[k++] = ps->unrepl[i];
	ps->nunrepl = k;
}

int64_t pstate_first_unstable(const struct pstate *ps)
{
	int64_t best = INT64_MAX;

	for (size_t i = 0; i < ps->nunrepl; i++)
		if (ps->unrepl[i].first < best)
			best = ps->unrepl[i].first;
	for (size_t i = 0; ps->ongoing > 0 && i < ps->nbuckets; i++)
		for (const struct pstate_entry *e = ps->buckets[i]; e != NULL; e = e->next)
			if (e->txn_first_offset >= 0 && e->txn_first_offset < best)
				best = e->txn_first_offset;
	return best;
}

size_t pstate_expire(struct pstate *ps, int64_t now_ms, int64_t max_age_ms)
{
	size_t gone = 0;

	for (size_t i = 0; i < ps->nbuckets; i++) {
		struct pstate_entry **pp = &ps->buckets[i];

		while (*pp != NULL) {
			struct pstate_entry *e = *pp;

			if (e->txn_first_offset < 0 && now_ms - e->last_ts >= max_age_ms) {
				*pp = e->next;
				free(e);
				ps->count--;
				gone++;
			} else {
				pp = &e->next;
			}
		}
	}
	return gone;
}

/* ------------------------------------------------------------ snapshots */

int pstate_snapshot_encode(const struct pstate *ps, uint8_t **out, size_t *len)
{
	size_t n = kp_pidsnap_size(ps->count);
	uint8_t *buf = malloc(n);
	uint32_t k = 0;

	if (buf == NULL)
		return -ENOMEM;
	kp_pidsnap_begin(buf, (uint32_t)ps->count);
	for (size_t i = 0; i < ps->nbuckets; i++) {
		for (const struct pstate_entry *e = ps->buckets[i]; e != NULL; e = e->next) {
			const struct pstate_batch *last =
				e->nb ? &e->b[(e->head + e->nb - 1) % PSTATE_BATCHES] : NULL;
			struct kp_pidsnap_entry se = {
				.pid = e->pid,
				.epoch = e->epoch,
				.last_seq = last ? last->last_seq : -1,
				.last_offset = last ? last->last_offset : -1,
				.offset_delta = last ? last->offset_delta : 0,
				.timestamp = e->last_ts,
				.coord_epoch = e->coord_epoch,
				.txn_first_offset = e->txn_first_offset,
			};

			kp_pidsnap_put(buf, k++, &se);
		}
	}
	kp_pidsnap_seal(buf, n);
	*out = buf;
	*len = n;
	return 0;
}

struct load_ctx {
	struct pstate *ps;
	int64_t now_ms, max_age_ms;
	int rc;
};

static int load_one(void *arg, const struct kp_pidsnap_entry *s)
{
	struct load_ctx *c = arg;
	struct pstate_entry *e;

	if (s->txn_first_offset < 0 && c->now_ms - s->timestamp >= c->max_age_ms)
		return 0;	/* expired */
	e = pstate_find(c->ps, s->pid);
	if (e == NULL && (e = add_entry(c->ps, s->pid)) == NULL) {
		c->rc = -ENOMEM;
		return 1;
	}
	e->epoch = s->epoch;
	e->coord_epoch = s->coord_epoch;
	e->last_ts = s->timestamp;
	if (e->txn_first_offset >= 0)
		c->ps->ongoing--;
	e->txn_first_offset = s->txn_first_offset;
	if (e->txn_first_offset >= 0)
		c->ps->ongoing++;
	e->nb = e->head = 0;
	if (s->last_offset >= 0) {
		struct pstate_batch b = { s->last_seq, s->last_offset, s->offset_delta,
					  s->timestamp };

		add_batch(e, &b);
	}
	return 0;
}

#define SNAPSHOT_MAX_BYTES (256 << 20)

int pstate_load_snapshot(struct pstate *ps, const char *path, int64_t now_ms,
			 int64_t max_age_ms, char *err, size_t errlen)
{
	struct load_ctx c = { ps, now_ms, max_age_ms, 0 };
	struct stat st;
	uint8_t *buf;
	ssize_t got;
	int fd, rc;

	pstate_clear(ps);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (st.st_size > SNAPSHOT_MAX_BYTES) {
		close(fd);
		snprintf(err, errlen, "snapshot of %lld bytes is too large",
			 (long long)st.st_size);
		return -EBADMSG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (got != st.st_size) {
		free(buf);
		snprintf(err, errlen, "short read");
		return -EIO;
	}
	rc = kp_pidsnap_decode(buf, (size_t)got, load_one, &c, err, errlen);
	free(buf);
	if (rc == 0)
		rc = c.rc;
	if (rc < 0)
		pstate_clear(ps);
	return rc;
}

void pstate_snapshot_path(char *buf, size_t n, const char *dir, int64_t offset)
{
	snprintf(buf, n, "%s/%020" PRId64 ".snapshot", dir, offset);
}

int pstate_take_snapshot(struct pstate *ps, const char *dir, bool sync)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int rc;

	if (ps->map_end <= ps->last_snap)
		return 0;
	rc = pstate_snapshot_encode(ps, &buf, &len);
	if (rc < 0)
		return rc;
	pstate_snapshot_path(path, sizeof(path), dir, ps->map_end);
	rc = log_write_file_replace(path, buf, len, sync);
	free(buf);
	if (rc < 0)
		return rc;
	ps->last_snap = ps->map_end;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int pstate_list_snapshots(const char *dir, int64_t **offsets, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t *v = NULL;
	int cnt = 0, cap = 0;

	*offsets = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t l = strlen(name);
		char *end;
		long long off;

		if (l != 20 + 9 || strcmp(name + 20, ".snapshot") != 0)
			continue;
		errno = 0;
		off = strtoll(name, &end, 10);
		if (errno != 0 || end != name + 20 || off < 0)
			continue;
		if (cnt == cap) {
			int64_t *nv;

			cap = cap ? cap * 2 : 8;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = off;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, (size_t)cnt, sizeof(*v), cmp_i64);
	*offsets = v;
	*n = cnt;
	return 0;
}
