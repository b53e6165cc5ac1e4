/*
 * fetch/curl_lazy — libcurl, loaded when it is first used.
 *
 * libcurl brings some 30 shared libraries of its own (GnuTLS via librtmp,
 * Kerberos, LDAP, SASL, libssh2, libidn2, brotli, zstd, ...), all bound
 * at load (BIND_NOW): linked the ordinary way they were most of the start
 * of every provgate process (perf, LD_DEBUG=statistics: ~20 ms of a 30 ms
 * start on a 2-core VM), and `verify-chart` of a local chart, `policy
 * check` or `review` of a plain object never touch the network.  So the
 * executable is not linked against libcurl: the functions fetch.c calls are
 * defined here, hidden (never exported, so libcurl's own calls bind to its
 * own definitions), and the first call that needs libcurl opens
 * libcurl.so.4 (the soname the ordinary link would name, found the same
 * way) once, resolves them all, and runs the curl_global_init that
 * pg_fetch_global_init asked for.  libcurl >= 7.84 initialises thread-
 * safely; the load itself runs once under pthread_once.
 *
 * If libcurl cannot be loaded, stderr says why (once) and every call fails
 * as libcurl itself fails (NULL handles, CURLE_FAILED_INIT).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#define CURL_DISABLE_TYPECHECK
#pragma GCC visibility push(hidden)
#include <curl/curl.h>

#define LIBCURL_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *lib;
static long init_flags = CURL_GLOBAL_DEFAULT;
static bool init_asked;
static CURLcode init_rc = CURLE_FAILED_INIT;

/* dlsym hands back void *; a function pointer is copied out of it. */
#define RESOLVE(field, name)                                                                       \
	do {                                                                                       \
		void *s_ = dlsym(lib, name);                                                       \
		if (s_ == NULL)                                                                    \
			missing = name;                                                            \
		else                                                                               \
			memcpy(&fn.field, &s_, sizeof(s_));                                        \
	} while (0)

static void
load(void)
{
	const char *missing = NULL;

	if ((lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "provgate: cannot load %s: %s\n", LIBCURL_SONAME, dlerror());
		return;
	}
	RESOLVE(global_init, "curl_global_init");
	RESOLVE(global_cleanup, "curl_global_cleanup");
	RESOLVE(easy_init, "curl_easy_init");
	RESOLVE(easy_cleanup, "curl_easy_cleanup");
	RESOLVE(easy_reset, "curl_easy_reset");
	RESOLVE(easy_perform, "curl_easy_perform");
	RESOLVE(easy_setopt, "curl_easy_setopt");
	RESOLVE(easy_getinfo, "curl_easy_getinfo");
	RESOLVE(easy_strerror, "curl_easy_strerror");
	RESOLVE(free, "curl_free");
	RESOLVE(slist_append, "curl_slist_append");
	RESOLVE(slist_free_all, "curl_slist_free_all");
	RESOLVE(url, "curl_url");
	RESOLVE(url_cleanup, "curl_url_cleanup");
	RESOLVE(url_get, "curl_url_get");
	RESOLVE(url_set, "curl_url_set");
	if (missing) {
		fprintf(stderr, "provgate: %s has no %s\n", LIBCURL_SONAME, missing);
		dlclose(lib);
		lib = NULL;
		return;
	}
	init_rc = fn.global_init(init_flags);
	if (init_rc != CURLE_OK)
		fprintf(stderr, "provgate: curl_global_init failed: %s\n",
			fn.easy_strerror(init_rc));
}

/* libcurl loaded and initialised (loading it on the first call). */
static bool
ready(void)
{
	(void)pthread_once(&once, load);
	return lib != NULL && init_rc == CURLE_OK;
}

CURLcode
curl_global_init(long flags)
{
	/* from main, before threads: only remembered */
	init_flags = flags;
	init_asked = true;
	return CURLE_OK;
}

void
curl_global_cleanup(void)
{
	if (init_asked && lib != NULL && init_rc == CURLE_OK)
		fn.global_cleanup();
}

CURL *
curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void
curl_easy_cleanup(CURL *c)
{
	if (c != NULL && ready())
		fn.easy_cleanup(c);
}

void
curl_easy_reset(CURL *c)
{
	if (c != NULL && ready())
		fn.easy_reset(c);
}

CURLcode
curl_easy_perform(CURL *c)
{
	return ready() ? fn.easy_perform(c) : CURLE_FAILED_INIT;
}

/* The one argument after the option, by the option's type (curl.h:
 * CURLOPTTYPE_*): passed on with the type it was passed with. */
CURLcode
curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	CURLcode rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(c, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(c, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes one pointer. */
CURLcode
curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = fn.easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *
curl_easy_strerror(CURLcode code)
{
	return ready() ? fn.easy_strerror(code) : "libcurl is not available";
}

void
curl_free(void *p)
{
	if (p != NULL && ready())
		fn.free(p);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void
curl_slist_free_all(struct curl_slist *l)
{
	if (l != NULL && ready())
		fn.slist_free_all(l);
}

CURLU *
curl_url(void)
{
	return ready() ? fn.url() : NULL;
}

void
curl_url_cleanup(CURLU *u)
{
	if (u != NULL && ready())
		fn.url_cleanup(u);
}

CURLUcode
curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return ready() ? fn.url_get(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return ready() ? fn.url_set(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

#pragma GCC visibility pop
