/*
 * policy/yaml — libyaml events into a small tree of scalars, mappings and
 * sequences with line numbers.  This is the only file that includes yaml.h
 * for policies.  It refuses what a policy never needs and an attacker
 * would love: anchors and aliases (billion laughs), tags, complex keys,
 * duplicate keys, deep nesting and huge node counts.  It never interprets
 * values; schema.c does.
 */
#include "policy/policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* Keys in one mapping: a policy's largest mapping is its trust list.  The
 * bound keeps the quadratic duplicate-key check cheap on hostile input. */
#define YN_MAP_KEYS_MAX 4096

typedef struct yn_state {
	yaml_parser_t parser;
	const char *file;
	size_t nodes;
	pg_err *err;
} yn_state;

static int yn_fail(yn_state *st, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
yn_fail(yn_state *st, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pg_err_set(st->err, PG_EINVAL, "%s:%zu: %s", st->file, line, msg);
}

static int
yn_parser_fail(yn_state *st)
{
	yaml_parser_t *ps = &st->parser;
	size_t line = ps->problem_mark.line + 1;

	if (ps->error == YAML_MEMORY_ERROR)
		return pg_err_set(st->err, PG_ENOMEM, "%s: out of memory parsing YAML", st->file);
	if (ps->context)
		return yn_fail(st, line, "invalid YAML: %s %s", ps->problem ? ps->problem : "error",
			       ps->context);
	return yn_fail(st, line, "invalid YAML: %s", ps->problem ? ps->problem : "error");
}

static int
yn_next(yn_state *st, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&st->parser, ev))
		return yn_parser_fail(st);
	return PG_OK;
}

void
pg_yn_free(pg_yn *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		pg_yn_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

void
pg_yn_free_docs(pg_yn **docs, size_t n)
{
	size_t i;

	if (docs == NULL)
		return;
	for (i = 0; i < n; i++)
		pg_yn_free(docs[i]);
	free(docs);
}

bool
pg_yn_is_null(const pg_yn *n)
{
	if (n == NULL)
		return true;
	if (n->type != PG_YN_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
	       strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

static int
yn_alloc(pg_yn **out, yn_state *st, pg_yn_type type, size_t line)
{
	pg_yn *n;

	if (++st->nodes > PG_POLICY_NODES_MAX)
		return yn_fail(st, line, "too many YAML nodes (more than %d)", PG_POLICY_NODES_MAX);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return pg_err_set(st->err, PG_ENOMEM, "out of memory");
	n->type = type;
	n->line = line;
	*out = n;
	return PG_OK;
}

static int
yn_push(yn_state *st, pg_yn *parent, pg_yn *child, size_t *cap)
{
	pg_yn **items;
	size_t ncap;

	if (parent->n == *cap) {
		ncap = *cap ? *cap * 2 : 8;
		if ((items = realloc(parent->items, ncap * sizeof(*items))) == NULL)
			return pg_err_set(st->err, PG_ENOMEM, "out of memory");
		parent->items = items;
		*cap = ncap;
	}
	parent->items[parent->n++] = child;
	return PG_OK;
}

/* Anchors and tags appear on scalars and collection starts alike. */
static int
yn_check_props(yn_state *st, size_t line, const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (anchor != NULL)
		return yn_fail(st, line, "YAML anchors and aliases are not allowed in a policy");
	if (tag != NULL)
		return yn_fail(st, line, "YAML tags (\"%.64s\") are not allowed in a policy",
			       (const char *)tag);
	return PG_OK;
}

static int yn_node(pg_yn **out, yn_state *st, yaml_event_t *ev, size_t depth);

/* Entries of a sequence or mapping until its end event.  *ev is the start
 * event, already deleted by the caller. */
static int
yn_children(pg_yn *parent, yn_state *st, size_t depth)
{
	int rc;
	size_t cap = 0, i;
	yaml_event_t ev;
	pg_yn *child = NULL;
	yaml_event_type_t end =
	    parent->type == PG_YN_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

	for (;;) {
		if ((rc = yn_next(st, &ev)) != PG_OK)
			return rc;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return PG_OK;
		}
		if ((rc = yn_node(&child, st, &ev, depth)) != PG_OK)
			return rc;
		if (parent->type == PG_YN_MAP && parent->n % 2 == 0) {
			if (child->type != PG_YN_SCALAR) {
				rc = yn_fail(st, child->line, "mapping keys must be plain strings");
				goto fail;
			}
			if (parent->n / 2 >= YN_MAP_KEYS_MAX) {
				rc = yn_fail(st, child->line, "more than %d keys in one mapping",
					     YN_MAP_KEYS_MAX);
				goto fail;
			}
			for (i = 0; i < parent->n; i += 2) {
				if (strcmp(parent->items[i]->value, child->value) == 0) {
					rc = yn_fail(st, child->line,
						     "duplicate key \"%.128s\" (first on line %zu)",
						     child->value, parent->items[i]->line);
					goto fail;
				}
			}
		}
		if ((rc = yn_push(st, parent, child, &cap)) != PG_OK)
			goto fail;
		child = NULL;
	}
fail:
	pg_yn_free(child);
	return rc;
}

/* Build the node that starts with *ev; consumes (deletes) *ev. */
static int
yn_node(pg_yn **out, yn_state *st, yaml_event_t *ev, size_t depth)
{
	int rc;
	pg_yn *n = NULL;
	size_t line = ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		rc = yn_fail(st, line, "YAML anchors and aliases are not allowed in a policy");
		goto out;
	case YAML_SCALAR_EVENT:
		if ((rc = yn_check_props(st, line, ev->data.scalar.anchor, ev->data.scalar.tag)) !=
		    PG_OK)
			goto out;
		if ((rc = yn_alloc(&n, st, PG_YN_SCALAR, line)) != PG_OK)
			goto out;
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if ((n->value = pg_strndup((const char *)ev->data.scalar.value, n->len)) == NULL) {
			rc = pg_err_set(st->err, PG_ENOMEM, "out of memory");
			goto out;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT)
			rc = yn_check_props(st, line, ev->data.sequence_start.anchor,
					    ev->data.sequence_start.tag);
		else
			rc = yn_check_props(st, line, ev->data.mapping_start.anchor,
					    ev->data.mapping_start.tag);
		if (rc != PG_OK)
			goto out;
		if (depth + 1 > PG_POLICY_DEPTH_MAX) {
			rc = yn_fail(st, line, "YAML nested deeper than %d levels",
				     PG_POLICY_DEPTH_MAX);
			goto out;
		}
		if ((rc = yn_alloc(&n, st,
				   ev->type == YAML_SEQUENCE_START_EVENT ? PG_YN_SEQ : PG_YN_MAP,
				   line)) != PG_OK)
			goto out;
		yaml_event_delete(ev);
		if ((rc = yn_children(n, st, depth + 1)) != PG_OK)
			goto out;
		break;
	default:
		rc = yn_fail(st, line, "unexpected YAML event");
		goto out;
	}
	*out = n;
	n = NULL;
	rc = PG_OK;
out:
	yaml_event_delete(ev); /* a no-op on an already deleted event */
	pg_yn_free(n);
	return rc;
}

int
pg_yn_parse(pg_yn ***out_docs, size_t *out_n, const char *file, const char *text, size_t len,
	    pg_err *err)
{
	int rc = PG_EINTERNAL;
	yn_state st;
	yaml_event_t ev;
	pg_yn **docs = NULL, **nd, *root = NULL;
	size_t n = 0, cap = 0;
	bool done = false;

	memset(&st, 0, sizeof(st));
	st.file = file;
	st.err = err;
	if (!yaml_parser_initialize(&st.parser))
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&st.parser, (const unsigned char *)text, len);
	while (!done) {
		if ((rc = yn_next(&st, &ev)) != PG_OK)
			goto out;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			yaml_event_delete(&ev);
			if ((rc = yn_next(&st, &ev)) != PG_OK)
				goto out;
			if ((rc = yn_node(&root, &st, &ev, 0)) != PG_OK)
				goto out;
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				if ((nd = realloc(docs, cap * sizeof(*nd))) == NULL) {
					rc = pg_err_set(err, PG_ENOMEM, "out of memory");
					goto out;
				}
				docs = nd;
			}
			docs[n++] = root;
			root = NULL;
			break;
		default:
			rc = yn_fail(&st, ev.start_mark.line + 1, "unexpected YAML event");
			yaml_event_delete(&ev);
			goto out;
		}
	}
	*out_docs = docs;
	*out_n = n;
	docs = NULL;
	n = 0;
	rc = PG_OK;
out:
	pg_yn_free(root);
	pg_yn_free_docs(docs, n);
	yaml_parser_delete(&st.parser);
	return rc;
}
