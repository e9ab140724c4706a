/* cli.h — the subcommands of the sifa binary. Layer: cli (top). Each takes argc/argv after the
 * subcommand name and returns a process exit status (0 success, 1 failure, 2 usage error);
 * errors are printed here, in Chinese with the stable code in brackets. */
#ifndef SIFA_CLI_H
#define SIFA_CLI_H

#include <stdio.h>
#include <sys/types.h>

int sifa_cli_serve(int argc, char **argv);
int sifa_cli_init(int argc, char **argv);
int sifa_cli_backup(int argc, char **argv);
int sifa_cli_modules(int argc, char **argv);
int sifa_cli_deadlines(int argc, char **argv);

int sifa_cli_import(int argc, char **argv);
int sifa_cli_stats(int argc, char **argv);
int sifa_cli_demo(int argc, char **argv);
int sifa_cli_report(int argc, char **argv);
int sifa_cli_check_report(int argc, char **argv);

struct sifa_config;
struct sifa_model;
struct sifa_calendar;
/* Shared by the subcommands: options into cfg (defaults < --config file < SIFA_* < flags); -1
 * with *ret_status set when the command must stop (--help, a bad option). */
int sifa_cli_load_config(int argc, char **argv, const char *usage, struct sifa_config *cfg, int *ret_status);
/* Loads modules and the holiday calendar and syncs the database's tables with the modules. */
int sifa_cli_load_business(const struct sifa_config *cfg, struct sifa_model **ret_model,
                           struct sifa_calendar **ret_cal, struct sifa_error *err);

int sifa_cli_user(int argc, char **argv);
int sifa_cli_org(int argc, char **argv);
int sifa_cli_token(int argc, char **argv);
int sifa_cli_audit(int argc, char **argv);
int sifa_cli_key(int argc, char **argv);
/* Applies the core and the auth migrations to the database cfg names. */
struct sifa_db_config;
int sifa_cli_migrate(const struct sifa_db_config *dbcfg, struct sifa_error *err);

/* Prints an error as "sifa: <message> [<code>]" to stderr. */
void sifa_cli_print_error(const struct sifa_error *err);
/* Reads the next line of f (without its '\n') into *buf, grown as needed up to max bytes. Returns
 * its length (a NUL inside counts), -1 at the end of the file, or -2 when the line is longer than
 * max - 1 bytes (the rest of it is read and dropped, so memory stays bounded). */
ssize_t sifa_cli_read_line(FILE *f, char **buf, size_t *cap, size_t max);

#endif
