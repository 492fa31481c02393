/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_assign.c - replica placement; see kp_assign.h (Kafka 2.8's
 * AdminUtils.assignReplicasToBrokers).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_assign.h"
#include "kp_errors.h"

static int cmp_id(const void *a, const void *b)
{
	const struct kp_assign_broker *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_rack_id(const void *a, const void *b)
{
	const struct kp_assign_broker *x = a, *y = b;
	int c = strcmp(x->rack, y->rack);

	return c != 0 ? c : cmp_id(a, b);
}

static int replica_index(int first, int shift, int j, int n)
{
	return (first + 1 + (shift + j) % (n - 1)) % n;
}

static bool rack_seen(const char *const *racks, int n, const char *rack)
{
	for (int i = 0; i < n; i++)
		if (strcmp(racks[i], rack) == 0)
			return true;
	return false;
}

static bool id_seen(const int32_t *ids, int n, int32_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * Kafka's rack-alternated order: racks by name, brokers of a rack by id,
 * one from each rack in turn.  sorted is by (rack, id); out gets the order.
 * Returns the number of racks.
 */
static int interleave(const struct kp_assign_broker *sorted, int n,
		      struct kp_assign_broker *out, int *starts, int *next)
{
	int nracks = 0, placed = 0;

	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(sorted[i].rack, sorted[i - 1].rack) != 0)
			starts[nracks++] = i;
	for (int r = 0; r < nracks; r++)
		next[r] = starts[r];
	while (placed < n)
		for (int r = 0; r < nracks; r++) {
			int end = r + 1 < nracks ? starts[r + 1] : n;

			if (next[r] < end)
				out[placed++] = sorted[next[r]++];
		}
	return nracks;
}

int kp_assign_replicas(const struct kp_assign_broker *brokers, int nbrokers,
		       int32_t nparts, int32_t rf, int fixed_start,
		       int32_t start_partition, int32_t *out, char *err,
		       size_t errlen)
{
	struct kp_assign_broker *list;
	const char **racks;
	int *scratch;
	int n = nbrokers, nracked = 0, nracks = 0, start, shift;
	int32_t pid;

	if (nparts <= 0) {
		snprintf(err, errlen, "Number of partitions must be larger than 0.");
		return -KP_ERR_INVALID_PARTITIONS;
	}
	if (rf <= 0) {
		snprintf(err, errlen, "Replication factor must be larger than 0.");
		return -KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (rf > n) {
		snprintf(err, errlen, "Replication factor: %d larger than available "
			 "brokers: %d.", rf, n);
		return -KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	for (int i = 0; i < n; i++)
		nracked += brokers[i].rack != NULL;
	if (nracked != 0 && nracked != n) {
		snprintf(err, errlen, "Not all brokers have rack information for "
			 "replica rack aware assignment.");
		return -KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	list = malloc(sizeof(*list) * (size_t)n * 2);
	scratch = malloc(sizeof(*scratch) * (size_t)n * 2);
	racks = malloc(sizeof(*racks) * (size_t)rf);
	if (list == NULL || scratch == NULL || racks == NULL) {
		free(list);
		free(scratch);
		free(racks);
		snprintf(err, errlen, "out of memory");
		return -KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	memcpy(list, brokers, sizeof(*list) * (size_t)n);
	if (nracked == 0) {
		qsort(list, (size_t)n, sizeof(*list), cmp_id);
	} else {
		qsort(list, (size_t)n, sizeof(*list), cmp_rack_id);
		nracks = interleave(list, n, list + n, scratch, scratch + n);
		memmove(list, list + n, sizeof(*list) * (size_t)n);
	}
	start = fixed_start >= 0 ? fixed_start : rand() % n;
	shift = fixed_start >= 0 ? fixed_start : rand() % n;
	pid = start_partition > 0 ? start_partition : 0;
	for (int32_t i = 0; i < nparts; i++, pid++) {
		int32_t *reps = out + (size_t)i * (size_t)rf;
		int first, k = 0;

		if (pid > 0 && pid % n == 0)
			shift++;
		first = (int)((pid + start) % n);
		reps[0] = list[first].id;
		racks[0] = list[first].rack;
		for (int j = 1; j < rf; j++) {
			if (nracked == 0) {
				reps[j] = list[replica_index(first, shift, j - 1, n)].id;
				continue;
			}
			for (;; k++) {
				const struct kp_assign_broker *c =
					&list[replica_index(first, shift * nracks, k, n)];
				int nr = 0;

				for (int x = 0; x < j; x++)
					nr += !rack_seen(racks, x, racks[x]);
				if ((!rack_seen(racks, j, c->rack) || nr == nracks) &&
				    (!id_seen(reps, j, c->id) || j == n)) {
					reps[j] = c->id;
					racks[j] = c->rack;
					k++;
					break;
				}
			}
		}
	}
	free(list);
	free(scratch);
	free(racks);
	return 0;
}

int kp_assign_more(const struct kp_assign_broker *brokers, int nbrokers,
		   int32_t first_preferred, int32_t current, int32_t add,
		   int32_t rf, int32_t *out, char *err, size_t errlen)
{
	int start = 0;

	/* Kafka: the index, in id order, of the first broker whose id is at
	 * least partition 0's preferred replica (0 when there is none) */
	for (int i = 0; i < nbrokers; i++)
		start += brokers[i].id < first_preferred;
	if (start >= nbrokers)
		start = 0;
	return kp_assign_replicas(brokers, nbrokers, add, rf, start, current, out,
				  err, errlen);
}
