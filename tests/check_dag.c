/*
 * check_dag: the job graph: every validation error with file and line, the
 * cycle named in full, period and scope rules, schedules, selftest actions,
 * and the topological order with its dependents.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "engine/dag.h"
#include "testutil.h"
#include "base/util.h"

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmrf(dir);
	free(dir);
}

/* Load text and build its graph; returns dag_build's result (config errors abort). */
static int
build(const char *text, struct dag **out, char **cause)
{
	char *path = tu_write(dir, "salesd.conf", text);
	struct config_source src = { .path = path };
	struct config *c = NULL;
	int r;

	*out = NULL;
	*cause = NULL;
	if (config_load(&c, &src, cause) < 0)
		ck_abort_msg("config: %s", *cause);
	r = dag_build(out, c, NULL, cause);
	config_free(c);
	free(path);
	return r;
}

static void
expect_error(const char *text, const char *want)
{
	struct dag *d;
	char *cause;

	ck_assert_int_eq(build(text, &d, &cause), -EINVAL);
	ck_assert_ptr_null(d);
	if (!tu_contains(cause, want))
		ck_abort_msg("error \"%s\" does not contain \"%s\"", cause, want);
	free(cause);
}

START_TEST(test_builtin_pipeline)
{
	struct dag *d;
	char *cause;
	size_t etl, report, wa, weekly, wmail;
	const struct dag_job *j;

	ck_assert_int_eq(build("[salesd]\ntimezone = Asia/Kolkata\n", &d, &cause), 0);
	ck_assert_uint_eq(dag_njobs(d), 7);
	ck_assert_ptr_nonnull(j = dag_find(d, "etl", &etl));
	ck_assert_ptr_nonnull(j->schedule);
	ck_assert_int_eq(j->kind, JOB_ETL);
	ck_assert_ptr_nonnull(dag_find(d, "daily-report", &report));
	ck_assert_ptr_nonnull(dag_find(d, "daily-whatsapp", &wa));
	ck_assert_ptr_nonnull(j = dag_find(d, "weekly-reports", &weekly));
	ck_assert(j->per_store);
	ck_assert_int_eq(j->period, PERIOD_WEEK);
	ck_assert_ptr_nonnull(dag_find(d, "weekly-email", &wmail));
	/* Upstream before downstream. */
	ck_assert_uint_lt(etl, report);
	ck_assert_uint_lt(report, wa);
	ck_assert_uint_lt(etl, weekly);
	ck_assert_uint_lt(weekly, wmail);
	/* Edges both ways. */
	j = dag_job(d, etl);
	ck_assert_uint_eq(j->ndependents, 3);
	j = dag_job(d, wa);
	ck_assert_uint_eq(j->nafter, 1);
	ck_assert_uint_eq(j->after[0], report);
	dag_free(d);
}
END_TEST

START_TEST(test_order_follows_edges)
{
	struct dag *d;
	char *cause;
	size_t a, b, c;

	/* Defined downstream first: the order must still put upstream first. */
	ck_assert_int_eq(build("[job c]\nkind = selftest\nafter = b\n"
	    "[job b]\nkind = selftest\nafter = a\n"
	    "[job a]\nkind = selftest\nschedule = 0 2 * * *\n", &d, &cause), 0);
	dag_find(d, "a", &a);
	dag_find(d, "b", &b);
	dag_find(d, "c", &c);
	ck_assert(a < b && b < c);
	ck_assert_uint_eq(dag_job(d, c)->after[0], b);
	ck_assert_uint_eq(dag_job(d, a)->dependents[0], b);
	dag_free(d);
}
END_TEST

START_TEST(test_errors)
{
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\n[job b]\nkind = selftest\nafter = aa\n",
	    "salesd.conf:6: [job b] after: unknown job \"aa\" (did you mean a?)");
	expect_error("[job a]\nkind = selftest\n",
	    "salesd.conf:1: [job a]: neither schedule nor after is set");
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\n[job b]\nkind = selftest\n"
	    "schedule = 0 1 * * *\nafter = a\n",
	    "salesd.conf:6: [job b] schedule: a job runs either on a schedule or after other jobs");
	expect_error("[job a]\nkind = selftest\nschedule = 61 1 * * *\n",
	    "salesd.conf:3: [job a] schedule: minute field");
	expect_error("[job w]\nkind = selftest\nschedule = 0 1 * * 1\nperiod = week\n"
	    "[job d]\nkind = selftest\nafter = w\n",
	    "[job d] after: \"w\" runs per week, longer than this job's day");
	expect_error("[job w]\nkind = selftest\nschedule = 0 1 * * 1\nperiod = week\n"
	    "[job m]\nkind = selftest\nafter = w\nperiod = month\n",
	    "weeks do not fit in months");
	expect_error("[job s]\nkind = selftest\nschedule = 0 1 * * *\nscope = stores\nstores = x\n"
	    "[job c]\nkind = selftest\nafter = s\n",
	    "\"s\" runs per store (scope = stores) but this job is company-wide");
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\nstores = x\n",
	    "[job a] stores: only jobs with scope = stores or both take a store list");
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\naction = explode\n",
	    "salesd.conf:4: [job a] action: unknown step \"explode\"");
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\naction = sleep\n",
	    "step \"sleep\" needs a duration");
	expect_error("[job a]\nkind = etl\nschedule = 0 1 * * *\naction = fail\n",
	    "[job a] action: only selftest jobs take an action");
	expect_error("[job a]\nkind = selftest\nschedule = 0 1 * * *\nretry_delay = 2h\nretry_max_delay = 1h\n",
	    "[job a] retry_max_delay: shorter than retry_delay");
}
END_TEST

START_TEST(test_cycle_named)
{
	expect_error("[job root]\nkind = selftest\nschedule = 0 1 * * *\n"
	    "[job a]\nkind = selftest\nafter = root, c\n"
	    "[job b]\nkind = selftest\nafter = a\n"
	    "[job c]\nkind = selftest\nafter = b\n",
	    "dependency cycle: a -> c -> b -> a");
	expect_error("[job a]\nkind = selftest\nafter = a\n", "dependency cycle: a -> a");
}
END_TEST

START_TEST(test_actions)
{
	char *cause = NULL;

	ck_assert_int_eq(dag_check_action("sleep 2s, fail-until 2, marker /tmp/m, succeed", &cause), 0);
	ck_assert_int_eq(dag_check_action("crash", NULL), 0);
	ck_assert_int_eq(dag_check_action("exit 75", NULL), 0);
	ck_assert_int_eq(dag_check_action("exit 0", NULL), -EINVAL);
	ck_assert_int_eq(dag_check_action("exit", NULL), -EINVAL);
	ck_assert_int_eq(dag_check_action("exit 7x", NULL), -EINVAL);
	ck_assert_int_eq(dag_check_action("hang-hard", NULL), 0);
	ck_assert_int_eq(dag_check_action("grandchild, hang", NULL), 0);
	ck_assert_int_eq(dag_check_action("fail-until 0", &cause), -EINVAL);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(dag_check_action("marker relative/path", &cause), -EINVAL);
	ck_assert(tu_contains(cause, "absolute path"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(dag_check_action("crash now", &cause), -EINVAL);
	ck_assert(tu_contains(cause, "takes no argument"));
	free(cause);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dag");
	TCase *tc = tcase_create("graph");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_builtin_pipeline);
	tcase_add_test(tc, test_order_follows_edges);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_cycle_named);
	tcase_add_test(tc, test_actions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
