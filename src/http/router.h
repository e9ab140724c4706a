/* router.h — matches a method and a path against the route table.
 * Layer: http. Patterns are absolute paths whose segments are literals or `{name}` parameters
 * (name matches [a-z][a-z0-9_]*); a parameter matches one non-empty segment. Literal segments win
 * over parameters at the same depth, whatever their order in the table. The router is built once
 * at start from a borrowed route table and is read-only afterwards (safe to share between
 * threads). Parameter values are percent-decoded into the match structure. */
#ifndef SIFA_HTTP_ROUTER_H
#define SIFA_HTTP_ROUTER_H

#include "base/common.h"

struct sifa_req;

/* Handler contract: sends exactly one response (now, or later from a callback) and returns 0,
 * or returns a negative status with err filled and sends nothing (the dispatcher then sends the
 * error envelope). */
typedef int (*sifa_handler_fn)(struct sifa_req *req, struct sifa_error *err);

enum sifa_route_flags {
    SIFA_ROUTE_JSON_BODY = 1u << 0, /* body must be application/json and is parsed before the handler */
    SIFA_ROUTE_RAW_BODY = 1u << 1,  /* body passed as bytes */
    SIFA_ROUTE_NO_LOG = 1u << 2,    /* not written to the access log (health probes) */
};

struct sifa_route {
    const char *method;     /* "GET", "POST", … */
    const char *pattern;    /* "/api/v1/jobs/{id}" */
    sifa_handler_fn handler;
    const char *permission; /* "public", or the permission the caller needs; never NULL */
    size_t max_body;        /* bytes; 0 means no body allowed beyond the global limit check */
    unsigned flags;         /* enum sifa_route_flags */
    const char *name;       /* metric label, e.g. "jobs.get" */
};

#define SIFA_ROUTE_MAX_PARAMS 8
#define SIFA_ROUTE_MAX_PATH 2048
#define SIFA_ROUTE_MAX_SEGMENTS 32

struct sifa_route_param {
    const char *name; /* borrowed from the router */
    char *value;      /* points into the match's buffer, NUL-terminated, percent-decoded */
    size_t len;
};

struct sifa_route_match {
    const struct sifa_route *route; /* borrowed from the table */
    size_t nparams;
    struct sifa_route_param params[SIFA_ROUTE_MAX_PARAMS];
    char allow[96];                 /* for 405: "GET, POST" — methods the path accepts */
    char buf[SIFA_ROUTE_MAX_PATH + 1];
};

struct sifa_router;

/* Builds a router over routes[0..count) (borrowed for the router's life). Refuses (SIFA_EINVALID,
 * err says which route) a malformed pattern, a duplicate method+pattern, a NULL handler or
 * permission, or more than SIFA_ROUTE_MAX_PARAMS parameters. *ret_router is new. */
int sifa_router_new(const struct sifa_route *routes, size_t count, struct sifa_router **ret_router,
                    struct sifa_error *err);
void sifa_router_free(struct sifa_router *router);

enum sifa_route_result { SIFA_ROUTE_FOUND = 0, SIFA_ROUTE_NOT_FOUND = 1, SIFA_ROUTE_METHOD_NOT_ALLOWED = 2 };

/* Matches method and path (path without the query string; not NUL-terminated; may hold any
 * bytes). HEAD matches GET routes. Returns enum sifa_route_result and fills *ret (route and
 * params when found, allow when 405). A path longer than SIFA_ROUTE_MAX_PATH, with an invalid
 * percent-escape, an encoded NUL or more segments than the maximum is NOT_FOUND. */
int sifa_router_match(const struct sifa_router *router, const char *method, size_t method_len, const char *path,
                      size_t path_len, struct sifa_route_match *ret);

/* Value of parameter name in m, or NULL. */
const char *sifa_route_match_param(const struct sifa_route_match *m, const char *name);

/* The table as given, for enumerating routes (OpenAPI, permission tests). */
const struct sifa_route *sifa_router_routes(const struct sifa_router *router, size_t *ret_count);

#endif
