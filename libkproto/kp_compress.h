/*
 * kp_compress.h - the compression codecs of record batches.
 *
 * gzip (zlib), snappy (raw blocks as librdkafka writes them, and the xerial
 * snappy-java framing the Java client and kafka-python write, detected by
 * its magic), lz4 (the LZ4 frame format with independent blocks, as Kafka
 * uses since magic 1) and zstd.  Output is appended to a kp_wbuf.
 * Decompression is always bounded: input that would expand past max_out
 * bytes is an error, so a small hostile batch cannot claim gigabytes.
 */
#ifndef KP_COMPRESS_H
#define KP_COMPRESS_H

#include <stddef.h>

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
/* "none", "gzip", "snappy", "lz4", "zstd"; NULL for others. */
const char *kp_codec_name(enum kp_codec codec);
/* Parse a codec name (also "uncompressed" for none); -1 if unknown. */
int kp_codec_parse(const char *name);

#endif /* KP_COMPRESS_H */
