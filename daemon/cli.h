/*
 * cli: the parsed command line of salesd, shared by the commands, and the
 * steps every command takes the same way (cli.c): finding and loading the
 * configuration (with its job graph), and the environment of task children.
 * main.c fills struct cli and calls one cmd_* function; the commands live
 * beside what they run (serve.c, run.c, task.c, admin.c, calendar.c).
 */
#ifndef SALESD_CLI_H
#define SALESD_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"
#include "engine/dag.h"
#include "base/log.h"

/* The configuration file when neither --config nor $SALESD_CONFIG names one. */
#define CLI_DEFAULT_CONFIG "/etc/salesd/salesd.conf"

struct cli {
	const char *config_path;
	const char **sets;
	size_t nsets;
	const char *log_level;
	unsigned given;         /* O_* bits of command options given */
	const char *date, *store, *from, *to, *tz, *count, *period, *attempt;
	bool force, no_deliver, deliver, json, accept_incomplete, again;
	bool last_attempt;      /* task: no retry follows a failure of this attempt */
	const char *command;
	char **args;            /* arguments after the command */
	int nargs;
};

/* Where the configuration comes from for this invocation. */
void cli_source(const struct cli *cli, struct config_source *src);

/*
 * Load the configuration and build its job graph; on failure print the
 * errors to stderr ("FILE:LINE: ...") and return EX_CONFIG (78).
 */
int cli_load(const struct cli *cli, struct config **cfg, struct dag **dag);

/* A logger on stderr at --log-level (default info) for foreground commands. */
struct logger *cli_logger(const struct cli *cli, const struct config *cfg);

/*
 * What a task child gets: the global options that select the same
 * configuration (NULL-terminated; free with free()), and our environment
 * minus what speaks for this process to systemd (NOTIFY_SOCKET, WATCHDOG_*,
 * LISTEN_*, JOURNAL_STREAM). Free the environment with free() too (the
 * strings belong to environ).
 */
const char **cli_child_args(const struct cli *cli);
char **cli_child_env(void);

/* The clock offset asked for by $SALESD_FAKE_NOW (seconds since the epoch), in µs. */
long long cli_clock_offset(void);

/* Commands: each returns the exit code. */
int cmd_serve(struct cli *cli);
int cmd_recheck(struct cli *cli);
int cmd_check_config(struct cli *cli);
int cmd_task(struct cli *cli);
int cmd_run(struct cli *cli);
int cmd_backfill(struct cli *cli);
int cmd_migrate(struct cli *cli);
int cmd_status(struct cli *cli);
int cmd_calendar(struct cli *cli);
int cmd_whatsapp_login(struct cli *cli);
int cmd_whatsapp_check(struct cli *cli);

#endif
