/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_compress.c - gzip, snappy, lz4 and zstd for record batches; see
 * kp_compress.h.  Each decoder writes into the kp_wbuf in bounded steps and
 * checks the running total against max_out before growing it.
 */
#include "config.h"

#include <lz4frame.h>
#include <stdbool.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "kp_compress.h"

#define STEP 65536

static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

const char *kp_codec_name(enum kp_codec codec)
{
	switch (codec) {
	case KP_CODEC_NONE: return "none";
	case KP_CODEC_GZIP: return "gzip";
	case KP_CODEC_SNAPPY: return "snappy";
	case KP_CODEC_LZ4: return "lz4";
	case KP_CODEC_ZSTD: return "zstd";
	}
	return NULL;
}

int kp_codec_parse(const char *name)
{
	if (strcmp(name, "none") == 0 || strcmp(name, "uncompressed") == 0)
		return KP_CODEC_NONE;
	if (strcmp(name, "gzip") == 0)
		return KP_CODEC_GZIP;
	if (strcmp(name, "snappy") == 0)
		return KP_CODEC_SNAPPY;
	if (strcmp(name, "lz4") == 0)
		return KP_CODEC_LZ4;
	if (strcmp(name, "zstd") == 0)
		return KP_CODEC_ZSTD;
	return -1;
}

/* Room for up to want more bytes, never taking the total past limit. */
static uint8_t *room(struct kp_wbuf *out, size_t start, size_t limit,
		     size_t want, size_t *got)
{
	size_t used = out->len - start;

	if (used >= limit) {
		*got = 0;
		return NULL;
	}
	if (want > limit - used)
		want = limit - used;
	*got = want;
	return kp_wbuf_reserve(out, want);
}

/* ----------------------------------------------------------------- gzip */

static int gzip_compress(const void *in, size_t inlen, struct kp_wbuf *out)
{
	z_stream zs;
	uLong bound;
	uint8_t *d;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, (uLong)inlen) + 32;
	d = kp_wbuf_reserve(out, bound);
	if (d == NULL) {
		deflateEnd(&zs);
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = d;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	if (rc == Z_STREAM_END)
		out->len += zs.total_out;
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int gzip_decompress(const void *in, size_t inlen, size_t max_out,
			   struct kp_wbuf *out)
{
	z_stream zs;
	size_t start = out->len;
	int rc = Z_OK;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 32: gzip or zlib header, detected. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	for (;;) {
		size_t got;
		uint8_t *d = room(out, start, max_out, STEP, &got);

		if (d == NULL)
			break;
		zs.next_out = d;
		zs.avail_out = (uInt)got;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += got - zs.avail_out;
		if (rc == Z_STREAM_END) {
			/* Concatenated members, as GZIPInputStream reads. */
			if (zs.avail_in == 0)
				break;
			if (inflateReset(&zs) != Z_OK)
				break;
			rc = Z_OK;
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			break;
		if (rc == Z_BUF_ERROR && zs.avail_in == 0)
			break;	/* truncated */
	}
	inflateEnd(&zs);
	if (rc != Z_STREAM_END || zs.avail_in != 0) {
		out->len = start;
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- snappy */

static int snappy_block(const uint8_t *in, size_t inlen, size_t start,
			size_t max_out, struct kp_wbuf *out)
{
	size_t ulen, used = out->len - start;
	uint8_t *d;

	if (snappy_uncompressed_length((const char *)in, inlen, &ulen) != SNAPPY_OK ||
	    ulen > max_out - used)
		return -1;
	d = kp_wbuf_reserve(out, ulen ? ulen : 1);
	if (d == NULL)
		return -1;
	if (snappy_uncompress((const char *)in, inlen, (char *)d, &ulen) != SNAPPY_OK)
		return -1;
	out->len += ulen;
	return 0;
}

static int snappy_decompress(const uint8_t *in, size_t inlen, size_t max_out,
			     struct kp_wbuf *out)
{
	size_t start = out->len, pos;

	if (inlen >= 16 && memcmp(in, xerial_magic, 8) == 0) {
		/* xerial: header (magic, version, compatible version), then
		 * [int32 length][snappy block] repeated. */
		pos = 16;
		while (pos < inlen) {
			uint32_t blen;

			if (inlen - pos < 4)
				goto fail;
			blen = kp_be32(in + pos);
			pos += 4;
			if (blen > inlen - pos ||
			    snappy_block(in + pos, blen, start, max_out, out))
				goto fail;
			pos += blen;
		}
		return 0;
	}
	if (snappy_block(in, inlen, start, max_out, out) == 0)
		return 0;
fail:
	out->len = start;
	return -1;
}

static int snappy_compress_raw(const void *in, size_t inlen,
			       struct kp_wbuf *out)
{
	size_t clen = snappy_max_compressed_length(inlen);
	uint8_t *d = kp_wbuf_reserve(out, clen);

	if (d == NULL || snappy_compress(in, inlen, (char *)d, &clen) != SNAPPY_OK)
		return -1;
	out->len += clen;
	return 0;
}

/* ------------------------------------------------------------------ lz4 */

/*
 * xxHash32, the hash of the LZ4 frame format's descriptor checksum (HC):
 * the second byte of xxh32(descriptor, seed 0).  Only a few bytes are ever
 * hashed here, but the whole algorithm is kept.
 */
static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint32_t kp_xxh32(const void *in, size_t len, uint32_t seed)
{
	static const uint32_t P1 = 2654435761u, P2 = 2246822519u,
			      P3 = 3266489917u, P4 = 668265263u, P5 = 374761393u;
	const uint8_t *p = in, *end = p + len;
	uint32_t h;

	if (len >= 16) {
		uint32_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed,
			 v4 = seed - P1;

		while ((size_t)(end - p) >= 16) {
			v1 = rotl32(v1 + le32(p) * P2, 13) * P1;
			v2 = rotl32(v2 + le32(p + 4) * P2, 13) * P1;
			v3 = rotl32(v3 + le32(p + 8) * P2, 13) * P1;
			v4 = rotl32(v4 + le32(p + 12) * P2, 13) * P1;
			p += 16;
		}
		h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
	} else {
		h = seed + P5;
	}
	h += (uint32_t)len;
	for (; (size_t)(end - p) >= 4; p += 4)
		h = rotl32(h + le32(p) * P3, 17) * P4;
	for (; p < end; p++)
		h = rotl32(h + *p * P5, 11) * P1;
	h ^= h >> 15;
	h *= P2;
	h ^= h >> 13;
	h *= P3;
	h ^= h >> 16;
	return h;
}

#define LZ4_FRAME_MAGIC 0x184D2204u
#define LZ4_FLG_CONTENT_SIZE 0x08
#define LZ4_FLG_DICT_ID 0x01

/* Length of a frame's descriptor (FLG, BD, optional content size and
 * dictionary id), without the magic and HC; 0 when not an LZ4 frame. */
static size_t lz4_descriptor_len(const uint8_t *in, size_t inlen)
{
	size_t n;

	if (inlen < 7 || le32(in) != LZ4_FRAME_MAGIC)
		return 0;
	n = 2 + (in[4] & LZ4_FLG_CONTENT_SIZE ? 8 : 0) +
	    (in[4] & LZ4_FLG_DICT_ID ? 4 : 0);
	return inlen >= 4 + n + 1 ? n : 0;
}

static int lz4_compress(const void *in, size_t inlen, bool broken_hc,
			struct kp_wbuf *out)
{
	LZ4F_preferences_t prefs;
	size_t bound, n, start = out->len;
	uint8_t *d;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	bound = LZ4F_compressFrameBound(inlen, &prefs);
	d = kp_wbuf_reserve(out, bound);
	if (d == NULL)
		return -1;
	n = LZ4F_compressFrame(d, bound, in, inlen, &prefs);
	if (LZ4F_isError(n))
		return -1;
	out->len += n;
	if (broken_hc) {
		/* Kafka 0.8-0.9's HC covered the magic number too: magic 0
		 * readers (Kafka's own, librdkafka, kafka-python) expect it */
		size_t dl = lz4_descriptor_len(out->data + start, n);

		if (dl == 0)
			return -1;
		out->data[start + 4 + dl] =
			(uint8_t)(kp_xxh32(out->data + start, 4 + dl, 0) >> 8);
	}
	return 0;
}

/*
 * Decompress one LZ4 frame.  ignore_hc: the descriptor checksum is not
 * checked (Kafka reads magic 0 frames so): the frame goes to LZ4F with a
 * copy of its header whose HC is recomputed.
 */
static int lz4_decompress(const void *in, size_t inlen, size_t max_out,
			  bool ignore_hc, struct kp_wbuf *out)
{
	LZ4F_dctx *dctx;
	uint8_t hdr[4 + 14 + 1];
	const uint8_t *seg[2] = { in, NULL };
	size_t segl[2] = { inlen, 0 }, start = out->len, hint = 1;
	int nseg = 1;

	if (ignore_hc) {
		size_t dl = lz4_descriptor_len(in, inlen);

		if (dl == 0)
			return -1;
		memcpy(hdr, in, 4 + dl);
		hdr[4 + dl] = (uint8_t)(kp_xxh32(hdr + 4, dl, 0) >> 8);
		seg[0] = hdr;
		segl[0] = 4 + dl + 1;
		seg[1] = (const uint8_t *)in + segl[0];
		segl[1] = inlen - segl[0];
		nseg = 2;
	}
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return -1;
	for (int s = 0; s < nseg; s++) {
		const uint8_t *src = seg[s];
		size_t left = segl[s];

		while (left > 0 && hint != 0) {
			size_t got, srcn = left;
			uint8_t *d = room(out, start, max_out, STEP, &got);

			if (d == NULL)
				goto fail;
			hint = LZ4F_decompress(dctx, d, &got, src, &srcn, NULL);
			if (LZ4F_isError(hint))
				goto fail;
			out->len += got;
			src += srcn;
			left -= srcn;
			if (srcn == 0 && got == 0)
				goto fail;
		}
		/* hint == 0: the frame ended; anything after it is not ours. */
		if (left != 0)
			goto fail;
	}
	if (hint != 0)
		goto fail;
	LZ4F_freeDecompressionContext(dctx);
	return 0;
fail:
	LZ4F_freeDecompressionContext(dctx);
	out->len = start;
	return -1;
}

/* ----------------------------------------------------------------- zstd */

static int zstd_compress(const void *in, size_t inlen, struct kp_wbuf *out)
{
	size_t bound = ZSTD_compressBound(inlen), n;
	uint8_t *d = kp_wbuf_reserve(out, bound);

	if (d == NULL)
		return -1;
	n = ZSTD_compress(d, bound, in, inlen, 3);
	if (ZSTD_isError(n))
		return -1;
	out->len += n;
	return 0;
}

static int zstd_decompress(const void *in, size_t inlen, size_t max_out,
			   struct kp_wbuf *out)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, inlen, 0 };
	size_t start = out->len, rc = 1;

	if (ds == NULL)
		return -1;
	ZSTD_initDStream(ds);
	while (ib.pos < ib.size || rc != 0) {
		size_t got;
		uint8_t *d = room(out, start, max_out, STEP, &got);
		ZSTD_outBuffer ob;

		if (d == NULL)
			goto fail;
		ob.dst = d;
		ob.size = got;
		ob.pos = 0;
		rc = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(rc))
			goto fail;
		out->len += ob.pos;
		if (rc == 0 && ib.pos == ib.size)
			break;
		if (ob.pos == 0 && ib.pos == ib.size)
			goto fail;	/* truncated frame */
	}
	ZSTD_freeDStream(ds);
	return 0;
fail:
	ZSTD_freeDStream(ds);
	out->len = start;
	return -1;
}

/* ----------------------------------------------------------------- api */

int kp_compress_legacy(enum kp_codec codec, int8_t magic, const void *in,
		       size_t inlen, struct kp_wbuf *out)
{
	if (out->err || out->count_only)
		return -1;
	switch (codec) {
	case KP_CODEC_GZIP: return gzip_compress(in, inlen, out);
	case KP_CODEC_SNAPPY: return snappy_compress_raw(in, inlen, out);
	case KP_CODEC_LZ4: return lz4_compress(in, inlen, magic == 0, out);
	case KP_CODEC_ZSTD: return zstd_compress(in, inlen, out);
	case KP_CODEC_NONE: break;
	}
	return -1;
}

int kp_decompress_legacy(enum kp_codec codec, int8_t magic, const void *in,
			 size_t inlen, size_t max_out, struct kp_wbuf *out)
{
	if (out->err || out->count_only)
		return -1;
	switch (codec) {
	case KP_CODEC_GZIP: return gzip_decompress(in, inlen, max_out, out);
	case KP_CODEC_SNAPPY: return snappy_decompress(in, inlen, max_out, out);
	case KP_CODEC_LZ4: return lz4_decompress(in, inlen, max_out, magic == 0, out);
	case KP_CODEC_ZSTD: return zstd_decompress(in, inlen, max_out, out);
	case KP_CODEC_NONE: break;
	}
	return -1;
}

int kp_compress(enum kp_codec codec, const void *in, size_t inlen,
		struct kp_wbuf *out)
{
	return kp_compress_legacy(codec, 2, in, inlen, out);
}

int kp_decompress(enum kp_codec codec, const void *in, size_t inlen,
		  size_t max_out, struct kp_wbuf *out)
{
	return kp_decompress_legacy(codec, 2, in, inlen, max_out, out);
}
