/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_golden.c - request frames captured from real clients (kcat,
 * confluent-kafka, kafka-python; see tests/golden/capture.sh) decode to
 * exactly what those clients were told to send.
 *
 * Every tests/golden/<case>/NNN-<key>-v<version>.bin is a frame body
 * (request header and request).  Each must decode completely, with the API
 * key and version its name says, and re-encode to the same bytes (but for
 * the stray bytes librdkafka 2.0 leaves after two requests, which Kafka
 * ignores: see stray_bytes()).  The
 * produce cases must carry five records: key "k<i>", value "golden-<i>-"
 * and 200 'x',
 * compressed with the codec the case names (and, for the Python clients,
 * timestamp 1600000000000 + i and header "h" = "v<i>").
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_compress.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "kp_records.h"

static char golden[1024];

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory (excluding dot files). */
static char **list_dir(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		v = realloc(v, (size_t)(*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, (size_t)*n, sizeof(*v), cmp_names);
	return v;
}

struct seen {
	int records;
	int produce_requests;
	int frames;
	int quirks;
};

static void check_records(const char *cas, const kp_records *recs,
			  struct seen *s)
{
	const uint8_t *p = recs->ptr;
	size_t left = (size_t)recs->len;
	bool python = strncmp(cas, "kafkapython", 11) == 0;
	bool confluent = strncmp(cas, "confluent", 9) == 0;
	const char *codec_name = strrchr(cas, '-') + 1;
	int want_codec = kp_codec_parse(codec_name);
	struct kp_wbuf scratch;

	kp_wbuf_init(&scratch);
	while (left > 0) {
		size_t size;
		struct kp_batch_info info;
		struct kp_record_iter it;
		struct kp_record rec;

		ck_assert_int_eq(kp_batch_size(p, left, &size), KP_BATCH_OK);
		/* The broker's produce validation accepts it. */
		ck_assert_int_eq(kp_batch_validate(p, size, &scratch, 1 << 20, &info), 0);
		ck_assert_msg((info.h.attributes & KP_ATTR_CODEC_MASK) == want_codec,
			      "%s: codec %d, expected %d", cas,
			      info.h.attributes & KP_ATTR_CODEC_MASK, want_codec);
		/* idempotent: the producer id InitProducerId gave, from
		 * sequence 0 */
		if (strstr(cas, "idempotent") != NULL) {
			ck_assert(info.h.producer_id == 1000);
			ck_assert_int_eq(info.h.producer_epoch, 0);
			ck_assert_int_eq(info.h.base_sequence, s->records);
		} else {
			ck_assert(info.h.producer_id == -1);
		}
		ck_assert_int_eq(kp_record_iter_init(&it, p, size, &scratch, 1 << 20), 0);
		while (kp_record_iter_next(&it, &rec) == 1) {
			char want[32];
			int i = s->records;

			snprintf(want, sizeof(want), "k%d", i);
			ck_assert_int_eq(rec.key.len, (int32_t)strlen(want));
			ck_assert_mem_eq(rec.key.ptr, want, strlen(want));
			snprintf(want, sizeof(want), "golden-%d-", i);
			ck_assert_int_eq(rec.value.len, (int32_t)strlen(want) + 200);
			ck_assert_mem_eq(rec.value.ptr, want, strlen(want));
			for (size_t x = strlen(want); x < (size_t)rec.value.len; x++)
				ck_assert_int_eq(rec.value.ptr[x], 'x');
			if (python || confluent) {
				struct kp_reader hr;
				struct kp_record_header h;

				ck_assert(rec.timestamp == 1600000000000LL + i);
				ck_assert_int_eq(rec.header_count, 1);
				kp_reader_init(&hr, rec.headers, rec.headers_len);
				ck_assert_int_eq(kp_record_header_next(&hr, &h), 0);
				ck_assert(kp_str_eqc(h.key, "h"));
				snprintf(want, sizeof(want), "v%d", i);
				ck_assert_int_eq(h.value.len, 2);
				ck_assert_mem_eq(h.value.ptr, want, 2);
			}
			s->records++;
		}
		p += size;
		left -= size;
	}
	kp_wbuf_free(&scratch);
}

/*
 * Zero bytes librdkafka 2.0 leaves after a request, which Kafka's parser
 * ignores (and so do we): OffsetFetch v6+ for a whole group writes a
 * 4-byte placeholder for the topic count, of which a null compact array
 * reads one; ListGroups v3+ writes its tagged-field count twice.
 */
static size_t stray_bytes(const char *cas, const struct kp_req_header *h,
			  const void *req)
{
	if (strncmp(cas, "rdkafka", 7) != 0)
		return 0;
	if (h->api_key == KP_API_OFFSET_FETCH && h->api_version >= 6 &&
	    ((const struct kp_offset_fetch_req *)req)->topics_count < 0)
		return 3;
	if (h->api_key == KP_API_LIST_GROUPS && h->api_version >= 3)
		return 1;
	return 0;
}

static void check_frame(const char *cas, const char *name, const uint8_t *buf,
			size_t len, struct seen *s)
{
	struct kp_arena a;
	struct kp_reader r;
	struct kp_req_header h;
	const struct kp_api_desc *api;
	int key, ver;
	void *req;
	struct kp_wbuf w;
	size_t body, stray;

	ck_assert_int_eq(sscanf(name, "%*d-%d-v%d.bin", &key, &ver), 2);
	kp_arena_init(&a, 0);
	kp_reader_init(&r, buf, len);
	ck_assert_int_eq(kp_req_header_decode(&r, &a, &h), 0);
	ck_assert_int_eq(h.api_key, key);
	ck_assert_int_eq(h.api_version, ver);
	api = kp_api_get(h.api_key);
	ck_assert_ptr_nonnull(api);
	body = kp_reader_left(&r);
	req = kp_arena_alloc(&a, api->req->size);
	ck_assert_msg(kp_request_decode(api, h.api_version, &r, &a, req) == 0,
		      "%s/%s: does not decode", cas, name);
	stray = stray_bytes(cas, &h, req);
	ck_assert_msg(kp_reader_left(&r) == stray, "%s/%s: %zu bytes left", cas, name,
		      kp_reader_left(&r));
	if (stray > 0) {
		ck_assert_mem_eq(r.p, "\0\0\0", stray);
		body -= stray;
		len -= stray;
		s->quirks++;
	}
	/* Our encoding of what we decoded is the client's bytes. */
	kp_wbuf_init(&w);
	kp_request_encode(api, h.api_version, req, &w);
	ck_assert_msg(w.len == body &&
		      (body == 0 || memcmp(w.data, buf + (len - body), body) == 0),
		      "%s/%s: re-encoding differs", cas, name);
	kp_wbuf_free(&w);
	s->frames++;

	if (h.api_key == KP_API_PRODUCE) {
		struct kp_produce_req *pr = req;

		s->produce_requests++;
		ck_assert_int_eq(pr->topic_data_count, 1);
		ck_assert(kp_str_eqc(pr->topic_data[0].name, "golden"));
		ck_assert_int_eq(pr->topic_data[0].partition_data_count, 1);
		ck_assert_int_eq(pr->topic_data[0].partition_data[0].index, 0);
		ck_assert_int_ne(pr->acks, 0);
		check_records(cas, &pr->topic_data[0].partition_data[0].records, s);
	} else if (h.api_key == KP_API_METADATA && h.api_version >= 1) {
		struct kp_metadata_req *mr = req;

		/* librdkafka asks for the topic it uses; kafka-python's
		 * refreshes may ask for all (null). */
		if (mr->topics_count > 0)
			ck_assert(kp_str_eqc(mr->topics[0].name, "golden"));
	} else if (h.api_key == KP_API_LIST_GROUPS && h.api_version >= 4) {
		struct kp_list_groups_req *lr = req;

		ck_assert_int_eq(lr->states_filter_count, 2);
		ck_assert(kp_str_eqc(lr->states_filter[0], "Stable"));
		ck_assert(kp_str_eqc(lr->states_filter[1], "Empty"));
	} else if (h.api_key == KP_API_FIND_COORDINATOR) {
		struct kp_find_coordinator_req *fr = req;

		ck_assert(kp_str_eqc(fr->key, "golden"));
		ck_assert_int_eq(fr->key_type, 0);
	} else if (h.api_key == KP_API_DESCRIBE_GROUPS) {
		struct kp_describe_groups_req *dr = req;

		ck_assert_int_eq(dr->groups_count, 1);
		ck_assert(kp_str_eqc(dr->groups[0], "golden"));
	} else if (h.api_key == KP_API_OFFSET_FETCH) {
		struct kp_offset_fetch_req *or = req;

		ck_assert(kp_str_eqc(or->group_id, "golden"));
		ck_assert(!or->require_stable);
		/* named partitions, or the whole group (null) */
		if (or->topics_count >= 0) {
			ck_assert_int_eq(or->topics_count, 1);
			ck_assert(kp_str_eqc(or->topics[0].name, "golden"));
			ck_assert_int_eq(or->topics[0].partition_indexes_count, 2);
			ck_assert_int_eq(or->topics[0].partition_indexes[1], 1);
		}
	} else if (h.api_key == KP_API_INIT_PRODUCER_ID) {
		struct kp_init_producer_id_req *ir = req;

		ck_assert_int_lt(ir->transactional_id.len, 0);	/* idempotent only */
		ck_assert(ir->producer_id == -1);
	} else if (h.api_key == KP_API_API_VERSIONS && h.api_version >= 3) {
		struct kp_api_versions_req *ar = req;

		/* librdkafka names itself; confluent-kafka names the binding. */
		ck_assert(kp_str_eqc(ar->client_software_name,
				     strncmp(cas, "confluent", 9) == 0 ?
				     "confluent-kafka-python" : "librdkafka"));
		ck_assert_int_gt(ar->client_software_version.len, 0);
	}
	if (strncmp(cas, "confluent", 9) == 0)
		ck_assert(kp_str_eqc(h.client_id, "golden-confluent"));
	else if (strncmp(cas, "kafkapython", 11) == 0)
		ck_assert(kp_str_eqc(h.client_id, "golden-kafka-python"));
	else
		ck_assert(kp_str_eqc(h.client_id, "rdkafka"));
	kp_arena_free(&a);
}

START_TEST(real_client_frames_decode_to_what_was_sent)
{
	int ncases, c, total = 0;
	char **cases = list_dir(golden, &ncases);

	ck_assert_int_ge(ncases, 16);
	for (c = 0; c < ncases; c++) {
		char dir[2048];
		int nfiles, f;
		char **files;
		struct seen s = { 0, 0, 0, 0 };

		snprintf(dir, sizeof(dir), "%s/%s", golden, cases[c]);
		if (strstr(cases[c], ".") != NULL) {
			free(cases[c]);	/* sources and scripts, not cases */
			continue;
		}
		files = list_dir(dir, &nfiles);
		for (f = 0; f < nfiles; f++) {
			char path[4096];
			size_t len;
			uint8_t *buf;

			snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
			buf = slurp(path, &len);
			check_frame(cases[c], files[f], buf, len, &s);
			free(buf);
			free(files[f]);
		}
		free(files);
		if (strstr(cases[c], "-produce-") != NULL) {
			ck_assert_msg(s.produce_requests >= 1, "%s: no Produce", cases[c]);
			ck_assert_msg(s.records == 5, "%s: %d records", cases[c], s.records);
		}
		if (strcmp(cases[c], "rdkafka-admin-groups") == 0)
			ck_assert_int_eq(s.quirks, 2);
		total += s.frames;
		free(cases[c]);
	}
	free(cases);
	fprintf(stderr, "golden: %d frames from real clients decoded\n", total);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("clients");
	const char *top = getenv("top_srcdir");

	snprintf(golden, sizeof(golden), "%s/tests/golden", top ? top : ".");
	tcase_add_test(tc, real_client_frames_decode_to_what_was_sent);
	suite_add_tcase(s, tc);
	return check_run(s);
}
