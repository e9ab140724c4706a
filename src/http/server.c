/* server.c — the HTTP server on h2o: event loops, listeners, TLS, the dispatcher that runs the
 * route table's shared checks before any handler, the error envelope, request ids, the access
 * log, metrics, static files, deferral of work off the loops, and graceful shutdown.
 * Layer: http. Owns every h2o object; nothing of h2o leaks through http.h.
 *
 * Invariants: a struct sifa_req lives in its h2o request's memory pool and dies with it; work
 * deferred for a request holds a struct deferred on the heap which learns (pending->req = NULL)
 * when its request died first, so a late completion never touches freed memory. Each loop
 * thread counts its requests in flight; shutdown waits for them to reach zero. */
#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/common.h"
#include "base/text.h"
#include "http/http.h"
#include "http/jsonbody.h"
#include "http/metrics.h"
#include "http/workpool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define REQ_ENV_KEY "sifa.req"
#define WORK_QUEUE_MAX 1024

struct loop_thread;

struct sifa_req {
    h2o_req_t *h2o;            /* NULL never while handlers may see it */
    struct loop_thread *loop;
    struct deferred *pending;  /* work in flight for this request, or NULL */
    const struct sifa_route *route;
    int route_index;           /* index in the table, or SIFA_METRICS_STATIC / _UNMATCHED */
    bool responded;
    bool json_response;        /* the body is already our JSON: the filter leaves it alone */
    bool query_parsed;
    struct sifa_route_match match;
    struct sifa_query query;
    json_t *json;              /* owned */
    void *principal;           /* owned, freed with principal_free */
    void (*principal_free)(void *);
    char *path;                /* NUL-terminated copy of the path without query, pool memory */
    char method[16];
    char request_id[72];
    char user[64];
    char peer[INET6_ADDRSTRLEN];
};

struct deferred {
    h2o_multithread_message_t msg;
    struct sifa_req *req; /* NULL once the request is gone */
    struct loop_thread *loop;
    sifa_work_fn work;
    sifa_db_write_fn write;
    sifa_req_done_fn done;
    void *ctx;
    int status;
    struct sifa_error err;
};

struct published_db_stats {
    _Atomic uint64_t prepared, cache_hits, steps, errors, busy;
};

struct loop_thread {
    struct sifa_server *server;
    int index;
    pthread_t tid;
    int listen_fd;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t completions;
    struct sifa_db *db;
    _Atomic int64_t in_flight;
    bool shutting_down;
    uint64_t shutdown_started_ns;
    struct published_db_stats db_stats;
    bool disposed; /* its h2o objects were disposed of on its own thread */
};

struct sifa_server {
    struct sifa_server_config cfg; /* strings borrowed from the caller for the server's life */
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hostconf;
    SSL_CTX *ssl_ctx;
    struct sifa_router *router;
    const struct sifa_route *routes;
    size_t nroutes;
    void *app;
    struct sifa_metrics *metrics;
    struct sifa_workpool *pool;
    struct sifa_db_writer *writer;
    struct loop_thread *loops;
    int nloops;
    int port;
    int access_log_fd; /* -1: none */
    bool have_web_index;
    char *web_root;       /* realpath of cfg.web_root, or NULL */
    char *web_index_path; /* web_root/index.html */
    _Atomic int stopping;
    _Atomic uint64_t connections_refused;
    _Atomic uint64_t request_counter;
    uint32_t id_prefix;
    pthread_t main_thread;
    pthread_barrier_t ready; /* the loops and sifa_server_run meet here once every loop listens */
    pthread_barrier_t woken; /* … and here once every loop was told to stop: only then may a loop
                              * destroy the queue the wake-up was sent through */
};

static const char builtin_index_html[] =
    "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    "<title>sifa 司法行政业务平台</title>"
    "<style>body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;max-width:46rem;margin:3rem auto;"
    "padding:0 1rem;color:#222;line-height:1.7}code{background:#f3f3f3;padding:0 .3em}</style></head><body>"
    "<h1>sifa 司法行政业务平台</h1>"
    "<p>服务已启动。前端界面尚未构建(web/dist 不存在),以下接口可用:</p>"
    "<ul><li><a href=\"/healthz\"><code>/healthz</code></a> 健康检查(含数据库)</li>"
    "<li><a href=\"/metrics\"><code>/metrics</code></a> 运行指标(Prometheus 文本格式)</li>"
    "<li><a href=\"/api/v1/system/info\"><code>/api/v1/system/info</code></a> 系统信息</li></ul>"
    "<p>The server is running; the web front end has not been built yet.</p></body></html>\n";

/* ---------- configuration ---------- */

void sifa_server_config_init(struct sifa_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = "127.0.0.1:8080";
    cfg->threads = 0;
    cfg->worker_threads = 2;
    cfg->web_root = "web/dist";
    cfg->max_body_bytes = 32u << 20;
    /* 16 KiB: Node.js's default for the whole head, twice Tomcat's 8 KiB, half of nginx's worst
     * case (1 KiB + 4 x 8 KiB buffers). sifa's own requests carry a token or a session cookie and
     * a CSRF token, well under 2 KiB; the rest is headroom for proxies' X-Forwarded-* and cookies
     * other intranet applications set on a shared domain. */
    cfg->max_header_bytes = 16u << 10;
    /* Browsers send 10-25 fields. 64 stays under h2o's fixed 100, so a request with 65-100
     * fields still gets sifa's 431 envelope rather than h2o's canned 400. */
    cfg->max_headers = 64;
    cfg->request_timeout_ms = 10000;
    cfg->idle_timeout_ms = 30000;
    cfg->shutdown_timeout_ms = 10000;
    cfg->max_connections = 10000;
    cfg->access_log = "-";
    cfg->group_commit_max_batch = 1024;
    sifa_db_config_init(&cfg->db, "data/sifa.db");
}

/* ---------- small helpers ---------- */

static struct sifa_req *req_state(h2o_req_t *req)
{
    h2o_iovec_t *slot = h2o_req_getenv(req, H2O_STRLIT(REQ_ENV_KEY), 0);
    return slot != NULL ? (struct sifa_req *)slot->base : NULL;
}

static bool valid_request_id(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

static void new_request_id(struct sifa_server *server, char *buf, size_t size)
{
    uint64_t n = atomic_fetch_add_explicit(&server->request_counter, 1, memory_order_relaxed);
    snprintf(buf, size, "%08" PRIx32 "%012" PRIx64, server->id_prefix, n);
}

/* Appends s as a JSON string body (without quotes) to out, escaping as RFC 8259 requires.
 * Bytes >= 0x80 pass through: the access log is UTF-8, and invalid sequences from clients are
 * replaced by '?' so a log line is always valid JSON. */
static size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else if (c >= 0x80) {
            size_t n = sifa_utf8_decode((const unsigned char *)s + i, len - i, NULL);
            if (n == 0 || o + n >= cap) {
                out[o++] = '?';
                continue;
            }
            memcpy(out + o, s + i, n);
            o += n;
            i += n - 1;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

/* ---------- error envelope ---------- */

static const struct {
    int http;
    const char *code;
    const char *message;
} http_error_table[] = {
    {400, "bad_request", "请求格式不正确"},
    {403, "forbidden", "无权访问该资源"},
    {404, "not_found", "请求的资源不存在"},
    {405, "method_not_allowed", "该资源不支持此请求方法"},
    {408, "request_timeout", "接收请求超时"},
    {413, "body_too_large", "请求体过大"},
    {414, "uri_too_long", "请求地址过长"},
    {415, "unsupported_media_type", "不支持的请求体类型"},
    {416, "range_not_satisfiable", "请求的范围无效"},
    {417, "expectation_failed", "不支持的 Expect 请求头"},
    {431, "headers_too_large", "请求头过大"},
    {500, "internal", "服务器内部错误"},
    {502, "bad_gateway", "上游服务错误"},
    {503, "unavailable", "服务暂不可用,请稍后重试"},
};

static char *envelope_text(const char *code, const char *message, json_t *details, const char *request_id,
                           size_t *ret_len)
{
    json_t *error = json_object();
    json_object_set_new(error, "code", json_string(code));
    json_object_set_new(error, "message", json_string(message));
    json_object_set(error, "details", details != NULL ? details : json_null());
    if (request_id != NULL)
        json_object_set_new(error, "request_id", json_string(request_id));
    json_t *root = json_object();
    json_object_set_new(root, "error", error);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        abort(); /* json_dumps fails only without memory */
    *ret_len = strlen(text);
    return text;
}

/* ---------- the filter: request ids, cache headers, envelopes for h2o's own errors ---------- */

struct envelope_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
};

static void envelope_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *inbufs, size_t inbufcnt,
                             h2o_send_state_t state)
{
    struct envelope_ostream *os = (struct envelope_ostream *)self;
    (void)inbufs;
    (void)inbufcnt;
    if (!os->sent) {
        os->sent = true;
        h2o_ostream_send_next(&os->super, req, &os->body, 1, state);
    } else {
        h2o_ostream_send_next(&os->super, req, NULL, 0, state);
    }
}

static void add_request_id_header(h2o_req_t *req, const char *id)
{
    if (h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1) == -1)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                              h2o_strdup(&req->pool, id, SIZE_MAX).base, strlen(id));
}

static void filter_on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    struct sifa_req *sreq = req_state(req);
    struct sifa_server *server = *(struct sifa_server **)(self + 1);
    char idbuf[72];
    const char *id;
    if (sreq != NULL) {
        id = sreq->request_id;
    } else {
        new_request_id(server, idbuf, sizeof(idbuf));
        id = idbuf;
    }
    add_request_id_header(req, id);

    if (req->res.status >= 400 && (sreq == NULL || !sreq->json_response)) {
        const char *code = "http_error", *message = "请求失败";
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(http_error_table); i++)
            if (http_error_table[i].http == req->res.status) {
                code = http_error_table[i].code;
                message = http_error_table[i].message;
            }
        size_t len;
        char *text = envelope_text(code, message, NULL, id, &len);
        struct envelope_ostream *os = (struct envelope_ostream *)h2o_add_ostream(req, sizeof(*os), slot);
        os->super.do_send = envelope_do_send;
        os->body = h2o_strdup(&req->pool, text, len);
        os->sent = false;
        free(text);
        req->res.content_length = len;
        ssize_t i;
        while ((i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_ENCODING, -1)) != -1)
            h2o_delete_header(&req->res.headers, i);
        while ((i = h2o_find_header(&req->res.headers, H2O_TOKEN_ETAG, -1)) != -1)
            h2o_delete_header(&req->res.headers, i);
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json; charset=utf-8"),
                       1);
        slot = &os->super.next;
    } else if (sreq != NULL && sreq->route_index == SIFA_METRICS_STATIC && req->res.status < 400) {
        /* Vite names hashed assets under /assets/: they never change. Everything else (index.html)
         * must be revalidated so a new release is seen at once. */
        bool immutable = strncmp(sreq->path, "/assets/", 8) == 0;
        const char *cc = immutable ? "public, max-age=31536000, immutable" : "no-cache";
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, cc, strlen(cc), 1);
    }
    h2o_setup_next_ostream(req, slot);
}

/* ---------- the logger: access log and metrics ---------- */

static void logger_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    struct sifa_server *server = *(struct sifa_server **)(self + 1);
    struct sifa_req *sreq = req_state(req);
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t duration_us = 0;
    if (req->timestamps.request_begin_at.tv_sec != 0)
        duration_us = (int64_t)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000 +
                      (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
    if (duration_us < 0)
        duration_us = 0;
    int route_index = sreq != NULL ? sreq->route_index : SIFA_METRICS_UNMATCHED;
    sifa_metrics_observe(server->metrics, route_index, req->res.status, (uint64_t)duration_us);

    if (server->access_log_fd < 0 || (sreq != NULL && sreq->route != NULL && (sreq->route->flags & SIFA_ROUTE_NO_LOG)))
        return;
    char line[4096], path[2048], method[64], id[80], user[160];
    size_t path_len = req->input.path.len;
    if (req->input.query_at != SIZE_MAX && req->input.query_at < path_len)
        path_len = req->input.query_at;
    json_escape(path, sizeof(path), req->input.path.base, path_len);
    json_escape(method, sizeof(method), req->input.method.base, req->input.method.len);
    char idbuf[72];
    if (sreq != NULL)
        snprintf(idbuf, sizeof(idbuf), "%s", sreq->request_id);
    else {
        ssize_t i = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1);
        if (i != -1)
            snprintf(idbuf, sizeof(idbuf), "%.*s", (int)req->res.headers.entries[i].value.len,
                     req->res.headers.entries[i].value.base);
        else
            idbuf[0] = '\0';
    }
    json_escape(id, sizeof(id), idbuf, strlen(idbuf));
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    int n;
    if (sreq != NULL && sreq->user[0] != '\0') {
        json_escape(user, sizeof(user), sreq->user, strlen(sreq->user));
        n = snprintf(line, sizeof(line),
                     "{\"time\":\"%s.%03ldZ\",\"request_id\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,"
                     "\"bytes\":%zu,\"duration_ms\":%.3f,\"user\":\"%s\"}\n",
                     when, (long)now.tv_usec / 1000, id, method, path, req->res.status, req->bytes_sent,
                     (double)duration_us / 1000.0, user);
    } else {
        n = snprintf(line, sizeof(line),
                     "{\"time\":\"%s.%03ldZ\",\"request_id\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,"
                     "\"bytes\":%zu,\"duration_ms\":%.3f,\"user\":null}\n",
                     when, (long)now.tv_usec / 1000, id, method, path, req->res.status, req->bytes_sent,
                     (double)duration_us / 1000.0);
    }
    if (n > 0 && (size_t)n < sizeof(line)) {
        /* One write per line on an O_APPEND descriptor: lines from several loops never interleave. */
        ssize_t w = write(server->access_log_fd, line, (size_t)n);
        (void)w;
    }
}

/* ---------- responses ---------- */

static void publish_db_stats(struct loop_thread *lt)
{
    if (lt->db == NULL)
        return;
    struct sifa_db_stats s;
    sifa_db_get_stats(lt->db, &s);
    atomic_store_explicit(&lt->db_stats.prepared, s.statements_prepared, memory_order_relaxed);
    atomic_store_explicit(&lt->db_stats.cache_hits, s.statement_cache_hits, memory_order_relaxed);
    atomic_store_explicit(&lt->db_stats.steps, s.steps, memory_order_relaxed);
    atomic_store_explicit(&lt->db_stats.errors, s.errors, memory_order_relaxed);
    atomic_store_explicit(&lt->db_stats.busy, s.busy, memory_order_relaxed);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void send_response(struct sifa_req *sreq, int http_status, const char *content_type, const char *body,
                          size_t len)
{
    h2o_req_t *req = sreq->h2o;
    assert(!sreq->responded);
    sreq->responded = true;
    publish_db_stats(sreq->loop);
    req->res.status = http_status;
    req->res.reason = reason_phrase(http_status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    if (http_status == 204 || http_status == 304)
        len = 0;
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

void sifa_resp_header(struct sifa_req *req, const char *name, const char *value)
{
    h2o_req_t *r = req->h2o;
    size_t nlen = strlen(name), vlen = strlen(value);
    char *lname = h2o_mem_alloc_pool(&r->pool, nlen + 1);
    for (size_t i = 0; i <= nlen; i++)
        lname[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    h2o_add_header_by_str(&r->pool, &r->res.headers, lname, nlen, 1, NULL, h2o_strdup(&r->pool, value, vlen).base,
                          vlen);
}

void sifa_resp_json(struct sifa_req *req, int http_status, json_t *body_take)
{
    char *text = json_dumps(body_take, JSON_COMPACT);
    json_decref(body_take);
    if (text == NULL)
        abort(); /* only without memory, or a value jansson cannot encode, which handlers never build */
    req->json_response = true;
    send_response(req, http_status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
}

void sifa_resp_bytes(struct sifa_req *req, int http_status, const char *content_type, const char *body, size_t len)
{
    req->json_response = strncmp(content_type, "application/json", 16) == 0;
    send_response(req, http_status, content_type, body, len);
}

int sifa_resp_file(struct sifa_req *req, const char *path, const char *content_type, const char *download_name)
{
    h2o_req_t *r = req->h2o;
    if (download_name != NULL) {
        /* RFC 6266 / 5987: the UTF-8 name percent-encoded, plus an ASCII fallback. */
        char disp[1024];
        size_t o = (size_t)snprintf(disp, sizeof(disp), "attachment; filename=\"download\"; filename*=UTF-8''");
        for (const unsigned char *p = (const unsigned char *)download_name; *p && o + 4 < sizeof(disp); p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                *p == '-' || *p == '_')
                disp[o++] = (char)*p;
            else
                o += (size_t)snprintf(disp + o, sizeof(disp) - o, "%%%02X", *p);
        }
        disp[o] = '\0';
        sifa_resp_header(req, "content-disposition", disp);
    }
    sifa_resp_header(req, "x-content-type-options", "nosniff");
    publish_db_stats(req->loop);
    /* h2o keeps the type's pointer for the response's life: give it pool memory. */
    h2o_iovec_t type = h2o_strdup(&r->pool, content_type, SIZE_MAX);
    if (h2o_file_send(r, 200, "OK", path, type, H2O_FILE_FLAG_NO_ETAG) != 0)
        return SIFA_ENOTFOUND;
    req->responded = true;
    return 0;
}

/* A 500 is a fault of the server, not of the request: what went wrong (a path, an errno text, an
 * SQL message) is for the operator, not for the client. The client gets the generic envelope with
 * the request id; the detail goes to standard error under the same id, one line per failure. */
static void log_internal_error(const struct sifa_req *req, const char *code, const char *message)
{
    char text[1024]; /* escaped: a message may quote client input, and this is one line */
    json_escape(text, sizeof(text), message, strlen(message));
    fprintf(stderr, "sifa: 内部错误 internal error request_id=%s %s %s [%s] %s\n", req->request_id, req->method,
            req->path != NULL ? req->path : "", code, text);
}

void sifa_resp_error(struct sifa_req *req, int http_status, const struct sifa_error *err)
{
    int status = http_status > 0 ? http_status : sifa_status_http(err->status);
    const char *code = err->code[0] != '\0' ? err->code : sifa_status_name(err->status);
    const char *message = err->message[0] != '\0' ? err->message : "服务器内部错误";
    json_t *details = err->details;
    char public_message[160];
    if (status == 500) {
        log_internal_error(req, code, message);
        snprintf(public_message, sizeof(public_message), "服务器内部错误,请将请求编号 %s 告知系统管理员", req->request_id);
        code = "internal";
        message = public_message;
        details = NULL;
    }
    size_t len;
    char *text = envelope_text(code, message, details, req->request_id, &len);
    req->json_response = true;
    send_response(req, status, "application/json; charset=utf-8", text, len);
    free(text);
}

static void resp_error_simple(struct sifa_req *req, int http_status, int status, const char *code, const char *message,
                              json_t *details_take)
{
    struct sifa_error err = {0};
    sifa_error_set_details(&err, status, code, details_take, "%s", message);
    sifa_resp_error(req, http_status, &err);
    sifa_error_release(&err);
}

/* ---------- request accessors ---------- */

const char *sifa_req_method(const struct sifa_req *req)
{
    return req->method;
}

const char *sifa_req_path(const struct sifa_req *req)
{
    return req->path;
}

const char *sifa_req_param(const struct sifa_req *req, const char *name)
{
    return sifa_route_match_param(&req->match, name);
}

const struct sifa_query *sifa_req_query(const struct sifa_req *req)
{
    return &req->query;
}

json_t *sifa_req_json(const struct sifa_req *req)
{
    return req->json;
}

const char *sifa_req_body(const struct sifa_req *req, size_t *ret_len)
{
    *ret_len = req->h2o->entity.len;
    return req->h2o->entity.base != NULL ? req->h2o->entity.base : "";
}

const char *sifa_req_header(const struct sifa_req *req, const char *name, char *buf, size_t bufsize)
{
    char lname[128];
    size_t n = strlen(name);
    if (n >= sizeof(lname) || bufsize == 0)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lname[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    ssize_t i = h2o_find_header_by_str(&req->h2o->headers, lname, n, -1);
    if (i == -1)
        return NULL;
    h2o_iovec_t v = req->h2o->headers.entries[i].value;
    size_t len = v.len < bufsize - 1 ? v.len : bufsize - 1;
    memcpy(buf, v.base, len);
    buf[len] = '\0';
    return buf;
}

const char *sifa_req_id(const struct sifa_req *req)
{
    return req->request_id;
}

const char *sifa_req_peer(const struct sifa_req *req)
{
    return req->peer;
}

bool sifa_req_peer_is_loopback(const struct sifa_req *req)
{
    return strncmp(req->peer, "127.", 4) == 0 || strcmp(req->peer, "::1") == 0 ||
           strncmp(req->peer, "::ffff:127.", 11) == 0;
}

void sifa_req_set_principal(struct sifa_req *req, void *principal_take, void (*free_fn)(void *))
{
    if (req->principal != NULL && req->principal_free != NULL)
        req->principal_free(req->principal);
    req->principal = principal_take;
    req->principal_free = free_fn;
}

void *sifa_req_principal(const struct sifa_req *req)
{
    return req->principal;
}

bool sifa_req_is_tls(const struct sifa_req *req)
{
    return req->h2o->scheme == &H2O_URL_SCHEME_HTTPS;
}

void sifa_req_set_user(struct sifa_req *req, const char *user)
{
    snprintf(req->user, sizeof(req->user), "%s", user);
}

struct sifa_db *sifa_req_db(struct sifa_req *req)
{
    return req->loop->db;
}

struct sifa_server *sifa_req_server(struct sifa_req *req)
{
    return req->loop->server;
}

void *sifa_req_app(struct sifa_req *req)
{
    return req->loop->server->app;
}

/* ---------- deferral ---------- */

static void deferred_post(struct deferred *d)
{
    h2o_multithread_send_message(&d->loop->completions, &d->msg);
}

static int deferred_run_work(void *ctx, struct sifa_error *err)
{
    struct deferred *d = ctx;
    return d->work(d->ctx, err);
}

static void deferred_after_work(void *ctx, int status, const struct sifa_error *err)
{
    struct deferred *d = ctx;
    d->status = status;
    if (status < 0 && err != NULL) {
        /* A copy, not a reference: the worker releases its error as the loop reads this one, and
         * a JSON value must not be shared between threads. */
        d->err = *err;
        d->err.details = json_deep_copy(err->details);
    }
    deferred_post(d);
}

static int deferred_run_write(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct deferred *d = ctx;
    return d->write(db, d->ctx, err);
}

static void deferred_after_write(void *ctx, int status, const struct sifa_error *err)
{
    deferred_after_work(ctx, status, err);
}

static struct deferred *deferred_new(struct sifa_req *req, sifa_req_done_fn done, void *ctx)
{
    assert(req->pending == NULL); /* one deferral at a time per request */
    struct deferred *d = sifa_xcalloc(1, sizeof(*d));
    /* calloc leaves msg.link unlinked (NULL), as h2o_multithread_send_message requires */
    d->req = req;
    d->loop = req->loop;
    d->done = done;
    d->ctx = ctx;
    return d;
}

int sifa_req_defer_work(struct sifa_req *req, sifa_work_fn work, sifa_req_done_fn done, void *ctx)
{
    struct deferred *d = deferred_new(req, done, ctx);
    d->work = work;
    if (sifa_workpool_submit(req->loop->server->pool, deferred_run_work, deferred_after_work, d) != 0) {
        free(d);
        return SIFA_EUNAVAILABLE;
    }
    req->pending = d;
    return 0;
}

int sifa_req_defer_write(struct sifa_req *req, sifa_db_write_fn write, sifa_req_done_fn done, void *ctx)
{
    return sifa_req_defer_write_flags(req, write, done, ctx, 0);
}

/* deferred_run_write adds nothing a rerun could disturb, so the caller's flags hold for it. */
int sifa_req_defer_write_flags(struct sifa_req *req, sifa_db_write_fn write, sifa_req_done_fn done, void *ctx,
                               unsigned flags)
{
    struct deferred *d = deferred_new(req, done, ctx);
    d->write = write;
    if (sifa_db_writer_submit_flags(req->loop->server->writer, deferred_run_write, deferred_after_write, d, flags) !=
        0) {
        free(d);
        return SIFA_EUNAVAILABLE;
    }
    req->pending = d;
    return 0;
}

static void on_completions(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct deferred *d = H2O_STRUCT_FROM_MEMBER(struct deferred, msg, m);
        struct sifa_req *sreq = d->req;
        if (sreq != NULL)
            sreq->pending = NULL;
        d->done(sreq, d->ctx, d->status, d->status < 0 ? &d->err : NULL);
        if (sreq != NULL && !sreq->responded && sreq->pending == NULL)
            resp_error_simple(sreq, 500, SIFA_EINTERNAL, "internal", "服务器内部错误:处理完成但没有响应", NULL);
        sifa_error_release(&d->err);
        free(d);
    }
}

int sifa_server_submit_background(struct sifa_server *server, sifa_work_fn work, sifa_work_finish_fn finish, void *ctx)
{
    if (atomic_load(&server->stopping))
        return SIFA_EUNAVAILABLE;
    return sifa_workpool_submit(server->pool, work, finish, ctx);
}

/* ---------- the dispatcher ---------- */

static void on_req_dispose(void *p)
{
    struct sifa_req *sreq = p;
    if (sreq->pending != NULL)
        sreq->pending->req = NULL; /* the work finishes later and must not touch this request */
    sifa_query_release(&sreq->query);
    json_decref(sreq->json);
    if (sreq->principal != NULL && sreq->principal_free != NULL)
        sreq->principal_free(sreq->principal);
    atomic_fetch_sub_explicit(&sreq->loop->in_flight, 1, memory_order_relaxed);
}

static bool is_json_content_type(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i == -1)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = 0;
    while (n < v.len && v.base[n] != ';' && v.base[n] != ' ')
        n++;
    return h2o_lcstris(v.base, n, H2O_STRLIT("application/json"));
}

static bool path_is_api(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 || strcmp(path, "/healthz") == 0 ||
           strcmp(path, "/metrics") == 0;
}

/* A front-end route (/cases/123) has no file behind it: the single-page app's index.html serves it. */
static bool spa_fallback(struct sifa_server *server, h2o_req_t *req, const char *path)
{
    if (!server->have_web_index || strstr(path, "..") != NULL)
        return false;
    const char *last = strrchr(path, '/');
    if (last != NULL && strchr(last, '.') != NULL)
        return false; /* a missing asset: let the file handler answer 404 */
    char full[4096];
    int n = snprintf(full, sizeof(full), "%s%s", server->web_root, path);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof(full) || stat(full, &st) == 0)
        return false;
    return h2o_file_send(req, 200, "OK", server->web_index_path, h2o_iovec_init(H2O_STRLIT("text/html")), 0) == 0;
}

/* The request head as it came on the wire, near enough: the request line, then "name: value\r\n"
 * for each field. h2o keeps Host apart (as the authority) and consumes Content-Length,
 * Transfer-Encoding, Expect and Upgrade without keeping them among the headers; Host is counted,
 * the others (a few dozen bytes at most, each bounded by its own check) are not. HTTP/2 heads are
 * measured the same way from their decoded fields. */
static void measure_head(const h2o_req_t *req, size_t *ret_bytes, size_t *ret_fields)
{
    size_t bytes = req->input.method.len + 1 + req->input.path.len + sizeof(" HTTP/1.1\r\n") - 1 + 2;
    size_t fields = req->headers.size;
    for (size_t i = 0; i < req->headers.size; i++)
        bytes += req->headers.entries[i].name->len + 2 + req->headers.entries[i].value.len + 2;
    if (req->input.authority.len > 0) {
        bytes += sizeof("host: \r\n") - 1 + req->input.authority.len;
        fields++;
    }
    *ret_bytes = bytes;
    *ret_fields = fields;
}

/* sifa's limits on the request head, checked before routing so that no route, authorization or
 * body parsing sees an oversized head. Returns true when it answered 431.
 *
 * Heads beyond h2o's own limits never get here, and cannot get the envelope: h2o 2.2.5 parses an
 * HTTP/1 head in lib/http1.c handle_incoming_request with H2O_MAX_HEADERS (100) and
 * H2O_MAX_REQLEN (8192 + 4096 * 100) as compile-time constants; past either, or on a syntax
 * error, send_bad_request writes a canned "400 Bad Request" (text/plain) straight to the socket
 * and closes the connection. No handler, filter or logger runs, h2o_globalconf_t has no setting
 * for either limit, and the socket's read callback cannot be wrapped reliably because h2o sets it
 * anew for every request (reqread_start). What sifa can do is keep its own limits under h2o's
 * (config.c bounds them), so that what it refuses gets the 431 envelope. The connection h2o
 * refuses is closed by h2o once its 400 is written, and sifa's connection count drops with it
 * (on_connection_closed): tests/api/test_errors.py checks both. */
static bool refuse_large_head(struct sifa_server *server, struct sifa_req *sreq)
{
    size_t bytes, fields;
    measure_head(sreq->h2o, &bytes, &fields);
    if (fields > server->cfg.max_headers) {
        char msg[160];
        snprintf(msg, sizeof(msg), "请求头字段过多:共 %zu 个,上限为 %zu 个", fields, server->cfg.max_headers);
        resp_error_simple(sreq, 431, SIFA_ELIMIT, "headers_too_large", msg,
                          json_pack("{s:s,s:I,s:I}", "limit_kind", "fields", "limit",
                                    (json_int_t)server->cfg.max_headers, "count", (json_int_t)fields));
        return true;
    }
    if (bytes > server->cfg.max_header_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "请求头过大:请求行与请求头共 %zu 字节,上限为 %zu 字节", bytes,
                 server->cfg.max_header_bytes);
        resp_error_simple(sreq, 431, SIFA_ELIMIT, "headers_too_large", msg,
                          json_pack("{s:s,s:I,s:I}", "limit_kind", "bytes", "limit",
                                    (json_int_t)server->cfg.max_header_bytes, "size", (json_int_t)bytes));
        return true;
    }
    return false;
}

static int dispatcher_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct sifa_server *server = *(struct sifa_server **)(self + 1);
    struct loop_thread *lt = H2O_STRUCT_FROM_MEMBER(struct loop_thread, ctx, req->conn->ctx);

    struct sifa_req *sreq = h2o_mem_alloc_shared(&req->pool, sizeof(*sreq), on_req_dispose);
    memset(sreq, 0, sizeof(*sreq));
    sreq->h2o = req;
    sreq->loop = lt;
    sreq->route_index = SIFA_METRICS_UNMATCHED;
    atomic_fetch_add_explicit(&lt->in_flight, 1, memory_order_relaxed);
    h2o_iovec_t *slot = h2o_req_getenv(req, H2O_STRLIT(REQ_ENV_KEY), 1);
    slot->base = (char *)sreq;
    slot->len = sizeof(*sreq);

    ssize_t hi = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (hi != -1 && valid_request_id(req->headers.entries[hi].value.base, req->headers.entries[hi].value.len))
        snprintf(sreq->request_id, sizeof(sreq->request_id), "%.*s", (int)req->headers.entries[hi].value.len,
                 req->headers.entries[hi].value.base);
    else
        new_request_id(server, sreq->request_id, sizeof(sreq->request_id));
    add_request_id_header(req, sreq->request_id);

    struct sockaddr_storage ss;
    socklen_t sslen = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (sslen > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, sreq->peer, sizeof(sreq->peer));
    else if (sslen > 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, sreq->peer, sizeof(sreq->peer));

    size_t path_len = req->path.len;
    if (req->query_at != SIZE_MAX && req->query_at < path_len)
        path_len = req->query_at;
    sreq->path = h2o_mem_alloc_pool(&req->pool, path_len + 1);
    memcpy(sreq->path, req->path.base, path_len);
    sreq->path[path_len] = '\0';
    snprintf(sreq->method, sizeof(sreq->method), "%.*s", (int)(req->method.len < 15 ? req->method.len : 15),
             req->method.base);

    if (refuse_large_head(server, sreq))
        return 0;

    int m = sifa_router_match(server->router, req->method.base, req->method.len, req->path.base, path_len,
                              &sreq->match);
    if (m == SIFA_ROUTE_METHOD_NOT_ALLOWED) {
        sifa_resp_header(sreq, "allow", sreq->match.allow);
        resp_error_simple(sreq, 405, SIFA_EMETHOD, "method_not_allowed", "该资源不支持此请求方法",
                          json_pack("{s:s,s:s}", "method", sreq->method, "allow", sreq->match.allow));
        return 0;
    }
    if (m == SIFA_ROUTE_NOT_FOUND) {
        if (!path_is_api(sreq->path)) {
            bool is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
                          h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
            if (is_get && strcmp(sreq->path, "/") == 0 && !server->have_web_index) {
                sreq->route_index = SIFA_METRICS_STATIC;
                sifa_resp_bytes(sreq, 200, "text/html; charset=utf-8", builtin_index_html,
                                sizeof(builtin_index_html) - 1);
                return 0;
            }
            if (server->web_root != NULL) {
                sreq->route_index = SIFA_METRICS_STATIC;
                if (is_get && spa_fallback(server, req, sreq->path))
                    return 0;
                return -1; /* h2o's file handler serves web/dist */
            }
        }
        resp_error_simple(sreq, 404, SIFA_ENOTFOUND, "not_found", "请求的资源不存在",
                          json_pack("{s:s}", "path", sreq->path));
        return 0;
    }

    const struct sifa_route *route = sreq->match.route;
    sreq->route = route;
    sreq->route_index = (int)(route - server->routes);

    if (server->cfg.authorize != NULL) {
        struct sifa_error aerr = {0};
        if (server->cfg.authorize(sreq, route, &aerr) < 0) {
            sifa_resp_error(sreq, 0, &aerr);
            sifa_error_release(&aerr);
            return 0;
        }
    }

    size_t body_len = req->entity.base != NULL ? req->entity.len : 0;
    if (body_len > route->max_body) {
        char msg[160];
        snprintf(msg, sizeof(msg), "请求体超过此接口 %zu 字节的上限", route->max_body);
        resp_error_simple(sreq, 413, SIFA_ELIMIT, "body_too_large", msg,
                          json_pack("{s:I,s:I}", "limit", (json_int_t)route->max_body, "size", (json_int_t)body_len));
        return 0;
    }
    if ((route->flags & SIFA_ROUTE_JSON_BODY) && body_len > 0) {
        if (!is_json_content_type(req)) {
            resp_error_simple(sreq, 415, SIFA_EUNSUPPORTED, "unsupported_media_type",
                              "请求体必须是 JSON(Content-Type: application/json)", NULL);
            return 0;
        }
        struct sifa_error err = {0};
        if (sifa_json_body_parse(req->entity.base, body_len, route->max_body, SIFA_JSON_BODY_OBJECT, &sreq->json,
                                 &err) < 0) {
            sifa_resp_error(sreq, 0, &err);
            sifa_error_release(&err);
            return 0;
        }
    }
    struct sifa_error err = {0};
    const char *qs = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t qs_len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    if (sifa_query_parse(qs, qs_len, &sreq->query, &err) < 0) {
        sifa_resp_error(sreq, 400, &err);
        sifa_error_release(&err);
        return 0;
    }

    int rc = route->handler(sreq, &err);
    if (rc < 0) {
        if (!sreq->responded) {
            if (err.status == 0)
                sifa_error_set(&err, rc, sifa_status_name(rc), "服务器内部错误");
            sifa_resp_error(sreq, 0, &err);
        }
    } else if (!sreq->responded && sreq->pending == NULL) {
        resp_error_simple(sreq, 500, SIFA_EINTERNAL, "internal", "服务器内部错误:处理程序没有响应", NULL);
    }
    sifa_error_release(&err);
    return 0;
}

/* ---------- listeners and loops ---------- */

static void on_connection_closed(void *data)
{
    struct loop_thread *lt = data;
    sifa_metrics_connection(lt->server->metrics, -1);
}

static void on_accept(h2o_socket_t *listener, const char *error)
{
    struct loop_thread *lt = listener->data;
    if (error != NULL)
        return;
    for (int i = 0; i < 64; i++) { /* accept a burst, then let other events run */
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        if ((size_t)sifa_metrics_open_connections(lt->server->metrics) >= lt->server->cfg.max_connections) {
            atomic_fetch_add_explicit(&lt->server->connections_refused, 1, memory_order_relaxed);
            h2o_socket_close(sock);
            continue;
        }
        sifa_metrics_connection(lt->server->metrics, +1);
        sock->on_close.cb = on_connection_closed;
        sock->on_close.data = lt;
        h2o_accept(&lt->accept_ctx, sock);
    }
}

static void begin_shutdown(struct loop_thread *lt)
{
    lt->shutting_down = true;
    lt->shutdown_started_ns = sifa_now_monotonic_ns();
    if (lt->listener != NULL) {
        h2o_socket_read_stop(lt->listener);
        h2o_socket_close(lt->listener); /* closes listen_fd */
        lt->listener = NULL;
        lt->listen_fd = -1;
    }
    h2o_context_request_shutdown(&lt->ctx);
    /* HTTP/1 keep-alive connections waiting for their next request hold no work: expire them now
     * rather than after the full keep-alive time. Connections with a request in flight are not on
     * this timer (h2o unlinks it while a request is processed); they close after their response
     * because shutdown_requested turns keep-alive off. */
    lt->ctx.http1.req_timeout.timeout = 0;
    lt->ctx.http2.idle_timeout.timeout = 0;
}

static void *loop_main(void *arg)
{
    struct loop_thread *lt = arg;
    struct sifa_server *server = lt->server;
    uint64_t limit_ns = server->cfg.shutdown_timeout_ms * 1000000u;
    for (;;) {
        h2o_evloop_run(lt->loop, lt->shutting_down ? 20 : INT32_MAX);
        if (!lt->shutting_down && atomic_load(&server->stopping))
            begin_shutdown(lt);
        if (lt->shutting_down) {
            uint64_t elapsed = sifa_now_monotonic_ns() - lt->shutdown_started_ns;
            int64_t in_flight = atomic_load_explicit(&lt->in_flight, memory_order_relaxed);
            /* Idle keep-alive connections were expired by begin_shutdown; give them up to a second
             * (or the whole shutdown time, if shorter) to close before leaving them to exit. */
            uint64_t grace_ns = limit_ns < 1000000000u ? limit_ns : 1000000000u;
            if (in_flight == 0 && (sifa_metrics_open_connections(server->metrics) == 0 || elapsed >= grace_ns))
                break;
            if (elapsed > limit_ns) {
                fprintf(stderr, "sifa: 停止超时,仍有 %" PRId64 " 个请求未完成 (shutdown timed out)\n", in_flight);
                break;
            }
        }
    }
    return NULL;
}

static int parse_listen(const char *listen, char *host, size_t hostsize, char *port, size_t portsize)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        snprintf(host, hostsize, "%.*s", (int)(end - listen - 1), listen + 1);
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL)
            return -1;
        snprintf(host, hostsize, "%.*s", (int)(colon - listen), listen);
    }
    snprintf(port, portsize, "%s", colon + 1);
    if (port[0] == '\0')
        return -1;
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return 0;
}

static int open_listener(const char *listen_addr, int want_port, int *ret_fd, int *ret_port, struct sifa_error *err)
{
    char host[256], port[16];
    if (parse_listen(listen_addr, host, sizeof(host), port, sizeof(port)) != 0)
        return sifa_error_set(err, SIFA_EINVALID, "bad_listen", "监听地址 \"%s\" 格式不正确,应为 主机:端口,如 127.0.0.1:8080",
                              listen_addr);
    if (want_port >= 0)
        snprintf(port, sizeof(port), "%d", want_port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return sifa_error_set(err, SIFA_EINVALID, "bad_listen", "无法解析监听地址 \"%s\":%s", listen_addr, gai_strerror(gai));
    int one = 1;
    if (want_port < 0 && strcmp(port, "0") != 0) {
        /* SO_REUSEPORT lets a second server bind a port another one listens on, and the kernel
         * then splits the connections between them. The first listener is therefore preceded by
         * a probe without it: a port already in use is refused. */
        int probe = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
        int e = 0;
        if (probe < 0 || setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
            bind(probe, res->ai_addr, res->ai_addrlen) != 0)
            e = errno;
        if (probe >= 0)
            close(probe);
        if (e != 0) {
            freeaddrinfo(res);
            if (e == EADDRINUSE)
                return sifa_error_set(err, SIFA_EUNAVAILABLE, "address_in_use",
                                      "无法监听 %s:端口已被占用(是否已有 sifa 或其他服务在运行?)", listen_addr);
            return sifa_error_set(err, SIFA_EUNAVAILABLE, "listen_failed", "无法监听 %s:%s", listen_addr, strerror(e));
        }
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "listen_failed", "无法监听 %s:%s", listen_addr, strerror(e));
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *ret_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *ret_fd = fd;
    return 0;
}

static int setup_tls(struct sifa_server *server, struct sifa_error *err)
{
    const char *cert = server->cfg.tls_certificate, *key = server->cfg.tls_key;
    if ((cert == NULL || !*cert) && (key == NULL || !*key))
        return 0;
    if (cert == NULL || !*cert || key == NULL || !*key)
        return sifa_error_set(err, SIFA_EINVALID, "bad_tls", "启用 TLS 需要同时配置 tls_certificate 和 tls_key");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        SSL_CTX_free(ctx);
        return sifa_error_set(err, SIFA_EINVALID, "bad_tls", "无法读取 TLS 证书 %s", cert);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return sifa_error_set(err, SIFA_EINVALID, "bad_tls", "无法读取 TLS 私钥 %s,或私钥与证书不匹配", key);
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    server->ssl_ctx = ctx;
    return 0;
}

static void setup_web_root(struct sifa_server *server)
{
    const char *root = server->cfg.web_root;
    if (root == NULL || !*root)
        return;
    char *real = realpath(root, NULL);
    if (real == NULL)
        return;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return;
    }
    server->web_root = real;
    size_t n = strlen(real) + sizeof("/index.html");
    server->web_index_path = sifa_xmalloc(n);
    snprintf(server->web_index_path, n, "%s/index.html", real);
    server->have_web_index = access(server->web_index_path, R_OK) == 0;
}

static void register_hooks(struct sifa_server *server, h2o_pathconf_t *pathconf, bool with_handlers)
{
    if (with_handlers) {
        h2o_handler_t *h = h2o_create_handler(pathconf, sizeof(h2o_handler_t) + sizeof(server));
        h->on_req = dispatcher_on_req;
        *(struct sifa_server **)(h + 1) = server;
        if (server->web_root != NULL) {
            static const char *index_files[] = {"index.html", NULL};
            h2o_file_register(pathconf, server->web_root, index_files, NULL, H2O_FILE_FLAG_SEND_COMPRESSED);
        }
    }
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof(h2o_filter_t) + sizeof(server));
    f->on_setup_ostream = filter_on_setup_ostream;
    *(struct sifa_server **)(f + 1) = server;
    h2o_logger_t *l = h2o_create_logger(pathconf, sizeof(h2o_logger_t) + sizeof(server));
    l->log_access = logger_log_access;
    *(struct sifa_server **)(l + 1) = server;
}

int sifa_server_new(const struct sifa_server_config *cfg, const struct sifa_route *routes, size_t nroutes, void *app,
                    struct sifa_server **ret_server, struct sifa_error *err)
{
    /* SIGTERM and SIGINT go to sifa_server_run's sigwait only: block them before the writer and
     * worker threads below are created, so they inherit the mask. A thread created with the
     * signals open would take a stop signal with its default action and kill the process. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    struct sifa_server *server = sifa_xcalloc(1, sizeof(*server));
    server->cfg = *cfg;
    server->routes = routes;
    server->nroutes = nroutes;
    server->app = app;
    server->access_log_fd = -1;
    server->main_thread = pthread_self();
    if (getrandom(&server->id_prefix, sizeof(server->id_prefix), 0) != sizeof(server->id_prefix))
        server->id_prefix = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    int rc;

    if ((rc = sifa_router_new(routes, nroutes, &server->router, err)) < 0)
        goto fail;
    sifa_metrics_new(routes, nroutes, &server->metrics);

    if (cfg->access_log != NULL && *cfg->access_log) {
        if (strcmp(cfg->access_log, "-") == 0) {
            server->access_log_fd = dup(STDOUT_FILENO);
        } else {
            server->access_log_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
            if (server->access_log_fd < 0) {
                rc = sifa_error_set(err, SIFA_EUNAVAILABLE, "access_log", "无法打开访问日志 %s:%s", cfg->access_log,
                                    strerror(errno));
                goto fail;
            }
        }
    }

    if ((rc = setup_tls(server, err)) < 0)
        goto fail;
    setup_web_root(server);

    if ((rc = sifa_db_writer_start_with(&cfg->db, cfg->group_commit_max_batch, &cfg->writer_hooks, &server->writer,
                                        err)) < 0)
        goto fail;
    sifa_workpool_new(cfg->worker_threads, WORK_QUEUE_MAX, &server->pool);

    h2o_config_init(&server->globalconf);
    server->globalconf.max_request_entity_size = cfg->max_body_bytes;
    server->globalconf.http1.req_timeout = cfg->request_timeout_ms;
    server->globalconf.http2.idle_timeout = cfg->idle_timeout_ms;
    server->globalconf.http2.graceful_shutdown_timeout = cfg->shutdown_timeout_ms;
    server->globalconf.handshake_timeout = cfg->request_timeout_ms;
    server->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("sifa"));
    server->hostconf = h2o_config_register_host(&server->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    register_hooks(server, h2o_config_register_path(server->hostconf, "/", 0), true);
    register_hooks(server, &server->hostconf->fallback_path, false);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    server->nloops = cfg->threads > 0 ? cfg->threads : (cores > 0 ? (int)cores : 1);
    server->loops = sifa_xcalloc((size_t)server->nloops, sizeof(struct loop_thread));
    int port = -1;
    for (int i = 0; i < server->nloops; i++) {
        struct loop_thread *lt = &server->loops[i];
        lt->server = server;
        lt->index = i;
        lt->listen_fd = -1;
        /* The first listener may pick a free port (port 0); the others share it via SO_REUSEPORT. */
        if ((rc = open_listener(cfg->listen, port, &lt->listen_fd, &server->port, err)) < 0)
            goto fail;
        port = server->port;
        if ((rc = sifa_db_open(&cfg->db, &lt->db, err)) < 0)
            goto fail;
    }
    *ret_server = server;
    return 0;

fail:
    sifa_server_free(server);
    return rc;
}

int sifa_server_port(const struct sifa_server *server)
{
    return server->port;
}

struct sifa_db_writer *sifa_server_writer(struct sifa_server *server)
{
    return server->writer;
}

const struct sifa_router *sifa_server_router(const struct sifa_server *server)
{
    return server->router;
}

void sifa_server_stop(struct sifa_server *server)
{
    atomic_store(&server->stopping, 1);
    pthread_kill(server->main_thread, SIGTERM);
}

int sifa_server_render_metrics(struct sifa_server *server, char **ret_text, size_t *ret_len)
{
    struct sifa_metrics_extra x = {0};
    for (int i = 0; i < server->nloops; i++) {
        struct loop_thread *lt = &server->loops[i];
        x.db_statements_prepared += atomic_load_explicit(&lt->db_stats.prepared, memory_order_relaxed);
        x.db_statement_cache_hits += atomic_load_explicit(&lt->db_stats.cache_hits, memory_order_relaxed);
        x.db_steps += atomic_load_explicit(&lt->db_stats.steps, memory_order_relaxed);
        x.db_errors += atomic_load_explicit(&lt->db_stats.errors, memory_order_relaxed);
        x.db_busy += atomic_load_explicit(&lt->db_stats.busy, memory_order_relaxed);
        x.requests_in_flight += atomic_load_explicit(&lt->in_flight, memory_order_relaxed);
    }
    struct sifa_db_writer_stats ws;
    sifa_db_writer_get_stats(server->writer, &ws);
    x.writer_jobs = ws.jobs;
    x.writer_jobs_failed = ws.jobs_failed;
    x.writer_commits = ws.commits;
    x.writer_batches_run_again = ws.batches_run_again;
    x.writer_max_batch = ws.max_batch_seen;
    x.writer_queue_depth = ws.queue_depth;
    x.checkpoints_background = ws.checkpoints.background;
    x.checkpoints_inline = ws.checkpoints.inline_;
    x.checkpoint_pages = ws.checkpoints.pages;
    x.wal_pages = (uint64_t)(ws.checkpoints.log_pages > 0 ? ws.checkpoints.log_pages : 0);
    struct sifa_workpool_stats ps;
    sifa_workpool_get_stats(server->pool, &ps);
    x.workers_queued = ps.queued;
    x.workers_running = ps.running;
    x.workers_done = ps.done;
    x.connections_refused = atomic_load(&server->connections_refused);
    sifa_metrics_render(server->metrics, &x, ret_text, ret_len);
    return 0;
}

/* Everything h2o of a loop is made, used and disposed of on that loop's own thread: h2o keeps
 * per-thread allocators (socket buffers, memory pools) and a buffer returns to the allocator of
 * the thread that made it, so an object that crossed threads would corrupt another thread's
 * free list. */
static void *loop_thread_start(void *arg)
{
    struct loop_thread *lt = arg;
    struct sifa_server *server = lt->server;
    char name[16];
    snprintf(name, sizeof(name), "sifa-loop-%d", lt->index);
    pthread_setname_np(pthread_self(), name);
    lt->loop = h2o_evloop_create();
    h2o_context_init(&lt->ctx, lt->loop, &server->globalconf);
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = server->globalconf.hosts;
    lt->accept_ctx.ssl_ctx = server->ssl_ctx;
    h2o_multithread_register_receiver(lt->ctx.queue, &lt->completions, on_completions);
    lt->listener = h2o_evloop_socket_create(lt->loop, lt->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    lt->listener->data = lt;
    h2o_socket_read_start(lt->listener, on_accept);
    pthread_barrier_wait(&server->ready);
    loop_main(lt);
    pthread_barrier_wait(&server->woken);
    if (sifa_metrics_open_connections(server->metrics) == 0) {
        h2o_multithread_unregister_receiver(lt->ctx.queue, &lt->completions);
        if (lt->listener != NULL) {
            h2o_socket_close(lt->listener);
            lt->listener = NULL;
        }
        /* h2o's HTTP/2 shutdown arms a one-second timer even with no HTTP/2 connection; with
         * every connection gone it has nothing left to do. */
        if (h2o_timeout_is_linked(&lt->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&lt->ctx.http2._graceful_shutdown_timeout);
        h2o_context_dispose(&lt->ctx);
        h2o_evloop_destroy(lt->loop);
        lt->disposed = true;
    }
    /* else: connections still reference the context; the process is exiting anyway. */
    return NULL;
}

int sifa_server_run(struct sifa_server *server, struct sifa_error *err)
{
    (void)err; /* nothing here can fail once sifa_server_new succeeded; kept for callers */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* loop threads inherit the mask; only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);

    pthread_barrier_init(&server->ready, NULL, (unsigned)server->nloops + 1);
    pthread_barrier_init(&server->woken, NULL, (unsigned)server->nloops + 1);
    for (int i = 0; i < server->nloops; i++)
        if (pthread_create(&server->loops[i].tid, NULL, loop_thread_start, &server->loops[i]) != 0)
            abort(); /* only when out of resources at start; nothing to unwind yet */
    pthread_barrier_wait(&server->ready);

    int sig = 0;
    sigwait(&set, &sig);
    atomic_store(&server->stopping, 1);
    for (int i = 0; i < server->nloops; i++)
        h2o_multithread_send_message(&server->loops[i].completions, NULL); /* wake the loop */
    pthread_barrier_wait(&server->woken);
    for (int i = 0; i < server->nloops; i++)
        pthread_join(server->loops[i].tid, NULL);
    pthread_barrier_destroy(&server->ready);
    pthread_barrier_destroy(&server->woken);
    /* Loops are done with requests; finish background work and queued writes before closing. */
    sifa_workpool_free(server->pool);
    server->pool = NULL;
    sifa_db_writer_stop(server->writer);
    server->writer = NULL;
    return 0;
}

void sifa_server_free(struct sifa_server *server)
{
    if (server == NULL)
        return;
    sifa_workpool_free(server->pool);
    sifa_db_writer_stop(server->writer);
    for (int i = 0; server->loops != NULL && i < server->nloops; i++) {
        struct loop_thread *lt = &server->loops[i];
        if (lt->loop == NULL && lt->listen_fd >= 0)
            close(lt->listen_fd); /* never run */
        sifa_db_close(lt->db);
    }
    free(server->loops);
    if (server->hostconf != NULL)
        h2o_config_dispose(&server->globalconf);
    if (server->ssl_ctx != NULL)
        SSL_CTX_free(server->ssl_ctx);
    if (server->access_log_fd >= 0)
        close(server->access_log_fd);
    sifa_metrics_free(server->metrics);
    sifa_router_free(server->router);
    free(server->web_root);
    free(server->web_index_path);
    free(server);
}
