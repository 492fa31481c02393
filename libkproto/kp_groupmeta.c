/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_groupmeta.c - __consumer_offsets keys and values, group placement.
 */
#include <limits.h>
#include <string.h>

#include "kp_groupmeta.h"

/* One code point from UTF-8 at *i (advanced); U+FFFD for a malformed
 * sequence, which consumes one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp, min;
	int n;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (*i + (size_t)n >= len) {	/* truncated */
		(*i)++;
		return 0xfffd;
	}
	for (int k = 1; k <= n; k++) {
		unsigned char d = s[*i + (size_t)k];

		if ((d & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (d & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		(*i)++;
		return 0xfffd;
	}
	*i += (size_t)n + 1;
	return cp;
}

int32_t kp_java_string_hash(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t h = 0;	/* unsigned: Java's int overflow wraps */
	size_t i = 0;

	while (i < len) {
		uint32_t cp = utf8_next(u, len, &i);

		if (cp >= 0x10000) {
			cp -= 0x10000;
			h = 31u * h + (0xd800u + (cp >> 10));
			h = 31u * h + (0xdc00u + (cp & 0x3ff));
		} else {
			h = 31u * h + cp;
		}
	}
	return (int32_t)h;
}

int32_t kp_group_partition(const char *group, size_t len, int32_t n)
{
	int32_t h = kp_java_string_hash(group, len);

	if (n <= 0)
		return 0;
	h = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	return h % n;
}

/* ---------------------------------------------------------------- keys */

int kp_gm_key_decode(const uint8_t *p, size_t len, struct kp_gm_key *k)
{
	struct kp_reader r;

	memset(k, 0, sizeof(*k));
	kp_reader_init(&r, p, len);
	if (kp_read_i16(&r, &k->version) < 0)
		return -1;
	switch (k->version) {
	case 0:
	case 1:
		if (kp_read_string(&r, false, false, &k->group) < 0 ||
		    kp_read_string(&r, false, false, &k->topic) < 0 ||
		    kp_read_i32(&r, &k->partition) < 0)
			return -1;
		return KP_GM_OFFSET;
	case 2:
		if (kp_read_string(&r, false, false, &k->group) < 0)
			return -1;
		return KP_GM_GROUP;
	default:
		return 0;
	}
}

void kp_gm_offset_key_encode(struct kp_wbuf *w, kp_str group, kp_str topic,
			     int32_t partition)
{
	kp_write_i16(w, 1);
	kp_write_string(w, false, group);
	kp_write_string(w, false, topic);
	kp_write_i32(w, partition);
}

void kp_gm_group_key_encode(struct kp_wbuf *w, kp_str group)
{
	kp_write_i16(w, 2);
	kp_write_string(w, false, group);
}

/* ------------------------------------------------------------- offsets */

int kp_gm_offset_value_decode(const uint8_t *p, size_t len,
			      struct kp_gm_offset *v)
{
	struct kp_reader r;
	int16_t ver;

	memset(v, 0, sizeof(*v));
	v->leader_epoch = -1;
	v->expire_ts = -1;
	kp_reader_init(&r, p, len);
	if (kp_read_i16(&r, &ver) < 0 || ver < 0 || ver > 3 ||
	    kp_read_i64(&r, &v->offset) < 0)
		return -1;
	if (ver == 3 && kp_read_i32(&r, &v->leader_epoch) < 0)
		return -1;
	if (kp_read_string(&r, false, false, &v->metadata) < 0 ||
	    kp_read_i64(&r, &v->commit_ts) < 0)
		return -1;
	if (ver == 1 && kp_read_i64(&r, &v->expire_ts) < 0)
		return -1;
	return 0;
}

void kp_gm_offset_value_encode(struct kp_wbuf *w, const struct kp_gm_offset *v)
{
	kp_str md = v->metadata.len >= 0 ? v->metadata : (kp_str){ "", 0 };

	if (v->expire_ts >= 0) {
		kp_write_i16(w, 1);
		kp_write_i64(w, v->offset);
		kp_write_string(w, false, md);
		kp_write_i64(w, v->commit_ts);
		kp_write_i64(w, v->expire_ts);
		return;
	}
	kp_write_i16(w, 3);
	kp_write_i64(w, v->offset);
	kp_write_i32(w, v->leader_epoch);
	kp_write_string(w, false, md);
	kp_write_i64(w, v->commit_ts);
}

/* -------------------------------------------------------------- groups */

int kp_gm_group_value_decode(const uint8_t *p, size_t len, struct kp_arena *a,
			     struct kp_gm_group *g)
{
	struct kp_reader r;
	int16_t ver;
	int32_t n;

	memset(g, 0, sizeof(*g));
	g->state_ts = -1;
	kp_reader_init(&r, p, len);
	if (kp_read_i16(&r, &ver) < 0 || ver < 0 || ver > 3 ||
	    kp_read_string(&r, false, false, &g->protocol_type) < 0 ||
	    kp_read_i32(&r, &g->generation) < 0 ||
	    kp_read_string(&r, false, true, &g->protocol) < 0 ||
	    kp_read_string(&r, false, true, &g->leader) < 0)
		return -1;
	if (ver >= 2 && kp_read_i64(&r, &g->state_ts) < 0)
		return -1;
	/* a member takes at least 2+2+2+4+4+4 bytes */
	if (kp_read_array_len(&r, false, false, 18, &n) < 0)
		return -1;
	g->members = kp_arena_calloc(a, (size_t)n + 1, sizeof(*g->members));
	if (g->members == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		struct kp_gm_member *m = &g->members[i];

		m->instance_id = KP_STR_NULL;
		m->rebalance_timeout = -1;
		if (kp_read_string(&r, false, false, &m->member_id) < 0 ||
		    (ver >= 3 &&
		     kp_read_string(&r, false, true, &m->instance_id) < 0) ||
		    kp_read_string(&r, false, false, &m->client_id) < 0 ||
		    kp_read_string(&r, false, false, &m->client_host) < 0 ||
		    (ver >= 1 && kp_read_i32(&r, &m->rebalance_timeout) < 0) ||
		    kp_read_i32(&r, &m->session_timeout) < 0 ||
		    kp_read_bytes(&r, false, false, &m->subscription) < 0 ||
		    kp_read_bytes(&r, false, false, &m->assignment) < 0)
			return -1;
		if (m->rebalance_timeout < 0)
			m->rebalance_timeout = m->session_timeout;
	}
	g->nmembers = n;
	return 0;
}

static kp_bytes nonnull_bytes(kp_bytes b)
{
	return b.len >= 0 ? b : (kp_bytes){ (const uint8_t *)"", 0 };
}

static kp_str nonnull_str(kp_str s)
{
	return s.len >= 0 ? s : (kp_str){ "", 0 };
}

void kp_gm_group_value_encode(struct kp_wbuf *w, const struct kp_gm_group *g)
{
	kp_write_i16(w, 3);
	kp_write_string(w, false, nonnull_str(g->protocol_type));
	kp_write_i32(w, g->generation);
	kp_write_string(w, false, g->protocol);
	kp_write_string(w, false, g->leader);
	kp_write_i64(w, g->state_ts);
	kp_write_i32(w, g->nmembers);
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct kp_gm_member *m = &g->members[i];

		kp_write_string(w, false, nonnull_str(m->member_id));
		kp_write_string(w, false, m->instance_id);
		kp_write_string(w, false, nonnull_str(m->client_id));
		kp_write_string(w, false, nonnull_str(m->client_host));
		kp_write_i32(w, m->rebalance_timeout);
		kp_write_i32(w, m->session_timeout);
		kp_write_bytes(w, false, nonnull_bytes(m->subscription));
		kp_write_bytes(w, false, nonnull_bytes(m->assignment));
	}
}

bool kp_consumer_subscribes(kp_bytes subscription, kp_str topic)
{
	struct kp_reader r;
	int16_t ver;
	int32_t n;

	if (subscription.len <= 0)
		return false;
	kp_reader_init(&r, subscription.ptr, (size_t)subscription.len);
	if (kp_read_i16(&r, &ver) < 0 || ver < 0 ||
	    kp_read_array_len(&r, false, false, 2, &n) < 0)
		return false;
	for (int32_t i = 0; i < n; i++) {
		kp_str t;

		if (kp_read_string(&r, false, false, &t) < 0)
			return false;
		if (kp_str_eq(t, topic))
			return true;
	}
	return false;
}

int kp_consumer_assignment_decode(kp_bytes b, struct kp_arena *a,
				  struct kp_consumer_assignment *out)
{
	struct kp_reader r;

	memset(out, 0, sizeof(*out));
	out->user_data = KP_BYTES_NULL;
	/* A member that has not synced yet has an empty assignment. */
	if (b.len <= 0)
		return 0;
	kp_reader_init(&r, b.ptr, (size_t)b.len);
	if (kp_read_i16(&r, &out->version) < 0 || out->version < 0 ||
	    kp_read_array_len(&r, false, false, 6, &out->count) < 0)
		return -1;
	out->topics = kp_arena_calloc(a, (size_t)out->count + 1,
				      sizeof(*out->topics));
	if (out->topics == NULL)
		return -1;
	for (int32_t i = 0; i < out->count; i++) {
		struct kp_consumer_tps *t = &out->topics[i];

		if (kp_read_string(&r, false, false, &t->topic) < 0 ||
		    kp_read_array_len(&r, false, false, 4, &t->count) < 0)
			return -1;
		t->partitions = kp_arena_calloc(a, (size_t)t->count + 1,
						sizeof(int32_t));
		if (t->partitions == NULL)
			return -1;
		for (int32_t j = 0; j < t->count; j++)
			if (kp_read_i32(&r, &t->partitions[j]) < 0)
				return -1;
	}
	/* User data is there from version 0 on, but tolerate its absence
	 * as Kafka's parser does for an assignment cut after the topics. */
	if (kp_reader_left(&r) > 0 &&
	    kp_read_bytes(&r, false, true, &out->user_data) < 0)
		return -1;
	return 0;
}

void kp_consumer_assignment_encode(struct kp_wbuf *w,
				   const struct kp_consumer_assignment *as)
{
	kp_write_i16(w, 0);
	kp_write_array_len(w, false, as->count);
	for (int32_t i = 0; i < as->count; i++) {
		kp_write_string(w, false, as->topics[i].topic);
		kp_write_array_len(w, false, as->topics[i].count);
		for (int32_t j = 0; j < as->topics[i].count; j++)
			kp_write_i32(w, as->topics[i].partitions[j]);
	}
	kp_write_bytes(w, false, as->user_data);
}

void kp_consumer_subscription_encode(struct kp_wbuf *w,
				     const char *const *topics, int n)
{
	kp_write_i16(w, 0);
	kp_write_array_len(w, false, n);
	for (int i = 0; i < n; i++)
		kp_write_string(w, false, kp_str_c(topics[i]));
	kp_write_bytes(w, false, KP_BYTES_NULL);
}
