/* router.c — the route table compiled into a segment trie, and matching against it (see router.h).
 * Layer: http. Each trie node has its literal children sorted by bytes (binary search), at most one
 * parameter child, and, per known method, the index of the route that ends there (-1 if none).
 * The trie is built once by sifa_router_new and never changes afterwards, so matching takes no
 * lock. A match walks literal children before the parameter child (depth first, with
 * backtracking); since a node is reachable by one path only, a match visits each node at most
 * once. The request path is split on '/' first and each segment percent-decoded afterwards, so an
 * encoded slash stays inside its segment. Invariants: every node's route indexes are < count;
 * a route has at most SIFA_ROUTE_MAX_PARAMS parameters, so a match never overflows params[]. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

/* System headers first: banned.h, at the end of common.h, must come last (a banned name
 * declared after it would become a variable declaration instead of a compile error). */
#include "base/common.h"
#include "base/text.h"
#include "http/router.h"

/* The methods a route may use, in the order a 405's Allow lists them. Keeping the set closed
 * lets a node hold one slot per method and keeps `allow` within its 96 bytes. */
static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
enum { METHOD_GET = 0, METHOD_HEAD = 1, NMETHODS = SIFA_ARRAY_SIZE(known_methods) };

struct node;

struct literal_edge {
    const char *seg; /* borrowed from the pattern; not NUL-terminated */
    size_t len;
    struct node *child;
};

struct node {
    struct literal_edge *literals; /* sorted by (bytes, length) */
    size_t nliterals;
    struct node *param; /* the `{name}` child, or NULL */
    int route[NMETHODS]; /* index into the table, -1 when no route ends here for that method */
};

/* Per route: its parameter names, in path order, NUL-terminated copies. */
struct route_info {
    size_t nparams;
    const char *names[SIFA_ROUTE_MAX_PARAMS];
    char *namebuf;
};

struct sifa_router {
    const struct sifa_route *routes;
    size_t count;
    struct route_info *info;
    struct node *root;
};

/* One decoded request segment, pointing into the match's buffer. */
struct segment {
    char *s;
    size_t len;
};

static struct node *node_new(void)
{
    struct node *n = sifa_xcalloc(1, sizeof(*n));
    for (size_t i = 0; i < NMETHODS; i++)
        n->route[i] = -1;
    return n;
}

static void node_free(struct node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nliterals; i++)
        node_free(n->literals[i].child);
    free(n->literals);
    node_free(n->param);
    free(n);
}

static int method_index(const char *m, size_t len)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (strlen(known_methods[i]) == len && memcmp(known_methods[i], m, len) == 0)
            return (int)i;
    return -1;
}

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of the literal edge equal to seg, or of the place to insert it (*found false). */
static size_t literal_search(const struct node *n, const char *seg, size_t len, bool *found)
{
    size_t lo = 0, hi = n->nliterals;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(n->literals[mid].seg, n->literals[mid].len, seg, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct node *literal_child_add(struct node *n, const char *seg, size_t len)
{
    bool found;
    size_t at = literal_search(n, seg, len, &found);
    if (found)
        return n->literals[at].child;
    n->literals = sifa_xrealloc(n->literals, (n->nliterals + 1) * sizeof(n->literals[0]));
    memmove(&n->literals[at + 1], &n->literals[at], (n->nliterals - at) * sizeof(n->literals[0]));
    n->literals[at] = (struct literal_edge){.seg = seg, .len = len, .child = node_new()};
    n->nliterals++;
    return n->literals[at].child;
}

/* Literal pattern segments are restricted to RFC 3986 unreserved characters plus a few
 * sub-delimiters, so a pattern never needs escaping and never contains '{', '}' or '%'. */
static bool literal_char_ok(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~:@!$&'()*+,;=", c) != NULL;
}

static bool param_name_ok(const char *s, size_t len)
{
    if (len == 0 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int bad_route(struct sifa_error *err, size_t index, const struct sifa_route *r, const char *why)
{
    const char *method = r->method != NULL ? r->method : "(null)";
    const char *pattern = r->pattern != NULL ? r->pattern : "(null)";
    json_t *details = json_pack("{s:I,s:s?,s:s?,s:s}", "index", (json_int_t)index, "method", r->method,
                                "pattern", r->pattern, "reason", why);
    return sifa_error_set_details(err, SIFA_EINVALID, "bad_route", details, "路由表第 %zu 项 \"%.16s %.200s\" 无效:%s",
                                  index, method, pattern, why);
}

/* Checks route i's pattern, records its parameter names in *info and inserts it into the trie.
 * On failure the trie may hold new empty nodes, which sifa_router_free releases. */
static int route_add(struct sifa_router *router, size_t i, struct sifa_error *err)
{
    const struct sifa_route *r = &router->routes[i];
    struct route_info *info = &router->info[i];

    if (r->method == NULL || r->pattern == NULL)
        return bad_route(err, i, r, "方法和路径不能为空");
    if (r->handler == NULL)
        return bad_route(err, i, r, "缺少处理函数");
    if (r->permission == NULL)
        return bad_route(err, i, r, "缺少权限项");
    int m = method_index(r->method, strlen(r->method));
    if (m < 0)
        return bad_route(err, i, r, "不支持的 HTTP 方法");

    const char *p = r->pattern;
    size_t plen = strlen(p);
    if (plen == 0 || p[0] != '/')
        return bad_route(err, i, r, "路径必须以 / 开头");
    if (plen > SIFA_ROUTE_MAX_PATH)
        return bad_route(err, i, r, "路径过长");

    info->namebuf = sifa_xmalloc(plen + 1);
    char *names_at = info->namebuf;
    struct node *n = router->root;
    size_t nseg = 0;
    /* "/" alone is the root with no segments; otherwise every '/' starts a non-empty segment. */
    size_t pos = plen == 1 ? plen : 0;
    while (pos < plen) {
        assert(p[pos] == '/');
        const char *seg = p + pos + 1;
        const char *end = memchr(seg, '/', plen - pos - 1);
        size_t len = end != NULL ? (size_t)(end - seg) : (size_t)(p + plen - seg);
        pos += 1 + len;
        if (len == 0)
            return bad_route(err, i, r, "路径含有空段或以 / 结尾");
        if (++nseg > SIFA_ROUTE_MAX_SEGMENTS)
            return bad_route(err, i, r, "路径段数超过上限");
        if (seg[0] == '{') {
            if (seg[len - 1] != '}' || !param_name_ok(seg + 1, len - 2))
                return bad_route(err, i, r, "参数名必须形如 {name},由小写字母、数字和下划线组成");
            if (info->nparams == SIFA_ROUTE_MAX_PARAMS)
                return bad_route(err, i, r, "参数个数超过上限");
            for (size_t k = 0; k < info->nparams; k++)
                if (strlen(info->names[k]) == len - 2 && memcmp(info->names[k], seg + 1, len - 2) == 0)
                    return bad_route(err, i, r, "参数名重复");
            memcpy(names_at, seg + 1, len - 2);
            names_at[len - 2] = '\0';
            info->names[info->nparams++] = names_at;
            names_at += len - 1;
            if (n->param == NULL)
                n->param = node_new();
            n = n->param;
        } else {
            for (size_t k = 0; k < len; k++)
                if (!literal_char_ok((unsigned char)seg[k]))
                    return bad_route(err, i, r, "路径段含有不允许的字符");
            if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return bad_route(err, i, r, "路径段不能是 . 或 ..");
            n = literal_child_add(n, seg, len);
        }
    }
    /* Same method at the same node: equal patterns, or patterns differing only in parameter
     * names, which could never be told apart. */
    if (n->route[m] >= 0)
        return bad_route(err, i, r, "与前面的路由重复");
    n->route[m] = (int)i;
    return 0;
}

int sifa_router_new(const struct sifa_route *routes, size_t count, struct sifa_router **ret_router,
                    struct sifa_error *err)
{
    assert(routes != NULL || count == 0);
    assert(ret_router != NULL);
    if (count > INT32_MAX)
        return sifa_error_set(err, SIFA_EINVALID, "bad_route", "路由表过大");

    struct sifa_router *router = sifa_xcalloc(1, sizeof(*router));
    router->routes = routes;
    router->count = count;
    router->info = sifa_xcalloc(count, sizeof(router->info[0]));
    router->root = node_new();
    for (size_t i = 0; i < count; i++) {
        int r = route_add(router, i, err);
        if (r < 0) {
            sifa_router_free(router);
            return r;
        }
    }
    *ret_router = router;
    return 0;
}

void sifa_router_free(struct sifa_router *router)
{
    if (router == NULL)
        return;
    for (size_t i = 0; i < router->count; i++)
        free(router->info[i].namebuf);
    free(router->info);
    node_free(router->root);
    free(router);
}

/* Splits and decodes path into segs (at most SIFA_ROUTE_MAX_SEGMENTS) inside buf. Returns the
 * number of segments, or -1 when the path cannot match any route. */
static int path_split(const char *path, size_t path_len, char *buf, struct segment *segs)
{
    if (path_len == 0 || path[0] != '/' || path_len > SIFA_ROUTE_MAX_PATH)
        return -1;
    if (path_len == 1)
        return 0;
    int nseg = 0;
    char *out = buf;
    size_t pos = 0;
    while (pos < path_len) {
        const char *seg = path + pos + 1;
        const char *end = memchr(seg, '/', path_len - pos - 1);
        size_t len = end != NULL ? (size_t)(end - seg) : (size_t)(path + path_len - seg);
        pos += 1 + len;
        if (len == 0 || nseg == SIFA_ROUTE_MAX_SEGMENTS)
            return -1;
        /* Each decoded segment plus its NUL fits in the bytes its raw form and '/' used. */
        ssize_t dlen = sifa_percent_decode(seg, len, false, out);
        if (dlen < 0)
            return -1;
        /* Dot segments are refused rather than resolved: no route has them, and a parameter
         * must never carry "." or ".." into a handler. */
        if ((dlen == 1 && out[0] == '.') || (dlen == 2 && out[0] == '.' && out[1] == '.'))
            return -1;
        segs[nseg++] = (struct segment){.s = out, .len = (size_t)dlen};
        out += dlen + 1;
    }
    assert((size_t)(out - buf) <= path_len);
    return nseg;
}

struct search {
    const struct segment *segs;
    size_t nseg;
    int method;            /* index into known_methods, or -1 */
    size_t pstack[SIFA_ROUTE_MAX_PARAMS];
    size_t npstack;        /* segment indexes bound to parameters on the current path */
    int found;             /* route index, or -1 */
    size_t found_params[SIFA_ROUTE_MAX_PARAMS];
    size_t found_nparams;
    unsigned allowed;      /* bit i: known_methods[i] has a route for this path */
};

static int node_route_for(const struct node *n, int method)
{
    if (method < 0)
        return -1;
    if (n->route[method] >= 0)
        return n->route[method];
    if (method == METHOD_HEAD)
        return n->route[METHOD_GET];
    return -1;
}

/* Depth-first search from n at segment depth; returns true when a route for the method is found
 * (recorded in s). Otherwise collects in s->allowed the methods of every route the path matches. */
static bool search_node(const struct node *n, size_t depth, struct search *s)
{
    if (depth == s->nseg) {
        int r = node_route_for(n, s->method);
        if (r >= 0) {
            s->found = r;
            memcpy(s->found_params, s->pstack, s->npstack * sizeof(s->pstack[0]));
            s->found_nparams = s->npstack;
            return true;
        }
        for (size_t i = 0; i < NMETHODS; i++)
            if (n->route[i] >= 0)
                s->allowed |= 1u << i;
        if (n->route[METHOD_GET] >= 0)
            s->allowed |= 1u << METHOD_HEAD;
        return false;
    }
    const struct segment *seg = &s->segs[depth];
    bool found;
    size_t at = literal_search(n, seg->s, seg->len, &found);
    if (found && search_node(n->literals[at].child, depth + 1, s))
        return true;
    if (n->param != NULL) {
        /* No route has more than SIFA_ROUTE_MAX_PARAMS parameters, so no chain of parameter
         * nodes in the trie is longer than that. */
        assert(s->npstack < SIFA_ROUTE_MAX_PARAMS);
        s->pstack[s->npstack++] = depth;
        bool ok = search_node(n->param, depth + 1, s);
        s->npstack--;
        if (ok)
            return true;
    }
    return false;
}

static void allow_format(unsigned allowed, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NMETHODS; i++) {
        if (!(allowed & (1u << i)))
            continue;
        int w = snprintf(out + o, size - o, "%s%s", o > 0 ? ", " : "", known_methods[i]);
        assert(w > 0 && (size_t)w < size - o);
        o += (size_t)w;
    }
}

int sifa_router_match(const struct sifa_router *router, const char *method, size_t method_len, const char *path,
                      size_t path_len, struct sifa_route_match *ret)
{
    assert(router != NULL && ret != NULL);
    ret->route = NULL;
    ret->nparams = 0;
    ret->allow[0] = '\0';
    ret->buf[0] = '\0';

    struct segment segs[SIFA_ROUTE_MAX_SEGMENTS];
    int nseg = path != NULL ? path_split(path, path_len, ret->buf, segs) : -1;
    if (nseg < 0)
        return SIFA_ROUTE_NOT_FOUND;

    struct search s = {
        .segs = segs,
        .nseg = (size_t)nseg,
        .method = method != NULL ? method_index(method, method_len) : -1,
        .found = -1,
    };
    if (search_node(router->root, 0, &s)) {
        const struct route_info *info = &router->info[s.found];
        assert(info->nparams == s.found_nparams);
        ret->route = &router->routes[s.found];
        ret->nparams = s.found_nparams;
        for (size_t i = 0; i < s.found_nparams; i++) {
            const struct segment *seg = &segs[s.found_params[i]];
            ret->params[i] = (struct sifa_route_param){.name = info->names[i], .value = seg->s, .len = seg->len};
        }
        return SIFA_ROUTE_FOUND;
    }
    if (s.allowed == 0)
        return SIFA_ROUTE_NOT_FOUND;
    allow_format(s.allowed, ret->allow, sizeof(ret->allow));
    return SIFA_ROUTE_METHOD_NOT_ALLOWED;
}

const char *sifa_route_match_param(const struct sifa_route_match *m, const char *name)
{
    if (m == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return m->params[i].value;
    return NULL;
}

const struct sifa_route *sifa_router_routes(const struct sifa_router *router, size_t *ret_count)
{
    assert(router != NULL);
    if (ret_count != NULL)
        *ret_count = router->count;
    return router->routes;
}
