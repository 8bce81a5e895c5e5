/*
 * serve: the daemon ("salesd serve", cmd_serve): one libuv loop that talks
 * to systemd (READY, STATUS, RELOADING, STOPPING, WATCHDOG), reloads the
 * configuration on SIGHUP without blocking the loop, and stops cleanly on
 * SIGTERM/SIGINT.
 *
 * The loop thread never blocks. Reading a new configuration (files,
 * credentials, zone files) happens on libuv's thread pool; the loop only
 * swaps the finished result in. The daemon is a small state machine:
 *
 *   running --SIGHUP--> reloading --done--> running
 *   running/reloading --SIGTERM--> stopping --all handles closed--> exit
 *
 * Every transition goes through serve_enter(), which logs it and tells
 * systemd. Handles are embedded in struct serve and closed in serve_close();
 * the loop ends when the last one is closed, so uv_loop_close() proves that
 * nothing was left behind.
 */
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "cli.h"
#include "base/config.h"
#include "engine/dag.h"
#include "engine/engine.h"
#include "etl/etl.h"
#include "base/log.h"
#include "base/util.h"

#define STATUS_INTERVAL_MS 1000        /* at most one STATUS= per interval */

enum serve_state {
	SERVE_STARTING,
	SERVE_RUNNING,
	SERVE_RELOADING,
	SERVE_STOPPING,
};

struct serve {
	uv_loop_t loop;
	struct logger *log;
	struct engine *engine;
	char status[256];               /* the last STATUS= sent */
	struct config *cfg;             /* the configuration in effect */
	const struct config_source *src;
	bool level_from_cli;            /* --log-level wins over the file */
	enum serve_state state;

	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t watchdog;
	uv_timer_t status_timer;        /* coalesces STATUS= updates */
	bool watchdog_on;

	/* Reload on the thread pool: the result is handed over in reload_done. */
	uv_work_t reload_req;
	bool reload_busy;               /* reload_req is queued or running */
	bool reload_again;              /* SIGHUP arrived during a reload */
	struct config *reload_cfg;
	struct dag *reload_dag;
	char *reload_cause;
	int reload_err;
};

static const char *
serve_strstate(enum serve_state s)
{
	switch (s) {
	case SERVE_STARTING: return "starting";
	case SERVE_RUNNING: return "running";
	case SERVE_RELOADING: return "reloading";
	case SERVE_STOPPING: return "stopping";
	}
	return "?";
}

/* One line for systemd's STATUS= and for the log. */
static void
serve_status(struct serve *s, char *buf, size_t len)
{
	switch (s->state) {
	case SERVE_RUNNING:
		engine_status(s->engine, buf, len);
		break;
	case SERVE_RELOADING:
		snprintf(buf, len, "reloading configuration");
		break;
	case SERVE_STOPPING:
		snprintf(buf, len, "stopping");
		break;
	default:
		snprintf(buf, len, "starting");
		break;
	}
}

/* Enter a new state: log it and tell systemd what it means. */
static void
serve_enter(struct serve *s, enum serve_state next)
{
	char status[256];

	log_at(s->log, LOG_DEBUG, NULL, "daemon state: %s -> %s",
	    serve_strstate(s->state), serve_strstate(next));
	s->state = next;
	serve_status(s, status, sizeof status);
	switch (next) {
	case SERVE_RUNNING:
		snprintf(s->status, sizeof s->status, "%s", status);
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
		break;
	case SERVE_RELOADING:
		/* systemctl reload waits for the READY=1 that ends this. */
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
		    util_now_monotonic_usec(), status);
		break;
	case SERVE_STOPPING:
		sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
		break;
	case SERVE_STARTING:
		break;
	}
}

/* The log level of a configuration, unless the command line fixed it. */
static void
serve_apply_log_level(struct serve *s)
{
	int level;

	if (s->level_from_cli)
		return;
	if (log_parse_level(s->cfg->salesd.log_level, &level) == 0)
		log_set_level(s->log, level);
}

/* Tell systemd the status line, if it changed since it last heard it. */
static void
serve_send_status(uv_timer_t *t)
{
	struct serve *s = t->data;
	char status[256];

	if (s->state != SERVE_RUNNING)
		return;
	serve_status(s, status, sizeof status);
	if (strcmp(status, s->status) == 0)
		return;
	snprintf(s->status, sizeof s->status, "%s", status);
	sd_notifyf(0, "STATUS=%s", status);
}

/*
 * The engine's work changed. A busy night changes the line many times a
 * second; systemd hears it at most once per STATUS_INTERVAL_MS. Besides
 * sparing wake-ups, this keeps sd_notify() from ever blocking the loop: its
 * datagrams queue at the receiver, and a full queue blocks the sender.
 */
static void
serve_on_change(void *arg)
{
	struct serve *s = arg;

	if (s->state != SERVE_RUNNING || uv_is_active((uv_handle_t *)&s->status_timer))
		return;
	uv_timer_start(&s->status_timer, serve_send_status, STATUS_INTERVAL_MS, 0);
}

static void
serve_close(struct serve *s)
{
	uv_handle_t *handles[] = {
		(uv_handle_t *)&s->sighup, (uv_handle_t *)&s->sigterm,
		(uv_handle_t *)&s->sigint, (uv_handle_t *)&s->watchdog,
		(uv_handle_t *)&s->status_timer,
	};

	for (size_t i = 0; i < UTIL_NELEM(handles); i++)
		if (!uv_is_closing(handles[i]))
			uv_close(handles[i], NULL);
	/* A queued reload that has not started yet is dropped. */
	if (s->reload_busy)
		uv_cancel((uv_req_t *)&s->reload_req);
}

/* The engine has stopped: close the rest, and the loop ends. */
static void
serve_engine_done(void *arg, int code)
{
	struct serve *s = arg;

	(void)code;
	serve_close(s);
}

static void
serve_stop(struct serve *s)
{
	if (s->state == SERVE_STOPPING) {
		/* A second request: stop at once. */
		log_at(s->log, LOG_NOTICE, NULL, "stopping now: killing running tasks");
		engine_stop(s->engine, 0, true);
		return;
	}
	serve_enter(s, SERVE_STOPPING);
	log_at(s->log, LOG_NOTICE, NULL, "stopping");
	engine_stop(s->engine, s->cfg->salesd.stop_timeout_ms, false);
}

/* Thread pool: read the configuration; touches nothing the loop uses. */
static void
serve_reload_work(uv_work_t *req)
{
	struct serve *s = req->data;

	s->reload_cfg = NULL;
	s->reload_dag = NULL;
	s->reload_cause = NULL;
	s->reload_err = config_load(&s->reload_cfg, s->src, &s->reload_cause);
	if (s->reload_err == 0 &&
	    (s->reload_err = dag_build(&s->reload_dag, s->reload_cfg, s->src->zoneinfo_dir,
	    &s->reload_cause)) < 0) {
		config_free(s->reload_cfg);
		s->reload_cfg = NULL;
	}
}

static void serve_reload_start(struct serve *s);

/* Loop thread: swap the new configuration in, or keep the old one. */
static void
serve_reload_done(uv_work_t *req, int status)
{
	struct serve *s = req->data;

	s->reload_busy = false;
	if (status == UV_ECANCELED || s->state == SERVE_STOPPING) {
		config_free(s->reload_cfg);
		dag_free(s->reload_dag);
		free(s->reload_cause);
		return;
	}
	if (s->reload_err == 0) {
		/* Work already under way holds its own reference to the old one. */
		config_free(s->cfg);
		s->cfg = s->reload_cfg;
		engine_reload(s->engine, s->cfg, s->reload_dag);
		serve_apply_log_level(s);
		log_at(s->log, LOG_NOTICE, NULL, "configuration reloaded from %s", s->src->path);
	} else {
		log_at(s->log, LOG_ERR, NULL, "configuration reload failed; "
		    "keeping the previous configuration:\n%s",
		    s->reload_cause ? s->reload_cause : "out of memory");
	}
	free(s->reload_cause);
	s->reload_cfg = NULL;
	s->reload_cause = NULL;
	if (s->reload_again) {
		/* Another SIGHUP came while reading: the files may have changed again. */
		s->reload_again = false;
		serve_reload_start(s);
		return;
	}
	serve_enter(s, SERVE_RUNNING);
}

static void
serve_reload_start(struct serve *s)
{
	int r;

	if (s->state != SERVE_RELOADING)
		serve_enter(s, SERVE_RELOADING);
	s->reload_req.data = s;
	if ((r = uv_queue_work(&s->loop, &s->reload_req, serve_reload_work, serve_reload_done)) < 0) {
		log_at(s->log, LOG_ERR, NULL, "cannot reload: %s", uv_strerror(r));
		serve_enter(s, SERVE_RUNNING);
		return;
	}
	s->reload_busy = true;
}

static void
serve_on_signal(uv_signal_t *h, int signum)
{
	struct serve *s = h->data;

	switch (signum) {
	case SIGHUP:
		if (s->state == SERVE_STOPPING)
			break;
		log_at(s->log, LOG_INFO, NULL, "SIGHUP: reloading the configuration");
		if (s->reload_busy)
			s->reload_again = true;
		else
			serve_reload_start(s);
		break;
	case SIGTERM:
	case SIGINT:
		log_at(s->log, LOG_INFO, NULL, "%s received", strsignal(signum));
		serve_stop(s);
		break;
	}
}

static void
serve_on_watchdog(uv_timer_t *t)
{
	sd_notify(0, "WATCHDOG=1");
	(void)t;
}

/*
 * Run the daemon until it is told to stop. cfg and dag were loaded from src
 * (both are taken over); src is kept for reloads. Returns the exit code.
 */
static int
serve_main(struct config *cfg, struct dag *dag, const struct config_source *src,
    struct logger *lg, const struct cli *cli)
{
	struct engine_options opts = { 0 };
	struct serve s = { 0 };
	const char **child_args = NULL;
	char **child_env = NULL, exe[4096], host[256] = "localhost", *cause = NULL;
	uint64_t wd_usec = 0;
	ssize_t n;
	int r, code = 0;

	s.log = lg;
	s.cfg = cfg;
	s.src = src;
	s.level_from_cli = cli->log_level != NULL;
	s.state = SERVE_STARTING;
	serve_apply_log_level(&s);

	if ((r = uv_loop_init(&s.loop)) < 0) {
		log_at(lg, LOG_ERR, NULL, "cannot create the event loop: %s", uv_strerror(r));
		config_free(cfg);
		dag_free(dag);
		return EX_OSERR;
	}
	/* Tasks run this very binary, whatever PATH says. */
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0) {
		log_at(lg, LOG_ERR, NULL, "cannot find my own executable: %s", strerror(errno));
		config_free(cfg);
		dag_free(dag);
		uv_loop_close(&s.loop);
		return EX_OSERR;
	}
	exe[n] = '\0';
	gethostname(host, sizeof host - 1);
	child_args = cli_child_args(cli);
	child_env = cli_child_env();
	opts.exe = exe;
	opts.child_args = child_args;
	opts.child_env = child_env;
	opts.host = host;
	opts.clock_offset_usec = cli_clock_offset();
	opts.daemon = true;
	opts.stores_that_sold = etl_stores_that_sold;
	opts.on_done = serve_engine_done;
	opts.on_change = serve_on_change;
	opts.arg = &s;
	if (child_args == NULL || child_env == NULL ||
	    engine_new(&s.engine, &s.loop, cfg, dag, lg, &opts, &cause) < 0) {
		log_at(lg, LOG_ERR, NULL, "cannot start the engine: %s", cause ? cause : "out of memory");
		free(cause);
		free(child_args);
		free(child_env);
		config_free(cfg);
		uv_loop_close(&s.loop);
		return EX_OSERR;
	}
	uv_signal_init(&s.loop, &s.sighup);
	uv_signal_init(&s.loop, &s.sigterm);
	uv_signal_init(&s.loop, &s.sigint);
	uv_timer_init(&s.loop, &s.watchdog);
	uv_timer_init(&s.loop, &s.status_timer);
	s.sighup.data = s.sigterm.data = s.sigint.data = s.watchdog.data = s.status_timer.data = &s;
	uv_signal_start(&s.sighup, serve_on_signal, SIGHUP);
	uv_signal_start(&s.sigterm, serve_on_signal, SIGTERM);
	uv_signal_start(&s.sigint, serve_on_signal, SIGINT);

	/* Pet the watchdog at half its interval, from the loop itself. */
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		uint64_t ms = wd_usec / 2000 > 0 ? wd_usec / 2000 : 1;

		uv_timer_start(&s.watchdog, serve_on_watchdog, ms, ms);
		log_at(lg, LOG_DEBUG, NULL, "watchdog: every %llu ms", (unsigned long long)ms);
	}

	log_at(lg, LOG_NOTICE, NULL, "salesd started with %s (%zu jobs)",
	    config_path(cfg), cfg->njobs);
	engine_start(s.engine);
	serve_enter(&s, SERVE_RUNNING);

	uv_run(&s.loop, UV_RUN_DEFAULT);
	engine_free(s.engine);
	free(child_args);
	free(child_env);
	if ((r = uv_loop_close(&s.loop)) != 0) {
		log_at(lg, LOG_ERR, NULL, "event loop closed with handles still open: %s", uv_strerror(r));
		code = 1;
	}
	config_free(s.cfg);
	log_at(lg, LOG_NOTICE, NULL, "stopped");
	return code;
}

/* "salesd serve": load the configuration, logging why it cannot start, and run the daemon. */
int
cmd_serve(struct cli *cli)
{
	struct config_source src;
	struct config *cfg = NULL;
	struct dag *dag = NULL;
	struct logger *lg;
	char *cause = NULL;
	int r;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: serve takes no arguments\n");
		return EX_USAGE;
	}
	if ((lg = cli_logger(cli, NULL)) == NULL) {
		fprintf(stderr, "salesd: out of memory\n");
		return EX_OSERR;
	}
	cli_source(cli, &src);
	if (config_load(&cfg, &src, &cause) < 0 || dag_build(&dag, cfg, src.zoneinfo_dir, &cause) < 0) {
		log_at(lg, LOG_ERR, NULL, "configuration is invalid, not starting:\n%s",
		    cause ? cause : "out of memory");
		free(cause);
		config_free(cfg);
		log_free(lg);
		return EX_CONFIG;
	}
	r = serve_main(cfg, dag, &src, lg, cli);
	log_free(lg);
	return r;
}
