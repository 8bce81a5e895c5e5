/*
 * dag: jobs as a validated graph in topological order (see dag.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cron.h"
#include "engine/dag.h"
#include "base/tz.h"
#include "base/util.h"

struct dag {
	struct dag_job *jobs;
	size_t njobs;
	struct tz *zone;
};

/* Errors gathered while building, one per line. */
struct dag_errors {
	char *text;
	bool oom;
};

static void dag_error(struct dag_errors *, const struct config *, const void *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/*
 * Record an error located at a field of cfg (&cfg->jobs[i].after), or at a
 * job's section header (&cfg->jobs[i]).
 */
static void
dag_error(struct dag_errors *e, const struct config *cfg, const void *field, const char *fmt, ...)
{
	struct config_origin o = { .section = "?", .file = config_path(cfg) };
	char *msg, *line, *joined;
	const char *key;
	int lineno;
	va_list ap;

	config_origin(cfg, field, &o);
	key = o.key;
	lineno = o.line;
	va_start(ap, fmt);
	msg = util_vprintf(fmt, ap);
	va_end(ap);
	if (lineno > 0)
		line = util_printf("%s:%d: [%s]%s%s: %s", o.file, lineno, o.section,
		    key ? " " : "", key ? key : "", msg ? msg : "");
	else
		line = util_printf("%s: [%s]%s%s: %s", o.file, o.section,
		    key ? " " : "", key ? key : "", msg ? msg : "");
	free(msg);
	if (line == NULL) {
		e->oom = true;
		return;
	}
	joined = e->text ? util_printf("%s\n%s", e->text, line) : strdup(line);
	free(line);
	if (joined == NULL) {
		e->oom = true;
		return;
	}
	free(e->text);
	e->text = joined;
}

const char *
dag_kind_name(enum job_kind kind)
{
	switch (kind) {
	case JOB_ETL: return "etl";
	case JOB_REPORT: return "report";
	case JOB_EMAIL: return "email";
	case JOB_WHATSAPP: return "whatsapp";
	case JOB_WHATSAPP_CHECK: return "whatsapp-check";
	case JOB_SELFTEST: return "selftest";
	}
	return "?";
}

bool
dag_kind_transient(enum job_kind kind)
{
	/*
	 * E-mail classifies every failure that may heal itself (75) and leaves
	 * unclassified only what cannot (an SQL error, a bug). The others meet
	 * local trouble that passes: a full disk, memory, a page that hiccups.
	 */
	return kind != JOB_EMAIL;
}

static int
kind_parse(const char *s, enum job_kind *kind)
{
	for (int k = JOB_ETL; k <= JOB_SELFTEST; k++) {
		if (strcmp(s, dag_kind_name((enum job_kind)k)) == 0) {
			*kind = (enum job_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

int
dag_check_action(const char *action, char **cause)
{
	char **steps;
	size_t n;
	int r = 0;

	if ((steps = util_split(action, ',', &n)) == NULL)
		return -ENOMEM;
	if (n == 0)
		r = util_fail(cause, -EINVAL, "no steps (e.g. \"sleep 1s, succeed\")");
	for (size_t i = 0; i < n && r == 0; i++) {
		char *arg = strchr(steps[i], ' ');
		unsigned long long ms;

		if (arg != NULL) {
			*arg++ = '\0';
			util_trim(arg);
		}
		if (strcmp(steps[i], "succeed") == 0 || strcmp(steps[i], "fail") == 0 ||
		    strcmp(steps[i], "crash") == 0 || strcmp(steps[i], "hang") == 0 ||
		    strcmp(steps[i], "hang-hard") == 0 || strcmp(steps[i], "grandchild") == 0 ||
		    strcmp(steps[i], "no-notify-env") == 0) {
			if (arg != NULL)
				r = util_fail(cause, -EINVAL, "step \"%s\" takes no argument", steps[i]);
		} else if (strcmp(steps[i], "sleep") == 0) {
			if (arg == NULL || config_parse_duration(arg, &ms, NULL) < 0)
				r = util_fail(cause, -EINVAL, "step \"sleep\" needs a duration (sleep 2s)");
		} else if (strcmp(steps[i], "fail-until") == 0) {
			char *end = NULL;

			if (arg == NULL || strtoul(arg, &end, 10) == 0 || *end != '\0')
				r = util_fail(cause, -EINVAL, "step \"fail-until\" needs a positive "
				    "attempt number (fail-until 2: attempts 1 and 2 fail)");
		} else if (strcmp(steps[i], "hold-until-attempt") == 0) {
			char *end = NULL;

			if (arg == NULL || strtoul(arg, &end, 10) == 0 || *end != '\0')
				r = util_fail(cause, -EINVAL, "step \"hold-until-attempt\" needs a positive "
				    "attempt number (hold-until-attempt 2: attempts 1 and 2 are held)");
		} else if (strcmp(steps[i], "restate") == 0) {
			int32_t day;

			if (arg == NULL || period_parse_date(arg, &day, NULL) < 0)
				r = util_fail(cause, -EINVAL, "step \"restate\" needs a date (restate 2026-11-22)");
		} else if (strcmp(steps[i], "exit") == 0) {
			char *end = NULL;
			unsigned long code = arg ? strtoul(arg, &end, 10) : 0;

			if (arg == NULL || end == arg || *end != '\0' || code == 0 || code > 125)
				r = util_fail(cause, -EINVAL, "step \"exit\" needs an exit status from 1 to 125 "
				    "(exit 75)");
		} else if (strcmp(steps[i], "marker") == 0 || strcmp(steps[i], "stamp") == 0) {
			if (arg == NULL || arg[0] != '/')
				r = util_fail(cause, -EINVAL, "step \"%s\" needs an absolute path", steps[i]);
		} else
			r = util_fail(cause, -EINVAL, "unknown step \"%s\" (succeed, fail, fail-until N, exit N, "
			    "crash, hang, hang-hard, sleep DURATION, marker PATH, stamp PATH, grandchild, no-notify-env, "
			    "hold-until-attempt N, restate DATE)", steps[i]);
	}
	util_strv_free(steps);
	return r;
}

static void
job_done(struct dag_job *j)
{
	free(j->name);
	cron_free(j->schedule);
	free(j->schedule_text);
	free(j->after);
	free(j->dependents);
	free(j->action);
	util_strv_free(j->stores);
}

void
dag_free(struct dag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->njobs; i++)
		job_done(&d->jobs[i]);
	free(d->jobs);
	tz_free(d->zone);
	free(d);
}

/* Read one job's plain values; schedule and after are resolved later. */
static void
job_read(struct dag_job *j, const struct config *cfg, const struct config_job *cj,
    struct dag_errors *e)
{
	char *why = NULL;

	j->name = strdup(cj->name);
	if (j->name == NULL)
		e->oom = true;
	kind_parse(cj->kind, &j->kind);
	period_kind_parse(cj->period, &j->period);
	j->with_company = strcmp(cj->scope, "both") == 0;
	j->per_store = j->with_company || strcmp(cj->scope, "stores") == 0;
	j->retries = (unsigned)cj->retries;
	j->retry_delay_ms = cj->retry_delay_ms;
	j->retry_max_delay_ms = cj->retry_max_delay_ms;
	j->timeout_ms = cj->timeout_ms;
	j->catchup_ms = cj->catchup_ms;
	if (cj->stores.n > 0 && !j->per_store)
		dag_error(e, cfg, &cj->stores, "only jobs with scope = stores or both take a store list");
	if ((j->stores = calloc(cj->stores.n + 1, sizeof *j->stores)) == NULL)
		e->oom = true;
	for (size_t k = 0; j->stores != NULL && k < cj->stores.n; k++)
		if ((j->stores[k] = strdup(cj->stores.v[k])) == NULL)
			e->oom = true;
	if (j->retry_max_delay_ms < j->retry_delay_ms)
		dag_error(e, cfg, &cj->retry_max_delay_ms, "shorter than retry_delay");
	if (j->kind == JOB_SELFTEST) {
		if (dag_check_action(cj->action, &why) < 0)
			dag_error(e, cfg, &cj->action, "%s", why ? why : "invalid");
		free(why);
		if ((j->action = strdup(cj->action)) == NULL)
			e->oom = true;
	} else if (config_is_set(cfg, &cj->action))
		dag_error(e, cfg, &cj->action, "only selftest jobs take an action");
}

/* Depth-first search for a cycle; on finding one, report it once. */
static bool
dag_find_cycle(const struct dag_job *jobs, size_t i, int *color, size_t *stack, size_t depth,
    char **cycle)
{
	color[i] = 1;
	stack[depth] = i;
	for (size_t k = 0; k < jobs[i].nafter; k++) {
		size_t next = jobs[i].after[k];

		if (color[next] == 1) {
			/* Name the loop from where it starts: a -> b -> a. */
			char *text = NULL, *tmp;
			size_t from = 0;

			while (stack[from] != next)
				from++;
			for (size_t s = from; s <= depth; s++) {
				tmp = util_printf("%s%s%s", text ? text : "", text ? " -> " : "", jobs[stack[s]].name);
				free(text);
				text = tmp;
			}
			tmp = util_printf("%s -> %s", text ? text : "", jobs[next].name);
			free(text);
			*cycle = tmp;
			return true;
		}
		if (color[next] == 0 && dag_find_cycle(jobs, next, color, stack, depth + 1, cycle))
			return true;
	}
	color[i] = 2;
	return false;
}

int
dag_build(struct dag **out, const struct config *cfg, const char *zoneinfo_dir, char **cause)
{
	struct dag_errors e = { 0 };
	size_t n = cfg->njobs;
	struct dag_job *jobs = NULL, *sorted = NULL;
	size_t *order = NULL, norder = 0, *stack = NULL;
	int *color = NULL;
	struct dag *d = NULL;
	char *why = NULL, *cycle = NULL;
	int r = 0;

	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (jobs = calloc(n ? n : 1, sizeof *jobs)) == NULL ||
	    (color = calloc(n ? n : 1, sizeof *color)) == NULL ||
	    (stack = calloc(n ? n : 1, sizeof *stack)) == NULL ||
	    (order = calloc(n ? n : 1, sizeof *order)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if (tz_load(&d->zone, cfg->salesd.timezone, zoneinfo_dir, &why) < 0) {
		dag_error(&e, cfg, &cfg->salesd.timezone, "%s", why ? why : "cannot load");
		free(why);
		why = NULL;
	}

	for (size_t i = 0; i < n; i++)
		job_read(&jobs[i], cfg, &cfg->jobs[i], &e);

	/* Edges, schedules and the rules between jobs. */
	for (size_t i = 0; i < n && !e.oom; i++) {
		const struct config_job *cj = &cfg->jobs[i];
		char *const *after = cj->after.v;
		const char *sched = cj->schedule;
		size_t na = cj->after.n;

		if ((jobs[i].after = calloc(na ? na : 1, sizeof *jobs[i].after)) == NULL) {
			e.oom = true;
			break;
		}
		for (size_t k = 0; k < na; k++) {
			size_t dep = n;

			for (size_t m = 0; m < n; m++)
				if (strcmp(jobs[m].name, after[k]) == 0)
					dep = m;
			if (dep == n) {
				const char *names[n + 1];
				const char *hint;

				for (size_t m = 0; m < n; m++)
					names[m] = jobs[m].name;
				names[n] = NULL;
				hint = util_suggest(after[k], names);
				dag_error(&e, cfg, &cj->after, "unknown job \"%s\"%s%s%s", after[k],
				    hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
				continue;
			}
			/* A day cannot wait for a week: that week is not over yet. */
			if (jobs[dep].period > jobs[i].period) {
				dag_error(&e, cfg, &cj->after, "\"%s\" runs per %s, longer than this "
				    "job's %s; a job can wait only for jobs of the same or a shorter period",
				    after[k], period_kind_name(jobs[dep].period), period_kind_name(jobs[i].period));
				continue;
			}
			/* ISO weeks straddle months: "every week of the month" has no answer. */
			if (jobs[dep].period == PERIOD_WEEK && jobs[i].period == PERIOD_MONTH) {
				dag_error(&e, cfg, &cj->after, "\"%s\" runs per week and weeks do not "
				    "fit in months; let a month job wait for day jobs instead", after[k]);
				continue;
			}
			/* One company task cannot tell when "every store" is done. */
			if (jobs[dep].per_store && !jobs[i].per_store) {
				dag_error(&e, cfg, &cj->after, "\"%s\" runs per store (scope = stores) "
				    "but this job is company-wide; a company job can wait only for company "
				    "jobs", after[k]);
				continue;
			}
			jobs[i].after[jobs[i].nafter++] = dep;
		}
		if (sched != NULL && na > 0)
			dag_error(&e, cfg, &cj->schedule, "a job runs either on a schedule or after "
			    "other jobs, not both (remove schedule or after)");
		else if (sched == NULL && na == 0)
			dag_error(&e, cfg, cj, "neither schedule nor after is set, so the job "
			    "would never run (add schedule = 30 1 * * * or after = JOB)");
		else if (sched != NULL && d->zone != NULL) {
			if (cron_parse(&jobs[i].schedule, sched, d->zone, zoneinfo_dir, &why) < 0)
				dag_error(&e, cfg, &cj->schedule, "%s", why ? why : "invalid");
			else if ((jobs[i].schedule_text = strdup(sched)) == NULL)
				e.oom = true;
			free(why);
			why = NULL;
		}
	}

	/* Cycles: report the first one found, naming every job on it. */
	for (size_t i = 0; i < n && !e.oom && cycle == NULL; i++)
		if (color[i] == 0 && dag_find_cycle(jobs, i, color, stack, 0, &cycle)) {
			dag_error(&e, cfg, &cfg->jobs[i].after, "dependency cycle: %s",
			    cycle ? cycle : "?");
		}

	if (e.oom) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if (e.text != NULL) {
		r = -EINVAL;
		if (cause != NULL) {
			free(*cause);
			*cause = e.text;
			e.text = NULL;
		}
		goto out;
	}

	/* Topological order (stable: configuration order among ready jobs). */
	memset(color, 0, n * sizeof *color);
	while (norder < n) {
		for (size_t i = 0; i < n; i++) {
			bool ready = !color[i];

			for (size_t k = 0; ready && k < jobs[i].nafter; k++)
				ready = color[jobs[i].after[k]] != 0;
			if (ready) {
				color[i] = 1;
				order[norder++] = i;
				break;
			}
		}
	}
	if ((sorted = calloc(n ? n : 1, sizeof *sorted)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	/* Renumber edges into the new order; position[i] is where job i went. */
	for (size_t pos = 0; pos < n; pos++)
		stack[order[pos]] = pos;
	for (size_t pos = 0; pos < n; pos++) {
		sorted[pos] = jobs[order[pos]];
		for (size_t k = 0; k < sorted[pos].nafter; k++)
			sorted[pos].after[k] = stack[sorted[pos].after[k]];
	}
	for (size_t pos = 0; pos < n; pos++) {
		for (size_t k = 0; k < sorted[pos].nafter; k++) {
			struct dag_job *up = &sorted[sorted[pos].after[k]];
			size_t *v = realloc(up->dependents, (up->ndependents + 1) * sizeof *v);

			if (v == NULL) {
				/* The jobs now belong to sorted; free them through it. */
				d->jobs = sorted;
				d->njobs = n;
				free(jobs);
				jobs = NULL;
				n = 0;
				r = util_fail(cause, -ENOMEM, "out of memory");
				goto out;
			}
			up->dependents = v;
			v[up->ndependents++] = pos;
		}
	}
	free(jobs);
	jobs = NULL;
	d->jobs = sorted;
	d->njobs = n;
	*out = d;
	d = NULL;
out:
	if (jobs != NULL)
		for (size_t i = 0; i < n; i++)
			job_done(&jobs[i]);
	free(jobs);
	dag_free(d);
	free(color);
	free(stack);
	free(order);
	free(cycle);
	free(e.text);
	return r;
}

size_t
dag_njobs(const struct dag *d)
{
	return d->njobs;
}

const struct dag_job *
dag_job(const struct dag *d, size_t i)
{
	return i < d->njobs ? &d->jobs[i] : NULL;
}

const struct dag_job *
dag_find(const struct dag *d, const char *name, size_t *index)
{
	for (size_t i = 0; i < d->njobs; i++) {
		if (strcmp(d->jobs[i].name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &d->jobs[i];
		}
	}
	return NULL;
}

const struct tz *
dag_zone(const struct dag *d)
{
	return d->zone;
}
