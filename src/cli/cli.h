/* cli.h — the subcommands of the sifa binary. Layer: cli (top). Each takes argc/argv after the
 * subcommand name and returns a process exit status (0 success, 1 failure, 2 usage error);
 * errors are printed here, in Chinese with the stable code in brackets. */
#ifndef SIFA_CLI_H
#define SIFA_CLI_H

int sifa_cli_serve(int argc, char **argv);
int sifa_cli_init(int argc, char **argv);
int sifa_cli_backup(int argc, char **argv);
int sifa_cli_modules(int argc, char **argv);
int sifa_cli_deadlines(int argc, char **argv);

/* Prints an error as "sifa: <message> [<code>]" to stderr. */
void sifa_cli_print_error(const struct sifa_error *err);

#endif
