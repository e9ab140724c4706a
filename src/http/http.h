/* http.h — the HTTP server and the request/response interface handlers use.
 * Layer: http (above db; below api). Built on h2o (libh2o-evloop): one event loop per thread,
 * each with its own SO_REUSEPORT listener and its own read connection to the database; one
 * group-commit writer thread for writes; a worker pool for long work. No h2o type appears in
 * this header: handlers see struct sifa_req only.
 *
 * Threads: a handler runs on an event-loop thread and must stay short. Work that may take long
 * (reports, imports, exports, backups) goes to sifa_req_defer_work; writes go to
 * sifa_req_defer_write. Their done callbacks run back on the request's loop thread.
 *
 * Ownership: struct sifa_req is owned by the server; it is valid from the handler call until
 * the response is sent or, for a deferred request, until its done callback returns. */
#ifndef SIFA_HTTP_H
#define SIFA_HTTP_H

#include "base/common.h"
#include "db/db.h"
#include "http/query.h"
#include "http/router.h"

struct sifa_server;
struct sifa_req;

/* What h2o 2.2.5 parses at most in an HTTP/1 request head (lib/http1.c: H2O_MAX_HEADERS and
 * H2O_MAX_REQLEN, compile-time constants with no setting). A head beyond either never reaches
 * sifa: h2o writes its own "400 Bad Request" (text/plain) to the socket and closes the
 * connection. sifa's own limits, max_headers and max_header_bytes, are kept at or below these so
 * that what sifa refuses is answered with the error envelope (431). */
#define SIFA_H2O_MAX_HEADERS 100
#define SIFA_H2O_MAX_REQUEST_HEAD_BYTES (8192 + 4096 * 100)

struct sifa_server_config {
    const char *listen;            /* "127.0.0.1:8080", "[::1]:8080", ":8080" (all addresses) */
    int threads;                   /* event loops; 0: one per core */
    int worker_threads;            /* pool for long work; 0: 2 */
    const char *web_root;          /* front end (web/dist); NULL or missing: built-in index page */
    const char *tls_certificate;   /* PEM; with tls_key enables TLS with HTTP/2 (ALPN h2) */
    const char *tls_key;
    size_t max_body_bytes;         /* hard cap on any request body (h2o refuses larger) */
    size_t max_header_bytes;       /* request line + header fields, counted as on the wire; larger: 431 */
    size_t max_headers;            /* header fields (Host included); more: 431 */
    uint64_t request_timeout_ms;   /* time to receive a request, and HTTP/1 keep-alive idle time */
    uint64_t idle_timeout_ms;      /* HTTP/2 idle connection time */
    uint64_t shutdown_timeout_ms;  /* longest wait for in-flight requests on SIGTERM/SIGINT */
    size_t max_connections;        /* per process; beyond it new connections are closed at once */
    const char *access_log;        /* path, "-" for standard output, "" or NULL for none */
    size_t group_commit_max_batch; /* most write jobs in one commit */
    struct sifa_db_config db;      /* path etc.; the path must exist (sifa init creates it) */
    struct sifa_db_writer_hooks writer_hooks; /* work the layers above attach to the writer */
    /* Runs before every routed handler, after routing and before the body is read: the one place
     * permissions are checked. Returns 0 to allow, or a negative status with err filled (the
     * dispatcher sends the envelope). NULL allows everything. */
    int (*authorize)(struct sifa_req *req, const struct sifa_route *route, struct sifa_error *err);
};

/* Defaults documented in sifa.conf.example. Strings point to static storage. */
void sifa_server_config_init(struct sifa_server_config *cfg);

/* Builds the server: opens the writer and a read connection per loop, binds the listeners,
 * loads TLS. routes is borrowed for the server's life; app is an opaque pointer handlers get
 * back from sifa_req_app. *ret_server is new (sifa_server_free). */
int sifa_server_new(const struct sifa_server_config *cfg, const struct sifa_route *routes, size_t nroutes, void *app,
                    struct sifa_server **ret_server, struct sifa_error *err);
/* Serves until SIGTERM or SIGINT (or sifa_server_stop), then stops accepting, finishes the
 * requests in flight (up to shutdown_timeout_ms), drains the writer and the worker pool.
 * Must be called from the thread that created the server, with SIGTERM/SIGINT not yet handled
 * elsewhere. */
int sifa_server_run(struct sifa_server *server, struct sifa_error *err);
/* Asks a running server to stop as a signal would. Thread-safe. */
void sifa_server_stop(struct sifa_server *server);
void sifa_server_free(struct sifa_server *server);

/* The port actually bound (useful with port 0). */
int sifa_server_port(const struct sifa_server *server);
struct sifa_db_writer *sifa_server_writer(struct sifa_server *server);
const struct sifa_router *sifa_server_router(const struct sifa_server *server);

/* Renders /metrics (Prometheus text) into a new string (*ret_text, free()). */
int sifa_server_render_metrics(struct sifa_server *server, char **ret_text, size_t *ret_len);

/* Runs work on the worker pool, detached from any request; finish (may be NULL) runs on the
 * worker thread afterwards. SIFA_EUNAVAILABLE while stopping or when the queue is full. */
typedef int (*sifa_work_fn)(void *ctx, struct sifa_error *err);
typedef void (*sifa_work_finish_fn)(void *ctx, int status, const struct sifa_error *err);
int sifa_server_submit_background(struct sifa_server *server, sifa_work_fn work, sifa_work_finish_fn finish, void *ctx);

/* ---- the request, for handlers ---- */
const char *sifa_req_method(const struct sifa_req *req);
/* Path without the query string, NUL-terminated, as received (not decoded). */
const char *sifa_req_path(const struct sifa_req *req);
const char *sifa_req_param(const struct sifa_req *req, const char *name);
const struct sifa_query *sifa_req_query(const struct sifa_req *req);
/* The parsed body of a SIFA_ROUTE_JSON_BODY route (borrowed), or NULL when the body was empty. */
json_t *sifa_req_json(const struct sifa_req *req);
/* Raw body bytes (borrowed). */
const char *sifa_req_body(const struct sifa_req *req, size_t *ret_len);
/* A request header's value copied into buf (NUL-terminated); NULL when absent. */
const char *sifa_req_header(const struct sifa_req *req, const char *name, char *buf, size_t bufsize);
const char *sifa_req_id(const struct sifa_req *req);
/* Peer address as text ("127.0.0.1"). */
const char *sifa_req_peer(const struct sifa_req *req);
bool sifa_req_peer_is_loopback(const struct sifa_req *req);
/* The caller's identity as the API layer established it (opaque here): taken, freed with
 * free_fn when the request ends. */
void sifa_req_set_principal(struct sifa_req *req, void *principal_take, void (*free_fn)(void *));
void *sifa_req_principal(const struct sifa_req *req);
bool sifa_req_is_tls(const struct sifa_req *req);
/* Records the authenticated user for the access log (copied). */
void sifa_req_set_user(struct sifa_req *req, const char *user);
/* This loop's read connection (borrowed; use only on this thread, during this call). */
struct sifa_db *sifa_req_db(struct sifa_req *req);
struct sifa_server *sifa_req_server(struct sifa_req *req);
void *sifa_req_app(struct sifa_req *req);

/* ---- responses: each sends the whole response once ---- */
/* Adds a response header (name and value copied). Before one of the send calls. */
void sifa_resp_header(struct sifa_req *req, const char *name, const char *value);
/* Sends body_take serialised (UTF-8, compact) with application/json. Takes body_take. */
void sifa_resp_json(struct sifa_req *req, int http_status, json_t *body_take);
/* Sends bytes (copied) with the given content type. */
void sifa_resp_bytes(struct sifa_req *req, int http_status, const char *content_type, const char *body, size_t len);
/* Sends the file at path (its bytes, never a directory listing) with content_type, as an
 * attachment named download_name (UTF-8; may be NULL: shown inline), with nosniff. SIFA_ENOTFOUND
 * when it cannot be opened (nothing sent then). */
int sifa_resp_file(struct sifa_req *req, const char *path, const char *content_type, const char *download_name);
/* Sends the error envelope {"error":{"code","message","details","request_id"}} with the HTTP
 * status that sifa_status_http gives (an http_status > 0 overrides it). A 500 is sent as code
 * "internal" with a generic message naming the request id and no details; err's code and message
 * go to standard error under that request id instead. */
void sifa_resp_error(struct sifa_req *req, int http_status, const struct sifa_error *err);

/* ---- deferring work off the event loop ----
 * done runs on the request's loop thread with the request (NULL when the client went away;
 * then done must only release ctx) and the work's status and error. */
typedef void (*sifa_req_done_fn)(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err);
int sifa_req_defer_work(struct sifa_req *req, sifa_work_fn work, sifa_req_done_fn done, void *ctx);
int sifa_req_defer_write(struct sifa_req *req, sifa_db_write_fn write, sifa_req_done_fn done, void *ctx);
/* flags as sifa_db_writer_submit_flags's (SIFA_DB_JOB_RERUNNABLE). */
int sifa_req_defer_write_flags(struct sifa_req *req, sifa_db_write_fn write, sifa_req_done_fn done, void *ctx,
                               unsigned flags);

#endif
