/* decide internals shared by its files. */
#ifndef PG_DECIDE_INT_H
#define PG_DECIDE_INT_H

#include "decide/decide.h"
/* The decision reads the decoded review's fields directly (struct
 * pg_review); no other room does. */
#include "admission/admission_int.h"

struct pg_decision {
	pg_review *rv;
	pg_policy *pol;
	pg_refs refs;
	pg_refdec *d;
	size_t n;
	bool exempt;      /* exempt namespace: no checks */
	bool skipped;     /* not checked: DELETE/CONNECT, a kind we do not
			     read, an UPDATE whose references are unchanged */
	int malformed;    /* PG_OK, or why the object itself is denied (a
			     wrong-typed field, too many references, ...):
			     the reason is in note */
	char *note;       /* why skipped/exempt, for the message */
};

#endif
