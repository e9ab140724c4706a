/* openapi.c — GET /api/openapi.json: the OpenAPI 3.1 description of the API, generated from the
 * route table and the module definitions at request time, so it can never drift from what the
 * server does. Layer: api. Every route appears with its parameters, its permission
 * (x-sifa-permission) and, for module routes, a schema per module built from the field
 * definitions (types, formats, limits, code tables as enums, Chinese titles). */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "api/api.h"

static json_t *field_schema(const struct sifa_field *f);

static json_t *person_schema(void)
{
    return json_pack("{s:s,s:{s:{s:s},s:{s:s,s:s},s:{s:s,s:s}},s:[s]}", "type", "object", "properties", "name",
                     "type", "string", "id_number", "type", "string", "description", "GB 11643", "phone", "type",
                     "string", "description", "mainland mobile", "required", "name");
}

static json_t *field_schema(const struct sifa_field *f)
{
    json_t *s;
    switch (f->type) {
    case SIFA_FIELD_INTEGER:
        s = json_pack("{s:s}", "type", "integer");
        break;
    case SIFA_FIELD_MONEY:
        s = json_pack("{s:[s,s],s:s}", "type", "integer", "string", "description",
                      "fen (integer), or text such as 12.50元, 3,200万元, 1.78亿元");
        break;
    case SIFA_FIELD_DECIMAL:
        s = json_pack("{s:s}", "type", "number");
        break;
    case SIFA_FIELD_BOOL:
        s = json_pack("{s:s}", "type", "boolean");
        break;
    case SIFA_FIELD_DATE:
        s = json_pack("{s:s,s:s}", "type", "string", "format", "date");
        break;
    case SIFA_FIELD_DATETIME:
        s = json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
        break;
    case SIFA_FIELD_REF:
        s = json_pack("{s:s,s:s+}", "type", "integer", "description", "id of a record of module ", f->ref_module);
        break;
    case SIFA_FIELD_PERSON:
        s = person_schema();
        break;
    case SIFA_FIELD_ATTACHMENT:
        s = json_pack("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties", "file_id", "type", "string",
                      "required", "file_id");
        break;
    case SIFA_FIELD_GROUP: {
        json_t *props = json_object(), *req = json_array();
        for (size_t i = 0; i < f->nsub; i++) {
            json_object_set_new(props, f->sub[i].code, field_schema(&f->sub[i]));
            if (f->sub[i].required)
                json_array_append_new(req, json_string(f->sub[i].code));
        }
        s = json_pack("{s:s,s:I,s:{s:s,s:o,s:o}}", "type", "array", "maxItems", (json_int_t)f->max_items, "items",
                      "type", "object", "properties", props, "required", req);
        break;
    }
    case SIFA_FIELD_ENUM: {
        json_t *codes = json_array(), *labels = json_array();
        for (size_t i = 0; i < f->codes->nitems; i++) {
            json_array_append_new(codes, json_string(f->codes->items[i].code));
            json_array_append_new(labels, json_string(f->codes->items[i].label));
        }
        s = json_pack("{s:s,s:o,s:o}", "type", "string", "enum", codes, "x-sifa-labels", labels);
        break;
    }
    default: /* text, longtext, org, user, id_number, uscc, phone */
        s = json_pack("{s:s}", "type", "string");
        if (f->max_length)
            json_object_set_new(s, "maxLength", json_integer(f->max_length));
        if (f->pattern)
            json_object_set_new(s, "pattern", json_string(f->pattern));
        if (f->type != SIFA_FIELD_TEXT && f->type != SIFA_FIELD_LONGTEXT)
            json_object_set_new(s, "x-sifa-type", json_string(sifa_field_type_name(f->type)));
        break;
    }
    if (f->has_min && f->type != SIFA_FIELD_GROUP)
        json_object_set_new(s, "minimum", json_integer(f->min));
    if (f->has_max && f->type != SIFA_FIELD_GROUP && f->type != SIFA_FIELD_ATTACHMENT)
        json_object_set_new(s, "maximum", json_integer(f->max));
    json_object_set_new(s, "title", json_string(f->name));
    if (f->personal)
        json_object_set_new(s, "x-sifa-personal", json_true());
    return s;
}

static json_t *module_schema(const struct sifa_module *m)
{
    json_t *props = json_object(), *req = json_array();
    for (size_t i = 0; i < m->nfields; i++) {
        json_object_set_new(props, m->fields[i].code, field_schema(&m->fields[i]));
        if (m->fields[i].required)
            json_array_append_new(req, json_string(m->fields[i].code));
    }
    return json_pack("{s:s,s:s,s:o,s:o}", "type", "object", "title", m->name, "properties", props, "required", req);
}

/* "/api/v1/modules/{code}/records" → its path parameters. */
static json_t *path_parameters(const char *pattern)
{
    json_t *params = json_array();
    for (const char *p = strchr(pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (end == NULL)
            break;
        json_t *name = json_stringn(p + 1, (size_t)(end - p - 1));
        json_array_append_new(params, json_pack("{s:o,s:s,s:b,s:{s:s}}", "name", name, "in", "path", "required", 1,
                                                "schema", "type", "string"));
    }
    return params;
}

/* Query parameters, for the routes whose query is more than a record list's filters (those are
 * the fields of the module's schema with __gte/__lte/__gt/__lt/__ne/__empty, state, q, sort;
 * the org filters are listed, as they are not fields). */
static const struct {
    const char *route, *name, *type, *description;
    const char *values[4]; /* an enum, or empty */
} query_params[] = {
    {"records.export", "format", "string", "xlsx (default) or csv (UTF-8 with BOM); the other parameters are the "
                                           "list's filters, search and sort, and every page is exported", {"xlsx", "csv"}},
    {"records.list", "org", "string", "org unit code (exact; repeated: any of them)", {0}},
    {"records.list", "org_under", "string", "org unit code: its records and those of every unit below it (repeated: "
                                            "the union); an unknown code is 404 org_not_found", {0}},
    {"records.export", "org", "string", "org unit code (exact; repeated: any of them)", {0}},
    {"records.export", "org_under", "string", "org unit code: its records and those of every unit below it", {0}},
    {"audit.list", "actor", "string", "user name (exact)", {0}},
    {"audit.list", "action", "string", "action (exact), e.g. auth.login", {0}},
    {"audit.list", "action_prefix", "string", "actions starting with this, e.g. auth. (the login log)", {0}},
    {"audit.list", "target", "string", "target (exact)", {0}},
    {"audit.list", "address", "string", "client address (exact)", {0}},
    {"audit.list", "keyword", "string", "text contained in the details (2 to 64 bytes)", {0}},
    {"audit.list", "since", "string", "UTC time or prefix, inclusive (2024-05-01, 2024-05-01T08:30)", {0}},
    {"audit.list", "until", "string", "UTC time or prefix, exclusive", {0}},
    {"audit.list", "page", "integer", "from 1", {0}},
    {"audit.list", "page_size", "integer", "1 to 500", {0}},
};

static void add_query_parameters(json_t *params, const char *route)
{
    /* The audit export takes the list's filters (not its paging). */
    bool audit_export = strcmp(route, "audit.export") == 0;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(query_params); i++) {
        const char *owner = query_params[i].route;
        if (strcmp(owner, route) != 0 &&
            !(audit_export && strcmp(owner, "audit.list") == 0 && strncmp(query_params[i].name, "page", 4) != 0))
            continue;
        json_t *schema = json_pack("{s:s}", "type", query_params[i].type);
        if (query_params[i].values[0] != NULL) {
            json_t *values = json_array();
            for (size_t k = 0; k < 4 && query_params[i].values[k] != NULL; k++)
                json_array_append_new(values, json_string(query_params[i].values[k]));
            json_object_set_new(schema, "enum", values);
        }
        json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", query_params[i].name, "in", "query",
                                                "required", 0, "description", query_params[i].description, "schema",
                                                schema));
    }
}

int sifa_api_openapi(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    const struct sifa_api *api = sifa_req_app(req);
    json_t *paths = json_object();
    for (size_t i = 0; i < sifa_api_routes_count; i++) {
        const struct sifa_route *r = &sifa_api_routes[i];
        json_t *item = json_object_get(paths, r->pattern);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char method[16];
        size_t n = strlen(r->method);
        for (size_t k = 0; k <= n && k < sizeof(method); k++)
            method[k] = (r->method[k] >= 'A' && r->method[k] <= 'Z') ? (char)(r->method[k] + 32) : r->method[k];
        method[sizeof(method) - 1] = '\0';
        json_t *op = json_pack("{s:s,s:o,s:s,s:{s:{s:s}}}", "operationId", r->name, "parameters",
                               path_parameters(r->pattern), "x-sifa-permission", r->permission, "responses",
                               "default", "description", "JSON; errors as {\"error\":{\"code\",\"message\",\"details\"}}");
        add_query_parameters(json_object_get(op, "parameters"), r->name);
        if (strcmp(r->permission, "public") == 0)
            json_object_set_new(op, "security", json_array());
        if (r->flags & SIFA_ROUTE_JSON_BODY) {
            json_t *schema = strstr(r->pattern, "/records") != NULL
                                 ? json_pack("{s:s}", "$ref", "#/components/schemas/ModuleRecord")
                                 : json_pack("{s:s}", "type", "object");
            json_object_set_new(op, "requestBody", json_pack("{s:{s:{s:o}},s:I}", "content", "application/json",
                                                             "schema", schema, "x-sifa-max-bytes",
                                                             (json_int_t)r->max_body));
        }
        json_object_set_new(item, method, op);
    }
    json_t *schemas = json_object(), *one_of = json_array();
    for (size_t i = 0; api->model != NULL && i < api->model->nmodules; i++) {
        const struct sifa_module *m = &api->model->modules[i];
        json_object_set_new(schemas, m->code, module_schema(m));
        char ref[128];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", m->code);
        json_array_append_new(one_of, json_pack("{s:s}", "$ref", ref));
    }
    json_object_set_new(schemas, "ModuleRecord",
                        json_pack("{s:o,s:s}", "oneOf", one_of, "description",
                                  "the fields of the module named by {code}; see /api/v1/modules/{code}"));
    json_t *doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:o,s:{s:o,s:{s:{s:s,s:s},s:{s:s,s:s,s:s}}},s:[{s:[]},{s:[]}]}",
                            "openapi", "3.1.0", "info", "title", "sifa 司法行政业务平台 API", "version", "1",
                            "description", "Generated from the route table and the module definitions.", "paths",
                            paths, "components", "schemas", schemas, "securitySchemes", "bearer", "type", "http",
                            "scheme", "bearer", "session", "type", "apiKey", "in", "cookie", "name", "sifa_session",
                            "security", "bearer", "session");
    sifa_resp_json(req, 200, doc);
    return 0;
}
