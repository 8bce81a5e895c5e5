/*
 * calendar: "salesd calendar EXPR", the next fire times of a cron expression,
 * so that an operator can check a schedule before deploying it. The times
 * come from the same cron module the daemon fires by.
 *
 * Time zone: the expression's own ("30 1 * * * Asia/Kolkata"), else --tz,
 * else [salesd] timezone of the configuration (the daemon's default), else
 * UTC when there is no configuration file at all (said on stderr, unless the
 * expression names its zone). --from is a local time in that
 * zone and counts itself ("0 3 * * *" from 03:00 gives 03:00 first); without
 * it, times strictly after now are listed.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "engine/cron.h"
#include "base/tz.h"
#include "base/util.h"

#define CALENDAR_DEFAULT_COUNT 5
#define CALENDAR_MAX_COUNT 1000

/* Does the expression end in a zone? Five fields, or one @macro, without one. */
static bool
calendar_names_zone(const char *expr)
{
	size_t n;
	char **f = util_split(expr, ' ', &n);
	bool zone = f != NULL && n > (f[0][0] == '@' ? 1u : 5u);

	util_strv_free(f);
	return zone;
}

/* The default zone: --tz, the configuration's, or UTC. Returns an exit code. */
static int
calendar_zone(const struct cli *cli, bool quiet, struct tz **zone)
{
	struct config_source src;
	struct config *cfg = NULL;
	struct dag *dag = NULL;
	const char *name = cli->tz;
	char *cause = NULL;
	int r;

	cli_source(cli, &src);
	/* The expression's own zone wins: no configuration needed. */
	if (name == NULL && quiet)
		name = "UTC";
	if (name == NULL) {
		if (cli->config_path == NULL && getenv("SALESD_CONFIG") == NULL &&
		    access(src.path, F_OK) != 0) {
			fprintf(stderr, "salesd: calendar: no configuration at %s; times are in UTC "
			    "(give --tz ZONE)\n", src.path);
			name = "UTC";
		} else {
			if ((r = cli_load(cli, &cfg, &dag)) != 0)
				return r;
			name = cfg->salesd.timezone;
		}
	}
	r = tz_load(zone, name, src.zoneinfo_dir, &cause);
	dag_free(dag);
	config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "salesd: calendar: --tz %s: %s\n", cli->tz ? cli->tz : "", cause ? cause : "");
		free(cause);
		return cli->tz ? EX_USAGE : EX_CONFIG;
	}
	return 0;
}

/* "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" in zone z into *t. */
static int
calendar_parse_from(const char *text, const struct tz *z, int64_t *t)
{
	int y, mo, d, h, mi, s = 0, n = 0, m = 0;

	if (sscanf(text, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5)
		return -EINVAL;
	if (text[n] == ':') {
		if (sscanf(text + n, ":%2d%n", &s, &m) != 1)
			return -EINVAL;
		n += m;
	}
	if (text[n] != '\0')
		return -EINVAL;
	return tz_from_civil(z, y, mo, d, h, mi, s, t);
}

int
cmd_calendar(struct cli *cli)
{
	struct cron *c = NULL;
	struct tz *zone = NULL;
	char *expr = NULL, *cause = NULL, *end, line[CRON_INSTANT_LEN];
	long count = CALENDAR_DEFAULT_COUNT;
	int64_t t, next;
	int r, code;

	if (cli->nargs < 1) {
		fprintf(stderr, "salesd: calendar needs a cron expression, "
		    "e.g. salesd calendar '30 1 * * *' --tz Asia/Kolkata\n");
		return EX_USAGE;
	}
	if (cli->count != NULL) {
		errno = 0;
		count = strtol(cli->count, &end, 10);
		if (errno != 0 || end == cli->count || *end != '\0' || count < 1 || count > CALENDAR_MAX_COUNT) {
			fprintf(stderr, "salesd: calendar: --count \"%s\": expected a number from 1 to %d\n",
			    cli->count, CALENDAR_MAX_COUNT);
			return EX_USAGE;
		}
	}
	/* "salesd calendar 30 1 '*' '*' '*'" works as well as one quoted argument. */
	for (int i = 0; i < cli->nargs; i++) {
		char *joined = util_printf("%s%s%s", expr ? expr : "", expr ? " " : "", cli->args[i]);

		free(expr);
		if ((expr = joined) == NULL)
			return EX_OSERR;
	}
	if ((code = calendar_zone(cli, calendar_names_zone(expr), &zone)) != 0)
		goto out;
	if ((r = cron_parse(&c, expr, zone, getenv("TZDIR"), &cause)) < 0) {
		fprintf(stderr, "salesd: calendar: \"%s\": %s\n", expr, cause ? cause : "invalid");
		code = r == -ENOMEM ? EX_OSERR : EX_USAGE;
		goto out;
	}
	if (cli->from != NULL) {
		/* --from is local to the schedule's zone, which may be the expression's own. */
		if ((r = calendar_parse_from(cli->from, cron_zone(c), &t)) < 0) {
			fprintf(stderr, "salesd: calendar: --from \"%s\": expected 'YYYY-MM-DD HH:MM' "
			    "(a real date and time)\n", cli->from);
			code = EX_USAGE;
			goto out;
		}
		t--;
	} else
		t = (util_now_realtime_usec() + cli_clock_offset()) / 1000000;
	code = 0;
	for (long i = 0; i < count; i++) {
		if (cron_next(c, t, &next) < 0) {
			if (i == 0) {
				fprintf(stderr, "salesd: calendar: \"%s\" never fires within %d years\n",
				    expr, CRON_SEARCH_YEARS);
				code = 1;
			}
			break;
		}
		cron_format_instant(cron_zone(c), next, line, sizeof line);
		printf("%s\n", line);
		t = next;
	}
out:
	free(cause);
	free(expr);
	cron_free(c);
	tz_free(zone);
	return code;
}
