/*
 * kp_compress.c - gzip, snappy, lz4 and zstd for record batches; see
 * kp_compress.h.  Each decoder writes into the kp_wbuf in bounded steps and
 * checks the running total against max_out before growing it.
 */
#include "config.h"

#include <lz4frame.h>
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

static int lz4_compress(const void *in, size_t inlen, struct kp_wbuf *out)
{
	LZ4F_preferences_t prefs;
	size_t bound, n;
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
	return 0;
}

static int lz4_decompress(const void *in, size_t inlen, size_t max_out,
			  struct kp_wbuf *out)
{
	LZ4F_dctx *dctx;
	const uint8_t *src = in;
	size_t start = out->len, left = inlen, hint = 1;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return -1;
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
	if (hint != 0 || left != 0)
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

int kp_compress(enum kp_codec codec, const void *in, size_t inlen,
		struct kp_wbuf *out)
{
	if (out->err || out->count_only)
		return -1;
	switch (codec) {
	case KP_CODEC_GZIP: return gzip_compress(in, inlen, out);
	case KP_CODEC_SNAPPY: return snappy_compress_raw(in, inlen, out);
	case KP_CODEC_LZ4: return lz4_compress(in, inlen, out);
	case KP_CODEC_ZSTD: return zstd_compress(in, inlen, out);
	case KP_CODEC_NONE: break;
	}
	return -1;
}

int kp_decompress(enum kp_codec codec, const void *in, size_t inlen,
		  size_t max_out, struct kp_wbuf *out)
{
	if (out->err || out->count_only)
		return -1;
	switch (codec) {
	case KP_CODEC_GZIP: return gzip_decompress(in, inlen, max_out, out);
	case KP_CODEC_SNAPPY: return snappy_decompress(in, inlen, max_out, out);
	case KP_CODEC_LZ4: return lz4_decompress(in, inlen, max_out, out);
	case KP_CODEC_ZSTD: return zstd_decompress(in, inlen, max_out, out);
	case KP_CODEC_NONE: break;
	}
	return -1;
}
