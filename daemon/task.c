/*
 * task: one task instance, run in this process (see task.h). The daemon and
 * "salesd run" start it as a child, "salesd task JOB ..." (cmd_task); the
 * job kinds are dispatched from here. The selftest kind lives here too: it
 * exists to exercise the engine (it can crash and hang on purpose), and it
 * ships in the binary for diagnostics.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "deliver/delivery.h"
#include "deliver/email.h"
#include "etl/etl.h"
#include "base/exitcode.h"
#include "report/numfmt.h"
#include "base/period.h"
#include "base/tz.h"
#include "report/render.h"
#include "cli.h"
#include "task.h"
#include "base/util.h"
#include "deliver/whatsapp.h"

/* How long after a day's settle deadline a report still waits for its ETL's decision. */
#define REPORT_HOLD_GRACE (30 * 60)

/* One JSON line to the parent. */
static void
task_event(const char *event, const char *message, int ok)
{
	json_t *o = json_pack("{s:s, s:s}", "event", event, "message", message ? message : "");
	char *line;

	if (o == NULL)
		return;
	if (ok >= 0)
		json_object_set_new(o, "ok", json_boolean(ok));
	if ((line = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", line);
		fflush(stdout);
		free(line);
	}
	json_decref(o);
}

static void
task_sleep_ms(unsigned long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void task_held(const char *message, int64_t deadline);

/* Run the steps of a selftest action; returns the exit code. */
static int
selftest_run(const struct dag_job *job, const struct task_args *a)
{
	json_t *restated = json_array();
	char **steps;
	size_t n;
	int code = 0;

	if ((steps = util_split(job->action, ',', &n)) == NULL)
		return 1;
	for (size_t i = 0; i < n && code == 0; i++) {
		char *arg = strchr(steps[i], ' '), msg[512];

		if (arg != NULL) {
			*arg++ = '\0';
			util_trim(arg);
		}
		util_utf8_snprintf(msg, sizeof msg, "step %s%s%s", steps[i], arg ? " " : "", arg ? arg : "");
		task_event("progress", msg, -1);
		if (strcmp(steps[i], "succeed") == 0)
			break;
		if (strcmp(steps[i], "fail") == 0) {
			task_event("result", "failed on purpose (selftest)", 0);
			code = 1;
		} else if (strcmp(steps[i], "fail-until") == 0) {
			if (a->attempt <= strtoul(arg, NULL, 10)) {
				snprintf(msg, sizeof msg, "attempt %u fails on purpose (fail-until %s)", a->attempt, arg);
				task_event("result", msg, 0);
				code = 1;
			}
		} else if (strcmp(steps[i], "hold-until-attempt") == 0) {
			/* Held as an incomplete day is: the daemon tries again beyond the retry limit. */
			if (a->attempt <= strtoul(arg, NULL, 10)) {
				snprintf(msg, sizeof msg, "attempt %u held on purpose (hold-until-attempt %s)", a->attempt,
				    arg);
				task_held(msg, (util_now_realtime_usec() + cli_clock_offset()) / 1000000 + 3600);
				code = EX_TEMPFAIL;
				break;
			}
		} else if (strcmp(steps[i], "restate") == 0) {
			/* The result names a restated day, as the ETL's recheck does. */
			json_array_append_new(restated, json_string(arg ? arg : ""));
		} else if (strcmp(steps[i], "exit") == 0) {
			/* An exit status as a real task would end with it (exitcode.h). */
			snprintf(msg, sizeof msg, "exits %s on purpose (selftest)", arg);
			task_event("result", msg, 0);
			code = (int)strtol(arg, NULL, 10);
		} else if (strcmp(steps[i], "crash") == 0) {
			abort();
		} else if (strcmp(steps[i], "hang") == 0 || strcmp(steps[i], "hang-hard") == 0) {
			if (strcmp(steps[i], "hang-hard") == 0)
				signal(SIGTERM, SIG_IGN);
			for (;;)
				pause();
		} else if (strcmp(steps[i], "sleep") == 0) {
			unsigned long long ms = 0;

			config_parse_duration(arg, &ms, NULL);
			task_sleep_ms(ms);
		} else if (strcmp(steps[i], "marker") == 0) {
			/* One write with O_APPEND: lines from parallel tasks never mix. */
			int fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			int len = snprintf(msg, sizeof msg, "%s %s %s %u %d%s%s\n", job->name, a->period,
			    a->store ? a->store : "-", a->attempt, (int)getpid(), a->force ? " forced" : "",
			    a->again ? " again" : "");

			/* A line that did not fit is not written half (nor read past the buffer). */
			if (fd < 0 || len < 0 || (size_t)len >= sizeof msg || write(fd, msg, (size_t)len) != len) {
				task_event("result", "cannot write the marker file", 0);
				code = 1;
			}
			if (fd >= 0)
				close(fd);
		} else if (strcmp(steps[i], "stamp") == 0) {
			/* "job period start-µs": when this task process began, for bench/idle. */
			int fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			int len = snprintf(msg, sizeof msg, "%s %s %lld\n", job->name, a->period, a->started_usec);

			if (fd < 0 || len < 0 || (size_t)len >= sizeof msg || write(fd, msg, (size_t)len) != len) {
				task_event("result", "cannot write the stamp file", 0);
				code = 1;
			}
			if (fd >= 0)
				close(fd);
		} else if (strcmp(steps[i], "no-notify-env") == 0) {
			/* A task must not be able to speak for the daemon to systemd. */
			static const char *const vars[] = { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID" };

			for (size_t v = 0; v < UTIL_NELEM(vars); v++) {
				if (getenv(vars[v]) != NULL) {
					snprintf(msg, sizeof msg, "%s is set in the task's environment", vars[v]);
					task_event("result", msg, 0);
					code = 1;
				}
			}
		} else if (strcmp(steps[i], "grandchild") == 0) {
			/* A process of our group that would outlive us if nobody cleaned up. */
			pid_t pid = fork();

			if (pid == 0) {
				for (;;)
					pause();
			}
			snprintf(msg, sizeof msg, "grandchild %d", (int)pid);
			task_event("progress", msg, -1);
		}
	}
	util_strv_free(steps);
	if (code == 0 && json_array_size(restated) == 0)
		task_event("result", "selftest done", 1);
	else if (code == 0) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:O}", "event", "result", "message", "selftest done", "ok", 1,
		    "restated", restated);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (line != NULL)
			printf("%s\n", line);
		fflush(stdout);
		free(line);
		json_decref(o);
	}
	json_decref(restated);
	return code;
}

static void
task_progress(void *arg, const char *message)
{
	(void)arg;
	task_event("progress", message, -1);
}

/*
 * A held day's result: the engine tries again, at the latest at deadline
 * (seconds), however many attempts that takes (docs/completeness.md).
 */
static void
task_held(const char *message, int64_t deadline)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:I}", "event", "result", "message", message, "ok", 0,
	    "hold_until", (json_int_t)deadline);
	char *line;

	if (o != NULL && (line = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", line);
		fflush(stdout);
		free(line);
	}
	json_decref(o);
}

/*
 * An incomplete day: held until its settle deadline, then withheld or
 * released with a warning (etl_settle). 0 to go on, else the exit code.
 */
static int
etl_task_settle(const struct config *cfg, const struct dag *dag, int32_t day, struct etl_result *res)
{
	int64_t now = (util_now_realtime_usec() + cli_clock_offset()) / 1000000, deadline = 0;
	char *cause = NULL, date[16], *msg = NULL;
	int r;

	period_format_date(day, date);
	r = etl_settle(cfg, dag_zone(dag), day, now, res, &deadline, &cause);
	if (r == -EINPROGRESS) {
		task_held(cause, deadline);
		free(cause);
		return EX_TEMPFAIL;
	}
	if (r < 0) {
		task_event("result", cause ? cause : strerror(-r), 0);
		free(cause);
		return exitcode_from_error(r);
	}
	if (strcmp(res->released, "warning") == 0) {
		msg = util_printf("%s is incomplete at its settle deadline (%s): its reports go out with a warning "
		    "that says so ([source] incomplete = deliver-with-warning)", date, res->gaps);
		task_event("error", msg ? msg : date, -1);
	} else if (strcmp(res->released, "accepted") == 0) {
		msg = util_printf("%s is incomplete (%s), and was accepted by an operator: its reports go out "
		    "as they are", date, res->gaps);
		task_event("warning", msg ? msg : date, -1);
	}
	free(msg);
	return 0;
}

/*
 * The nightly recheck of the [source] recheck_days days before first
 * (docs/completeness.md): each is downloaded again; a changed one is loaded
 * again, and the restated ones are added to restated (the engine runs their
 * reports again, and deliveries send corrections). A day that cannot be
 * rechecked now is said as a warning: tonight's load does not fail for it.
 */
static void
etl_task_recheck(const struct config *cfg, int32_t first, json_t *restated)
{
	struct etl_result res;
	char *cause = NULL, date[16], *msg;

	for (int32_t day = first - (int32_t)cfg->source.recheck_days; day < first; day++) {
		period_format_date(day, date);
		if (etl_recheck_day(cfg, day, task_progress, NULL, &res, &cause) < 0) {
			msg = util_printf("%s could not be rechecked: %s", date, cause ? cause : "failed");
			task_event("warning", msg ? msg : date, -1);
			free(msg);
			free(cause);
			cause = NULL;
			continue;
		}
		if (res.restated)
			json_array_append_new(restated, json_string(date));
	}
}

/* The ETL of every day of the period, oldest first, then the recheck; returns the exit code. */
static int
etl_task(const struct config *cfg, const struct dag *dag, const struct period *p)
{
	struct etl_result res;
	char *cause = NULL, date[16], *msg, *line;
	json_t *restated = json_array(), *o;
	int r = 0;

	for (int32_t day = p->first; day <= p->last && r == 0; day++) {
		period_format_date(day, date);
		if ((r = etl_run_day(cfg, day, task_progress, NULL, &res, &cause)) < 0) {
			task_event("result", cause ? cause : strerror(-r), 0);
			free(cause);
			json_decref(restated);
			/* Unreachable servers are worth another try later; bad data is not (exitcode.h). */
			return exitcode_from_error(r);
		}
		if (res.incomplete && (r = etl_task_settle(cfg, dag, day, &res)) != 0) {
			json_decref(restated);
			return r;
		}
		if (res.restated)
			json_array_append_new(restated, json_string(date));
	}
	etl_task_recheck(cfg, p->first, restated);
	msg = util_printf("%s loaded: %llu lines, %llu rejected%s", p->first == p->last ? date : "period",
	    (unsigned long long)res.lines, (unsigned long long)res.rejected,
	    json_array_size(restated) > 0 ? "; restated days found" : "");
	/* The restated days go with the result: the engine runs what follows them again. */
	o = json_pack("{s:s, s:s, s:b, s:o}", "event", "result", "message", msg ? msg : "loaded", "ok", 1,
	    "restated", restated);
	if (o != NULL && (line = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", line);
		fflush(stdout);
		free(line);
	}
	json_decref(o);
	free(msg);
	return 0;
}

/*
 * A report held by an incomplete day (cause says which): it waits while the
 * day's ETL may still settle it, and a while longer, since the ETL decides
 * at the deadline; then the report is withheld (docs/completeness.md).
 */
static int
report_task_held(const struct config *cfg, const struct dag *dag, const struct render_result *res, char *cause)
{
	int64_t now = (util_now_realtime_usec() + cli_clock_offset()) / 1000000, deadline;
	char *why = NULL;
	int r;

	if ((r = etl_deadline(cfg, dag_zone(dag), res->held_day, &deadline, &why)) < 0) {
		task_event("result", why ? why : "bad [source] settle_until", 0);
		free(why);
		free(cause);
		return exitcode_from_error(r);
	}
	deadline += REPORT_HOLD_GRACE;
	if (now < deadline) {
		task_held(cause, deadline);
		free(cause);
		return EX_TEMPFAIL;
	}
	why = util_printf("%s; its settle deadline has passed: withheld", cause);
	task_event("result", why ? why : cause, 0);
	free(why);
	free(cause);
	return EX_DATAERR;
}

/*
 * One report: company-wide for a company job or the company instance ("*")
 * of a job with scope = both, else the store's.
 */
static int
report_task(const struct config *cfg, const struct dag *dag, const struct period *p, const char *store)
{
	struct render_result res;
	char *cause = NULL, *msg, money[NUMFMT_LEN];
	enum report_grouping g = strcmp(cfg->report.digit_grouping, "western") == 0 ?
	    REPORT_GROUPING_WESTERN : REPORT_GROUPING_INDIAN;
	int r;

	if (store != NULL && strcmp(store, DAG_COMPANY) == 0)
		store = NULL;
	if ((r = render_report(cfg, p, store, &res, &cause)) == -EINPROGRESS)
		return report_task_held(cfg, dag, &res, cause);
	if (r < 0) {
		task_event("result", cause ? cause : strerror(-r), 0);
		free(cause);
		return exitcode_from_error(r);
	}
	numfmt_money(money, sizeof money, res.sales, g, cfg->report.currency);
	msg = util_printf("%s: %s%s; wrote %s and %s", res.files.scope, res.empty ? "no sales in the period" :
	    "sales ", res.empty ? "" : money, res.files.pdf, res.files.xlsx);
	task_event("result", msg ? msg : "rendered", 1);
	free(msg);
	return 0;
}

/* A message of a delivery task at a syslog priority, as the event the daemon logs it at. */
static void
task_progress_at(void *arg, int priority, const char *message)
{
	(void)arg;
	task_event(priority <= LOG_ERR ? "error" : priority == LOG_WARNING ? "warning" : priority >= LOG_DEBUG ?
	    "debug" : "progress", message, -1);
}

/* One e-mail task: the report of the period for one store, or the company's ("*"). */
static int
email_run(const struct config *cfg, const struct period *p, const char *store, unsigned how)
{
	struct email_result res;
	char *cause = NULL, *msg, corr[64];
	int r = email_task(cfg, p, store, how, task_progress_at, NULL, &res, &cause);

	if (r < 0) {
		task_event("result", cause ? cause : strerror(-r), 0);
		free(cause);
		return exitcode_from_error(r);
	}
	snprintf(corr, sizeof corr, " (%zu of them correction%s)", res.corrections, res.corrections == 1 ? "" : "s");
	msg = res.recipients == 0 ? util_printf("no recipient; nothing sent") : res.unknown ?
	    util_printf("%zu sent%s, %zu sent before, %zu unknown (the server's reply was lost; not sent again "
	    "unless forced)", res.sent, res.corrections ? corr : "", res.skipped, res.unknown) :
	    util_printf("%zu sent%s, %zu sent before", res.sent, res.corrections ? corr : "", res.skipped);
	task_event("result", msg ? msg : "sent", 1);
	free(msg);
	return 0;
}

/*
 * The [whatsapp] deadline of period p: HH:MM in the business time zone on the
 * day after the period's last day (the next day, the Monday after a week,
 * the 1st after a month). 0 without a deadline.
 */
static int
whatsapp_deadline(const struct config *cfg, const struct dag *dag, const struct period *p, int64_t *out)
{
	int y, m, d, hh, mm;

	*out = 0;
	if (cfg->whatsapp.deadline[0] == '\0')
		return 0;
	period_civil_from_day(p->last + 1, &y, &m, &d);
	if (sscanf(cfg->whatsapp.deadline, "%d:%d", &hh, &mm) != 2 ||
	    tz_from_civil(dag_zone(dag), y, m, d, hh, mm, 0, out) < 0)
		return -EINVAL;
	return 0;
}

/* One WhatsApp task: the report of the period to the chats of its scope. */
static int
whatsapp_run(const struct config *cfg, const struct dag *dag, const struct task_args *a, const struct period *p,
    unsigned how)
{
	struct whatsapp_result res = { 0 };
	struct whatsapp_giveup g = { .last = a->last,
	    .now = (util_now_realtime_usec() + cli_clock_offset()) / 1000000 };
	char *cause = NULL, *msg, corr[64], fb[64] = "";
	int r;

	if (whatsapp_deadline(cfg, dag, p, &g.deadline) < 0) {
		task_event("result", "[whatsapp] deadline: not a time of day in [salesd] timezone", 0);
		return EX_CONFIG;
	}
	r = whatsapp_task(cfg, p, a->store, how, &g, task_progress_at, NULL, &res, &cause);
	if (res.fallbacks)
		snprintf(fb, sizeof fb, "; %zu e-mail%s in place of WhatsApp", res.fallbacks, res.fallbacks == 1 ?
		    "" : "s");
	if (r < 0) {
		task_event("result", cause ? cause : strerror(-r), 0);
		free(cause);
		/* Nobody scanned the QR code: retrying would only pile up browsers; a person must act. */
		return res.needs_login ? EX_NOPERM : exitcode_from_error(r);
	}
	snprintf(corr, sizeof corr, " (%zu of them correction%s)", res.corrections, res.corrections == 1 ? "" : "s");
	msg = res.chats == 0 ? util_printf("no WhatsApp chat; nothing sent") : res.late ?
	    util_printf("the [whatsapp] deadline had passed: nothing sent on WhatsApp%s", fb) :
	    util_printf("%zu sent%s, %zu sent before%s", res.sent, res.corrections ? corr : "", res.before, fb);
	task_event("result", msg ? msg : "sent", 1);
	free(msg);
	return 0;
}

/*
 * The scheduled WhatsApp check (salesd whatsapp-check without a chat): a
 * lost login or a page salesd no longer finds its way in is known, and in
 * the journal at error priority, before the morning's send. Sends nothing.
 */
static int
whatsapp_check_run(const struct config *cfg)
{
	char *cause = NULL;
	int r = whatsapp_check(cfg, NULL, task_progress_at, NULL, &cause);

	if (r < 0) {
		task_event("result", cause ? cause : strerror(-r), 0);
		free(cause);
		/* As the command: a lost login waits for a person (77), a browser that failed may heal (75). */
		return r == -EACCES ? EX_NOPERM : r == -EAGAIN ? EX_TEMPFAIL : 1;
	}
	task_event("result", "WhatsApp Web: logged in, every element checked was found; nothing was sent", 1);
	return 0;
}

int
task_main(const struct config *cfg, const struct dag *dag, const struct task_args *a)
{
	const struct dag_job *job = dag_find(dag, a->job, NULL);
	struct period p;
	char *cause = NULL, msg[256];

	if (job == NULL) {
		fprintf(stderr, "salesd task: no job \"%s\" in the configuration\n", a->job);
		return EX_CONFIG;
	}
	if (period_parse(a->period, &p, &cause) < 0 || p.kind != job->period) {
		fprintf(stderr, "salesd task: --period %s: %s\n", a->period,
		    cause ? cause : "not a period of the job's kind");
		free(cause);
		return EX_USAGE;
	}
	util_utf8_snprintf(msg, sizeof msg, "%s %s%s%s attempt %u", job->name, a->period,
	    a->store ? " store " : "", a->store ? a->store : "", a->attempt);
	task_event("start", msg, -1);
	switch (job->kind) {
	case JOB_SELFTEST:
		return selftest_run(job, a);
	case JOB_ETL:
		return etl_task(cfg, dag, &p);
	case JOB_REPORT:
		return report_task(cfg, dag, &p, a->store);
	case JOB_EMAIL:
		return email_run(cfg, &p, a->store, (a->force ? DELIVERY_FORCE : 0) |
		    (a->again ? DELIVERY_CORRECTIONS_ONLY : 0));
	case JOB_WHATSAPP_CHECK:
		return whatsapp_check_run(cfg);
	case JOB_WHATSAPP:
		return whatsapp_run(cfg, dag, a, &p, (a->force ? DELIVERY_FORCE : 0) |
		    (a->again ? DELIVERY_CORRECTIONS_ONLY : 0));
	default:
		snprintf(msg, sizeof msg, "job kind \"%s\" is not available in this version of salesd yet",
		    dag_kind_name(job->kind));
		task_event("result", msg, 0);
		return EX_USAGE;
	}
}

/* "salesd task": the task's arguments, a parent to live for, the configuration, libcurl; then task_main(). */
int
cmd_task(struct cli *cli)
{
	struct task_args args = { 0 };
	struct config *cfg;
	struct dag *dag;
	char *end = NULL;
	int r;

	args.started_usec = util_now_realtime_usec();
	if (cli->nargs != 1 || cli->period == NULL) {
		fprintf(stderr, "salesd: usage: salesd task JOB --period PERIOD [--store NAME] [--attempt N] [--force]\n"
		    "(an internal command: the daemon runs each task this way)\n");
		return EX_USAGE;
	}
	args.job = cli->args[0];
	args.period = cli->period;
	args.store = cli->store;
	args.force = cli->force;
	args.again = cli->again;
	args.last = cli->last_attempt;
	args.attempt = 1;
	if (cli->attempt != NULL) {
		args.attempt = (unsigned)strtoul(cli->attempt, &end, 10);
		if (*end != '\0' || args.attempt == 0) {
			fprintf(stderr, "salesd: --attempt %s: expected a positive number\n", cli->attempt);
			return EX_USAGE;
		}
	}
	/*
	 * A task lives only as long as the process that claimed it: if that one
	 * dies, its claim is recovered and the task re-run elsewhere, so this
	 * copy must not go on alone.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1) {
		fprintf(stderr, "salesd task: my parent is gone; not running\n");
		return EX_TEMPFAIL;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	/*
	 * libcurl's global state, once, before any thread. Only task children
	 * download, so the daemon itself never touches OpenSSL (3 MB of
	 * resident memory).
	 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "salesd task: cannot initialise libcurl\n");
		r = EX_OSERR;
	} else {
		r = task_main(cfg, dag, &args);
		curl_global_cleanup();
	}
	dag_free(dag);
	config_free(cfg);
	return r;
}
