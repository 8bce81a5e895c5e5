/*
 * check_engine_loop: the engine on a private libuv loop in this process, as
 * libuv's own tests run a handle: it is created, given work, run to the end
 * (or stopped), freed, and then uv_loop_close() must return 0, so a timer,
 * signal, pipe or process handle the engine forgot to close fails the test.
 * The task children are the real salesd binary (SALESD_BIN) against the
 * test PostgreSQL.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <uv.h>

#include "base/config.h"
#include "base/log.h"
#include "base/period.h"
#include "base/util.h"
#include "engine/dag.h"
#include "engine/engine.h"
#include "pgtest.h"
#include "testutil.h"

static char *dir, *conninfo;

static void
setup(void)
{
	dir = tu_tmpdir();
	conninfo = pgtest_create_db("loop");
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
	tu_rmrf(dir);
	free(dir);
}

struct run {
	uv_loop_t loop;
	struct engine *engine;
	int code;
	int done_calls;
	uv_timer_t stop_timer;
};

static void
on_done(void *arg, int code)
{
	struct run *r = arg;

	r->code = code;
	r->done_calls++;
}

static void
on_stop_timer(uv_timer_t *t)
{
	struct run *r = t->data;

	engine_stop(r->engine, 200, false);
	uv_close((uv_handle_t *)t, NULL);
}

/*
 * Run job for 2026-11-23 on a private loop with the given job sections; with
 * stop_after_ms, engine_stop is called that long after the start. Returns
 * the engine's exit code; the loop must close cleanly.
 */
static int
run_engine(const char *jobs, uint64_t stop_after_ms)
{
	char *text = util_printf("[salesd]\ntimezone = Asia/Kolkata\nkill_grace = 200ms\n[database]\nconninfo = %s\n%s",
	    conninfo, jobs);
	char *path = tu_write(dir, "salesd.conf", text), *cause = NULL, *env_path = util_printf("PATH=%s",
	    getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	const char *child_args[] = { "--config", path, NULL };
	char *child_env[] = { env_path, NULL };
	struct config_source src = { .path = path };
	struct engine_options opts = { 0 };
	struct config *cfg = NULL;
	struct dag *dag = NULL;
	struct logger *lg = log_new(LOG_TARGET_PLAIN, 2, LOG_WARNING);
	struct run r = { .code = -1 };

	ck_assert_ptr_nonnull(lg);
	ck_assert_msg(config_load(&cfg, &src, &cause) == 0, "%s", cause);
	ck_assert_msg(dag_build(&dag, cfg, NULL, &cause) == 0, "%s", cause);
	ck_assert_int_eq(uv_loop_init(&r.loop), 0);
	opts.exe = tu_salesd();
	opts.child_args = child_args;
	opts.child_env = child_env;
	opts.host = "test";
	opts.on_done = on_done;
	opts.arg = &r;
	ck_assert_msg(engine_new(&r.engine, &r.loop, cfg, dag, lg, &opts, &cause) == 0, "%s", cause);
	ck_assert_msg(engine_want(r.engine, "a", period_day_from_civil(2026, 11, 23), NULL, false, &cause) == 0,
	    "%s", cause);
	engine_start(r.engine);
	if (stop_after_ms > 0) {
		uv_timer_init(&r.loop, &r.stop_timer);
		r.stop_timer.data = &r;
		uv_timer_start(&r.stop_timer, on_stop_timer, stop_after_ms, 0);
	}
	uv_run(&r.loop, UV_RUN_DEFAULT);
	engine_free(r.engine);
	/* Every handle the engine opened is closed again: nothing keeps the loop. */
	ck_assert_int_eq(uv_loop_close(&r.loop), 0);
	ck_assert_int_eq(r.done_calls, 1);
	config_free(cfg);
	log_free(lg);
	free(text);
	free(path);
	free(env_path);
	return r.code;
}

START_TEST(test_runs_and_closes)
{
	char *marker = util_printf("%s/marker", dir);
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 2\nretry_delay = 20ms\n"
	    "action = fail-until 1, marker %s\n", marker);
	char *text;

	ck_assert_int_eq(run_engine(jobs, 0), 0);
	/* Attempt 1 failed on purpose, attempt 2 wrote the marker. */
	ck_assert_ptr_nonnull(text = tu_read(marker));
	ck_assert_msg(strncmp(text, "a 2026-11-23 - 2 ", 17) == 0, "%s", text);
	free(text);
	free(jobs);
	free(marker);
}
END_TEST

START_TEST(test_gives_up_and_closes)
{
	ck_assert_int_eq(run_engine("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 0\naction = exit 78\n", 0),
	    1);
}
END_TEST

START_TEST(test_stopped_mid_task_closes)
{
	char *state;

	/*
	 * A task that hangs, stopped from outside: its process group is
	 * killed, the loop still closes, and the cut-short attempt waits in the
	 * ledger to be retried at the next start (a stop is not a failure).
	 */
	ck_assert_int_eq(run_engine("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 0\naction = hang\n",
	    500), 0);
	state = pgtest_query1(conninfo, "SELECT i.state || ' ' || a.state FROM salesd.task_instance i "
	    "JOIN salesd.task_attempt a ON a.instance_id = i.id");
	ck_assert_str_eq(state, "retry failed");
	free(state);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("engine_loop");
	TCase *tc = tcase_create("loop");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_runs_and_closes);
	tcase_add_test(tc, test_gives_up_and_closes);
	tcase_add_test(tc, test_stopped_mid_task_closes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
