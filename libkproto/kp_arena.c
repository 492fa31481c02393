/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_arena.c - region allocator; see kp_arena.h.
 *
 * Blocks are chained newest first.  Small allocations are carved from the
 * newest block; one larger than a block gets a block of its own.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct kp_arena_block {
	struct kp_arena_block *next;
	size_t size;
	size_t pos;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void kp_arena_init(struct kp_arena *a, size_t cap)
{
	a->head = NULL;
	a->used = 0;
	a->cap = cap;
}

void *kp_arena_alloc(struct kp_arena *a, size_t size)
{
	struct kp_arena_block *b = a->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (size == 0)
		need = ARENA_ALIGN;
	if (need < size)
		return NULL;
	if (a->cap && (need > a->cap || a->used > a->cap - need))
		return NULL;
	if (b == NULL || b->size - b->pos < need) {
		size_t bs = need > ARENA_BLOCK / 2 ? need : ARENA_BLOCK;

		b = malloc(sizeof(*b) + bs);
		if (b == NULL)
			return NULL;
		b->size = bs;
		b->pos = 0;
		if (need > ARENA_BLOCK / 2 && a->head != NULL) {
			/* Keep the current small block at the head for carving. */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->pos;
	b->pos += need;
	a->used += need;
	memset(p, 0, need);
	return p;
}

void *kp_arena_calloc(struct kp_arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return kp_arena_alloc(a, n * size);
}

char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n)
{
	char *d = kp_arena_alloc(a, n + 1);

	if (d == NULL)
		return NULL;
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *kp_arena_sprintf(struct kp_arena *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	return kp_arena_strndup(a, buf, (size_t)n < sizeof(buf) ? (size_t)n
							      : sizeof(buf) - 1);
}

void kp_arena_reset(struct kp_arena *a)
{
	struct kp_arena_block *b = a->head, *next;

	if (b == NULL)
		return;
	/* Keep one ordinary block to avoid a malloc per request. */
	for (b = b->next; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head->next = NULL;
	if (a->head->size != ARENA_BLOCK) {
		free(a->head);
		a->head = NULL;
	} else {
		a->head->pos = 0;
	}
	a->used = 0;
}

void kp_arena_free(struct kp_arena *a)
{
	struct kp_arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->used = 0;
}
