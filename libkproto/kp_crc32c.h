/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_crc32c.h - CRC-32C (Castagnoli), the checksum of record batch v2.
 *
 * kp_crc32c() continues a CRC: start with crc = 0, feed any number of
 * pieces, the result is the standard CRC-32C of their concatenation (the
 * initial and final inversions are handled inside).  Uses the SSE4.2 crc32
 * instruction when the CPU has it (checked once at run time), a portable
 * slicing-by-8 table otherwise.
 */
#ifndef KP_CRC32C_H
#define KP_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t kp_crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable path, whatever the CPU (for tests and benchmarks). */
uint32_t kp_crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* True when kp_crc32c() uses the hardware instruction. */
bool kp_crc32c_hw_available(void);

#endif /* KP_CRC32C_H */
