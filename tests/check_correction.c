/*
 * check_correction: when a delivered report is corrected. The threshold as
 * exact millionths; the "moved" rule at its edges (one currency unit, the
 * percentage of what was sent, a store on one side only); the comparison of
 * two sets of stores; the decision per recipient against a real delivery
 * ledger (original, sent before, correction, forced, unknown, a failed
 * correction that is no longer needed, a row without figures); the lines a
 * correction says.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "deliver/correction.h"
#include "deliver/delivery.h"
#include "pgtest.h"

START_TEST(test_threshold)
{
	int64_t t = -1;

	ck_assert_int_eq(correction_threshold("0.5%", &t), 0);
	ck_assert_int_eq(t, 5000);
	ck_assert_int_eq(correction_threshold("1%", &t), 0);
	ck_assert_int_eq(t, 10000);
	ck_assert_int_eq(correction_threshold("0.1%", &t), 0);
	ck_assert_int_eq(t, 1000);
	ck_assert_int_eq(correction_threshold("0%", &t), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(correction_threshold("100%", &t), 0);
	ck_assert_int_eq(t, 1000000);
	ck_assert_int_eq(correction_threshold("0.5", &t), -EINVAL);
	ck_assert_int_eq(correction_threshold("101%", &t), -EINVAL);
	ck_assert_int_eq(correction_threshold("-1%", &t), -EINVAL);
	ck_assert_int_eq(correction_threshold(NULL, &t), -EINVAL);
}
END_TEST

START_TEST(test_moved)
{
	/* One currency unit at least, however small the threshold. */
	ck_assert(!correction_moved(10000, 10099, 0));
	ck_assert(correction_moved(10000, 10100, 0));
	ck_assert(correction_moved(10000, 9900, 0));
	/* 0.5% of ₹1,00,000.00 is ₹500.00: a paisa short is not enough. */
	ck_assert(!correction_moved(10000000, 10049999, 5000));
	ck_assert(correction_moved(10000000, 10050000, 5000));
	ck_assert(correction_moved(10000000, 9950000, 5000));
	ck_assert(!correction_moved(10000000, 9950001, 5000));
	/* A store on one side only counts as 0 on the other. */
	ck_assert(correction_moved(0, 100, 5000));
	ck_assert(!correction_moved(0, 99, 5000));
	ck_assert(correction_moved(100, 0, 5000));
	/* Negative sales (returns) by their magnitude; the largest values neither overflow nor wrap. */
	ck_assert(correction_moved(-20000, -20100, 5000));
	ck_assert(!correction_moved(-20000, -20099, 5000));
	ck_assert(!correction_moved(INT64_MAX, INT64_MAX - 1000, 5000));
	ck_assert(correction_moved(INT64_MIN, INT64_MAX, 1000000));
	ck_assert(!correction_moved(5, 5, 0));
}
END_TEST

static struct manifest_stores
stores(size_t n, const char *const *names, const int64_t *sales)
{
	struct manifest_stores s = { .present = true };

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(manifest_stores_add(&s, names[i], sales[i]), 0);
	return s;
}

START_TEST(test_compare)
{
	struct manifest_stores before = stores(4, (const char *[]){ "Whitefield", "Indiranagar", "Gone", "Tiny" },
	    (const int64_t[]){ 1000000, 2000000, 50000, 99 });
	struct manifest_stores after = stores(4, (const char *[]){ "Indiranagar", "Whitefield", "New", "Tiny" },
	    (const int64_t[]){ 2000050, 1100000, 70000, 0 });
	struct correction_line *v = NULL;
	size_t n = 99;

	ck_assert_int_eq(correction_compare(&before, &after, 5000, &v, &n), 0);
	/* Byte order; Indiranagar (₹0.50) and Tiny (99 paise) did not move. */
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].store, "Gone");
	ck_assert_int_eq(v[0].before, 50000);
	ck_assert_int_eq(v[0].after, 0);
	ck_assert_str_eq(v[1].store, "New");
	ck_assert_int_eq(v[1].before, 0);
	ck_assert_int_eq(v[1].after, 70000);
	ck_assert_str_eq(v[2].store, "Whitefield");
	ck_assert_int_eq(v[2].after, 1100000);
	correction_lines_free(v, n);
	/* The same on both sides: nothing. */
	ck_assert_int_eq(correction_compare(&after, &after, 5000, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	correction_lines_free(v, n);
	correction_lines_free(NULL, 0);
	manifest_stores_done(&before);
	manifest_stores_done(&after);
}
END_TEST

/* ---- the decision, against a real ledger ------------------------------------- */

static char *conninfo;

static void
setup(void)
{
	conninfo = pgtest_create_db("correction");
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
}

static struct config cfg;

/* A company report of week 2026-W42 whose stores sold as given. */
static struct manifest *
report(int64_t kora, int64_t indira)
{
	struct manifest *m = calloc(1, sizeof *m);

	ck_assert_ptr_nonnull(m);
	m->report = util_strdup("weekly");
	m->period = util_strdup("2026-W42");
	ck_assert_int_eq(manifest_stores_add(&m->stores, "Koramangala", kora), 0);
	ck_assert_int_eq(manifest_stores_add(&m->stores, "Indiranagar", indira), 0);
	return m;
}

/* Record a delivery of version v of k in state, carrying m's stores. */
static void
deliver(PGconn *c, struct delivery_key k, int v, const struct manifest *m, enum delivery_state state)
{
	struct delivery_ledger l = { c, NULL, NULL };
	enum delivery_decision d;
	char *figures = NULL, *cause = NULL;

	k.version = v;
	if (m != NULL)
		ck_assert_int_eq(manifest_stores_json(&m->stores, &figures), 0);
	ck_assert_int_eq(delivery_begin(&l, &k, NULL, figures, true, &d, &cause), 0);
	if (state != DELIVERY_STATE_SENDING)
		ck_assert_int_eq(delivery_finish(&l, &k, state, "x", &cause), 0);
	free(figures);
}

static struct correction_plan
plan(PGconn *c, const struct delivery_key *k, const struct manifest *m, bool force)
{
	struct delivery_ledger l = { c, NULL, NULL };
	struct correction_plan p;
	char *cause = NULL;

	if (correction_plan(&l, k, m, &cfg, force, &p, &cause) < 0)
		ck_abort_msg("%s", cause);
	return p;
}

START_TEST(test_plan)
{
	PGconn *c = pgtest_connect_migrated(conninfo);
	struct delivery_key k = { "weekly", "2026-W42", "*", "email", "boss@example.com", 0 };
	struct manifest *sent = report(52468852, 30000000), *restated = report(53100210, 30000050);
	struct manifest *tiny = report(52468900, 30000000);
	struct correction_plan p;
	char *text;

	cfg.report.correction_threshold = "0.5%";
	cfg.report.currency = "₹";
	cfg.report.digit_grouping = "indian";
	/* Nothing yet: the original. */
	p = plan(c, &k, sent, false);
	ck_assert_int_eq(p.version, 1);
	ck_assert_uint_eq(p.nmoved, 0);
	ck_assert(!p.moot && !p.withheld);
	correction_plan_done(&p);
	deliver(c, k, 1, sent, DELIVERY_STATE_SENT);
	/* Sent, and an immaterial change since: the latest, which delivery_begin says was sent. */
	p = plan(c, &k, tiny, false);
	ck_assert_int_eq(p.version, 1);
	ck_assert_uint_eq(p.nmoved, 0);
	correction_plan_done(&p);
	/* Sent, and Koramangala moved 1.2%: a correction, version 2, of that store only. */
	p = plan(c, &k, restated, false);
	ck_assert_int_eq(p.version, 2);
	ck_assert_uint_eq(p.nmoved, 1);
	ck_assert_str_eq(p.moved[0].store, "Koramangala");
	text = correction_text(&cfg, restated, &p);
	ck_assert_str_eq(text, "Koramangala sales 2026-W42: ₹5,24,688.52 -> ₹5,31,002.10\n");
	free(text);
	correction_plan_done(&p);
	/* Forced: the latest again, the original. */
	p = plan(c, &k, restated, true);
	ck_assert_int_eq(p.version, 1);
	ck_assert_uint_eq(p.nmoved, 0);
	correction_plan_done(&p);
	/* The correction went out: the next run finds it sent with the same figures, nothing more. */
	deliver(c, k, 2, restated, DELIVERY_STATE_SENT);
	p = plan(c, &k, restated, false);
	ck_assert_int_eq(p.version, 2);
	ck_assert_uint_eq(p.nmoved, 0);
	correction_plan_done(&p);
	/* Forced: the correction again, saying what it corrects (version 1's figures). */
	p = plan(c, &k, restated, true);
	ck_assert_int_eq(p.version, 2);
	ck_assert_uint_eq(p.nmoved, 1);
	ck_assert_int_eq(p.moved[0].before, 52468852);
	correction_plan_done(&p);
	/* Restated back, forced: there is nothing left to correct. */
	p = plan(c, &k, sent, true);
	ck_assert(p.moot);
	correction_plan_done(&p);

	/* Unknown: no correction, and the caller hears that one was due. */
	k.recipient = "cfo@example.com";
	deliver(c, k, 1, sent, DELIVERY_STATE_UNKNOWN);
	p = plan(c, &k, restated, false);
	ck_assert_int_eq(p.version, 1);
	ck_assert(p.withheld);
	ck_assert_uint_eq(p.nmoved, 0);
	correction_plan_done(&p);
	p = plan(c, &k, sent, false);
	ck_assert(!p.withheld);
	correction_plan_done(&p);

	/* A correction that failed: sent again by the next run, unless the figures went back. */
	k.recipient = "archive@example.com";
	deliver(c, k, 1, sent, DELIVERY_STATE_SENT);
	deliver(c, k, 2, restated, DELIVERY_STATE_FAILED);
	p = plan(c, &k, restated, false);
	ck_assert_int_eq(p.version, 2);
	ck_assert_uint_eq(p.nmoved, 1);
	ck_assert(!p.moot);
	correction_plan_done(&p);
	p = plan(c, &k, sent, false);
	ck_assert_int_eq(p.version, 2);
	ck_assert(p.moot);
	correction_plan_done(&p);

	/* Sent by an older salesd (no figures recorded): it cannot be compared, so no correction. */
	k.recipient = "old@example.com";
	deliver(c, k, 1, NULL, DELIVERY_STATE_SENT);
	p = plan(c, &k, restated, false);
	ck_assert_int_eq(p.version, 1);
	ck_assert_uint_eq(p.nmoved, 0);
	correction_plan_done(&p);
	correction_plan_done(NULL);

	manifest_free(sent);
	manifest_free(restated);
	manifest_free(tiny);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("correction");
	TCase *rule = tcase_create("rule"), *decide = tcase_create("plan");
	SRunner *sr;
	int failed;

	tcase_add_test(rule, test_threshold);
	tcase_add_test(rule, test_moved);
	tcase_add_test(rule, test_compare);
	suite_add_tcase(s, rule);
	tcase_add_checked_fixture(decide, setup, teardown);
	tcase_add_test(decide, test_plan);
	suite_add_tcase(s, decide);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
