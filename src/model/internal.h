/* internal.h — what the model layer's files share and nothing above them may use.
 * Layer: model (private). */
#ifndef SIFA_MODEL_INTERNAL_H
#define SIFA_MODEL_INTERNAL_H

#include "model/model.h"

/* Frees every indicator of model (indicators.c) and leaves it with none. model must not be NULL.
 * Pointers into the old indicators become invalid. */
void sifa_model_indicators_free(struct sifa_model *model);

/* ---- walking definition files (yamlwalk.c) ----
 * One file's walk: errors go to the caller's array (borrowed) as {file, line, column, code,
 * message}; every node visited spends one unit of budget (budget 0: the walk stops finding nodes,
 * and the caller reports the file as too complex). */
#include <yaml.h>

#define SIFA_YAML_ERRORS_MAX 1000 /* errors listed per array; the rest are counted in one last entry */
#define SIFA_YAML_KEYS_MAX 64     /* keys of one mapping: more is not a definition */

struct sifa_yaml_walk {
    const char *file;
    yaml_document_t *doc;
    json_t *errors; /* borrowed */
    size_t nerrors; /* errors found by this walk, listed or not */
    size_t budget;
};

void sifa_yaml_error(struct sifa_yaml_walk *w, const yaml_node_t *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sifa_yaml_error_at(json_t *errors, const char *file, int line, int column, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The text of a scalar node; NULL for other nodes and for a scalar holding an escaped NUL ("\0"),
 * which a C string cannot carry. */
const char *sifa_yaml_scalar(const yaml_node_t *n);
bool sifa_yaml_spend(struct sifa_yaml_walk *w, size_t n);
yaml_node_t *sifa_yaml_node(struct sifa_yaml_walk *w, int index); /* NULL once the budget is spent */
size_t sifa_yaml_map_size(const yaml_node_t *map);
size_t sifa_yaml_seq_size(const yaml_node_t *seq);
/* Value of key in a mapping, or NULL (also for map NULL or not a mapping). */
yaml_node_t *sifa_yaml_map_get(struct sifa_yaml_walk *w, yaml_node_t *map, const char *key);
bool sifa_yaml_in_list(const char *const *list, const char *s); /* list NULL-terminated, may be NULL */
/* Reports keys of map not in known (unknown_key: a typo must not be silently ignored), keys in
 * known but not in allowed when allowed is given (not_allowed: a key of another kind, kind_name
 * says which), and repeated keys (duplicate_key). False when the mapping has more keys than any
 * definition could, or the budget is spent (then the caller skips it). */
bool sifa_yaml_check_keys(struct sifa_yaml_walk *w, yaml_node_t *map, const char *what, const char *const *known,
                          const char *const *allowed, const char *kind_name);

#endif
