/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_arena.h - a region allocator whose memory lives as long as one request.
 *
 * Decoding a request allocates its arrays here and frees them all at once
 * when the request is answered (nginx's pool idea).  A cap bounds how much one
 * request may take, so a hostile frame cannot grow memory without limit.
 */
#ifndef KP_ARENA_H
#define KP_ARENA_H

#include <stddef.h>

struct kp_arena_block;

struct kp_arena {
	struct kp_arena_block *head;
	size_t used;		/* bytes handed out, for the cap */
	size_t cap;		/* 0: no cap */
};

void kp_arena_init(struct kp_arena *a, size_t cap);
/* Zeroed memory aligned for any type, or NULL (cap reached or no memory). */
void *kp_arena_alloc(struct kp_arena *a, size_t size);
/* Allocate n elements of size bytes, checking the multiplication. */
void *kp_arena_calloc(struct kp_arena *a, size_t n, size_t size);
/* n bytes of s and a NUL (s may be NULL when n is 0). */
char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n);
/* printf into the arena; NULL when it is full.  Longer than 1 KiB is cut. */
char *kp_arena_sprintf(struct kp_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free everything, keep the arena usable (the first block is kept). */
void kp_arena_reset(struct kp_arena *a);
void kp_arena_free(struct kp_arena *a);

#endif /* KP_ARENA_H */
