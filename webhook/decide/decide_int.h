/* decide internals shared by its files. */
#ifndef PG_DECIDE_INT_H
#define PG_DECIDE_INT_H

#include "decide/decide.h"
/* The decoded review is read through admission.h's pg_review_* accessors;
 * no room reads another room's internals. */
#include "admission/admission.h"

struct pg_decision {
	pg_review *rv;
	pg_policy *pol;
	pg_refs refs;
	pg_refdec *d;
	size_t n;
	bool exempt;   /* exempt namespace: no checks */
	bool skipped;  /* not checked: DELETE/CONNECT, a kind we do not
			  read, an UPDATE whose references are unchanged */
	int malformed; /* PG_OK, or why the object itself is denied (a
			  wrong-typed field, too many references, ...):
			  the reason is in note */
	char *note;    /* why skipped/exempt, for the message */
};

/* How a reference is named in messages, logs and cache keys. */
static inline const char *
ref_label(const pg_refent *e)
{
	if (e->image)
		return e->image->normalized;
	if (e->chart && e->chart->kind == PG_CHART_RELEASE)
		return e->chart->location;
	if (e->chart && e->chart->source == NULL)
		return e->chart->location;
	return e->raw;
}

/* Match one reference to its rule and settle what policy alone can
 * (decide.c); leaves it PENDING otherwise. */
void pg_decide__match_one(pg_decision *d, pg_refdec *rd);

/* decide/advice.c: deny messages a person can act on.  Whether
 * d->d[i] repeats an earlier reference (same reference, state and reason:
 * told once); " [at PATH...; rule R; trust T] — what to do" for d->d[i]
 * (every place it is written, its repeats' included); " (policy: where it
 * lives)".  Each appends to m; PG_ETOOBIG when m is full. */
bool pg__advice_repeat(const pg_decision *d, size_t i);
int pg__advice_detail(struct pg_buf *m, const pg_decision *d, size_t i);
int pg__advice_policy(struct pg_buf *m, const pg_decision *d);
/* The same detail appended to the string in buf (n bytes), cut to fit
 * (valid UTF-8 either way): audit-mode warnings. */
void pg__advice_append(char *buf, size_t n, const pg_decision *d, size_t i);
/* Log-line fields of a reference (best effort): "path", its field path,
 * and "places", how many places the object writes it when more than one. */
struct pg_jw;
void pg__advice_log_fields(struct pg_jw *w, const pg_refent *e);

/* Opens a log line's object in w and writes its head: time, msg, and the
 * review's uid, namespace, kind, name, operation and user. */
void pg_decide__log_head(struct pg_jw *w, const char *msg, const pg_decision *d);

#endif
