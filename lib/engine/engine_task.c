/*
 * engine_task: the engine's task children (see engine_private.h). Each
 * claimed instance runs as "salesd task JOB --period P [--store S]
 * --attempt N" of this same binary, through base/runner (its own process
 * group, a timeout, SIGTERM then SIGKILL). The child's JSON lines become log
 * lines with the instance's fields; its exit goes back to the state machine
 * (engine_exited), which decides about retries. The engine knows nothing of
 * what a task does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "base/util.h"
#include "engine/engine_private.h"

/* A line of a child's output: stderr as a warning, stdout as JSON events. */
static void
engine_log_child(void *arg, int stream, const char *line)
{
	struct inst *i = arg;
	struct log_fields f;
	json_t *o;

	inst_fields(i, &f);
	if (stream == 2) {
		log_at(i->e->log, LOG_WARNING, &f, "%s", line);
		return;
	}
	/* JSON lines: start, progress, result. Anything else is logged as is. */
	if ((o = json_loads(line, 0, NULL)) == NULL || !json_is_object(o)) {
		json_decref(o);
		log_at(i->e->log, LOG_INFO, &f, "%s", line);
		return;
	}
	const char *event = json_string_value(json_object_get(o, "event"));
	const char *msg = json_string_value(json_object_get(o, "message"));
	json_t *ok = json_object_get(o, "ok");

	if (event != NULL && strcmp(event, "result") == 0) {
		json_t *hold = json_object_get(o, "hold_until");

		free(i->message);
		i->message = util_strdup(msg);
		json_t *days = json_object_get(o, "restated");

		/* Restated days (an ETL's recheck): what follows them runs again (engine_follow). */
		if (json_is_array(days) && json_array_size(days) > 0) {
			size_t n = json_array_size(days), k;

			util_strv_free(i->restated);
			if ((i->restated = calloc(n + 1, sizeof *i->restated)) != NULL)
				for (k = 0; k < n; k++)
					i->restated[k] = util_strdup(json_string_value(json_array_get(days, k)) ?
					    json_string_value(json_array_get(days, k)) : "");
		}
		/* Held (an incomplete day waiting for its settle deadline): tried again until then. */
		if (json_is_integer(hold) && json_integer_value(hold) > 0)
			i->hold_until = (int64_t)json_integer_value(hold) * USEC_PER_SEC;
		/* A failure's result is said once, in the line that reports the exit. */
		if (!json_is_false(ok))
			log_at(i->e->log, LOG_INFO, &f, "%s", msg ? msg : "result");
	} else
		/*
		 * "warning": something an operator should see (a store without a
		 * recipient); "error": must act; "debug": details (a delivery's
		 * state changes) for --log-level debug.
		 */
		log_at(i->e->log, event != NULL && strcmp(event, "error") == 0 ? LOG_ERR : event != NULL &&
		    strcmp(event, "warning") == 0 ? LOG_WARNING : event != NULL && strcmp(event, "debug") == 0 ?
		    LOG_DEBUG : LOG_INFO, &f, "%s", msg ? msg : line);
	json_decref(o);
}

/* runner's exit callback: the result goes to the state machine. */
static void
engine_child_exit(void *arg, const struct runner_result *res)
{
	struct inst *i = arg;

	i->task = NULL;
	i->result = *res;
	engine_exited(i);
}

/* Start the child of a claimed instance. */
void
engine_spawn(struct engine *e, struct inst *i)
{
	const struct dag_job *j = inst_job(i);
	const char *argv[64];
	char attempt[16], *cause = NULL;
	struct runner_spec spec = { 0 };

	i->hold_until = 0;
	util_strv_free(i->restated);
	i->restated = NULL;
	struct log_fields f;
	size_t n = 0;

	snprintf(attempt, sizeof attempt, "%d", i->claim.attempt);
	snprintf(i->run_id, sizeof i->run_id, "%lld.%d", i->claim.id, i->claim.attempt);
	argv[n++] = e->opts.exe;
	for (const char *const *a = e->opts.child_args; a != NULL && *a != NULL && n < 50; a++)
		argv[n++] = *a;
	argv[n++] = "task";
	argv[n++] = j->name;
	argv[n++] = "--period";
	argv[n++] = i->pstr;
	if (i->store != NULL) {
		argv[n++] = "--store";
		argv[n++] = i->store;
	}
	argv[n++] = "--attempt";
	argv[n++] = attempt;
	/*
	 * A forced run of what succeeded does it all again (a delivery job
	 * resends); a forced run of what failed is a retry: it sends only what
	 * the delivery ledger does not hold yet.
	 */
	if (i->claim.redo && !i->again)
		argv[n++] = "--force";
	/* Run again for a restated day: a delivery job sends corrections, and nothing new. */
	if (i->again)
		argv[n++] = "--again";
	/* No retry follows a failure of this one: a WhatsApp task falls back to e-mail (docs/whatsapp.md). */
	if ((unsigned)i->claim.round_attempt > j->retries)
		argv[n++] = "--last-attempt";
	argv[n] = NULL;
	spec.file = e->opts.exe;
	spec.argv = (char *const *)(uintptr_t)argv;
	spec.env = e->opts.child_env;
	spec.timeout_ms = j->timeout_ms;
	spec.kill_grace_ms = i->b->cfg->salesd.kill_grace_ms;
	spec.on_line = engine_log_child;
	spec.on_exit = engine_child_exit;
	spec.arg = i;
	engine_inst_enter(i, INST_RUNNING);
	inst_fields(i, &f);
	log_at(e->log, LOG_INFO, &f, "starting %s %s%s%s, attempt %d", j->name, i->pstr,
	    i->store ? " for " : "", i->store ? i->store : "", i->claim.attempt);
	if (runner_start(e->loop, &spec, &i->task, &cause) < 0) {
		struct runner_result res = { .exit_status = EX_OSERR };

		log_at(e->log, LOG_ERR, &f, "%s", cause ? cause : "cannot start the task");
		free(cause);
		engine_child_exit(i, &res);
	}
}

/* The stop's grace is over (or a hard stop): stop every running child. */
static void
engine_on_stop_timer(uv_timer_t *t)
{
	struct engine *e = t->data;

	/* Grace is over: SIGTERM now, SIGKILL after kill_grace. */
	for (struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_RUNNING && i->task != NULL)
			runner_stop(i->task, e->hard_stop);
}

/* Give running children grace_ms, or stop them now when hard. */
void
engine_stop_tasks(struct engine *e, uint64_t grace_ms, bool hard)
{
	bool running = false;

	for (struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_RUNNING)
			running = true;
	if (running) {
		if (hard)
			engine_on_stop_timer(&e->stop_timer);
		else {
			log_at(e->log, LOG_NOTICE, NULL, "waiting up to %llus for running tasks",
			    (unsigned long long)(grace_ms / 1000));
			uv_timer_start(&e->stop_timer, engine_on_stop_timer, grace_ms, 0);
		}
	}
}
