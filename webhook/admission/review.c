/*
 * admission/review — decoding of AdmissionReview requests.  The body is
 * parsed exactly once, here; everything later reads the jansson tree.
 * Never trusts the shape: every field is type-checked before use.
 *
 * A body the parser refuses for one of its own limits (nesting depth, the
 * arena bound) or for JSON it does not support (duplicate keys, NUL in
 * strings, numbers past 64 bits) may still be an AdmissionReview: a bounded
 * pre-scan then reads its uid, so that it is answered — denied — rather
 * than refused with HTTP 400, which `failurePolicy: Ignore` would admit.
 */
#include "jsonmem/jsonmem.h"
#include "admission/admission_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

/* Arena bound for parsing len bytes: jansson keeps a node (~50 B) per
 * value and the strings; 24x the text plus a chunk covers the worst
 * shapes (arrays of 1-byte numbers) with room. */
#define REVIEW_ARENA_MAX(len) ((size_t)(len)*24 + ((size_t)256 << 10))

/* What v is, for a deny reason, when it is not an object; NULL if it is. */
static const char *
type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return NULL;
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return v ? "null" : "missing";
	}
}

/* The keys the pre-scan reads: root apiVersion, kind and request, and
 * request.uid and request.operation. */
enum { K_NONE, K_APIVERSION, K_KIND, K_REQUEST, K_UID, K_OPERATION, K_N };

typedef struct scan {
	const char *v[K_N]; /* string value, unescaped only; NULL if none */
	size_t n[K_N];
	unsigned seen; /* keys met (a second one makes the body unreadable) */
} scan;

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static bool
hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The string at s[i] == '"'; *end is one past its closing quote, *esc says
 * whether it has escapes.  -1 when it is not a JSON string. */
static int
scan_string(const char *s, size_t len, size_t i, size_t *end, bool *esc)
{
	size_t k;

	*esc = false;
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"') {
			*end = i + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		*esc = true;
		if (++i >= len)
			return -1;
		if (s[i] == 'u') {
			for (k = 1; k <= 4; k++)
				if (i + k >= len || !hex(s[i + k]))
					return -1;
			i += 4;
		} else if (strchr("\"\\/bfnrt", s[i]) == NULL || s[i] == '\0') {
			return -1;
		}
	}
	return -1;
}

static bool
digits(const char *s, size_t len, size_t *i)
{
	size_t st = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > st;
}

/* A number or true/false/null at s[i]; *end one past it.  -1 if neither. */
static int
scan_scalar(const char *s, size_t len, size_t i, size_t *end)
{
	static const char *const lit[] = {"true", "false", "null"};
	size_t k;

	for (k = 0; k < 3; k++)
		if (len - i >= strlen(lit[k]) && memcmp(s + i, lit[k], strlen(lit[k])) == 0) {
			*end = i + strlen(lit[k]);
			return 0;
		}
	if (s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (!digits(s, len, &i))
		return -1;
	if (i < len && s[i] == '.' && (i++, !digits(s, len, &i)))
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digits(s, len, &i))
			return -1;
	}
	*end = i;
	return 0;
}

static int
key_of(const char *k, size_t n, size_t depth, bool in_request)
{
	static const struct {
		const char *name;
		int key;
		bool request;
	} t[] = {
	    {"apiVersion", K_APIVERSION, false}, {"kind", K_KIND, false},
	    {"request", K_REQUEST, false},	 {"uid", K_UID, true},
	    {"operation", K_OPERATION, true},
	};
	size_t i;

	if (!(depth == 1 || (depth == 2 && in_request)))
		return K_NONE;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].request == (depth == 2) && strlen(t[i].name) == n &&
		    memcmp(t[i].name, k, n) == 0)
			return t[i].key;
	return K_NONE;
}

/* A key with escapes, decoded when it is short ASCII (all the keys read
 * are): a key that spells one of them with escapes is that key, as for
 * jansson.  false when it cannot be one of them.  s is a valid JSON string
 * body (scan_string checked it). */
static bool
unescape_key(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		if (c == '\\') {
			c = (unsigned char)s[++i];
			if (c == 'u') {
				char hx[5] = {s[i + 1], s[i + 2], s[i + 3], s[i + 4], '\0'};

				c = (unsigned)strtoul(hx, NULL, 16);
				i += 4;
			} else {
				c = c == 'b'   ? '\b'
				    : c == 'f' ? '\f'
				    : c == 'n' ? '\n'
				    : c == 'r' ? '\r'
				    : c == 't' ? '\t'
					       : c;
			}
		}
		if (c == 0 || c >= 0x80 || o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	*n = o;
	return true;
}

/*
 * The pre-scan: checks that the whole body is JSON whatever its depth
 * (iterative, one bit of stack per level: at most len/8 + 1 bytes, no
 * allocation per value) with an object at its root, and reads the keys
 * above when their values are strings without escapes (keys written with
 * escapes are decoded).  A key it reads that appears twice makes the body
 * unreadable: PG_EINVAL.
 */
static int
prescan(scan *sc, const char *s, size_t len)
{
	unsigned char *stack = NULL; /* bit per level: 1 object, 0 array */
	size_t depth = 0, i, end;
	bool in_request = false, esc, obj;
	int rc = PG_EINVAL, pending = K_NONE, key;
	char c;

	memset(sc, 0, sizeof(*sc));
	if ((stack = calloc(len / 8 + 1, 1)) == NULL)
		return PG_ENOMEM;
	i = skip_ws(s, len, 0);
	if (i >= len || s[i] != '{')
		goto out;
value:
	i = skip_ws(s, len, i);
	if (i >= len)
		goto out;
	c = s[i];
	key = pending;
	pending = K_NONE;
	if (c == '{' || c == '[') {
		if (depth / 8 >= len / 8 + 1)
			goto out;
		if (c == '{')
			stack[depth / 8] = (unsigned char)(stack[depth / 8] | (1u << (depth % 8)));
		else
			stack[depth / 8] = (unsigned char)(stack[depth / 8] & ~(1u << (depth % 8)));
		depth++;
		if (c == '{' && key == K_REQUEST && depth == 2)
			in_request = true;
		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == (c == '{' ? '}' : ']')) {
			i++;
			goto pop;
		}
		if (c == '{')
			goto key;
		goto value;
	}
	if (c == '"') {
		if (scan_string(s, len, i, &end, &esc) != 0)
			goto out;
		if (key != K_NONE && !esc) {
			sc->v[key] = s + i + 1;
			sc->n[key] = end - i - 2;
		}
		i = end;
		goto after;
	}
	if (scan_scalar(s, len, i, &end) != 0)
		goto out;
	/* jansson drops a NUL byte that follows a number or literal (its
	 * stream forgets the character it un-reads): accept what it accepts */
	if (end < len && s[end] == '\0')
		end++;
	i = end;
	goto after;
key:
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != '"' || scan_string(s, len, i, &end, &esc) != 0)
		goto out;
	if (esc) {
		char k[16];
		size_t kn;

		key = unescape_key(k, sizeof(k), &kn, s + i + 1, end - i - 2)
			  ? key_of(k, kn, depth, in_request)
			  : K_NONE;
	} else {
		key = key_of(s + i + 1, end - i - 2, depth, in_request);
	}
	if (key != K_NONE) {
		if (sc->seen & (1u << key))
			goto out;
		sc->seen |= 1u << key;
	}
	i = skip_ws(s, len, end);
	if (i >= len || s[i] != ':')
		goto out;
	i++;
	pending = key;
	goto value;
pop:
	depth--;
	if (depth <= 1)
		in_request = false;
after:
	if (depth == 0) {
		rc = skip_ws(s, len, i) == len ? PG_OK : PG_EINVAL;
		goto out;
	}
	i = skip_ws(s, len, i);
	if (i >= len)
		goto out;
	obj = ((unsigned)stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1u;
	if (s[i] == ',') {
		i++;
		if (obj)
			goto key;
		goto value;
	}
	if (s[i] == (obj ? '}' : ']')) {
		i++;
		goto pop;
	}
out:
	free(stack);
	return rc;
}

static bool
scanned_is(const scan *sc, int k, const char *want)
{
	return sc->v[k] && sc->n[k] == strlen(want) && memcmp(sc->v[k], want, sc->n[k]) == 0;
}

/*
 * The parser refused body with je: when that is one of its own limits (or
 * JSON it does not support) and the pre-scan finds an AdmissionReview with
 * a uid, fill rv from the scan with `undecoded` set and return PG_OK;
 * otherwise PG_EINVAL (a body that is not an AdmissionReview).
 */
static int
undecodable(pg_review *rv, const char *body, size_t len, const json_error_t *je, size_t arena_max,
	    bool arena_failed)
{
	enum json_error_code jc = arena_failed ? json_error_out_of_memory
				  : je	       ? json_error_code(je)
					       : json_error_unknown;
	char why[512];
	scan sc;
	size_t need;
	char *p;
	int k;

	if (je == NULL) /* not parsed at all: larger than PG_REVIEW_MAX */
		(void)snprintf(
		    why, sizeof(why),
		    "AdmissionReview of %zu bytes is larger than provgate reads (%zu bytes)", len,
		    PG_REVIEW_MAX);
	else
		switch (jc) {
		case json_error_stack_overflow:
			(void)snprintf(why, sizeof(why),
				       "object nests deeper than %d levels, the parser's limit",
				       JSON_PARSER_MAX_DEPTH);
			break;
		case json_error_out_of_memory:
			(void)snprintf(
			    why, sizeof(why),
			    "object needs more memory to parse than its bound (%zu bytes for a "
			    "%zu-byte body)",
			    arena_max, len);
			break;
		case json_error_duplicate_key:
		case json_error_numeric_overflow:
		case json_error_null_byte_in_key:
		case json_error_null_character:
			(void)snprintf(why, sizeof(why), "object cannot be read: %s", je->text);
			break;
		default:
			return PG_EINVAL;
		}
	if (prescan(&sc, body, len) != PG_OK || !scanned_is(&sc, K_KIND, "AdmissionReview") ||
	    !(scanned_is(&sc, K_APIVERSION, "admission.k8s.io/v1") ||
	      scanned_is(&sc, K_APIVERSION, "admission.k8s.io/v1beta1")) ||
	    sc.v[K_UID] == NULL || sc.n[K_UID] == 0)
		return PG_EINVAL;
	need = sc.n[K_APIVERSION] + sc.n[K_UID] + sc.n[K_OPERATION] + 3;
	if ((rv->scanned = malloc(need)) == NULL)
		return PG_ENOMEM;
	p = rv->scanned;
	for (k = K_APIVERSION; k < K_N; k++) {
		const char **dst = k == K_APIVERSION  ? &rv->api_version
				   : k == K_UID	      ? &rv->uid
				   : k == K_OPERATION ? &rv->operation
						      : NULL;

		if (dst == NULL)
			continue;
		memcpy(p, sc.v[k] ? sc.v[k] : "", sc.n[k]);
		p[sc.n[k]] = '\0';
		/* JSON strings without escapes may still hold invalid UTF-8
		 * the parser never reached: they are echoed in JSON. */
		pg_utf8_clean(p);
		*dst = p;
		p += sc.n[k] + 1;
	}
	pg_utf8_clean(why);
	if ((rv->undecoded = pg_strdup(why)) == NULL)
		return PG_ENOMEM;
	rv->kind = rv->group = rv->ns = rv->name = rv->user = "";
	rv->object_type = "not read";
	return PG_OK;
}

int
pg_review_decode(pg_review **out, const char *body, size_t len, pg_err *err)
{
	int rc = PG_EINVAL;
	pg_review *rv = NULL;
	pg_arena *prev;
	json_error_t je;
	const json_t *req, *kind, *ui;
	const char *av, *k, *uid;

	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if (len > PG_REVIEW_MAX) {
		/* Not parsed; answered with a deny when its uid can be read
		 * (an HTTP error would be the failurePolicy's to decide). */
		rc = undecodable(rv, body, len, NULL, 0, false);
		if (rc == PG_OK) {
			*out = rv;
			rv = NULL;
		} else if (rc == PG_ENOMEM) {
			pg_err_set(err, PG_ENOMEM, "out of memory");
		} else {
			rc = PG_ETOOBIG;
			pg_err_set(err, PG_ETOOBIG, "AdmissionReview larger than %zu bytes",
				   PG_REVIEW_MAX);
		}
		goto out;
	}
	/* The tree lives exactly as long as the review: parse it into an arena
	 * freed with it.  jansson needs a small multiple of the text. */
	if ((rv->arena = pg_arena_new(REVIEW_ARENA_MAX(len))) == NULL) {
		free(rv);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	prev = pg_arena_use(rv->arena);
	rv->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	(void)pg_arena_use(prev);
	if (rv->root == NULL) {
		bool full = pg_arena_failed(rv->arena);

		/* what the failed parse allocated is of no further use */
		pg_arena_free(rv->arena);
		rv->arena = NULL;
		rc = undecodable(rv, body, len, &je, REVIEW_ARENA_MAX(len), full);
		if (rc == PG_OK) {
			*out = rv;
			rv = NULL;
			goto out;
		}
		if (rc == PG_ENOMEM) {
			pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		rc = PG_EINVAL;
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: invalid JSON at line %d: %s",
			   je.line, je.text);
		goto out;
	}
	if (!json_is_object(rv->root)) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: not a JSON object");
		goto out;
	}
	av = pg_json_str(rv->root, "apiVersion");
	k = pg_json_str(rv->root, "kind");
	if (k == NULL || strcmp(k, "AdmissionReview") != 0) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: kind is %s", k ? k : "missing");
		goto out;
	}
	if (av == NULL || (strcmp(av, "admission.k8s.io/v1") != 0 &&
			   strcmp(av, "admission.k8s.io/v1beta1") != 0)) {
		pg_err_set(err, PG_EINVAL,
			   "unsupported AdmissionReview apiVersion %s (want admission.k8s.io/v1 or "
			   "v1beta1)",
			   av ? av : "(missing)");
		goto out;
	}
	rv->api_version = av;
	req = json_object_get(rv->root, "request");
	if (!json_is_object(req)) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: no request");
		goto out;
	}
	uid = pg_json_str(req, "uid");
	if (uid == NULL || uid[0] == '\0') {
		pg_err_set(err, PG_EINVAL, "AdmissionReview request has no uid");
		goto out;
	}
	rv->uid = uid;
	kind = json_object_get(req, "kind");
	rv->kind = json_is_object(kind) ? pg_json_str(kind, "kind") : NULL;
	rv->group = json_is_object(kind) ? pg_json_str(kind, "group") : NULL;
	rv->kind = rv->kind ? rv->kind : "";
	rv->group = rv->group ? rv->group : "";
	rv->ns = pg_json_str(req, "namespace");
	rv->ns = rv->ns ? rv->ns : "";
	rv->name = pg_json_str(req, "name");
	rv->operation = pg_json_str(req, "operation");
	rv->operation = rv->operation ? rv->operation : "";
	ui = json_object_get(req, "userInfo");
	rv->user = json_is_object(ui) ? pg_json_str(ui, "username") : NULL;
	rv->user = rv->user ? rv->user : "";
	rv->object = json_object_get(req, "object");
	rv->object_type = type_name(rv->object);
	if (!json_is_object(rv->object))
		rv->object = NULL;
	rv->old_object = json_object_get(req, "oldObject");
	if (!json_is_object(rv->old_object))
		rv->old_object = NULL;
	/* CREATE of generateName objects has no request.name: use the
	 * object's metadata so the log still names something. */
	if (rv->name == NULL && rv->object) {
		const json_t *md = json_object_get(rv->object, "metadata");

		if (json_is_object(md))
			rv->name = pg_json_str(md, "name") ? pg_json_str(md, "name")
							   : pg_json_str(md, "generateName");
	}
	rv->name = rv->name ? rv->name : "";
	*out = rv;
	rv = NULL;
	rc = PG_OK;
out:
	pg_review_free(rv);
	return rc;
}

void
pg_review_free(pg_review *rv)
{
	if (rv == NULL)
		return;
	/* A tree parsed into the arena goes with it: walking it to drop each
	 * reference would free nothing (the review's nodes are never shared
	 * or changed; everything else reads them while rv lives). */
	if (!pg_arena_holds(rv->arena))
		json_decref(rv->root);
	pg_arena_free(rv->arena);
	free(rv->undecoded);
	free(rv->scanned);
	free(rv);
}

const char *
pg_review_uid(const pg_review *rv)
{
	return rv->uid;
}
const char *
pg_review_api_version(const pg_review *rv)
{
	return rv->api_version;
}
const char *
pg_review_kind(const pg_review *rv)
{
	return rv->kind;
}
const char *
pg_review_group(const pg_review *rv)
{
	return rv->group;
}
const json_t *
pg_review_old_object(const pg_review *rv)
{
	return rv->old_object;
}
const char *
pg_review_object_type(const pg_review *rv)
{
	return rv->object_type;
}
const char *
pg_review_undecoded(const pg_review *rv)
{
	return rv->undecoded;
}
const char *
pg_review_namespace(const pg_review *rv)
{
	return rv->ns;
}
const char *
pg_review_name(const pg_review *rv)
{
	return rv->name;
}
const char *
pg_review_operation(const pg_review *rv)
{
	return rv->operation;
}
const char *
pg_review_user(const pg_review *rv)
{
	return rv->user;
}
const json_t *
pg_review_object(const pg_review *rv)
{
	return rv->object;
}

int
pg_review_error_json(char **out, size_t *len, const char *msg)
{
	json_t *o = json_pack("{s:s, s:i}", "error", msg, "code", 400);
	char *s;

	if (o == NULL)
		return PG_ENOMEM;
	s = pg_json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return PG_ENOMEM;
	*out = s;
	if (len)
		*len = strlen(s);
	return PG_OK;
}
