/*
 * helm/yaml — the YAML Helm writes (Chart.yaml, values.yaml, index.yaml, the
 * files section of a .prov) read into jansson trees with libyaml's event
 * parser.  Bounded: nesting depth, node count, and only the subtree on the
 * requested path is built (an index.yaml of thousands of charts costs the
 * memory of one chart's entries).  Aliases are refused rather than expanded
 * (no "billion laughs").
 *
 * Strict (release manifests, which Kubernetes decodes with go-yaml): what
 * go-yaml resolves and we would keep as text is refused.  A merge key `<<`
 * merges its mapping into go-yaml's object and is a plain key here; a tag
 * beyond the core schema's can change a value (`!!binary` is base64 to
 * go-yaml, so `kind: !!binary RGVwbG95bWVudA==` is a Deployment).  The
 * core tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq) change at
 * most a scalar's type, which the object's schema then checks.
 */
#include "helm/helm_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct yctx {
	yaml_parser_t p;
	int typed;
	int strict; /* refuse merge keys and tags beyond the core schema */
	size_t nodes;
	pg_err *err;
} yctx;

static int
yerr(yctx *y, const char *what)
{
	if (y->p.error != YAML_NO_ERROR)
		return pg_err_set(y->err, PG_EINVAL, "%s: %s at line %zu", what,
				  y->p.problem ? y->p.problem : "syntax error",
				  (size_t)y->p.problem_mark.line + 1);
	return pg_err_set(y->err, PG_EINVAL, "%s", what);
}

static int
next(yctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return yerr(y, "invalid YAML");
	return PG_OK;
}

static int
is_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* YAML 1.1 plain-scalar resolution, as go-yaml v2 (and so Helm) does it. */
static json_t *
typed_scalar(const char *s, size_t n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",  "Y",	"yes",	"Yes",	"YES",	"on",
					    "On", "ON", "true", "True", "TRUE", NULL};
	static const char *const falses[] = {"n",   "N",   "no",    "No",    "NO",    "off",
					     "Off", "OFF", "false", "False", "FALSE", NULL};
	char *end;
	size_t i;
	int digits = 0, other = 0;

	if (strlen(s) != n)
		return json_stringn(s, n);
	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if (strcmp(s, ".inf") == 0 || strcmp(s, "+.inf") == 0 || strcmp(s, ".Inf") == 0)
		return json_string(s); /* JSON has no infinity; keep the text */
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (!(s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' ||
			   s[i] == 'E' || s[i] == '_' || s[i] == 'x' ||
			   (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			other++;
	}
	if (digits == 0 || other)
		return json_stringn(s, n);
	errno = 0;
	{
		long long v = strtoll(s, &end, 0);

		if (errno == 0 && *end == '\0' && end != s)
			return json_integer(v);
	}
	errno = 0;
	{
		double d = strtod(s, &end);

		if (errno == 0 && *end == '\0' && end != s && isfinite(d) &&
		    strchr(s, 'x') == NULL && strchr(s, 'X') == NULL)
			return json_real(d);
	}
	return json_stringn(s, n);
}

/* Strict: a tag libyaml reports (handles expanded, so `!!str` is the full
 * tag and a %TAG that redefines `!!` shows) must be one of the core
 * schema's. */
static int
tag_check(yctx *y, const yaml_char_t *tag, const yaml_mark_t *at)
{
	static const char *const core[] = {
	    "tag:yaml.org,2002:str",   "tag:yaml.org,2002:int",
	    "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
	    "tag:yaml.org,2002:null",  "tag:yaml.org,2002:map",
	    "tag:yaml.org,2002:seq",   NULL,
	};
	char q[80];

	if (!y->strict || tag == NULL || is_one_of((const char *)tag, core))
		return PG_OK;
	pg_helm_quote(q, sizeof(q), (const char *)tag);
	return pg_err_set(y->err, PG_EINVAL,
			  "unsupported YAML: tag %s at line %zu (go-yaml would resolve it; only "
			  "the core schema's !!str, !!int, !!float, !!bool, !!null, !!map, !!seq "
			  "are read)",
			  q, (size_t)at->line + 1);
}

/* The tag a node's first event carries, or NULL. */
static const yaml_char_t *
event_tag(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.tag;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.tag;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.tag;
	default:
		return NULL;
	}
}

/* Strict: a mapping key that go-yaml could read differently: a tag, or
 * `<<` in any style (go-yaml merges a plain or !!merge one; a quoted one
 * is refused too, at no cost: no Kubernetes field is named so). */
static int
key_check(yctx *y, const yaml_event_t *k)
{
	if (!y->strict)
		return PG_OK;
	if (k->data.scalar.length == 2 && memcmp(k->data.scalar.value, "<<", 2) == 0)
		return pg_err_set(y->err, PG_EINVAL,
				  "unsupported YAML: merge key (<<) at line %zu (go-yaml merges it "
				  "into the mapping)",
				  (size_t)k->start_mark.line + 1);
	return tag_check(y, event_tag(k), &k->start_mark);
}

static int node(yctx *y, yaml_event_t *ev, json_t **out, int depth, const char *const *path);

/* Scalar event -> json (or nothing when out is NULL). */
static int
scalar(yctx *y, yaml_event_t *ev, json_t **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (out == NULL)
		return PG_OK;
	if (y->typed && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL)
		*out = typed_scalar(v, n);
	else if (!y->typed && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL &&
		 (n == 0 || (n == 1 && v[0] == '~') || strcmp(v, "null") == 0))
		*out = json_null();
	else
		*out = json_stringn(v, n);
	return *out ? PG_OK : pg_err_set(y->err, PG_ENOMEM, "out of memory");
}

static int
mapping(yctx *y, json_t **out, int depth, const char *const *path)
{
	yaml_event_t k, v;
	json_t *obj = NULL, *val = NULL;
	int rc;

	if (out && (obj = json_object()) == NULL)
		return pg_err_set(y->err, PG_ENOMEM, "out of memory");
	for (;;) {
		json_t **vp = NULL;
		const char *const *sub = NULL;

		if ((rc = next(y, &k)) != PG_OK)
			goto out;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			break;
		}
		if (k.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&k);
			rc = pg_err_set(y->err, PG_EINVAL,
					"unsupported YAML: non-scalar mapping key");
			goto out;
		}
		if ((rc = key_check(y, &k)) != PG_OK) {
			yaml_event_delete(&k);
			goto out;
		}
		if (path && *path) {
			/* Searching: descend only into the key on the path. */
			if (out && strcmp((const char *)k.data.scalar.value, *path) == 0) {
				json_decref(*out); /* a repeated key: the last one wins */
				*out = NULL;
				vp = out;
				sub = path + 1;
			}
		} else if (out) {
			vp = &val;
		}
		if ((rc = next(y, &v)) != PG_OK) {
			yaml_event_delete(&k);
			goto out;
		}
		val = NULL;
		rc = node(y, &v, vp, depth + 1, sub);
		if (rc == PG_OK && path && *path && vp != NULL) {
			/* found: the subtree went straight to *out */
		} else if (rc == PG_OK && vp == &val && obj && val) {
			if (json_object_setn_new(obj, (const char *)k.data.scalar.value,
						 k.data.scalar.length, val) != 0)
				rc = pg_err_set(y->err, PG_ENOMEM, "out of memory");
			val = NULL;
		}
		json_decref(val);
		yaml_event_delete(&k);
		if (rc != PG_OK)
			goto out;
	}
	if (out && !(path && *path)) {
		*out = obj;
		obj = NULL;
	}
	rc = PG_OK;
out:
	json_decref(obj);
	return rc;
}

static int
sequence(yctx *y, json_t **out, int depth)
{
	yaml_event_t ev;
	json_t *arr = NULL, *val = NULL;
	int rc;

	if (out && (arr = json_array()) == NULL)
		return pg_err_set(y->err, PG_ENOMEM, "out of memory");
	for (;;) {
		if ((rc = next(y, &ev)) != PG_OK)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		val = NULL;
		rc = node(y, &ev, out ? &val : NULL, depth + 1, NULL);
		if (rc == PG_OK && arr && val && json_array_append_new(arr, val) != 0)
			rc = pg_err_set(y->err, PG_ENOMEM, "out of memory");
		else
			val = NULL;
		if (rc != PG_OK)
			goto out;
	}
	if (out) {
		*out = arr;
		arr = NULL;
	}
	rc = PG_OK;
out:
	json_decref(arr);
	return rc;
}

/* Consume the node that starts with ev (which this function deletes). */
static int
node(yctx *y, yaml_event_t *ev, json_t **out, int depth, const char *const *path)
{
	int rc;

	if (depth > PG_HELM_YAML_DEPTH_MAX) {
		yaml_event_delete(ev);
		return pg_err_set(y->err, PG_ETOOBIG, "YAML nested deeper than %d levels",
				  PG_HELM_YAML_DEPTH_MAX);
	}
	if (++y->nodes > PG_HELM_YAML_NODES_MAX) {
		yaml_event_delete(ev);
		return pg_err_set(y->err, PG_ETOOBIG, "YAML has more than %d nodes",
				  PG_HELM_YAML_NODES_MAX);
	}
	rc = tag_check(y, event_tag(ev), &ev->start_mark);
	if (rc != PG_OK) {
		yaml_event_delete(ev);
		return rc;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		rc = (path && *path) ? PG_OK : scalar(y, ev, out);
		break;
	case YAML_MAPPING_START_EVENT:
		rc = mapping(y, out, depth, path);
		break;
	case YAML_SEQUENCE_START_EVENT:
		rc = sequence(y, (path && *path) ? NULL : out, depth);
		break;
	case YAML_ALIAS_EVENT:
		rc = pg_err_set(y->err, PG_EINVAL, "unsupported YAML: aliases");
		break;
	default:
		rc = pg_err_set(y->err, PG_EINVAL, "invalid YAML: unexpected event");
		break;
	}
	yaml_event_delete(ev);
	return rc;
}

int
pg_helm_yaml_load(json_t **out, const char *text, size_t len, int typed, const char *const *path,
		  pg_err *err)
{
	yctx y;
	yaml_event_t ev;
	json_t *root = NULL;
	int rc = PG_OK, done = 0;

	*out = NULL;
	memset(&y, 0, sizeof(y));
	y.typed = typed;
	y.err = err;
	if (!yaml_parser_initialize(&y.p))
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
	while (!done && rc == PG_OK) {
		if ((rc = next(&y, &ev)) != PG_OK)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			/* Only the first document counts, as for yaml.Unmarshal. */
			yaml_event_delete(&ev);
			done = 1;
			break;
		default:
			rc = node(&y, &ev, &root, 0, path);
			break;
		}
	}
	yaml_parser_delete(&y.p);
	if (rc != PG_OK) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return PG_OK;
}

int
pg_helm_yaml_load_all(json_t **out, const char *text, size_t len, int typed, int strict,
		      pg_err *err)
{
	yctx y;
	yaml_event_t ev;
	json_t *docs = json_array(), *doc = NULL;
	int rc = PG_OK, done = 0;

	*out = NULL;
	if (docs == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	memset(&y, 0, sizeof(y));
	y.typed = typed;
	y.strict = strict;
	y.err = err;
	if (!yaml_parser_initialize(&y.p)) {
		json_decref(docs);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
	while (!done && rc == PG_OK) {
		if ((rc = next(&y, &ev)) != PG_OK)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			/* every document, empty ones as null: the caller decides */
			if (json_array_append_new(docs, doc ? doc : json_null()) != 0)
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			doc = NULL;
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			done = 1;
			break;
		default:
			if (doc != NULL) {
				yaml_event_delete(&ev);
				rc = pg_err_set(err, PG_EINVAL,
						"invalid YAML: two roots in one document");
				break;
			}
			rc = node(&y, &ev, &doc, 0, NULL);
			break;
		}
	}
	yaml_parser_delete(&y.p);
	json_decref(doc);
	if (rc != PG_OK) {
		json_decref(docs);
		return rc;
	}
	*out = docs;
	return PG_OK;
}

int
pg_helm_yaml_to_json(json_t **out, const char *text, size_t len, pg_err *err)
{
	return pg_helm_yaml_load(out, text, len, 1, NULL, err);
}
