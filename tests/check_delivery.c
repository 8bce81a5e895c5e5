/*
 * check_delivery: the delivery ledger against a real PostgreSQL: a new
 * delivery is sent once; a sent one is not sent again unless forced; a failed
 * one is sent again; one found "sending" (its sender died between the send
 * and the record) becomes "unknown" and is not sent again by itself; each
 * key (report, period, store, channel, recipient) is its own delivery; each
 * version of a key (a correction) is a delivery of its own with a key string
 * of its own, and the latest version is found with its state, the figures it
 * carried and those of the version it corrects.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "deliver/delivery.h"
#include "base/migrate.h"
#include "pgtest.h"
#include "base/util.h"

static char *conninfo;

static void
setup(void)
{
	conninfo = pgtest_create_db("delivery");
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
}

static PGconn *
connect_migrated(void)
{
	return pgtest_connect_migrated(conninfo);
}

/* Every change of state the ledger reports, as "from>to(why);" in order. */
static char changes[4096];

static void
record(void *arg, const struct delivery_key *k, enum delivery_state from, enum delivery_state to, const char *why)
{
	size_t n = strlen(changes);

	(void)arg;
	(void)k;
	snprintf(changes + n, sizeof changes - n, "%s>%s(%s);", delivery_strstate(from), delivery_strstate(to),
	    why ? why : "");
}

/* The ledger over c, reporting to record. */
static struct delivery_ledger
ledger(PGconn *c)
{
	return (struct delivery_ledger){ c, record, NULL };
}

static enum delivery_decision
begin(PGconn *c, const struct delivery_key *k, bool force)
{
	struct delivery_ledger l = ledger(c);
	enum delivery_decision d;
	char *cause = NULL;

	if (delivery_begin(&l, k, "<abc@example.com>", NULL, force, &d, &cause) < 0)
		ck_abort_msg("%s", cause);
	return d;
}

static int
finish(PGconn *c, const struct delivery_key *k, enum delivery_state outcome, const char *reply)
{
	struct delivery_ledger l = ledger(c);
	char *cause = NULL;
	int e = delivery_finish(&l, k, outcome, reply, &cause);

	free(cause);
	return e;
}

static char *
row(const struct delivery_key *k, const char *col)
{
	char *sql = util_printf("SELECT %s FROM salesd.delivery WHERE recipient = '%s' AND store = '%s'",
	    col, k->recipient, k->store), *v = pgtest_query1(conninfo, sql);

	free(sql);
	return v;
}

static void
assert_row(const struct delivery_key *k, const char *state, const char *attempts)
{
	char *s = row(k, "state"), *a = row(k, "attempts");

	ck_assert_str_eq(s, state);
	ck_assert_str_eq(a, attempts);
	free(s);
	free(a);
}

START_TEST(test_send_once)
{
	PGconn *c = connect_migrated();
	struct delivery_key k = { "weekly", "2026-W47", "Indiranagar", "email", "a@example.com", 1 };
	char *s;

	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	assert_row(&k, "sending", "1");
	ck_assert_int_eq(finish(c, &k, DELIVERY_STATE_SENT, "250 2.0.0 Ok: queued as 4F2"), 0);
	assert_row(&k, "sent", "1");
	s = row(&k, "reply");
	ck_assert_str_eq(s, "250 2.0.0 Ok: queued as 4F2");
	free(s);
	s = row(&k, "sent_at IS NOT NULL");
	ck_assert_str_eq(s, "t");
	free(s);
	/* A re-run: not again. Forced: again, counted. */
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SENT_BEFORE);
	assert_row(&k, "sent", "1");
	ck_assert_int_eq(begin(c, &k, true), DELIVERY_SEND);
	assert_row(&k, "sending", "2");
	PQfinish(c);
}
END_TEST

START_TEST(test_failed_is_retried)
{
	PGconn *c = connect_migrated();
	struct delivery_key k = { "weekly", "2026-W47", "*", "email", "b@example.com", 1 };

	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &k, DELIVERY_STATE_FAILED, "550 5.1.1 <b@example.com>: user unknown"), 0);
	assert_row(&k, "failed", "1");
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	assert_row(&k, "sending", "2");
	PQfinish(c);
}
END_TEST

START_TEST(test_crash_in_the_gap)
{
	PGconn *c = connect_migrated();
	struct delivery_key k = { "monthly", "2026-11", "Whitefield", "whatsapp", "Whitefield Partners", 1 };

	/* Begun, never finished: the sender died after handing the message over, perhaps. */
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_UNKNOWN);
	assert_row(&k, "unknown", "1");
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_UNKNOWN);
	ck_assert_int_eq(begin(c, &k, true), DELIVERY_SEND);
	assert_row(&k, "sending", "2");
	PQfinish(c);
}
END_TEST

/*
 * The state machine: every change goes through one place and is reported
 * old -> new with why; what changes nothing is not reported; a finish that
 * is not an outcome is refused.
 */
START_TEST(test_transitions)
{
	PGconn *c = connect_migrated();
	struct delivery_ledger l = ledger(c);
	struct delivery_key k = { "weekly", "2026-W47", "Indiranagar", "email", "t@example.com", 1 };
	struct delivery_key u = { "weekly", "2026-W47", "Indiranagar", "email", "u@example.com", 1 };
	enum delivery_decision d;
	char *cause = NULL;

	changes[0] = '\0';
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &k, DELIVERY_STATE_UNKNOWN, "response reading failed"), 0);
	ck_assert_int_eq(begin(c, &k, false), DELIVERY_UNKNOWN);
	ck_assert_int_eq(begin(c, &k, true), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &k, DELIVERY_STATE_SENT, "250 ok"), 0);
	ck_assert_int_eq(delivery_fail(&l, &u, "not tried: no STARTTLS", &cause), 0);
	ck_assert_int_eq(delivery_fail(&l, &k, "ignored: it was sent", &cause), 0);
	ck_assert_int_eq(begin(c, &u, false), DELIVERY_SEND);
	ck_assert_int_eq(delivery_lookup(&l, &u, false, &d, &cause), 0);
	ck_assert_int_eq(d, DELIVERY_UNKNOWN);
	ck_assert_str_eq(changes, "none>sending();sending>unknown(response reading failed);unknown>sending(forced);"
	    "sending>sent(250 ok);none>failed(not tried: no STARTTLS);failed>sending();"
	    "sending>unknown(its sender died after sending);");
	assert_row(&k, "sent", "2");
	ck_assert_int_eq(delivery_finish(&l, &k, DELIVERY_STATE_SENDING, "x", &cause), -EINVAL);
	free(cause);
	ck_assert_str_eq(delivery_strstate(DELIVERY_STATE_UNKNOWN), "unknown");
	PQfinish(c);
}
END_TEST

START_TEST(test_keys)
{
	PGconn *c = connect_migrated();
	struct delivery_key k = { "weekly", "2026-W47", "Indiranagar", "email", "a@example.com", 1 };
	struct delivery_key others[] = {
		{ "monthly", "2026-W47", "Indiranagar", "email", "a@example.com", 1 },
		{ "weekly", "2026-W48", "Indiranagar", "email", "a@example.com", 1 },
		{ "weekly", "2026-W47", "*", "email", "a@example.com", 1 },
		{ "weekly", "2026-W47", "Indiranagar", "whatsapp", "a@example.com", 1 },
		{ "weekly", "2026-W47", "Indiranagar", "email", "c@example.com", 1 },
	};
	char *s, *n;

	ck_assert_int_eq(begin(c, &k, false), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &k, DELIVERY_STATE_SENT, "250 ok"), 0);
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_int_eq(begin(c, &others[i], false), DELIVERY_SEND);
	n = pgtest_query1(conninfo, "SELECT count(*) FROM salesd.delivery");
	ck_assert_str_eq(n, "6");
	free(n);
	s = delivery_key_string(&k);
	ck_assert_str_eq(s, "weekly/2026-W47/Indiranagar/email/a@example.com");
	free(s);
	PQfinish(c);
}
END_TEST

static enum delivery_decision
begin_with(PGconn *c, const struct delivery_key *k, const char *figures, bool force)
{
	struct delivery_ledger l = ledger(c);
	enum delivery_decision d;
	char *cause = NULL;

	if (delivery_begin(&l, k, NULL, figures, force, &d, &cause) < 0)
		ck_abort_msg("%s", cause);
	return d;
}

static struct delivery_latest
latest(PGconn *c, const struct delivery_key *k)
{
	struct delivery_ledger l = ledger(c);
	struct delivery_latest x;
	char *cause = NULL;

	if (delivery_latest(&l, k, &x, &cause) < 0)
		ck_abort_msg("%s", cause);
	return x;
}

START_TEST(test_versions)
{
	PGconn *c = connect_migrated();
	struct delivery_key v1 = { "weekly", "2026-W47", "*", "email", "boss@example.com", 1 };
	struct delivery_key v0 = v1, v2 = v1, v3 = v1, other = v1;
	struct delivery_ledger l = ledger(c);
	struct delivery_latest x;
	char *s, *cause = NULL;

	v0.version = 0;
	v2.version = 2;
	v3.version = 3;
	other.recipient = "cfo@example.com";
	/* Nothing yet: version 0, no state. */
	x = latest(c, &v1);
	ck_assert_int_eq(x.version, 0);
	ck_assert_int_eq(x.state, DELIVERY_STATE_NONE);
	ck_assert_ptr_null(x.figures);
	delivery_latest_done(&x);

	/* The original, with the figures it carries. */
	ck_assert_int_eq(begin_with(c, &v1, "{\"A\":100}", false), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &v1, DELIVERY_STATE_SENT, "250 ok"), 0);
	x = latest(c, &v1);
	ck_assert_int_eq(x.version, 1);
	ck_assert_int_eq(x.state, DELIVERY_STATE_SENT);
	ck_assert_str_eq(x.figures, "{\"A\":100}");
	ck_assert_ptr_null(x.corrects);
	delivery_latest_done(&x);
	/* Version 0 is the original: sent before; figures of a delivery not sent now stay. */
	ck_assert_int_eq(begin_with(c, &v0, "{\"A\":999}", false), DELIVERY_SENT_BEFORE);
	s = pgtest_query1(conninfo, "SELECT figures FROM salesd.delivery WHERE version = 1");
	ck_assert_str_eq(s, "{\"A\":100}");
	free(s);

	/* A correction: a row of its own, a key string of its own. */
	ck_assert_int_eq(begin_with(c, &v2, "{\"A\":200}", false), DELIVERY_SEND);
	x = latest(c, &v0);
	ck_assert_int_eq(x.version, 2);
	ck_assert_int_eq(x.state, DELIVERY_STATE_SENDING);
	ck_assert_str_eq(x.figures, "{\"A\":200}");
	ck_assert_str_eq(x.corrects, "{\"A\":100}");
	delivery_latest_done(&x);
	ck_assert_int_eq(finish(c, &v2, DELIVERY_STATE_SENT, "250 ok"), 0);
	s = pgtest_query1(conninfo, "SELECT string_agg(version || ':' || state, ',' ORDER BY version) "
	    "FROM salesd.delivery");
	ck_assert_str_eq(s, "1:sent,2:sent");
	free(s);
	s = delivery_key_string(&v2);
	ck_assert_str_eq(s, "weekly/2026-W47/*/email/boss@example.com/v2");
	free(s);
	s = delivery_key_string(&v0);
	ck_assert_str_eq(s, "weekly/2026-W47/*/email/boss@example.com");
	free(s);
	/* Each version has its own states: the original is still sent, the correction too. */
	ck_assert_int_eq(begin_with(c, &v1, NULL, false), DELIVERY_SENT_BEFORE);
	ck_assert_int_eq(begin_with(c, &v2, NULL, false), DELIVERY_SENT_BEFORE);

	/* A correction that failed before anything went: failed, and the latest. */
	ck_assert_int_eq(delivery_fail(&l, &v3, "not tried: no STARTTLS", &cause), 0);
	x = latest(c, &v1);
	ck_assert_int_eq(x.version, 3);
	ck_assert_int_eq(x.state, DELIVERY_STATE_FAILED);
	ck_assert_ptr_null(x.figures);
	ck_assert_str_eq(x.corrects, "{\"A\":200}");
	delivery_latest_done(&x);
	/* Sent again, forced or after failing: the figures it carries now. */
	ck_assert_int_eq(begin_with(c, &v3, "{\"A\":300}", false), DELIVERY_SEND);
	s = pgtest_query1(conninfo, "SELECT figures FROM salesd.delivery WHERE version = 3");
	ck_assert_str_eq(s, "{\"A\":300}");
	free(s);
	ck_assert_int_eq(begin_with(c, &v1, "{\"A\":101}", true), DELIVERY_SEND);
	s = pgtest_query1(conninfo, "SELECT figures || ' ' || attempts FROM salesd.delivery WHERE version = 1");
	ck_assert_str_eq(s, "{\"A\":101} 2");
	free(s);

	/* Another recipient has versions of its own. */
	x = latest(c, &other);
	ck_assert_int_eq(x.version, 0);
	delivery_latest_done(&x);
	delivery_latest_done(NULL);
	/* A version is unique per key. */
	s = pgtest_query1(conninfo, "SELECT count(*) FROM salesd.delivery WHERE recipient = 'boss@example.com'");
	ck_assert_str_eq(s, "3");
	free(s);
	ck_assert_ptr_null(cause);
	PQfinish(c);
}
END_TEST

/* What "salesd status" shows: the latest deliveries, newest first. */
START_TEST(test_list_recent)
{
	PGconn *c = connect_migrated();
	struct delivery_key a = { "weekly", "2026-W47", "Indiranagar", "email", "a@example.com", 1 };
	struct delivery_key b = { "daily", "2026-11-23", "*", "whatsapp", "Partners", 1 };
	struct delivery_list l = { 0 };
	char *cause = NULL;

	ck_assert_int_eq(delivery_list_recent(c, 20, &l, &cause), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(begin(c, &a, false), DELIVERY_SEND);
	ck_assert_int_eq(finish(c, &a, DELIVERY_STATE_SENT, "250 ok"), 0);
	ck_assert_int_eq(begin(c, &b, false), DELIVERY_SEND);
	ck_assert_int_eq(delivery_list_recent(c, 20, &l, &cause), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].channel, "whatsapp");
	ck_assert_str_eq(l.v[0].recipient, "Partners");
	ck_assert_str_eq(l.v[0].state, "sending");
	ck_assert_ptr_null(l.v[0].reply);
	ck_assert_str_eq(l.v[1].report, "weekly");
	ck_assert_str_eq(l.v[1].period, "2026-W47");
	ck_assert_str_eq(l.v[1].store, "Indiranagar");
	ck_assert_str_eq(l.v[1].state, "sent");
	ck_assert_str_eq(l.v[1].reply, "250 ok");
	ck_assert_int_eq(l.v[1].attempts, 1);
	ck_assert_int_eq(l.v[1].version, 1);
	ck_assert_int_le(l.v[1].updated_usec, l.v[0].updated_usec);
	delivery_list_done(&l);
	ck_assert_int_eq(delivery_list_recent(c, 1, &l, &cause), 0);
	ck_assert_uint_eq(l.n, 1);
	delivery_list_done(&l);
	delivery_list_done(NULL);
	ck_assert_ptr_null(cause);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("delivery");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_send_once);
	tcase_add_test(tc, test_failed_is_retried);
	tcase_add_test(tc, test_crash_in_the_gap);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_list_recent);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
