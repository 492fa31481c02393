/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_records.c - record-batch validation and decode throughput, and
 * CRC-32C speed (hardware vs portable), on one core.
 *
 * Prints one line per measurement: what, size, GB/s (and records/s).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_crc32c.h"
#include "kp_records.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_crc(void)
{
	size_t len = 1 << 20;
	uint8_t *buf = malloc(len);
	uint32_t sink = 0;
	double t0, t;
	int i, rounds = 2000;

	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(k * 131);
	t0 = now();
	for (i = 0; i < rounds; i++)
		sink ^= kp_crc32c(0, buf, len);
	t = now() - t0;
	printf("crc32c %s: %.2f GB/s\n",
	       kp_crc32c_hw_available() ? "hardware" : "portable(no sse4.2)",
	       (double)len * rounds / t / 1e9);
	rounds = 200;
	t0 = now();
	for (i = 0; i < rounds; i++)
		sink ^= kp_crc32c_sw(0, buf, len);
	t = now() - t0;
	printf("crc32c portable: %.2f GB/s (checksum %08x)\n",
	       (double)len * rounds / t / 1e9, sink);
	free(buf);
}

static void bench_batches(size_t value_size, int32_t nrec)
{
	struct kp_record_in *recs = calloc((size_t)nrec, sizeof(*recs));
	uint8_t *value = malloc(value_size);
	struct kp_batch_params p;
	struct kp_wbuf b, scratch;
	struct kp_batch_info info;
	double t0, t, bytes = 0, records = 0;
	int32_t i;

	memset(value, 'v', value_size);
	for (i = 0; i < nrec; i++) {
		recs[i].key = KP_BYTES_NULL;
		recs[i].value = (kp_bytes){ value, (int32_t)value_size };
		recs[i].timestamp = 1600000000000LL + i;
	}
	kp_wbuf_init(&b);
	kp_wbuf_init(&scratch);
	kp_batch_params_init(&p);
	kp_batch_build(&b, &p, recs, nrec);
	t0 = now();
	do {
		for (i = 0; i < 50; i++) {
			if (kp_batch_validate(b.data, b.len, &scratch, 1 << 26, &info) != 0) {
				fprintf(stderr, "validation failed\n");
				exit(1);
			}
			bytes += (double)b.len;
			records += info.records;
		}
		t = now() - t0;
	} while (t < 2.0);
	printf("validate+decode %zu B records, %zu KB batches: %.2f GB/s, %.1f M records/s\n",
	       value_size, b.len / 1024, bytes / t / 1e9, records / t / 1e6);
	kp_wbuf_free(&b);
	kp_wbuf_free(&scratch);
	free(recs);
	free(value);
}

int main(void)
{
	bench_crc();
	bench_batches(1000, 16);
	bench_batches(1000, 1000);
	bench_batches(100, 160);
	bench_batches(100, 10000);
	return 0;
}
