/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_compress.h - the compression codecs of record batches.
 *
 * gzip (zlib), snappy (raw blocks as librdkafka writes them, and the xerial
 * snappy-java framing the Java client and kafka-python write, detected by
 * its magic), lz4 (the LZ4 frame format with independent blocks, as Kafka
 * uses since magic 1; magic 0 frames have a checksum quirk, see
 * kp_compress_legacy) and zstd.  Output is appended to a kp_wbuf.
 * Decompression is always bounded: input that would expand past max_out
 * bytes is an error, so a small hostile batch cannot claim gigabytes.
 */
#ifndef KP_COMPRESS_H
#define KP_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_records.h"

/* Compress in[inlen] with codec (not NONE), appending to out: 0 or -1. */
int kp_compress(enum kp_codec codec, const void *in, size_t inlen,
		struct kp_wbuf *out);
/*
 * Decompress in[inlen], appending at most max_out bytes to out.  Returns 0,
 * or -1 on corrupt input, an unknown codec, or output beyond max_out.
 */
int kp_decompress(enum kp_codec codec, const void *in, size_t inlen,
		  size_t max_out, struct kp_wbuf *out);
/*
 * The same for the value of a legacy (magic 0/1) wrapper message, whose
 * magic decides one detail: Kafka 0.8-0.9 computed the LZ4 frame
 * descriptor checksum over the frame's magic number too, and Kafka keeps
 * that for magic 0: such frames are written with it, and read without
 * checking it.  Magic 1 and 2 frames are standard.
 */
int kp_compress_legacy(enum kp_codec codec, int8_t magic, const void *in,
		       size_t inlen, struct kp_wbuf *out);
int kp_decompress_legacy(enum kp_codec codec, int8_t magic, const void *in,
			 size_t inlen, size_t max_out, struct kp_wbuf *out);
/* xxHash32 of in[len] (LZ4's checksum). */
uint32_t kp_xxh32(const void *in, size_t len, uint32_t seed);
/* "none", "gzip", "snappy", "lz4", "zstd"; NULL for others. */
const char *kp_codec_name(enum kp_codec codec);
/* Parse a codec name (also "uncompressed" for none); -1 if unknown. */
int kp_codec_parse(const char *name);

#endif /* KP_COMPRESS_H */
