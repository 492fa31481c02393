/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_pidsnap.c - producer state snapshot files; see kp_pidsnap.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "kp_crc32c.h"
#include "kp_pidsnap.h"

static uint8_t *put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void kp_pidsnap_begin(uint8_t *buf, uint32_t n)
{
	put(buf, KP_PIDSNAP_VERSION, 2);
	put(buf + 2, 0, 4);
	put(buf + 6, n, 4);
}

void kp_pidsnap_put(uint8_t *buf, uint32_t i, const struct kp_pidsnap_entry *e)
{
	uint8_t *p = buf + KP_PIDSNAP_HEADER + (size_t)i * KP_PIDSNAP_ENTRY;

	p = put(p, (uint64_t)e->pid, 8);
	p = put(p, (uint16_t)e->epoch, 2);
	p = put(p, (uint32_t)e->last_seq, 4);
	p = put(p, (uint64_t)e->last_offset, 8);
	p = put(p, (uint32_t)e->offset_delta, 4);
	p = put(p, (uint64_t)e->timestamp, 8);
	p = put(p, (uint32_t)e->coord_epoch, 4);
	put(p, (uint64_t)e->txn_first_offset, 8);
}

void kp_pidsnap_seal(uint8_t *buf, size_t len)
{
	put(buf + 2, kp_crc32c(0, buf + 6, len - 6), 4);
}

int kp_pidsnap_decode(const uint8_t *buf, size_t len,
		      int (*fn)(void *arg, const struct kp_pidsnap_entry *e),
		      void *arg, char *err, size_t errlen)
{
	uint32_t crc, computed;
	int16_t version;
	int32_t count;
	const uint8_t *p;

	if (len < KP_PIDSNAP_HEADER) {
		snprintf(err, errlen, "snapshot too short (%zu bytes)", len);
		return -EBADMSG;
	}
	version = (int16_t)get(buf, 2);
	if (version != KP_PIDSNAP_VERSION) {
		snprintf(err, errlen, "snapshot has an unknown file version %d", version);
		return -EBADMSG;
	}
	crc = (uint32_t)get(buf + 2, 4);
	computed = kp_crc32c(0, buf + 6, len - 6);
	if (crc != computed) {
		snprintf(err, errlen, "snapshot is corrupt (CRC is no longer valid): "
			 "stored %" PRIu32 ", computed %" PRIu32, crc, computed);
		return -EBADMSG;
	}
	count = (int32_t)get(buf + 6, 4);
	if (count < 0 || (len - KP_PIDSNAP_HEADER) % KP_PIDSNAP_ENTRY != 0 ||
	    (size_t)count != (len - KP_PIDSNAP_HEADER) / KP_PIDSNAP_ENTRY) {
		snprintf(err, errlen, "snapshot failed schema validation: %" PRId32
			 " entries in %zu bytes", count, len);
		return -EBADMSG;
	}
	p = buf + KP_PIDSNAP_HEADER;
	for (int32_t i = 0; i < count; i++, p += KP_PIDSNAP_ENTRY) {
		struct kp_pidsnap_entry e = {
			.pid = (int64_t)get(p, 8),
			.epoch = (int16_t)get(p + 8, 2),
			.last_seq = (int32_t)get(p + 10, 4),
			.last_offset = (int64_t)get(p + 14, 8),
			.offset_delta = (int32_t)get(p + 22, 4),
			.timestamp = (int64_t)get(p + 26, 8),
			.coord_epoch = (int32_t)get(p + 34, 4),
			.txn_first_offset = (int64_t)get(p + 38, 8),
		};

		if (fn(arg, &e) != 0)
			break;
	}
	return 0;
}
