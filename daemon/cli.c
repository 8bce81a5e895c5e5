/*
 * cli: the steps every command of salesd takes the same way (see cli.h):
 * where the configuration comes from, loading it with its job graph, the
 * foreground logger, what a task child inherits, and the fake clock of the
 * tests. "salesd check-config" is the loading step alone, so it lives here
 * too. main.c parses the command line and dispatches; the commands call
 * these, never back into main.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "base/config.h"
#include "engine/dag.h"
#include "base/log.h"
#include "base/util.h"

void
cli_source(const struct cli *cli, struct config_source *src)
{
	const char *env = getenv("SALESD_CONFIG");

	memset(src, 0, sizeof *src);
	src->path = cli->config_path ? cli->config_path :
	    env != NULL && *env != '\0' ? env : CLI_DEFAULT_CONFIG;
	src->sets = cli->sets;
	src->credentials_dir = getenv("CREDENTIALS_DIRECTORY");
	src->zoneinfo_dir = getenv("TZDIR");
}

int
cli_load(const struct cli *cli, struct config **cfg, struct dag **dag)
{
	struct config_source src;
	char *cause = NULL;

	cli_source(cli, &src);
	*cfg = NULL;
	*dag = NULL;
	if (config_load(cfg, &src, &cause) < 0 || dag_build(dag, *cfg, src.zoneinfo_dir, &cause) < 0) {
		fprintf(stderr, "%s\n", cause ? cause : "out of memory");
		free(cause);
		config_free(*cfg);
		*cfg = NULL;
		return EX_CONFIG;
	}
	return 0;
}

struct logger *
cli_logger(const struct cli *cli, const struct config *cfg)
{
	struct logger *lg = log_new(log_detect(STDERR_FILENO, getenv("JOURNAL_STREAM")),
	    STDERR_FILENO, LOG_INFO);
	int level;

	if (lg == NULL)
		return NULL;
	if (cli->log_level != NULL && log_parse_level(cli->log_level, &level) == 0)
		log_set_level(lg, level);
	else if (cfg != NULL && log_parse_level(cfg->salesd.log_level, &level) == 0)
		log_set_level(lg, level);
	return lg;
}

const char **
cli_child_args(const struct cli *cli)
{
	const char **v = calloc(2 * cli->nsets + 3, sizeof *v);
	struct config_source src;
	size_t n = 0;

	if (v == NULL)
		return NULL;
	cli_source(cli, &src);
	v[n++] = "--config";
	v[n++] = src.path;
	for (size_t i = 0; i < cli->nsets; i++) {
		v[n++] = "--set";
		v[n++] = cli->sets[i];
	}
	return v;
}

char **
cli_child_env(void)
{
	/* These speak for this process to systemd; a child must not inherit them. */
	static const char *const drop[] = {
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
		"LISTEN_FDNAMES", "JOURNAL_STREAM",
	};
	size_t n = 0;
	char **v;

	while (environ[n] != NULL)
		n++;
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		return NULL;
	n = 0;
	for (char **e = environ; *e != NULL; e++) {
		bool keep = true;

		for (size_t i = 0; i < UTIL_NELEM(drop); i++) {
			size_t len = strlen(drop[i]);

			if (strncmp(*e, drop[i], len) == 0 && (*e)[len] == '=')
				keep = false;
		}
		if (keep)
			v[n++] = *e;
	}
	return v;
}

long long
cli_clock_offset(void)
{
	const char *fake = getenv("SALESD_FAKE_NOW");
	char *end;
	long long secs;

	if (fake == NULL || *fake == '\0')
		return 0;
	secs = strtoll(fake, &end, 10);
	if (*end != '\0')
		return 0;
	return secs * 1000000LL - util_now_realtime_usec();
}

int
cmd_check_config(struct cli *cli)
{
	struct config *cfg;
	struct dag *dag;
	int r;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: check-config takes no arguments\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	dag_free(dag);
	config_free(cfg);
	return 0;
}
