/*
 * jsonmem — header-tagged allocations for jansson; bump arenas.
 */
#include "jsonmem/jsonmem.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 16 bytes keep every allocation aligned for any jansson type. */
#define HDR 16
#define TAG_HEAP 0x48454150u  /* "HEAP" */
#define TAG_ARENA 0x4152454eu /* "AREN" */
/* First chunk: enough for a typical review without a second one. */
#define CHUNK_MIN ((size_t)64 << 10)

typedef struct chunk {
	struct chunk *next;
	size_t size, used;
	unsigned char mem[];
} chunk;

struct pg_arena {
	chunk *head;
	size_t total, max;
	bool failed; /* an allocation was refused (bound or malloc) */
};

static bool installed;
static _Thread_local pg_arena *cur;

static void *
arena_alloc(pg_arena *a, size_t n)
{
	chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;
	void *p;

	if (c == NULL || c->size - c->used < need) {
		size_t sz = c ? c->size * 2 : CHUNK_MIN;

		while (sz < need)
			sz *= 2;
		if (a->total + sz > a->max) {
			if (a->total + need > a->max) {
				a->failed = true;
				return NULL;
			}
			sz = need;
		}
		if ((c = malloc(sizeof(*c) + sz)) == NULL) {
			a->failed = true;
			return NULL;
		}
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		a->total += sz;
	}
	p = c->mem + c->used;
	c->used += need;
	return p;
}

static void *
jm_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - HDR)
		return NULL;
	if (cur != NULL) {
		if ((p = arena_alloc(cur, n + HDR)) == NULL)
			return NULL;
		*(uint32_t *)p = TAG_ARENA;
	} else {
		if ((p = malloc(n + HDR)) == NULL)
			return NULL;
		*(uint32_t *)p = TAG_HEAP;
	}
	return p + HDR;
}

static void
jm_free(void *ptr)
{
	unsigned char *p = ptr;

	if (p == NULL)
		return;
	p -= HDR;
	if (*(uint32_t *)p == TAG_HEAP)
		free(p);
	/* arena memory goes with its arena */
}

void
pg_json_init(void)
{
	json_set_alloc_funcs(jm_malloc, jm_free);
	installed = true;
}

void
pg_json_free(void *p)
{
	if (installed)
		jm_free(p);
	else
		free(p);
}

pg_arena *
pg_arena_new(size_t max)
{
	pg_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->max = max;
	return a;
}

bool
pg_arena_failed(const pg_arena *a)
{
	return a != NULL && a->failed;
}

bool
pg_arena_holds(const pg_arena *a)
{
	return a != NULL && a->head != NULL;
}

void
pg_arena_free(pg_arena *a)
{
	chunk *c, *n;

	if (a == NULL)
		return;
	for (c = a->head; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

pg_arena *
pg_arena_use(pg_arena *a)
{
	pg_arena *prev = cur;

	/* Without the allocator installed, jansson never calls jm_malloc:
	 * an arena would stay empty, which is harmless. */
	cur = a;
	return prev;
}

char *
pg_json_dumps(const json_t *j, size_t flags)
{
	char *s = json_dumps(j, flags), *r;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((r = malloc(n + 1)) != NULL)
		memcpy(r, s, n + 1);
	pg_json_free(s);
	return r;
}
