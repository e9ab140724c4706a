/* api.h — the HTTP API: one route table (method, path, handler, permission, body limit, flags)
 * and the permission check the dispatcher runs before every handler.
 * Layer: api (above http and the services). Handlers only translate between HTTP and the
 * services; they never check permissions themselves (sifa_api_authorize does, once). */
#ifndef SIFA_API_H
#define SIFA_API_H

#include "calendar/calendar.h"
#include "http/http.h"
#include "model/model.h"

/* Server-wide state handlers reach through sifa_req_app. Strings borrowed for the server's life. */
struct sifa_api {
    struct sifa_db_config db; /* for connections opened by long work on worker threads */
    const char *backup_dir;   /* where POST /api/v1/system/backups writes copies */
    const char *files_dir;    /* where uploaded files are stored */
    int64_t started_at_ms;
    const struct sifa_model *model;       /* business lines; NULL when none are defined */
    const struct sifa_calendar *calendar; /* working days; NULL when data/holidays is missing */
};

extern const struct sifa_route sifa_api_routes[];
extern const size_t sifa_api_routes_count;

/* The dispatcher's permission hook (see struct sifa_server_config.authorize).
 * Until user accounts exist (issue 4), "public" routes are open and every other permission is
 * granted only to clients on the loopback interface: the default listen address is loopback,
 * and an operator who exposes sifa on a network cannot reach administrative routes from it. */
int sifa_api_authorize(struct sifa_req *req, const struct sifa_route *route, struct sifa_error *err);

/* Handlers, grouped by file. */
int sifa_api_healthz(struct sifa_req *req, struct sifa_error *err);
int sifa_api_metrics(struct sifa_req *req, struct sifa_error *err);
int sifa_api_system_info(struct sifa_req *req, struct sifa_error *err);
int sifa_api_system_integrity(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_put(struct sifa_req *req, struct sifa_error *err);
int sifa_api_backups_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_jobs_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_routes_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_modules_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_modules_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_update(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_delete(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_transition(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_history(struct sifa_req *req, struct sifa_error *err);
int sifa_api_deadlines_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_upload(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_content(struct sifa_req *req, struct sifa_error *err);

#endif
