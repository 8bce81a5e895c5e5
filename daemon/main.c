/*
 * salesd: the command line. Parses global options (--config, --set,
 * --log-level) wherever they appear, loads the configuration where a command
 * needs it, and dispatches to the command. Exit codes follow sysexits(3), as
 * INTERFACES.md promises: 0 ok, 1 failure, 64 usage, 75 try again later,
 * 78 configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "serve.h"
#include "util.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/salesd/salesd.conf"

enum opt {
	OPT_CONFIG = 'c',
	OPT_SET = 's',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_LOG_LEVEL = 0x100,
	OPT_DATE,
	OPT_STORE,
	OPT_FORCE,
	OPT_NO_DELIVER,
	OPT_DELIVER,
	OPT_FROM,
	OPT_TO,
	OPT_JSON,
	OPT_TZ,
	OPT_COUNT,
};

/* Bits for the command-specific options, to check which command takes which. */
#define O_DATE       (1u << 0)
#define O_STORE      (1u << 1)
#define O_FORCE      (1u << 2)
#define O_NO_DELIVER (1u << 3)
#define O_DELIVER    (1u << 4)
#define O_FROM       (1u << 5)
#define O_TO         (1u << 6)
#define O_JSON       (1u << 7)
#define O_TZ         (1u << 8)
#define O_COUNT      (1u << 9)

static const struct option long_options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "set", required_argument, NULL, OPT_SET },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "date", required_argument, NULL, OPT_DATE },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "no-deliver", no_argument, NULL, OPT_NO_DELIVER },
	{ "deliver", no_argument, NULL, OPT_DELIVER },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

static const char *const option_names[] = {
	"--date", "--store", "--force", "--no-deliver", "--deliver",
	"--from", "--to", "--json", "--tz", "--count",
};

struct cli {
	const char *config_path;
	const char **sets;
	size_t nsets;
	const char *log_level;
	unsigned given;         /* O_* bits of command options given */
	const char *date, *store, *from, *to, *tz, *count;
	const char *command;
	char **args;            /* arguments after the command */
	int nargs;
};

struct command {
	const char *name;
	unsigned options;       /* O_* bits accepted */
	int (*fn)(struct cli *);
	const char *pending;    /* not in this version: what it will do */
};

static int cmd_serve(struct cli *);
static int cmd_check_config(struct cli *);

static const struct command commands[] = {
	{ "serve", 0, cmd_serve, NULL },
	{ "check-config", 0, cmd_check_config, NULL },
	{ "migrate", 0, NULL, "create or upgrade the database schema" },
	{ "run", O_DATE | O_STORE | O_FORCE | O_NO_DELIVER, NULL, "run a job in the foreground" },
	{ "backfill", O_FROM | O_TO | O_DELIVER, NULL, "run a job for a range of periods" },
	{ "status", O_JSON, NULL, "show runs, failures, retries and deliveries" },
	{ "calendar", O_TZ | O_FROM | O_COUNT, NULL, "print the next fire times of a cron expression" },
	{ "whatsapp-login", 0, NULL, "log the WhatsApp Web profile in" },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: salesd [--config FILE] [--set SECTION.KEY=VALUE]... [--log-level LEVEL] COMMAND [ARGS]\n"
	    "\n"
	    "Commands:\n"
	    "  serve                 run the daemon (the default when no command is given)\n"
	    "  check-config          validate the configuration; print nothing and exit 0,\n"
	    "                        or print FILE:LINE: message lines and exit 78\n"
	    "  migrate               create or upgrade the database schema\n"
	    "  run JOB [--date YYYY-MM-DD] [--store NAME] [--force] [--no-deliver]\n"
	    "  backfill JOB --from YYYY-MM-DD --to YYYY-MM-DD [--deliver]\n"
	    "  status [--json]\n"
	    "  calendar EXPR [--tz ZONE] [--from 'YYYY-MM-DD HH:MM'] [--count N]\n"
	    "  whatsapp-login\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE     configuration file (default $SALESD_CONFIG or " DEFAULT_CONFIG ");\n"
	    "                        FILE.d/*.conf are read after it, in lexical order\n"
	    "  -s, --set S.K=V       override a key; wins over every file\n"
	    "      --log-level L     err, warning, notice, info or debug\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    "Exit codes: 0 ok, 1 failure, 64 usage error, 75 temporary failure, 78 configuration error.\n"
	    "See salesd(8) and salesd.conf(5).\n");
}

static int
parse_args(struct cli *cli, int argc, char **argv)
{
	int c, idx;

	/* "+": stop at nothing; GNU getopt permutes, so options may follow the command. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:hV", long_options, &idx)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			cli->config_path = optarg;
			break;
		case OPT_SET: {
			const char **v = realloc(cli->sets, (cli->nsets + 2) * sizeof *v);

			if (v == NULL) {
				fprintf(stderr, "salesd: out of memory\n");
				return EX_OSERR;
			}
			cli->sets = v;
			v[cli->nsets++] = optarg;
			v[cli->nsets] = NULL;
			break;
		}
		case OPT_LOG_LEVEL:
			cli->log_level = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("salesd %s\n", SALESD_VERSION);
			exit(0);
		case OPT_DATE: cli->given |= O_DATE; cli->date = optarg; break;
		case OPT_STORE: cli->given |= O_STORE; cli->store = optarg; break;
		case OPT_FORCE: cli->given |= O_FORCE; break;
		case OPT_NO_DELIVER: cli->given |= O_NO_DELIVER; break;
		case OPT_DELIVER: cli->given |= O_DELIVER; break;
		case OPT_FROM: cli->given |= O_FROM; cli->from = optarg; break;
		case OPT_TO: cli->given |= O_TO; cli->to = optarg; break;
		case OPT_JSON: cli->given |= O_JSON; break;
		case OPT_TZ: cli->given |= O_TZ; cli->tz = optarg; break;
		case OPT_COUNT: cli->given |= O_COUNT; cli->count = optarg; break;
		case ':':
			fprintf(stderr, "salesd: option %s needs a value (see salesd --help)\n", argv[optind - 1]);
			return EX_USAGE;
		default:
			fprintf(stderr, "salesd: unknown option %s (see salesd --help)\n", argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cli->command = argv[optind];
		cli->args = argv + optind + 1;
		cli->nargs = argc - optind - 1;
	} else
		cli->command = "serve";
	return 0;
}

/* The configuration source of this invocation. */
static void
cli_source(const struct cli *cli, struct config_source *src)
{
	const char *env = getenv("SALESD_CONFIG");

	memset(src, 0, sizeof *src);
	src->path = cli->config_path ? cli->config_path :
	    env != NULL && *env != '\0' ? env : DEFAULT_CONFIG;
	src->sets = cli->sets;
	src->credentials_dir = getenv("CREDENTIALS_DIRECTORY");
	src->zoneinfo_dir = getenv("TZDIR");
}

static int
cmd_check_config(struct cli *cli)
{
	struct config_source src;
	struct config *cfg = NULL;
	char *cause = NULL;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: check-config takes no arguments\n");
		return EX_USAGE;
	}
	cli_source(cli, &src);
	if (config_load(&cfg, &src, &cause) < 0) {
		fprintf(stderr, "%s\n", cause ? cause : "out of memory");
		free(cause);
		return EX_CONFIG;
	}
	config_free(cfg);
	return 0;
}

static int
cmd_serve(struct cli *cli)
{
	struct config_source src;
	struct config *cfg = NULL;
	struct logger *lg;
	char *cause = NULL;
	int level = LOG_INFO, r;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: serve takes no arguments\n");
		return EX_USAGE;
	}
	if ((lg = log_new(log_detect(STDERR_FILENO, getenv("JOURNAL_STREAM")),
	    STDERR_FILENO, LOG_INFO)) == NULL) {
		fprintf(stderr, "salesd: out of memory\n");
		return EX_OSERR;
	}
	if (cli->log_level != NULL) {
		log_parse_level(cli->log_level, &level); /* checked in main */
		log_set_level(lg, level);
	}
	cli_source(cli, &src);
	if (config_load(&cfg, &src, &cause) < 0) {
		log_at(lg, LOG_ERR, NULL, "configuration is invalid, not starting:\n%s",
		    cause ? cause : "out of memory");
		free(cause);
		log_free(lg);
		return EX_CONFIG;
	}
	r = serve_main(cfg, &src, lg, cli->log_level != NULL);
	log_free(lg);
	return r;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct command *cmd = NULL;
	int level, r;

	if ((r = parse_args(&cli, argc, argv)) != 0)
		goto out;
	if (cli.log_level != NULL && log_parse_level(cli.log_level, &level) < 0) {
		fprintf(stderr, "salesd: --log-level %s: unknown level "
		    "(expected err, warning, notice, info or debug)\n", cli.log_level);
		r = EX_USAGE;
		goto out;
	}
	for (size_t i = 0; i < UTIL_NELEM(commands); i++)
		if (strcmp(commands[i].name, cli.command) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		const char *names[UTIL_NELEM(commands) + 1];
		const char *hint;

		for (size_t i = 0; i < UTIL_NELEM(commands); i++)
			names[i] = commands[i].name;
		names[UTIL_NELEM(commands)] = NULL;
		hint = util_suggest(cli.command, names);
		fprintf(stderr, "salesd: unknown command \"%s\"%s%s%s (see salesd --help)\n",
		    cli.command, hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
		r = EX_USAGE;
		goto out;
	}
	for (size_t i = 0; i < UTIL_NELEM(option_names); i++) {
		if ((cli.given & (1u << i)) && !(cmd->options & (1u << i))) {
			fprintf(stderr, "salesd: %s: option %s does not apply (see salesd --help)\n",
			    cmd->name, option_names[i]);
			r = EX_USAGE;
			goto out;
		}
	}
	if (cmd->fn == NULL) {
		/* Say so plainly rather than pretend. */
		fprintf(stderr, "salesd: %s (%s) is not available in salesd %s yet\n",
		    cmd->name, cmd->pending, SALESD_VERSION);
		r = EX_USAGE;
		goto out;
	}
	r = cmd->fn(&cli);
out:
	free(cli.sets);
	return r;
}
