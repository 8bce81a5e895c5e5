/*
 * run: "salesd run" and "salesd backfill": the engine in the foreground, with
 * explicit targets instead of schedules, so what an operator runs by hand is
 * what the daemon runs at night. SIGINT/SIGTERM stop it like the daemon
 * (running tasks get stop_timeout to finish); a second one kills them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <pwd.h>
#include <unistd.h>

#include <uv.h>

#include "cli.h"
#include "engine/engine.h"
#include "etl/etl.h"
#include "base/tz.h"
#include "base/util.h"

struct fg {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct engine *engine;
	struct config *cfg;
	int code;
	bool stopping;
};

static void
fg_done(void *arg, int code)
{
	struct fg *fg = arg;

	fg->code = code;
	uv_close((uv_handle_t *)&fg->sigint, NULL);
	uv_close((uv_handle_t *)&fg->sigterm, NULL);
}

static void
fg_signal(uv_signal_t *h, int signum)
{
	struct fg *fg = h->data;

	(void)signum;
	engine_stop(fg->engine, fg->stopping ? 0 : fg->cfg->salesd.stop_timeout_ms,
	    fg->stopping);
	fg->stopping = true;
}

/* The business-local day that ended last, by the engine's clock. */
static int32_t
fg_yesterday(const struct dag *dag)
{
	long long usec = util_now_realtime_usec() + cli_clock_offset();
	struct tz_local lt;

	if (tz_to_local(dag_zone(dag), usec / 1000000, &lt) < 0)
		return (int32_t)(usec / 1000000 / 86400) - 1;
	return period_day_from_civil(lt.year, lt.mon, lt.mday) - 1;
}

/*
 * Set up a foreground engine, let want() add the targets, run it to the end.
 * Takes over cfg and dag.
 */
static int
fg_run(struct cli *cli, struct config *cfg, struct dag *dag, bool no_deliver,
    int (*want)(struct engine *, struct cli *, const struct dag_job *, int32_t, void *, char **),
    const struct dag_job *job, int32_t day, void *warg)
{
	struct engine_options opts = { 0 };
	struct fg fg = { .code = 1 };
	struct logger *lg = cli_logger(cli, cfg);
	const char **child_args = cli_child_args(cli);
	char **child_env = cli_child_env();
	char exe[4096], host[256] = "localhost", *cause = NULL;
	ssize_t n;
	int r;

	if (lg == NULL || child_args == NULL || child_env == NULL ||
	    (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0) {
		fprintf(stderr, "salesd: cannot set up: %s\n", strerror(errno));
		r = EX_OSERR;
		dag_free(dag);
		goto out;
	}
	exe[n] = '\0';
	gethostname(host, sizeof host - 1);
	uv_loop_init(&fg.loop);
	fg.cfg = cfg;
	opts.exe = exe;
	opts.child_args = child_args;
	opts.child_env = child_env;
	opts.host = host;
	opts.clock_offset_usec = cli_clock_offset();
	opts.no_deliver = no_deliver;
	opts.stores_that_sold = etl_stores_that_sold;
	opts.on_done = fg_done;
	opts.arg = &fg;
	if ((r = engine_new(&fg.engine, &fg.loop, cfg, dag, lg, &opts, &cause)) < 0) {
		fprintf(stderr, "salesd: %s\n", cause ? cause : "out of memory");
		r = EX_OSERR;
		uv_loop_close(&fg.loop);
		goto out;
	}
	uv_signal_init(&fg.loop, &fg.sigint);
	uv_signal_init(&fg.loop, &fg.sigterm);
	fg.sigint.data = fg.sigterm.data = &fg;
	uv_signal_start(&fg.sigint, fg_signal, SIGINT);
	uv_signal_start(&fg.sigterm, fg_signal, SIGTERM);
	/* The targets; on a bad one nothing has started, and all is closed again. */
	if ((r = want(fg.engine, cli, job, day, warg, &cause)) < 0) {
		fprintf(stderr, "salesd: %s\n", cause ? cause : "cannot want that");
		engine_stop(fg.engine, 0, true);
		uv_run(&fg.loop, UV_RUN_DEFAULT);
		engine_free(fg.engine);
		uv_loop_close(&fg.loop);
		r = EX_USAGE;
		goto out;
	}
	engine_start(fg.engine);
	uv_run(&fg.loop, UV_RUN_DEFAULT);
	engine_free(fg.engine);
	if (uv_loop_close(&fg.loop) != 0)
		fprintf(stderr, "salesd: event loop closed with handles open\n");
	r = fg.code;
out:
	free(cause);
	free(child_args);
	free(child_env);
	log_free(lg);
	config_free(cfg);
	return r;
}

static int
want_one(struct engine *e, struct cli *cli, const struct dag_job *job, int32_t day, void *warg, char **cause)
{
	(void)warg;
	return engine_want(e, job->name, day, cli->store, cli->force, cause);
}

/*
 * Everything that follows job in the graph, for the closed periods holding
 * day, in graph order: reports with report_how, deliveries with
 * deliver_how (ENGINE_WANT_* bits).
 */
static int
want_following(struct engine *e, const struct dag_job *job, int32_t day, unsigned report_how, unsigned deliver_how,
    char **cause)
{
	const struct dag *dag = engine_dag(e);
	size_t n = dag_njobs(dag), start, *queue = NULL, head = 0, tail = 0;
	bool *seen = calloc(n, sizeof *seen);
	int32_t closed = fg_yesterday(dag);
	int r = 0;

	if (seen == NULL || (queue = calloc(n, sizeof *queue)) == NULL ||
	    dag_find(dag, job->name, &start) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	seen[start] = true;
	queue[tail++] = start;
	while (head < tail && r == 0) {
		const struct dag_job *j = dag_job(dag, queue[head++]);

		for (size_t k = 0; k < j->ndependents && r == 0; k++) {
			size_t d = j->dependents[k];
			const struct dag_job *dn = dag_job(dag, d);
			struct period p = period_containing(dn->period, day);

			if (seen[d])
				continue;
			seen[d] = true;
			queue[tail++] = d;
			if (p.last <= closed)
				r = engine_want(e, dn->name, day, NULL, dn->kind == JOB_REPORT ? report_how : deliver_how,
				    cause);
		}
	}
out:
	free(queue);
	free(seen);
	return r;
}

/*
 * A released day: its ETL again (it now succeeds), then everything that
 * follows it: reports again (they were held or withheld), deliveries as
 * usual (what was sent is not sent again).
 */
static int
want_released(struct engine *e, struct cli *cli, const struct dag_job *job, int32_t day, void *warg, char **cause)
{
	int r;

	(void)cli;
	(void)warg;
	if ((r = engine_want(e, job->name, day, NULL, ENGINE_WANT_FORCE, cause)) < 0)
		return r;
	return want_following(e, job, day, ENGINE_WANT_FORCE, 0, cause);
}

/* Who releases a day, for the ledger: the person behind sudo, else the user. */
static void
operator_name(char *buf, size_t len)
{
	const char *who = getenv("SUDO_USER");
	struct passwd *pw;

	if (who == NULL || *who == '\0')
		who = (pw = getpwuid(getuid())) != NULL ? pw->pw_name : "unknown";
	snprintf(buf, len, "%s (salesd run etl --accept-incomplete)", who);
}

/* --accept-incomplete: record the release, then run the day and what follows it. */
static int
run_accept(struct cli *cli, struct config *cfg, struct dag *dag, const struct dag_job *job, int32_t day)
{
	char who[300], *cause = NULL;
	int r;

	if (job->kind != JOB_ETL || cli->date == NULL || cli->store != NULL) {
		fprintf(stderr, "salesd: run: --accept-incomplete releases one day: salesd run ETL-JOB --date "
		    "YYYY-MM-DD --accept-incomplete\n");
		r = EX_USAGE;
		goto fail;
	}
	operator_name(who, sizeof who);
	if ((r = etl_accept(cfg, day, who, &cause)) < 0 && r != -EALREADY) {
		fprintf(stderr, "salesd: run: --accept-incomplete: %s\n", cause ? cause : strerror(-r));
		free(cause);
		r = r == -ENOENT ? EX_USAGE : r == -EAGAIN ? EX_TEMPFAIL : 1;
		goto fail;
	}
	fprintf(stderr, "salesd: %s%s\n", r == 0 ? "released " : "", r == 0 ? cli->date : cause);
	free(cause);
	return fg_run(cli, cfg, dag, cli->no_deliver, want_released, job, day, NULL);
fail:
	dag_free(dag);
	config_free(cfg);
	return r;
}

int
cmd_run(struct cli *cli)
{
	const struct dag_job *job;
	struct config *cfg;
	struct dag *dag;
	struct period p;
	char *cause = NULL;
	int32_t day;
	int r;

	if (cli->nargs != 1) {
		fprintf(stderr, "salesd: usage: salesd run JOB [--date YYYY-MM-DD] [--store NAME] "
		    "[--force] [--no-deliver]\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	if ((job = dag_find(dag, cli->args[0], NULL)) == NULL) {
		fprintf(stderr, "salesd: run: no job \"%s\" in the configuration (see salesd status)\n",
		    cli->args[0]);
		r = EX_USAGE;
		goto fail;
	}
	if (cli->store != NULL && !job->per_store) {
		fprintf(stderr, "salesd: run: --store: job %s is company-wide (scope = company)\n", job->name);
		r = EX_USAGE;
		goto fail;
	}
	if (cli->date != NULL) {
		if (period_parse_date(cli->date, &day, &cause) < 0) {
			fprintf(stderr, "salesd: run: --date %s\n", cause);
			free(cause);
			r = EX_USAGE;
			goto fail;
		}
	} else {
		/* The latest closed period of the job's kind. */
		p = period_latest_closed(job->period, fg_yesterday(dag));
		day = p.first;
	}
	if (cli->accept_incomplete)
		return run_accept(cli, cfg, dag, job, day);
	return fg_run(cli, cfg, dag, cli->no_deliver, want_one, job, day, NULL);
fail:
	dag_free(dag);
	config_free(cfg);
	return r;
}

/* Every closed period of the job between --from and --to, oldest first. */
static int
want_range(struct engine *e, struct cli *cli, const struct dag_job *job, int32_t last_closed, void *warg,
    char **cause)
{
	int32_t from, to;
	struct period p;
	int r, n = 0;

	(void)warg;
	if ((r = period_parse_date(cli->from, &from, cause)) < 0 ||
	    (r = period_parse_date(cli->to, &to, cause)) < 0)
		return r;
	if (to < from)
		return util_fail(cause, -EINVAL, "backfill: --to %s is before --from %s", cli->to, cli->from);
	for (p = period_containing(job->period, from); p.first <= to; p = period_next(&p)) {
		char pstr[PERIOD_STRLEN];

		period_format(&p, pstr);
		if (p.last > last_closed) {
			fprintf(stderr, "salesd: backfill: %s %s has not closed yet; left out\n", job->name, pstr);
			continue;
		}
		if ((r = engine_want(e, job->name, p.first, NULL, cli->force, cause)) < 0)
			return r;
		n++;
	}
	if (n == 0)
		return util_fail(cause, -EINVAL, "backfill: no closed %s of %s in %s..%s",
		    period_kind_name(job->period), job->name, cli->from, cli->to);
	return 0;
}

int
cmd_backfill(struct cli *cli)
{
	const struct dag_job *job;
	struct config *cfg;
	struct dag *dag;
	int r;

	if (cli->nargs != 1 || cli->from == NULL || cli->to == NULL) {
		fprintf(stderr, "salesd: usage: salesd backfill JOB --from YYYY-MM-DD --to YYYY-MM-DD [--deliver] [--force]\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	if ((job = dag_find(dag, cli->args[0], NULL)) == NULL) {
		fprintf(stderr, "salesd: backfill: no job \"%s\" in the configuration\n", cli->args[0]);
		r = EX_USAGE;
		goto fail;
	}
	if ((job->kind == JOB_EMAIL || job->kind == JOB_WHATSAPP) && !cli->deliver) {
		fprintf(stderr, "salesd: backfill: %s sends messages; add --deliver to send them for "
		    "past periods\n", job->name);
		r = EX_USAGE;
		goto fail;
	}
	return fg_run(cli, cfg, dag, !cli->deliver, want_range, job, fg_yesterday(dag), NULL);
fail:
	dag_free(dag);
	config_free(cfg);
	return r;
}

/* The days "salesd recheck" found restated, for want_restated. */
struct restated {
	int32_t *days;
	size_t n;
};

/* What follows each restated day runs again: reports, then deliveries with their corrections. */
static int
want_restated(struct engine *e, struct cli *cli, const struct dag_job *job, int32_t day, void *warg,
    char **cause)
{
	const struct restated *rs = warg;
	int r = 0;

	(void)cli;
	(void)day;
	for (size_t k = 0; k < rs->n && r == 0; k++)
		r = want_following(e, job, rs->days[k], ENGINE_WANT_AGAIN, ENGINE_WANT_AGAIN, cause);
	return r;
}

static void
recheck_progress(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "salesd: recheck: %s\n", message);
}

/*
 * "salesd recheck --from D --to D": download each day again and compare it
 * with what was loaded (docs/completeness.md). Unchanged days cost a
 * download; changed ones are loaded again, and then their reports are
 * rendered again and delivered, as corrections to whoever got them before.
 */
int
cmd_recheck(struct cli *cli)
{
	const struct dag_job *etl = NULL;
	struct restated rs = { 0 };
	struct etl_result res;
	struct config *cfg;
	struct dag *dag;
	char *cause = NULL, date[16];
	int32_t from, to, closed;
	int r, failed = 0;

	if (cli->nargs != 0 || cli->from == NULL || cli->to == NULL) {
		fprintf(stderr, "salesd: usage: salesd recheck --from YYYY-MM-DD --to YYYY-MM-DD [--no-deliver]\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	for (size_t k = 0; k < dag_njobs(dag) && etl == NULL; k++)
		if (dag_job(dag, k)->kind == JOB_ETL)
			etl = dag_job(dag, k);
	closed = fg_yesterday(dag);
	if (period_parse_date(cli->from, &from, &cause) < 0 || period_parse_date(cli->to, &to, &cause) < 0 ||
	    to < from || to > closed || etl == NULL) {
		fprintf(stderr, "salesd: recheck: %s\n", cause ? cause : etl == NULL ? "the configuration has no "
		    "ETL job" : "--from .. --to must be days that have ended, --from first");
		free(cause);
		r = EX_USAGE;
		goto out;
	}
	if ((rs.days = calloc((size_t)(to - from) + 1, sizeof *rs.days)) == NULL) {
		r = EX_OSERR;
		goto out;
	}
	for (int32_t day = from; day <= to; day++) {
		period_format_date(day, date);
		if (etl_recheck_day(cfg, day, recheck_progress, NULL, &res, &cause) < 0) {
			fprintf(stderr, "salesd: recheck: %s: %s\n", date, cause ? cause : "failed");
			free(cause);
			cause = NULL;
			failed++;
			continue;
		}
		if (res.restated)
			rs.days[rs.n++] = day;
	}
	fprintf(stderr, "salesd: recheck: %d days, %zu restated%s\n", (int)(to - from + 1), rs.n,
	    rs.n > 0 ? "; their reports follow" : "");
	if (rs.n == 0) {
		r = failed > 0 ? 1 : 0;
		goto out;
	}
	r = fg_run(cli, cfg, dag, cli->no_deliver, want_restated, etl, from, &rs);
	free(rs.days);
	return r != 0 ? r : failed > 0 ? 1 : 0;
out:
	free(rs.days);
	dag_free(dag);
	config_free(cfg);
	return r;
}
