/* config.h — sifa's configuration: defaults, then the YAML file (--config), then SIFA_*
 * environment variables, then command-line flags; later sources win.
 * Layer: cli. The file is a flat YAML mapping of the keys listed in sifa.conf.example; an
 * unknown key or a bad value is an error naming file:line:column. */
#ifndef SIFA_CLI_CONFIG_H
#define SIFA_CLI_CONFIG_H

#include "http/http.h"

#define SIFA_CONFIG_MAX_BYTES (256 * 1024)

struct sifa_config {
    struct sifa_server_config server;
    const char *backup_dir;
    const char *modules_dir;  /* business-line definitions */
    const char *indicators_dir; /* indicator definitions (over the modules) */
    const char *report_template; /* the annual report's template (reports/annual.md) */
    const char *files_dir;    /* uploaded files (attachments) */
    const char *holidays_dir; /* working-day calendar, one file a year */
    const char *roles_file;   /* role definitions */
    const char *key_file;     /* personal-data and audit keys (0600) */
    int session_idle_minutes;
    int session_max_hours;
    const char *database; /* = server.db.path */
    char *strings[64];    /* owned copies the fields above may point to */
    size_t nstrings;
};

void sifa_config_init(struct sifa_config *cfg);
void sifa_config_release(struct sifa_config *cfg);

/* Sets one key from text (file, environment or flag). origin names the source for messages. */
int sifa_config_set(struct sifa_config *cfg, const char *key, const char *value, const char *origin,
                    struct sifa_error *err);
/* Reads a YAML file. */
int sifa_config_load_file(struct sifa_config *cfg, const char *path, struct sifa_error *err);
/* Applies SIFA_LISTEN, SIFA_DATABASE, … (the key upper-cased with SIFA_ in front). */
int sifa_config_load_env(struct sifa_config *cfg, struct sifa_error *err);

/* Lines of help text describing every key (for --help). */
const char *sifa_config_help(void);

#endif
