/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_pidsnap.h - Kafka's producer state snapshot files
 * (`<20-digit offset>.snapshot` beside a partition's segments, Kafka 2.8's
 * ProducerStateManager format): int16 version (1), uint32 CRC-32C of
 * everything after it, int32 count, then per producer: int64 producer
 * id, int16 epoch, int32 last sequence, int64 last offset, int32 offset
 * delta, int64 timestamp, int32 coordinator epoch, int64 first offset of
 * its open transaction (-1: none), all big-endian.  The broker writes and
 * reads them, kdump-log prints them.
 */
#ifndef KP_PIDSNAP_H
#define KP_PIDSNAP_H

#include <stddef.h>
#include <stdint.h>

#define KP_PIDSNAP_VERSION 1
#define KP_PIDSNAP_HEADER 10		/* version, crc, count */
#define KP_PIDSNAP_ENTRY 46

struct kp_pidsnap_entry {
	int64_t pid;
	int16_t epoch;
	int32_t last_seq;
	int64_t last_offset;		/* -1: no data batch */
	int32_t offset_delta;
	int64_t timestamp;
	int32_t coord_epoch;
	int64_t txn_first_offset;
};

/* Bytes of a snapshot of n entries. */
static inline size_t kp_pidsnap_size(size_t n)
{
	return KP_PIDSNAP_HEADER + n * KP_PIDSNAP_ENTRY;
}
/* Write the header for n entries (its CRC is set by kp_pidsnap_seal). */
void kp_pidsnap_begin(uint8_t *buf, uint32_t n);
/* Write entry i of a snapshot begun in buf. */
void kp_pidsnap_put(uint8_t *buf, uint32_t i, const struct kp_pidsnap_entry *e);
/* Set the CRC over the len bytes of a whole snapshot. */
void kp_pidsnap_seal(uint8_t *buf, size_t len);
/*
 * Check and walk a snapshot: each entry goes to fn (non-zero stops).  0,
 * or -EBADMSG with the reason in err (short, unknown version, CRC
 * mismatch, a count that does not fit the length).  Bounds-checked.
 */
int kp_pidsnap_decode(const uint8_t *buf, size_t len,
		      int (*fn)(void *arg, const struct kp_pidsnap_entry *e),
		      void *arg, char *err, size_t errlen);

#endif /* KP_PIDSNAP_H */
