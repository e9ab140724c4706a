/* yamlwalk.c — walking a libyaml node tree with limits, and collecting definition errors with
 * file:line:column, a stable code and a Chinese message. Layer: model (private, internal.h).
 * Shared by loader.c (modules, code tables) and indicators.c (indicators), which read files
 * anyone with access to the definitions folder may write: every visit of a node spends from a
 * budget (aliases cannot multiply work), a mapping may hold at most SIFA_YAML_KEYS_MAX keys, a
 * scalar with an escaped NUL is no text at all, and at most SIFA_YAML_ERRORS_MAX errors are
 * listed (one last entry counts the rest). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "base/common.h"
#include "model/internal.h"

static void push_error(json_t *errors, const char *file, int line, int column, const char *code, const char *fmt,
                       va_list ap) __attribute__((format(printf, 6, 0)));

static void push_error(json_t *errors, const char *file, int line, int column, const char *code, const char *fmt,
                       va_list ap)
{
    size_t n = json_array_size(errors);
    if (n > SIFA_YAML_ERRORS_MAX)
        return;
    char msg[512];
    if (n == SIFA_YAML_ERRORS_MAX) {
        code = "too_many_errors";
        snprintf(msg, sizeof(msg), "错误过多,只列出前 %d 处", SIFA_YAML_ERRORS_MAX);
    } else if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg)) {
        /* The message quotes definition text of any length: drop a character cut in two. */
        size_t lead = sizeof(msg) - 2;
        while (lead > 0 && ((unsigned char)msg[lead] & 0xc0) == 0x80)
            lead--;
        unsigned char b = (unsigned char)msg[lead];
        size_t need = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
        if (lead + need > sizeof(msg) - 1)
            msg[lead] = '\0';
    }
    json_t *m = json_string(msg); /* NULL only for invalid UTF-8 */
    json_array_append_new(errors, json_pack("{s:s,s:i,s:i,s:s,s:o}", "file", file, "line", line, "column", column,
                                            "code", code, "message", m ? m : json_string("(消息含无效的 UTF-8)")));
}

void sifa_yaml_error_at(json_t *errors, const char *file, int line, int column, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_error(errors, file, line, column, code, fmt, ap);
    va_end(ap);
}

void sifa_yaml_error(struct sifa_yaml_walk *w, const yaml_node_t *n, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    w->nerrors++;
    push_error(w->errors, w->file, n ? (int)n->start_mark.line + 1 : 1, n ? (int)n->start_mark.column + 1 : 1, code,
               fmt, ap);
    va_end(ap);
}

const char *sifa_yaml_scalar(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    return strlen(s) == n->data.scalar.length ? s : NULL;
}

bool sifa_yaml_spend(struct sifa_yaml_walk *w, size_t n)
{
    if (w->budget < n) {
        w->budget = 0;
        return false;
    }
    w->budget -= n;
    return true;
}

yaml_node_t *sifa_yaml_node(struct sifa_yaml_walk *w, int index)
{
    return sifa_yaml_spend(w, 1) ? yaml_document_get_node(w->doc, index) : NULL;
}

size_t sifa_yaml_map_size(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

size_t sifa_yaml_seq_size(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *sifa_yaml_map_get(struct sifa_yaml_walk *w, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = sifa_yaml_scalar(yaml_document_get_node(w->doc, p->key));
        if (k != NULL && strcmp(k, key) == 0)
            return sifa_yaml_node(w, p->value);
    }
    return NULL;
}

bool sifa_yaml_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

bool sifa_yaml_check_keys(struct sifa_yaml_walk *w, yaml_node_t *map, const char *what, const char *const *known,
                          const char *const *allowed, const char *kind_name)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return true;
    size_t n = sifa_yaml_map_size(map);
    if (n > SIFA_YAML_KEYS_MAX) {
        sifa_yaml_error(w, map, "unknown_key", "%s的键过多(超过 %d 个)", what, SIFA_YAML_KEYS_MAX);
        return false;
    }
    if (!sifa_yaml_spend(w, n)) /* aliases repeat a mapping: the caller reports too_complex */
        return false;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(w->doc, p->key);
        const char *k = sifa_yaml_scalar(kn);
        if (k == NULL || !sifa_yaml_in_list(known, k))
            sifa_yaml_error(w, kn, "unknown_key", "%s中有未知的键 \"%s\"", what, k ? k : "(非标量)");
        else if (allowed != NULL && !sifa_yaml_in_list(allowed, k))
            sifa_yaml_error(w, kn, "not_allowed", "%s 类指标不能有 %s", kind_name, k);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; k != NULL && q < p; q++) {
            const char *k2 = sifa_yaml_scalar(yaml_document_get_node(w->doc, q->key));
            if (k2 != NULL && strcmp(k, k2) == 0)
                sifa_yaml_error(w, kn, "duplicate_key", "%s中的键 \"%s\" 重复", what, k);
        }
    }
    return true;
}
