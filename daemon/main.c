/*
 * salesd: the command line. Parses global options (--config, --set,
 * --log-level) wherever they appear, checks the command's options and
 * dispatches to the command (cli.h); the commands load the configuration
 * where they need it (cli.c). Exit codes follow sysexits(3), as
 * INTERFACES.md promises: 0 ok, 1 failure, 64 usage, 75 try again later,
 * 78 configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "base/log.h"
#include "base/util.h"
#include "version.h"

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
	OPT_PERIOD,
	OPT_ATTEMPT,
	OPT_ACCEPT_INCOMPLETE,
	OPT_AGAIN,
	OPT_LAST_ATTEMPT,
};

/* Bits for the command-specific options, in the order of option_names. */
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
#define O_PERIOD     (1u << 10)
#define O_ATTEMPT    (1u << 11)
#define O_ACCEPT_INCOMPLETE (1u << 12)
#define O_AGAIN      (1u << 13)
#define O_LAST_ATTEMPT (1u << 14)

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
	{ "period", required_argument, NULL, OPT_PERIOD },
	{ "attempt", required_argument, NULL, OPT_ATTEMPT },
	{ "accept-incomplete", no_argument, NULL, OPT_ACCEPT_INCOMPLETE },
	{ "again", no_argument, NULL, OPT_AGAIN },
	{ "last-attempt", no_argument, NULL, OPT_LAST_ATTEMPT },
	{ NULL, 0, NULL, 0 },
};

static const char *const option_names[] = {
	"--date", "--store", "--force", "--no-deliver", "--deliver",
	"--from", "--to", "--json", "--tz", "--count", "--period", "--attempt", "--accept-incomplete", "--again",
	"--last-attempt",
};

struct command {
	const char *name;
	unsigned options;       /* O_* bits accepted */
	int (*fn)(struct cli *);
	const char *pending;    /* not in this version: what it will do */
};

static const struct command commands[] = {
	{ "serve", 0, cmd_serve, NULL },
	{ "check-config", 0, cmd_check_config, NULL },
	{ "migrate", 0, cmd_migrate, NULL },
	{ "run", O_DATE | O_STORE | O_FORCE | O_NO_DELIVER | O_ACCEPT_INCOMPLETE, cmd_run, NULL },
	{ "backfill", O_FROM | O_TO | O_DELIVER | O_FORCE, cmd_backfill, NULL },
	{ "recheck", O_FROM | O_TO | O_NO_DELIVER, cmd_recheck, NULL },
	{ "status", O_JSON, cmd_status, NULL },
	{ "calendar", O_TZ | O_FROM | O_COUNT, cmd_calendar, NULL },
	{ "whatsapp-login", 0, cmd_whatsapp_login, NULL },
	{ "whatsapp-check", 0, cmd_whatsapp_check, NULL },
	{ "task", O_PERIOD | O_STORE | O_ATTEMPT | O_FORCE | O_AGAIN | O_LAST_ATTEMPT, cmd_task, NULL },
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
	    "                        run JOB (and what it needs that is not done) for the period\n"
	    "                        holding the date (default: the latest closed period)\n"
	    "  run etl --date YYYY-MM-DD --accept-incomplete\n"
	    "                        release a day the completeness gate holds or withheld: its\n"
	    "                        reports go out as they are, and are run now\n"
	    "  backfill JOB --from YYYY-MM-DD --to YYYY-MM-DD [--deliver] [--force]\n"
	    "                        run JOB for every period in the range, oldest first\n"
	    "  recheck --from YYYY-MM-DD --to YYYY-MM-DD [--no-deliver]\n"
	    "                        download those days again; a day the POS system changed is\n"
	    "                        loaded again, its reports rendered again and corrected\n"
	    "  status [--json]       recent runs, failures, pending retries, next fire times\n"
	    "  calendar EXPR [--tz ZONE] [--from 'YYYY-MM-DD HH:MM'] [--count N]\n"
	    "  whatsapp-login        open WhatsApp Web with the profile, save the QR code as a PNG\n"
	    "                        (path printed) and wait until someone scans it\n"
	    "  whatsapp-check [CHAT] open WhatsApp Web with the profile and say which strategy\n"
	    "                        finds each element (with CHAT: opening it); sends nothing;\n"
	    "                        exit 0 all found, 77 the login is lost, 1 one is missing\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE     configuration file (default $SALESD_CONFIG or " CLI_DEFAULT_CONFIG ");\n"
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

	/* GNU getopt permutes, so options may also follow the command. */
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
		case OPT_FORCE: cli->given |= O_FORCE; cli->force = true; break;
		case OPT_NO_DELIVER: cli->given |= O_NO_DELIVER; cli->no_deliver = true; break;
		case OPT_DELIVER: cli->given |= O_DELIVER; cli->deliver = true; break;
		case OPT_FROM: cli->given |= O_FROM; cli->from = optarg; break;
		case OPT_TO: cli->given |= O_TO; cli->to = optarg; break;
		case OPT_JSON: cli->given |= O_JSON; cli->json = true; break;
		case OPT_TZ: cli->given |= O_TZ; cli->tz = optarg; break;
		case OPT_COUNT: cli->given |= O_COUNT; cli->count = optarg; break;
		case OPT_PERIOD: cli->given |= O_PERIOD; cli->period = optarg; break;
		case OPT_ATTEMPT: cli->given |= O_ATTEMPT; cli->attempt = optarg; break;
		case OPT_ACCEPT_INCOMPLETE: cli->given |= O_ACCEPT_INCOMPLETE; cli->accept_incomplete = true; break;
		case OPT_AGAIN: cli->given |= O_AGAIN; cli->again = true; break;
		case OPT_LAST_ATTEMPT: cli->given |= O_LAST_ATTEMPT; cli->last_attempt = true; break;
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
