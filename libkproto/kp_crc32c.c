/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Two paths: the SSE4.2 crc32 instruction, 8 bytes a step, chosen once at
 * run time when the CPU has it; and a portable slicing-by-8 table walk.
 * Both compute the same function (checked by the unit tests on every length
 * and alignment).  The tables are built on first use, under pthread_once.
 *
 * The instruction's result feeds its next use (a latency of about three
 * cycles), so one stream leaves most of the unit idle: from 3 x STRIDE bytes
 * on, the hardware path runs three streams over three adjacent blocks at
 * once, the second and third from a zero state, and joins them.  The CRC
 * register update without its inversions is linear: the state after a
 * block is shift(state before) ^ crc(0, block), where shift is what STRIDE
 * zero bytes do to a state, a fixed linear map applied through four tables
 * of 256 (built from what the instruction makes of each of the 32 one-bit
 * states).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "kp_crc32c.h"

#define POLY 0x82f63b78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? POLY : 0);
		table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = table[0][i];
		for (j = 1; j < 8; j++) {
			c = table[0][c & 0xff] ^ (c >> 8);
			table[j][i] = c;
		}
	}
}

uint32_t kp_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&table_once, table_init);
	crc = ~crc;
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		uint32_t lo, hi;

		memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		lo = (uint32_t)w ^ crc;
		hi = (uint32_t)(w >> 32);
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

#define STRIDE 256		/* bytes per stream in a round of three */

static uint32_t shift_table[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2")))
static void shift_init(void)
{
	uint32_t basis[32];
	int j, k, v;

	for (j = 0; j < 32; j++) {
		uint64_t c = (uint64_t)1 << j;

		for (k = 0; k < STRIDE / 8; k++)
			c = _mm_crc32_u64(c, 0);
		basis[j] = (uint32_t)c;
	}
	for (k = 0; k < 4; k++)
		for (v = 0; v < 256; v++) {
			uint32_t x = 0;

			for (j = 0; j < 8; j++)
				if (v & (1 << j))
					x ^= basis[8 * k + j];
			shift_table[k][v] = x;
		}
}

/* The state after STRIDE zero bytes from state c. */
static inline uint32_t shift(uint32_t c)
{
	return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^
	       shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	if (len >= 3 * STRIDE)
		pthread_once(&shift_once, shift_init);
	while (len >= 3 * STRIDE) {
		uint64_t c1 = 0, c2 = 0, a, b, d;
		size_t k;

		for (k = 0; k < STRIDE; k += 8) {
			memcpy(&a, p + k, 8);
			memcpy(&b, p + STRIDE + k, 8);
			memcpy(&d, p + 2 * STRIDE + k, 8);
			c = _mm_crc32_u64(c, a);
			c1 = _mm_crc32_u64(c1, b);
			c2 = _mm_crc32_u64(c2, d);
		}
		c = shift(shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * STRIDE;
		len -= 3 * STRIDE;
	}
	while (len >= 32) {
		uint64_t a, b, d, e;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&d, p + 16, 8);
		memcpy(&e, p + 24, 8);
		c = _mm_crc32_u64(c, a);
		c = _mm_crc32_u64(c, b);
		c = _mm_crc32_u64(c, d);
		c = _mm_crc32_u64(c, e);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t a;

		memcpy(&a, p, 8);
		c = _mm_crc32_u64(c, a);
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

static int hw_state;	/* 0 unknown, 1 yes, -1 no */

bool kp_crc32c_hw_available(void)
{
	int s = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);

	if (s == 0) {
		__builtin_cpu_init();
		s = __builtin_cpu_supports("sse4.2") ? 1 : -1;
		__atomic_store_n(&hw_state, s, __ATOMIC_RELAXED);
	}
	return s > 0;
}

uint32_t kp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (kp_crc32c_hw_available())
		return crc32c_hw(crc, buf, len);
	return kp_crc32c_sw(crc, buf, len);
}
#else
bool kp_crc32c_hw_available(void)
{
	return false;
}

uint32_t kp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32c_sw(crc, buf, len);
}
#endif
