/* fuzz_router.c — libFuzzer target for src/http/router.c. The input is "METHOD PATH": bytes up
 * to the first space are the method, the rest the path (any bytes, not NUL-terminated). Matches
 * against a fixed table shaped like sifa's API and checks the match's invariants: found routes
 * carry exactly their parameters as NUL-terminated strings of the stated length, a 405 lists at
 * least one method, a 404 lists none. */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int h_ok(struct sifa_req *req, struct sifa_error *err)
{
    (void)req;
    (void)err;
    return 0;
}

static const struct sifa_route routes[] = {
    {"GET", "/healthz", h_ok, "public", 0, SIFA_ROUTE_NO_LOG, "healthz"},
    {"GET", "/metrics", h_ok, "public", 0, SIFA_ROUTE_NO_LOG, "metrics"},
    {"GET", "/api/v1/jobs/{id}", h_ok, "jobs.read", 0, 0, "jobs.get"},
    {"DELETE", "/api/v1/jobs/{id}", h_ok, "jobs.write", 0, 0, "jobs.cancel"},
    {"GET", "/api/v1/modules/{code}/records", h_ok, "records.read", 0, 0, "records.list"},
    {"POST", "/api/v1/modules/{code}/records", h_ok, "records.write", 65536, SIFA_ROUTE_JSON_BODY, "records.create"},
    {"GET", "/api/v1/modules/{code}/records/export", h_ok, "records.export", 0, 0, "records.export"},
    {"GET", "/api/v1/modules/{code}/records/{id}", h_ok, "records.read", 0, 0, "records.get"},
    {"PATCH", "/api/v1/modules/{code}/records/{id}", h_ok, "records.write", 65536, SIFA_ROUTE_JSON_BODY,
     "records.update"},
    {"POST", "/api/v1/modules/{code}/records/{id}/transitions/{name}", h_ok, "records.write", 4096,
     SIFA_ROUTE_JSON_BODY, "records.transition"},
    {"GET", "/api/v1/modules/builtin/records", h_ok, "records.read", 0, 0, "records.builtin"},
    {"PUT", "/api/v1/users/me", h_ok, "public", 1024, SIFA_ROUTE_JSON_BODY, "users.me"},
    {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", h_ok, "public", 0, 0, "eight"},
};

static struct sifa_router *router;

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (router == NULL) {
        struct sifa_error err = {0};
        if (sifa_router_new(routes, SIFA_ARRAY_SIZE(routes), &router, &err) < 0) {
            fprintf(stderr, "fuzz_router: %s\n", err.message);
            abort();
        }
    }
    const char *in = (const char *)data;
    const char *sp = memchr(in, ' ', size);
    size_t mlen = sp != NULL ? (size_t)(sp - in) : 0;
    const char *path = sp != NULL ? sp + 1 : in;
    size_t plen = sp != NULL ? size - mlen - 1 : size;

    /* Copies, so ASan catches any read past the lengths given. */
    char *method = sifa_xstrndup(in, mlen);
    char *p = sifa_xmalloc(plen);
    memcpy(p, path, plen);
    struct sifa_route_match *m = sifa_xmalloc(sizeof(*m));

    int r = sifa_router_match(router, method, mlen, p, plen, m);
    switch (r) {
    case SIFA_ROUTE_FOUND:
        check(m->route != NULL && m->nparams <= SIFA_ROUTE_MAX_PARAMS);
        for (size_t i = 0; i < m->nparams; i++) {
            check(m->params[i].len > 0 && strlen(m->params[i].value) == m->params[i].len);
            check(sifa_route_match_param(m, m->params[i].name) != NULL);
        }
        break;
    case SIFA_ROUTE_METHOD_NOT_ALLOWED:
        check(m->route == NULL && m->allow[0] != '\0');
        break;
    case SIFA_ROUTE_NOT_FOUND:
        check(m->route == NULL && m->allow[0] == '\0');
        break;
    default:
        abort();
    }
    free(m);
    free(p);
    free(method);
    return 0;
}
