/* model.h — business lines as data: module definitions loaded from modules/<code>.yaml and
 * shared code tables (字典) from modules/codes/<table>.yaml.
 * Layer: model (above db and base). The loader parses and validates every definition into an
 * immutable struct sifa_model; the record engine runs it. Nothing in a definition reaches SQL
 * unchecked: every code is [a-z][a-z0-9_]* and at most SIFA_MODEL_CODE_MAX bytes.
 *
 * Ownership: everything hangs off struct sifa_model, which sifa_model_free releases at once;
 * pointers into it are borrowed for the model's life. Thread-safety: immutable after load, so any
 * number of threads may read one model. */
#ifndef SIFA_MODEL_H
#define SIFA_MODEL_H

#include "base/common.h"

#define SIFA_MODEL_CODE_MAX 48
#define SIFA_MODEL_FILE_MAX (512 * 1024)
#define SIFA_MODEL_DEPTH_MAX 16
#define SIFA_MODEL_FIELDS_MAX 256
#define SIFA_MODEL_MODULES_MAX 256

enum sifa_field_type {
    SIFA_FIELD_TEXT,
    SIFA_FIELD_LONGTEXT,
    SIFA_FIELD_INTEGER,
    SIFA_FIELD_DECIMAL,
    SIFA_FIELD_MONEY,     /* integer fen */
    SIFA_FIELD_DATE,      /* "YYYY-MM-DD" */
    SIFA_FIELD_DATETIME,  /* ISO 8601, stored as UTC text */
    SIFA_FIELD_BOOL,
    SIFA_FIELD_ENUM,      /* a code of the field's code table */
    SIFA_FIELD_REF,       /* id of a record of another module */
    SIFA_FIELD_ORG,       /* an org unit code */
    SIFA_FIELD_USER,      /* a user name */
    SIFA_FIELD_PERSON,    /* {name, id_number, phone} */
    SIFA_FIELD_ID_NUMBER, /* GB 11643 */
    SIFA_FIELD_USCC,      /* GB 32100 */
    SIFA_FIELD_PHONE,     /* mainland mobile */
    SIFA_FIELD_ATTACHMENT,
    SIFA_FIELD_GROUP,     /* repeated group of sub-fields (the parties of a dispute) */
};

struct sifa_code_item {
    char *code;
    char *label; /* Chinese */
};

struct sifa_code_table {
    char *code;
    char *name;
    char *standard; /* e.g. "SF/T 0018", or NULL */
    size_t nitems;
    struct sifa_code_item *items;
};

struct sifa_field {
    char *code;
    char *name; /* Chinese label */
    enum sifa_field_type type;
    bool required, personal, searchable, allow_legacy_id;
    bool has_min, has_max;
    int64_t min, max;        /* integer and money (fen) bounds; for text: not used */
    int64_t max_length;      /* characters, 0 = type default */
    char *pattern;           /* POSIX extended regex for text, or NULL */
    char *default_value;     /* text form, or NULL */
    const struct sifa_code_table *codes; /* enum */
    char *ref_module;        /* ref */
    size_t nsub;             /* group */
    struct sifa_field *sub;
    int64_t max_items;       /* group: most entries */
    size_t ntypes;           /* attachment: allowed content types (0: any the files API accepts) */
    char **types;
    int line, column;        /* where it was defined */
};

struct sifa_state {
    char *code;
    char *name;
    bool initial, final;
};

struct sifa_transition {
    char *code;
    char *name;
    size_t nfrom;
    const struct sifa_state **from;
    const struct sifa_state *to;
    size_t nrequires;
    const struct sifa_field **requires; /* must be non-empty after the transition's changes */
    size_t nsets;
    const struct sifa_field **sets;     /* date/datetime fields set to now when it fires */
    char *permission;                   /* NULL: the module's update permission */
};

enum sifa_deadline_unit { SIFA_DEADLINE_NATURAL_DAYS, SIFA_DEADLINE_WORKING_DAYS, SIFA_DEADLINE_HOURS };

struct sifa_deadline {
    char *code;
    char *name;
    const struct sifa_field *start_field;    /* date/datetime field the clock starts from */
    enum sifa_deadline_unit unit;
    int64_t amount;
    const struct sifa_field *extension_field;  /* integer field: extra units granted, or NULL */
    int64_t max_extension;
    const struct sifa_field *suspended_field;  /* integer field: days the clock stood still, or NULL */
    size_t nstop_states;
    const struct sifa_state **stop_states;     /* the deadline is met once the record reaches one */
    const struct sifa_field *met_field;        /* date/datetime: when it was met, or NULL */
};

struct sifa_numbering {
    const struct sifa_field *field; /* text field that receives the number */
    char *pattern;                  /* "({year})慈调字第{seq:05}号" */
    const struct sifa_field *year_field; /* date field giving the year; NULL: creation year */
    bool per_org;                   /* a sequence per org unit as well as per year */
};

struct sifa_module {
    char *code;
    char *name;
    char *group; /* menu section the front end files the module under (业务分组), or NULL */
    char *file;
    const struct sifa_field *org_field; /* which org unit a record belongs to, or NULL */
    size_t nfields;
    struct sifa_field *fields;
    size_t nstates;
    struct sifa_state *states;
    const struct sifa_state *initial;
    size_t ntransitions;
    struct sifa_transition *transitions;
    size_t ndeadlines;
    struct sifa_deadline *deadlines;
    struct sifa_numbering *numbering; /* or NULL */
    char hash[65];                    /* SHA-256 hex of the definition file */
};

/* ---- indicators (indicators/<file>.yaml) ----
 * An indicator is a figure of the bureau's statistics. Base kinds are kept as aggregates by the
 * record engine as records change; derived kinds are computed from other indicators when read.
 *   count     records matching `where`, attributed to `date` (a day) and `org` (an org unit)
 *   sum       the sum of `field` (integer or money) over those records
 *   distinct  distinct values of `field` (persons, not person-times) over those records
 *   stock     records in register at a date: `date` on or before it, `end` empty or after it;
 *             also gives the balance over a period (opening + in − out = closing)
 *   ratio     a / b × scale, rounded to `digits` (share is a ratio with scale 100)
 *   difference a − b
 *   total     a + b (figures of two modules together, e.g. 行政争议 = 复议 + 诉讼)
 *   per_day   a / days of the period (calendar or working days)
 *   change    (a − a of the compared period) / a of the compared period × 100 */
enum sifa_indicator_kind {
    SIFA_IND_COUNT,
    SIFA_IND_SUM,
    SIFA_IND_DISTINCT,
    SIFA_IND_STOCK,
    SIFA_IND_RATIO,
    SIFA_IND_DIFFERENCE,
    SIFA_IND_PER_DAY,
    SIFA_IND_CHANGE,
    SIFA_IND_TOTAL,
};

enum sifa_cond_op {
    SIFA_COND_EQ,        /* value: one */
    SIFA_COND_NE,        /* value: one */
    SIFA_COND_IN,        /* values: one or more */
    SIFA_COND_NOT_IN,    /* values: one or more */
    SIFA_COND_EMPTY,     /* no value */
    SIFA_COND_NOT_EMPTY, /* no value */
    SIFA_COND_GTE,
    SIFA_COND_LTE,
    SIFA_COND_GT,
    SIFA_COND_LT,
    SIFA_COND_ON_TIME, /* deadline conditions: met by its due time (value "1") or not (value "0") */
};

/* One condition of `where`. Values are normalised to the stored form when loaded: enum codes as
 * in the code table, money in fen (written in 元 in the definition), bool as "1"/"0", dates
 * "YYYY-MM-DD". Personal fields, groups, persons and attachments cannot be conditions. */
struct sifa_indicator_cond {
    const struct sifa_field *field; /* NULL: the record's state (values are state codes) or a deadline */
    const struct sifa_deadline *deadline; /* {deadline: code, on_time: true|false}: needs the deadline's
                                           * `met` field; "on time" = met and met no later than due */
    enum sifa_cond_op op;
    size_t nvalues;
    char **values;
};

enum sifa_rounding { SIFA_ROUND_HALF_UP, SIFA_ROUND_DOWN };
enum sifa_days { SIFA_DAYS_CALENDAR, SIFA_DAYS_WORKING };
enum sifa_compare { SIFA_COMPARE_PREVIOUS_YEAR, SIFA_COMPARE_PREVIOUS_PERIOD };

struct sifa_indicator {
    char *code;
    char *name;        /* Chinese */
    char *unit;        /* 件, 人, 人次, 元, %, 件/日 … */
    char *description; /* or NULL */
    char *file;
    int line, column;
    enum sifa_indicator_kind kind;
    /* base kinds (count, sum, distinct, stock) */
    const struct sifa_module *module;
    const struct sifa_field *date_field; /* date or datetime (datetime: its China-time date) */
    const struct sifa_field *end_field;  /* stock: the date the record leaves the register */
    const struct sifa_field *org_field;  /* org field; default the module's org_field */
    const struct sifa_field *field;      /* sum: integer/money; distinct: the key */
    size_t nwhere;
    struct sifa_indicator_cond *where;
    size_t nby;
    const struct sifa_field **by; /* enum fields the figure can be broken down by */
    /* derived kinds */
    const struct sifa_indicator *a, *b; /* ratio a/b, difference a−b, total a+b; per_day and change use a */
    int64_t scale;                      /* ratio: 100 for a percentage (default), 1 for a plain ratio */
    int digits;                         /* decimal digits of the result (ratio, per_day, change) */
    enum sifa_rounding rounding;
    enum sifa_days days;
    enum sifa_compare compare;
    char hash[65]; /* SHA-256 hex of what the aggregates depend on (base kinds), "" for derived */
};

/* A periodic table (统计表) declared beside the indicators (`tables:` in indicators/<file>.yaml):
 * one column per indicator, one row per org unit — the requested unit's direct children, or every
 * unit of row_kind below it — and a total row. */
struct sifa_stat_table {
    char *code;
    char *title; /* Chinese; the unit's name is put before it when the title does not name one */
    char *file;
    int line, column;
    size_t ncolumns;
    const struct sifa_indicator **columns; /* into model->indicators */
    char *row_kind; /* org kind (gov_unit, town…) or NULL: the direct children */
};

struct sifa_model {
    size_t nmodules;
    struct sifa_module *modules;
    size_t ncode_tables;
    struct sifa_code_table *code_tables;
    size_t nindicators;
    struct sifa_indicator *indicators; /* base kinds before the derived kinds that use them */
    size_t ntables;
    struct sifa_stat_table *tables;
    uint64_t id; /* unique in the process for this model and its indicators (a new one whenever
                  * either is loaded): engines may cache what they derive from a model under it */
};
/* A new model id (see struct sifa_model.id). Thread-safe. */
uint64_t sifa_model_new_id(void);

/* Loads every modules/<code>.yaml in dir and every code table in dir/codes. All errors are
 * collected (not just the first): on failure *ret_errors (new, a JSON array of
 * {"file","line","column","code","message"}) lists them and the status is SIFA_EINVALID;
 * on success *ret_model is new (sifa_model_free) and *ret_errors is NULL. */
int sifa_model_load_dir(const char *dir, struct sifa_model **ret_model, json_t **ret_errors, struct sifa_error *err);
/* Loads one module from text with a given set of code tables (for tests and fuzzing). */
int sifa_model_load_text(const char *file, const char *text, size_t len, const char *codes_text, size_t codes_len,
                         struct sifa_model **ret_model, json_t **ret_errors, struct sifa_error *err);
void sifa_model_free(struct sifa_model *model);

/* Loads every *.yaml in dir (each a list under `indicators:`) into model, whose modules it refers
 * to. Errors are collected like sifa_model_load_dir's (file:line:column, code, message) and the
 * model is left without indicators then. A missing dir: SIFA_ENOTFOUND. */
int sifa_model_load_indicators(struct sifa_model *model, const char *dir, json_t **ret_errors, struct sifa_error *err);
/* The same from one text (tests and fuzzing). */
int sifa_model_load_indicators_text(struct sifa_model *model, const char *file, const char *text, size_t len,
                                    json_t **ret_errors, struct sifa_error *err);
const struct sifa_indicator *sifa_model_indicator(const struct sifa_model *model, const char *code);
const struct sifa_stat_table *sifa_model_table(const struct sifa_model *model, const char *code);
json_t *sifa_stat_table_to_json(const struct sifa_stat_table *table);
const char *sifa_indicator_kind_name(enum sifa_indicator_kind kind);
/* The definition as JSON for GET /api/v1/indicators/definitions (new reference). */
json_t *sifa_indicator_to_json(const struct sifa_indicator *indicator);

const struct sifa_module *sifa_model_module(const struct sifa_model *model, const char *code);
const struct sifa_field *sifa_module_field(const struct sifa_module *module, const char *code);
/* Whether the field, or one of its sub-fields (group, person), is personal data. */
bool sifa_field_has_personal(const struct sifa_field *field);
/* Whether any field of the module holds personal data. */
bool sifa_module_has_personal(const struct sifa_module *module);
const struct sifa_state *sifa_module_state(const struct sifa_module *module, const char *code);
const struct sifa_transition *sifa_module_transition(const struct sifa_module *module, const char *code);
const struct sifa_code_item *sifa_code_table_item(const struct sifa_code_table *table, const char *code);

const char *sifa_field_type_name(enum sifa_field_type type);
/* True when code matches [a-z][a-z0-9_]* and fits SIFA_MODEL_CODE_MAX: safe as an SQL name. */
bool sifa_model_code_valid(const char *code);

/* The definition as JSON for GET /api/v1/modules (new reference). */
json_t *sifa_module_to_json(const struct sifa_module *module);

#endif
