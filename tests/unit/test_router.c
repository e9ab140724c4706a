/* test_router.c — unit tests for src/http/router.c: building (pattern validation, duplicates),
 * matching (parameters, percent-decoding, literal over parameter precedence with backtracking),
 * HEAD, 405 Allow lists, and the path limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "http/router.h"

static int h_ok(struct sifa_req *req, struct sifa_error *err)
{
    (void)req;
    (void)err;
    return 0;
}

static const struct sifa_route api_routes[] = {
    {"GET", "/healthz", h_ok, "public", 0, SIFA_ROUTE_NO_LOG, "healthz"},
    {"GET", "/metrics", h_ok, "public", 0, SIFA_ROUTE_NO_LOG, "metrics"},
    {"GET", "/api/v1/jobs/{id}", h_ok, "jobs.read", 0, 0, "jobs.get"},
    {"DELETE", "/api/v1/jobs/{id}", h_ok, "jobs.write", 0, 0, "jobs.cancel"},
    {"GET", "/api/v1/modules/{code}/records", h_ok, "records.read", 0, 0, "records.list"},
    {"POST", "/api/v1/modules/{code}/records", h_ok, "records.write", 65536, SIFA_ROUTE_JSON_BODY, "records.create"},
    {"GET", "/api/v1/modules/{code}/records/{id}", h_ok, "records.read", 0, 0, "records.get"},
    {"PATCH", "/api/v1/modules/{code}/records/{id}", h_ok, "records.write", 65536, SIFA_ROUTE_JSON_BODY,
     "records.update"},
    {"POST", "/api/v1/modules/{code}/records/{id}/transitions/{name}", h_ok, "records.write", 4096,
     SIFA_ROUTE_JSON_BODY, "records.transition"},
    /* Literal beside a parameter at the same depth, listed after it on purpose. */
    {"GET", "/api/v1/modules/{code}/records/export", h_ok, "records.export", 0, 0, "records.export"},
    {"GET", "/api/v1/modules/builtin/records", h_ok, "records.read", 0, 0, "records.builtin"},
    {"PUT", "/api/v1/users/me", h_ok, "public", 1024, SIFA_ROUTE_JSON_BODY, "users.me"},
    {"HEAD", "/api/v1/files/{id}", h_ok, "files.read", 0, 0, "files.head"},
    {"GET", "/api/v1/files/{id}", h_ok, "files.read", 0, 0, "files.get"},
    {"GET", "/", h_ok, "public", 0, 0, "root"},
};

struct fixture {
    struct sifa_router *router;
    struct sifa_route_match m;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sifa_error err = {0};
    int r = sifa_router_new(api_routes, SIFA_ARRAY_SIZE(api_routes), &f->router, &err);
    if (r < 0) {
        fprintf(stderr, "router: %s %s\n", err.code, err.message);
        sifa_error_release(&err);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sifa_router_free(f->router);
    free(f);
    return 0;
}

static int match(struct fixture *f, const char *method, const char *path)
{
    memset(&f->m, 0xA5, sizeof(f->m)); /* prove match fills everything it promises */
    return sifa_router_match(f->router, method, strlen(method), path, strlen(path), &f->m);
}

static void assert_route(struct fixture *f, const char *method, const char *path, const char *name)
{
    int r = match(f, method, path);
    if (r != SIFA_ROUTE_FOUND)
        fail_msg("%s %s: result %d, expected route %s", method, path, r, name);
    assert_string_equal(f->m.route->name, name);
}

static void test_static_routes(void **state)
{
    struct fixture *f = *state;
    assert_route(f, "GET", "/healthz", "healthz");
    assert_int_equal(f->m.nparams, 0);
    assert_ptr_equal(f->m.route, &api_routes[0]);
    assert_route(f, "GET", "/metrics", "metrics");
    assert_route(f, "GET", "/", "root");
    assert_int_equal(f->m.nparams, 0);
    assert_int_equal(match(f, "GET", "/nope"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/healthzz"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/health"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/HEALTHZ"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", ""), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "healthz"), SIFA_ROUTE_NOT_FOUND);
    assert_null(f->m.route);
    assert_int_equal(f->m.nparams, 0);
    assert_string_equal(f->m.allow, "");
}

static void test_params_extracted(void **state)
{
    struct fixture *f = *state;
    assert_route(f, "POST", "/api/v1/modules/mediation/records/1234/transitions/close", "records.transition");
    assert_int_equal(f->m.nparams, 3);
    assert_string_equal(f->m.params[0].name, "code");
    assert_string_equal(f->m.params[0].value, "mediation");
    assert_int_equal(f->m.params[0].len, 9);
    assert_string_equal(f->m.params[1].name, "id");
    assert_string_equal(f->m.params[1].value, "1234");
    assert_int_equal(f->m.params[1].len, 4);
    assert_string_equal(f->m.params[2].name, "name");
    assert_string_equal(f->m.params[2].value, "close");
    assert_string_equal(sifa_route_match_param(&f->m, "code"), "mediation");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "1234");
    assert_string_equal(sifa_route_match_param(&f->m, "name"), "close");
    assert_null(sifa_route_match_param(&f->m, "nope"));
    assert_null(sifa_route_match_param(&f->m, "i"));

    assert_route(f, "GET", "/api/v1/jobs/42", "jobs.get");
    assert_int_equal(f->m.nparams, 1);
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "42");
    assert_route(f, "DELETE", "/api/v1/jobs/42", "jobs.cancel");

    /* A parameter is exactly one segment. */
    assert_int_equal(match(f, "GET", "/api/v1/jobs"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/42/extra"), SIFA_ROUTE_NOT_FOUND);
}

static void test_percent_decoding(void **state)
{
    struct fixture *f = *state;
    /* UTF-8 for 调解 and an encoded slash, which stays inside its segment. */
    assert_route(f, "GET", "/api/v1/modules/%E8%B0%83%e8%a7%a3/records/a%2Fb%20c", "records.get");
    assert_string_equal(sifa_route_match_param(&f->m, "code"), "调解");
    assert_int_equal(f->m.params[0].len, strlen("调解"));
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "a/b c");
    assert_int_equal(f->m.params[1].len, 5);
    /* '+' is not a space in a path. */
    assert_route(f, "GET", "/api/v1/jobs/a+b", "jobs.get");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "a+b");
    /* Literal segments compare after decoding. */
    assert_route(f, "GET", "/%68ealthz", "healthz");

    assert_int_equal(match(f, "GET", "/api/v1/jobs/%"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/%4"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/%zz"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/%4g"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/a%00b"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/%"), SIFA_ROUTE_NOT_FOUND);
    /* Dot segments, raw or encoded, never reach a parameter. */
    assert_int_equal(match(f, "GET", "/api/v1/jobs/.."), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs/%2E"), SIFA_ROUTE_NOT_FOUND);
    assert_route(f, "GET", "/api/v1/jobs/...", "jobs.get");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "...");

    /* A raw NUL in the path (the path is not NUL-terminated and may hold any byte). */
    static const char raw_nul[] = "/api/v1/jobs/a\0b";
    assert_int_equal(sifa_router_match(f->router, "GET", 3, raw_nul, sizeof(raw_nul) - 1, &f->m),
                     SIFA_ROUTE_NOT_FOUND);
    /* Only path_len bytes are read. */
    assert_int_equal(sifa_router_match(f->router, "GET", 3, "/healthzGARBAGE", 8, &f->m), SIFA_ROUTE_FOUND);
    assert_string_equal(f->m.route->name, "healthz");
}

static void test_literal_beats_param(void **state)
{
    struct fixture *f = *state;
    /* "export" is a literal beside {id}, declared after it. */
    assert_route(f, "GET", "/api/v1/modules/mediation/records/export", "records.export");
    assert_string_equal(sifa_route_match_param(&f->m, "code"), "mediation");
    assert_int_equal(f->m.nparams, 1);
    assert_route(f, "GET", "/api/v1/modules/mediation/records/exports", "records.get");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "exports");
    /* "builtin" is a literal beside {code}. */
    assert_route(f, "GET", "/api/v1/modules/builtin/records", "records.builtin");
    assert_int_equal(f->m.nparams, 0);
    /* Backtracking: nothing under the literal "builtin" has /records/{id}, the parameter does. */
    assert_route(f, "GET", "/api/v1/modules/builtin/records/7", "records.get");
    assert_string_equal(sifa_route_match_param(&f->m, "code"), "builtin");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "7");
    /* Backtracking on method: the literal has only GET, the parameter route has POST. */
    assert_route(f, "POST", "/api/v1/modules/builtin/records", "records.create");
    assert_string_equal(sifa_route_match_param(&f->m, "code"), "builtin");
}

static void test_order_independent(void **state)
{
    (void)state;
    /* The same precedence whatever the order of the table. */
    static const struct sifa_route fwd[] = {
        {"GET", "/a/{x}/c", h_ok, "public", 0, 0, "param"},
        {"GET", "/a/b/{y}", h_ok, "public", 0, 0, "literal"},
    };
    static const struct sifa_route rev[] = {
        {"GET", "/a/b/{y}", h_ok, "public", 0, 0, "literal"},
        {"GET", "/a/{x}/c", h_ok, "public", 0, 0, "param"},
    };
    const struct sifa_route *tables[] = {fwd, rev};
    for (size_t t = 0; t < 2; t++) {
        struct sifa_router *r = NULL;
        struct sifa_route_match m;
        assert_int_equal(sifa_router_new(tables[t], 2, &r, NULL), 0);
        assert_int_equal(sifa_router_match(r, "GET", 3, "/a/b/c", 6, &m), SIFA_ROUTE_FOUND);
        assert_string_equal(m.route->name, "literal");
        assert_string_equal(sifa_route_match_param(&m, "y"), "c");
        assert_null(sifa_route_match_param(&m, "x"));
        assert_int_equal(sifa_router_match(r, "GET", 3, "/a/z/c", 6, &m), SIFA_ROUTE_FOUND);
        assert_string_equal(m.route->name, "param");
        assert_string_equal(sifa_route_match_param(&m, "x"), "z");
        /* /a/b/{y} wins at depth 2 but has no /d child: fall back to nothing. */
        assert_int_equal(sifa_router_match(r, "GET", 3, "/a/b/c/d", 8, &m), SIFA_ROUTE_NOT_FOUND);
        sifa_router_free(r);
    }
}

static void test_param_names_per_route(void **state)
{
    (void)state;
    /* Two routes share the trie's parameter node under different names. */
    static const struct sifa_route t[] = {
        {"GET", "/u/{user}", h_ok, "public", 0, 0, "get"},
        {"DELETE", "/u/{uid}", h_ok, "public", 0, 0, "del"},
    };
    struct sifa_router *r = NULL;
    struct sifa_route_match m;
    assert_int_equal(sifa_router_new(t, 2, &r, NULL), 0);
    assert_int_equal(sifa_router_match(r, "GET", 3, "/u/x", 4, &m), SIFA_ROUTE_FOUND);
    assert_string_equal(sifa_route_match_param(&m, "user"), "x");
    assert_null(sifa_route_match_param(&m, "uid"));
    assert_int_equal(sifa_router_match(r, "DELETE", 6, "/u/x", 4, &m), SIFA_ROUTE_FOUND);
    assert_string_equal(sifa_route_match_param(&m, "uid"), "x");
    assert_null(sifa_route_match_param(&m, "user"));
    sifa_router_free(r);
}

static void test_head_and_405(void **state)
{
    struct fixture *f = *state;
    assert_route(f, "HEAD", "/healthz", "healthz");
    assert_route(f, "HEAD", "/api/v1/jobs/9", "jobs.get");
    assert_string_equal(sifa_route_match_param(&f->m, "id"), "9");
    /* An explicit HEAD route wins over the GET one. */
    assert_route(f, "HEAD", "/api/v1/files/3", "files.head");
    assert_route(f, "GET", "/api/v1/files/3", "files.get");

    assert_int_equal(match(f, "POST", "/healthz"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "GET, HEAD");
    assert_null(f->m.route);
    assert_int_equal(f->m.nparams, 0);

    assert_int_equal(match(f, "PUT", "/api/v1/jobs/1"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "GET, HEAD, DELETE");

    assert_int_equal(match(f, "DELETE", "/api/v1/modules/m/records/1"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "GET, HEAD, PATCH");

    /* The union over every pattern that matches: literal (GET) and parameter (GET, POST). */
    assert_int_equal(match(f, "DELETE", "/api/v1/modules/builtin/records"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "GET, HEAD, POST");

    /* No GET: no HEAD either. */
    assert_int_equal(match(f, "GET", "/api/v1/users/me"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "PUT");
    assert_int_equal(match(f, "HEAD", "/api/v1/users/me"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "PUT");

    /* Unknown and differently spelled methods are not allowed, not "not found". */
    assert_int_equal(match(f, "get", "/healthz"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(f->m.allow, "GET, HEAD");
    assert_int_equal(match(f, "BREW", "/healthz"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(match(f, "", "/healthz"), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(sifa_router_match(f->router, "GETX", 3, "/healthz", 8, &f->m), SIFA_ROUTE_FOUND);

    /* A path no pattern matches is 404 whatever the method. */
    assert_int_equal(match(f, "BREW", "/coffee"), SIFA_ROUTE_NOT_FOUND);
    assert_string_equal(f->m.allow, "");
}

static void test_all_methods_allow(void **state)
{
    (void)state;
    static const struct sifa_route t[] = {
        {"OPTIONS", "/x", h_ok, "public", 0, 0, "o"}, {"DELETE", "/x", h_ok, "public", 0, 0, "d"},
        {"PATCH", "/x", h_ok, "public", 0, 0, "pa"},  {"PUT", "/x", h_ok, "public", 0, 0, "pu"},
        {"POST", "/x", h_ok, "public", 0, 0, "po"},   {"HEAD", "/x", h_ok, "public", 0, 0, "h"},
        {"GET", "/{p}", h_ok, "public", 0, 0, "g"},
    };
    struct sifa_router *r = NULL;
    struct sifa_route_match m;
    assert_int_equal(sifa_router_new(t, SIFA_ARRAY_SIZE(t), &r, NULL), 0);
    assert_int_equal(sifa_router_match(r, "TRACE", 5, "/x", 2, &m), SIFA_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    /* HEAD on /x: the explicit literal HEAD route. */
    assert_int_equal(sifa_router_match(r, "HEAD", 4, "/x", 2, &m), SIFA_ROUTE_FOUND);
    assert_string_equal(m.route->name, "h");
    /* GET on /x: backtracks to /{p}. */
    assert_int_equal(sifa_router_match(r, "GET", 3, "/x", 2, &m), SIFA_ROUTE_FOUND);
    assert_string_equal(m.route->name, "g");
    assert_string_equal(sifa_route_match_param(&m, "p"), "x");
    sifa_router_free(r);
}

static void test_slashes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(match(f, "GET", "/api/v1/jobs/1/"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/healthz/"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "//healthz"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api//v1/jobs/1"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "/api/v1/jobs//"), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(match(f, "GET", "//"), SIFA_ROUTE_NOT_FOUND);

    static const struct sifa_route t[] = {{"GET", "/api/v1/jobs", h_ok, "public", 0, 0, "jobs"}};
    struct sifa_router *r = NULL;
    struct sifa_route_match m;
    assert_int_equal(sifa_router_new(t, 1, &r, NULL), 0);
    assert_int_equal(sifa_router_match(r, "GET", 3, "/api/v1/jobs", 12, &m), SIFA_ROUTE_FOUND);
    assert_int_equal(sifa_router_match(r, "GET", 3, "/api/v1/jobs/", 13, &m), SIFA_ROUTE_NOT_FOUND);
    assert_int_equal(sifa_router_match(r, "GET", 3, "/", 1, &m), SIFA_ROUTE_NOT_FOUND);
    sifa_router_free(r);
}

static void test_limits(void **state)
{
    (void)state;
    /* A route with 8 parameters and 32 segments is the most a pattern may have. */
    static const struct sifa_route t[] = {
        {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", h_ok, "public", 0, 0, "eight"},
        {"GET", "/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/{last}", h_ok, "public", 0, 0,
         "deep"},
    };
    struct sifa_router *r = NULL;
    struct sifa_route_match m;
    struct sifa_error err = {0};
    assert_int_equal(sifa_router_new(t, 2, &r, &err), 0);
    assert_int_equal(err.status, 0);

    const char *p8 = "/1/2/3/4/5/6/7/8";
    assert_int_equal(sifa_router_match(r, "GET", 3, p8, strlen(p8), &m), SIFA_ROUTE_FOUND);
    assert_int_equal(m.nparams, 8);
    assert_string_equal(sifa_route_match_param(&m, "a"), "1");
    assert_string_equal(sifa_route_match_param(&m, "h"), "8");
    const char *p9 = "/1/2/3/4/5/6/7/8/9";
    assert_int_equal(sifa_router_match(r, "GET", 3, p9, strlen(p9), &m), SIFA_ROUTE_NOT_FOUND);

    const char *deep = "/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/end";
    assert_int_equal(sifa_router_match(r, "GET", 3, deep, strlen(deep), &m), SIFA_ROUTE_FOUND);
    assert_string_equal(sifa_route_match_param(&m, "last"), "end");
    /* 33 segments: beyond the maximum, whatever the table. */
    const char *deeper = "/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/end";
    assert_int_equal(sifa_router_match(r, "GET", 3, deeper, strlen(deeper), &m), SIFA_ROUTE_NOT_FOUND);

    /* Path length: exactly SIFA_ROUTE_MAX_PATH bytes matches, one more does not. */
    char *path = malloc(SIFA_ROUTE_MAX_PATH + 2);
    memset(path, 'x', SIFA_ROUTE_MAX_PATH + 1);
    path[0] = '/';
    path[2] = '/';
    path[4] = '/';
    path[6] = '/';
    path[8] = '/';
    path[10] = '/';
    path[12] = '/';
    path[14] = '/';
    assert_int_equal(sifa_router_match(r, "GET", 3, path, SIFA_ROUTE_MAX_PATH, &m), SIFA_ROUTE_FOUND);
    assert_int_equal(m.params[7].len, SIFA_ROUTE_MAX_PATH - 15);
    assert_int_equal(strlen(sifa_route_match_param(&m, "h")), SIFA_ROUTE_MAX_PATH - 15);
    assert_int_equal(sifa_router_match(r, "GET", 3, path, SIFA_ROUTE_MAX_PATH + 1, &m), SIFA_ROUTE_NOT_FOUND);
    /* A path of only "%41" escapes decodes to a third of its length and still fits. */
    for (size_t i = 15; i + 3 <= SIFA_ROUTE_MAX_PATH; i += 3)
        memcpy(path + i, "%41", 3);
    size_t enc_len = 15 + (SIFA_ROUTE_MAX_PATH - 15) / 3 * 3;
    assert_int_equal(sifa_router_match(r, "GET", 3, path, enc_len, &m), SIFA_ROUTE_FOUND);
    assert_int_equal(m.params[7].len, (SIFA_ROUTE_MAX_PATH - 15) / 3);
    assert_int_equal(m.params[7].value[0], 'A');
    free(path);
    sifa_router_free(r);
}

static void expect_bad_route(const struct sifa_route *t, size_t n, const char *pattern_in_message)
{
    struct sifa_router *r = (struct sifa_router *)0x1; /* must stay untouched on failure */
    struct sifa_error err = {0};
    assert_int_equal(sifa_router_new(t, n, &r, &err), SIFA_EINVALID);
    assert_ptr_equal(r, (struct sifa_router *)0x1);
    assert_int_equal(err.status, SIFA_EINVALID);
    assert_string_equal(err.code, "bad_route");
    if (strstr(err.message, pattern_in_message) == NULL)
        fail_msg("message \"%s\" does not name \"%s\"", err.message, pattern_in_message);
    assert_non_null(err.details);
    assert_int_equal(json_integer_value(json_object_get(err.details, "index")), n - 1);
    sifa_error_release(&err);
}

static void test_bad_patterns(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "healthz",
        "/healthz/",
        "/a//b",
        "//",
        "/{}",
        "/{Id}",
        "/{1d}",
        "/{id",
        "/id}",
        "/x{id}",
        "/{id}x",
        "/{i-d}",
        "/a/{id}/b/{id}",
        "/a b",
        "/caf\xc3\xa9",
        "/a%20b",
        "/a/./b",
        "/a/..",
        "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
        "/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s/s",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        struct sifa_route t[2] = {
            {"GET", "/ok", h_ok, "public", 0, 0, "ok"},
            {"GET", bad[i], h_ok, "public", 0, 0, "bad"},
        };
        expect_bad_route(t, 2, bad[i]);
    }
    /* Too long a pattern. */
    char *longp = malloc(SIFA_ROUTE_MAX_PATH + 2);
    memset(longp, 'a', SIFA_ROUTE_MAX_PATH + 1);
    longp[0] = '/';
    longp[SIFA_ROUTE_MAX_PATH + 1] = '\0';
    struct sifa_route lt[1] = {{"GET", longp, h_ok, "public", 0, 0, "long"}};
    expect_bad_route(lt, 1, "/aaaa");
    free(longp);
}

static void test_bad_entries(void **state)
{
    (void)state;
    struct sifa_route t[2] = {
        {"GET", "/ok", h_ok, "public", 0, 0, "ok"},
        {"GET", "/x", NULL, "public", 0, 0, "nohandler"},
    };
    expect_bad_route(t, 2, "/x");
    t[1] = (struct sifa_route){"GET", "/x", h_ok, NULL, 0, 0, "noperm"};
    expect_bad_route(t, 2, "/x");
    t[1] = (struct sifa_route){"FETCH", "/x", h_ok, "public", 0, 0, "badmethod"};
    expect_bad_route(t, 2, "/x");
    t[1] = (struct sifa_route){"get", "/x", h_ok, "public", 0, 0, "lower"};
    expect_bad_route(t, 2, "/x");
    t[1] = (struct sifa_route){NULL, "/x", h_ok, "public", 0, 0, "nomethod"};
    expect_bad_route(t, 2, "/x");
    t[1] = (struct sifa_route){"GET", NULL, h_ok, "public", 0, 0, "nopattern"};
    expect_bad_route(t, 2, "(null)");
}

static void test_duplicates(void **state)
{
    (void)state;
    struct sifa_route t[3] = {
        {"GET", "/api/v1/jobs/{id}", h_ok, "public", 0, 0, "a"},
        {"POST", "/api/v1/jobs/{id}", h_ok, "public", 0, 0, "b"},
        {"GET", "/api/v1/jobs/{id}", h_ok, "public", 0, 0, "c"},
    };
    expect_bad_route(t, 3, "/api/v1/jobs/{id}");
    /* Differing only in the parameter's name is still a duplicate. */
    t[2].pattern = "/api/v1/jobs/{job_id}";
    expect_bad_route(t, 3, "/api/v1/jobs/{job_id}");
    /* Other method, or literal vs parameter, is not. */
    t[2].pattern = "/api/v1/jobs/latest";
    struct sifa_router *r = NULL;
    assert_int_equal(sifa_router_new(t, 3, &r, NULL), 0);
    sifa_router_free(r);
    t[2] = (struct sifa_route){"HEAD", "/api/v1/jobs/{id}", h_ok, "public", 0, 0, "c"};
    assert_int_equal(sifa_router_new(t, 3, &r, NULL), 0);
    sifa_router_free(r);
}

static void test_routes_enumeration(void **state)
{
    struct fixture *f = *state;
    size_t n = 0;
    const struct sifa_route *t = sifa_router_routes(f->router, &n);
    assert_ptr_equal(t, api_routes);
    assert_int_equal(n, SIFA_ARRAY_SIZE(api_routes));

    struct sifa_router *empty = NULL;
    struct sifa_route_match m;
    assert_int_equal(sifa_router_new(NULL, 0, &empty, NULL), 0);
    assert_int_equal(sifa_router_match(empty, "GET", 3, "/", 1, &m), SIFA_ROUTE_NOT_FOUND);
    assert_null(sifa_router_routes(empty, &n));
    assert_int_equal(n, 0);
    sifa_router_free(empty);
    sifa_router_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_static_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_extracted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_beats_param, setup, teardown),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_param_names_per_route),
        cmocka_unit_test_setup_teardown(test_head_and_405, setup, teardown),
        cmocka_unit_test(test_all_methods_allow),
        cmocka_unit_test_setup_teardown(test_slashes, setup, teardown),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test_setup_teardown(test_routes_enumeration, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
