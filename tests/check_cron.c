/*
 * check_cron: cron expressions. The heart is a brute-force reference: it
 * walks UTC minute by minute through 2024-2029, asks glibc (TZ set in this
 * test process) for the local wall clock, and fires an expression whenever
 * the clock newly reaches a matching wall minute, at most once per step. That
 * is the DST rule stated independently: a skipped wall time fires at the
 * first instant after the gap, a repeated one only on its first pass. Every
 * fire time of cron_next is compared with it, for Europe/Berlin,
 * America/New_York, Australia/Lord_Howe and Asia/Kolkata, plus cron_next from
 * arbitrary instants around every transition. Then syntax, equivalences,
 * the Vixie day rule, every error message, and the calendar line format.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cron.h"
#include "base/tz.h"

#define T2024 INT64_C(1704067200)       /* 2024-01-01 00:00:00Z */
#define T2030 INT64_C(1893456000)       /* 2030-01-01 00:00:00Z */

/* ---- helpers ---- */

static struct tz *
load(const char *name)
{
	struct tz *z = NULL;
	char *cause = NULL;
	int r = tz_load(&z, name, NULL, &cause);

	ck_assert_msg(r == 0, "tz_load(%s): %s", name, cause ? cause : "");
	free(cause);
	return z;
}

static struct cron *
parse(const char *expr, const struct tz *def)
{
	struct cron *c = NULL;
	char *cause = NULL;
	int r = cron_parse(&c, expr, def, NULL, &cause);

	ck_assert_msg(r == 0, "cron_parse(%s): %d %s", expr, r, cause ? cause : "");
	ck_assert_ptr_null(cause);
	return c;
}

static void
set_tz(const char *zone)
{
	char spec[128];

	snprintf(spec, sizeof spec, ":%s", zone);
	ck_assert_int_eq(setenv("TZ", spec, 1), 0);
	tzset();
}

/* UTC seconds of a UTC civil time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	return tz_wall_from_civil(y, mo, d, h, mi, 0);
}

struct vec {
	int64_t *v;
	size_t n, cap;
};

static void
vec_push(struct vec *v, int64_t x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->v = realloc(v->v, v->cap * sizeof *v->v);
		if (v->v == NULL)
			ck_abort_msg("out of memory");
	}
	v->v[v->n++] = x;
}

/* The first element greater than x, or -1. */
static int64_t
vec_after(const struct vec *v, int64_t x)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n ? v->v[lo] : -1;
}

/* ---- the brute-force reference ---- */

/* Each expression with a hand-written predicate on the wall clock. */
static bool m_25_0(const struct tm *w) { return w->tm_min == 25 && w->tm_hour == 0; }
static bool m_30_2(const struct tm *w) { return w->tm_min == 30 && w->tm_hour == 2; }
static bool m_q(const struct tm *w) { return w->tm_min % 15 == 0; }
static bool m_0_13_sun(const struct tm *w)
{
	return w->tm_min == 0 && w->tm_hour >= 1 && w->tm_hour <= 3 && w->tm_wday == 0;
}
static bool m_first(const struct tm *w) { return w->tm_min == 0 && w->tm_hour == 0 && w->tm_mday == 1; }
static bool m_13_fri(const struct tm *w)
{
	return w->tm_min == 0 && w->tm_hour == 0 && (w->tm_mday == 13 || w->tm_wday == 5);
}
static bool m_weekly(const struct tm *w) { return w->tm_min == 0 && w->tm_hour == 0 && w->tm_wday == 0; }
static bool m_45_1(const struct tm *w) { return w->tm_min == 45 && w->tm_hour == 1; }
static bool m_15_2(const struct tm *w) { return w->tm_min == 15 && w->tm_hour == 2; }
static bool m_30_1(const struct tm *w) { return w->tm_min == 30 && w->tm_hour == 1; }
static bool m_half_sun(const struct tm *w) { return w->tm_min % 30 == 0 && w->tm_wday == 0; }

static const struct {
	const char *expr;
	bool (*match)(const struct tm *wall);
} ref_exprs[] = {
	{ "25 0 * * *", m_25_0 },
	{ "30 2 * * *", m_30_2 },
	{ "*/15 * * * *", m_q },
	{ "0 1-3 * * 0", m_0_13_sun },
	{ "0 0 1 * *", m_first },
	{ "0 0 13 * 5", m_13_fri },
	{ "@weekly", m_weekly },
	{ "45 1 * * *", m_45_1 },
	{ "15 2 * * *", m_15_2 },
	{ "30 1 * * *", m_30_1 },
	{ "0,30 * * * sun", m_half_sun },
};
#define NREF (sizeof ref_exprs / sizeof ref_exprs[0])

static const char *const ref_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
};

/*
 * Fire times of every reference expression in (from, to], and the instants
 * at which the zone's offset changed, by stepping UTC minute by minute.
 * `reached` is the latest wall minute the clock has shown so far: after the
 * clocks go back it stays put until the clock catches up again, so the
 * repeated wall minutes do not fire twice; after a jump forward the skipped
 * minutes are all reached at once, by the first instant after the gap.
 */
static void
reference(int64_t from, int64_t to, struct vec fires[NREF], struct vec *changes)
{
	time_t tt = (time_t)from;
	struct tm tm;
	long off;
	int64_t reached;

	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff;
	reached = from + off;
	for (int64_t t = from + 60; t <= to; t += 60) {
		int64_t wall;

		tt = (time_t)t;
		localtime_r(&tt, &tm);
		if (tm.tm_gmtoff != off) {
			vec_push(changes, t);
			off = tm.tm_gmtoff;
		}
		wall = t + off;
		if (wall <= reached)
			continue;
		{
			bool fired[NREF] = { false };

			for (int64_t L = reached + 60; L <= wall; L += 60) {
				time_t lt = (time_t)L;
				struct tm w;

				gmtime_r(&lt, &w);
				for (size_t e = 0; e < NREF; e++)
					if (!fired[e] && ref_exprs[e].match(&w)) {
						vec_push(&fires[e], t);
						fired[e] = true;
					}
			}
		}
		reached = wall;
	}
}

START_TEST(test_reference)
{
	const char *zone = ref_zones[_i];
	struct vec fires[NREF], changes = { 0 };
	struct tz *z = load(zone);
	int64_t from = T2024 - 86400, to = T2030;
	uint64_t rng = 0x2545f4914f6cdd1dULL ^ (uint64_t)_i;

	memset(fires, 0, sizeof fires);
	set_tz(zone);
	reference(from, to, fires, &changes);
	if (strcmp(zone, "Asia/Kolkata") != 0)
		ck_assert_int_eq(changes.n, 12);    /* two a year */
	else
		ck_assert_int_eq(changes.n, 0);

	for (size_t e = 0; e < NREF; e++) {
		struct cron *c = parse(ref_exprs[e].expr, z);
		int64_t t = from, next;
		size_t k = 0;

		/* Every fire, in order. */
		for (;;) {
			int r = cron_next(c, t, &next);

			if (r != 0)
				ck_abort_msg("%s in %s: cron_next(%lld) = %d", ref_exprs[e].expr, zone,
				    (long long)t, r);
			if (next > to)
				break;
			if (k >= fires[e].n || next != fires[e].v[k]) {
				char got[64], want[64] = "none";

				cron_format_instant(z, next, got, sizeof got);
				if (k < fires[e].n)
					cron_format_instant(z, fires[e].v[k], want, sizeof want);
				ck_abort_msg("%s in %s: fire %zu after %lld is %s, reference %s",
				    ref_exprs[e].expr, zone, k, (long long)t, got, want);
			}
			k++;
			t = next;
		}
		if (k != fires[e].n)
			ck_abort_msg("%s in %s: %zu fires, reference %zu", ref_exprs[e].expr, zone, k,
			    fires[e].n);

		/*
		 * From arbitrary instants: every 5 minutes and a few odd seconds
		 * within 3 hours of each transition (inside repeated hours too),
		 * and random ones.
		 */
		for (size_t i = 0; i < changes.n + 400; i++) {
			int64_t start, span;

			if (i < changes.n) {
				start = changes.v[i] - 3 * 3600;
				span = 6 * 3600;
			} else {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				start = from + (int64_t)(rng % (uint64_t)(to - from - 40 * 86400));
				span = 1;
			}
			for (int64_t a = start; a < start + span; a += 293) {
				int64_t want = vec_after(&fires[e], a);

				if (want < 0)
					continue;
				if (cron_next(c, a, &next) != 0 || next != want) {
					char got[64], exp[64], at[64];

					cron_format_instant(z, next, got, sizeof got);
					cron_format_instant(z, want, exp, sizeof exp);
					cron_format_instant(z, a, at, sizeof at);
					ck_abort_msg("%s in %s: after %s: %s, reference %s", ref_exprs[e].expr,
					    zone, at, got, exp);
				}
			}
		}
		cron_free(c);
		free(fires[e].v);
	}
	free(changes.v);
	tz_free(z);
}
END_TEST

/* ---- DST cases spelled out ---- */

/* The next n fires after `after`, formatted, joined by "|". */
static void
fires_str(const struct cron *c, int64_t after, int n, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		char line[CRON_INSTANT_LEN];

		ck_assert_int_eq(cron_next(c, after, &after), 0);
		ck_assert_int_eq(cron_format_instant(cron_zone(c), after, line, sizeof line), 0);
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? "|" : "", line);
		ck_assert(at < len);
	}
}

static void
expect_fires(const char *expr, const char *zone, int64_t after, int n, const char *want)
{
	struct tz *z = load(zone);
	struct cron *c = parse(expr, z);
	char got[2048];

	fires_str(c, after, n, got, sizeof got);
	ck_assert_msg(strcmp(got, want) == 0, "%s in %s:\n got  %s\n want %s", expr, zone, got, want);
	cron_free(c);
	tz_free(z);
}

START_TEST(test_dst_cases)
{
	/* Spring forward in Berlin: 02:30 does not exist and fires at 03:00 CEST. */
	expect_fires("30 2 * * *", "Europe/Berlin", utc(2024, 3, 29, 12, 0), 3,
	    "2024-03-30 02:30:00 +0100 CET|2024-03-31 03:00:00 +0200 CEST|"
	    "2024-04-01 02:30:00 +0200 CEST");
	/* The whole skipped hour fires once, then 03:15 as usual. */
	expect_fires("*/15 * * * *", "Europe/Berlin", utc(2024, 3, 31, 0, 40), 3,
	    "2024-03-31 01:45:00 +0100 CET|2024-03-31 03:00:00 +0200 CEST|"
	    "2024-03-31 03:15:00 +0200 CEST");
	/* Fall back: 02:00-02:59 occur twice and fire only the first time. */
	expect_fires("*/30 * * * *", "Europe/Berlin", utc(2024, 10, 26, 23, 45), 5,
	    "2024-10-27 02:00:00 +0200 CEST|2024-10-27 02:30:00 +0200 CEST|"
	    "2024-10-27 03:00:00 +0100 CET|2024-10-27 03:30:00 +0100 CET|"
	    "2024-10-27 04:00:00 +0100 CET");
	expect_fires("30 2 * * *", "Europe/Berlin", utc(2024, 10, 26, 12, 0), 2,
	    "2024-10-27 02:30:00 +0200 CEST|2024-10-28 02:30:00 +0100 CET");
	/* From inside the repeated hour, its minutes are not fired again. */
	expect_fires("*/15 * * * *", "Europe/Berlin", utc(2024, 10, 27, 1, 10), 2,
	    "2024-10-27 03:00:00 +0100 CET|2024-10-27 03:15:00 +0100 CET");
	/* New York. */
	expect_fires("0 1-3 * * 0", "America/New_York", utc(2024, 3, 9, 12, 0), 3,
	    "2024-03-10 01:00:00 -0500 EST|2024-03-10 03:00:00 -0400 EDT|"
	    "2024-03-17 01:00:00 -0400 EDT");
	expect_fires("0 1-3 * * 0", "America/New_York", utc(2024, 11, 2, 12, 0), 3,
	    "2024-11-03 01:00:00 -0400 EDT|2024-11-03 02:00:00 -0500 EST|"
	    "2024-11-03 03:00:00 -0500 EST");
	/* Lord Howe: a 30-minute gap 02:00-02:30, a 30-minute repeat 01:30-02:00. */
	expect_fires("*/15 * * * *", "Australia/Lord_Howe", utc(2024, 10, 5, 15, 10), 3,
	    "2024-10-06 01:45:00 +1030 +1030|2024-10-06 02:30:00 +1100 +11|"
	    "2024-10-06 02:45:00 +1100 +11");
	expect_fires("15 2 * * *", "Australia/Lord_Howe", utc(2024, 10, 4, 12, 0), 2,
	    "2024-10-05 02:15:00 +1030 +1030|2024-10-06 02:30:00 +1100 +11");
	expect_fires("*/15 * * * *", "Australia/Lord_Howe", utc(2024, 4, 6, 14, 20), 5,
	    "2024-04-07 01:30:00 +1100 +11|2024-04-07 01:45:00 +1100 +11|"
	    "2024-04-07 02:00:00 +1030 +1030|2024-04-07 02:15:00 +1030 +1030|"
	    "2024-04-07 02:30:00 +1030 +1030");
	/* Kolkata, +05:30, and a zone named in the expression. */
	expect_fires("25 0 * * *", "Asia/Kolkata", T2024, 2,
	    "2024-01-02 00:25:00 +0530 IST|2024-01-03 00:25:00 +0530 IST");
	expect_fires("25 0 * * * Asia/Kolkata", "Europe/Berlin", T2024, 1,
	    "2024-01-02 00:25:00 +0530 IST");
	/* Chatham, +12:45/+13:45: its gap is 02:45-03:45. */
	expect_fires("0 3 * * *", "Pacific/Chatham", utc(2024, 9, 28, 12, 0), 2,
	    "2024-09-29 03:45:00 +1345 +1345|2024-09-30 03:00:00 +1345 +1345");
}
END_TEST

/* ---- syntax ---- */

/* Two expressions fire at the same instants (the next 60 from a few starts). */
static void
same_fires(const char *a, const char *b)
{
	struct tz *z = load("UTC");
	struct cron *ca = parse(a, z), *cb = parse(b, z);
	static const int64_t starts[] = { 0, T2024, INT64_C(1709164800) /* 2024-02-29 */,
	    INT64_C(4107542400) /* 2100-03-01 */ };

	for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
		int64_t ta = starts[s], tb = starts[s];

		for (int i = 0; i < 60; i++) {
			ck_assert_int_eq(cron_next(ca, ta, &ta), 0);
			ck_assert_int_eq(cron_next(cb, tb, &tb), 0);
			if (ta != tb)
				ck_abort_msg("\"%s\" and \"%s\" differ: %lld vs %lld", a, b, (long long)ta,
				    (long long)tb);
		}
	}
	cron_free(ca);
	cron_free(cb);
	tz_free(z);
}

START_TEST(test_equivalences)
{
	same_fires("0 0 * * 7", "0 0 * * 0");
	same_fires("0 0 * * SUN", "0 0 * * 0");
	same_fires("@weekly", "0 0 * * sun");
	same_fires("@WEEKLY", "0 0 * * 7");
	same_fires("0 0 1 jan,Jul *", "0 0 1 1,7 *");
	same_fires("0 0 * JAN-MAR/2 *", "0 0 * 1,3 *");
	same_fires("*/15 * * * *", "0,15,30,45 * * * *");
	same_fires("1-30/5 * * * *", "1,6,11,16,21,26 * * * *");
	same_fires("5/10 * * * *", "5,15,25,35,45,55 * * * *");
	same_fires("0 */6 * * *", "0 0,6,12,18 * * *");
	same_fires("0 0 * * fri-sun", "0 0 * * 5,6,0");
	same_fires("0 0 * * 5-0", "0 0 * * 5,6,7");
	same_fires("0 0 * * 5-7", "0 0 * * fri,sat,sun");
	same_fires("0 0 * * Mon-FRI", "0 0 * * 1-5");
	same_fires("0 0 * * 1/2", "0 0 * * 1,3,5");
	same_fires("0 0 * * */2", "0 0 * * 0,2,4,6");
	same_fires("0 0 * * sat,0-1", "0 0 * * 6,7,1");
	same_fires("@hourly", "0 * * * *");
	same_fires("@daily", "0 0 * * *");
	same_fires("@midnight", "0 0 * * *");
	same_fires("@monthly", "0 0 1 * *");
	same_fires("@yearly", "0 0 1 1 *");
	same_fires("@annually", "0 0 1 1 *");
	same_fires("  0\t0   * * *  ", "0 0 * * *");
	same_fires("0-59/1 0 * * *", "* 0 * * *");
	same_fires("0 0 1-31 * *", "0 0 * * *");
	/* Vixie: both restricted, either matches; 1-31 counts as restricted. */
	same_fires("0 0 1-31 * 5", "0 0 * * *");
	same_fires("0 0 13 * 5", "0 0 13 * 5");
}
END_TEST

START_TEST(test_day_rule)
{
	/* Both restricted: the 13th or a Friday. */
	expect_fires("0 0 13 * 5", "UTC", utc(2024, 9, 1, 0, 0), 8,
	    "2024-09-06 00:00:00 +0000 UTC|2024-09-13 00:00:00 +0000 UTC|"
	    "2024-09-20 00:00:00 +0000 UTC|2024-09-27 00:00:00 +0000 UTC|"
	    "2024-10-04 00:00:00 +0000 UTC|2024-10-11 00:00:00 +0000 UTC|"
	    "2024-10-13 00:00:00 +0000 UTC|2024-10-18 00:00:00 +0000 UTC");
	/* A field starting with '*' is "unrestricted" (Vixie): both must match. */
	expect_fires("0 0 */2 * 5", "UTC", utc(2024, 9, 1, 0, 0), 4,
	    "2024-09-13 00:00:00 +0000 UTC|2024-09-27 00:00:00 +0000 UTC|"
	    "2024-10-11 00:00:00 +0000 UTC|2024-10-25 00:00:00 +0000 UTC");
	expect_fires("0 0 13 * *", "UTC", utc(2024, 9, 1, 0, 0), 2,
	    "2024-09-13 00:00:00 +0000 UTC|2024-10-13 00:00:00 +0000 UTC");
	/* Last day candidates: the 31st only in months that have one. */
	expect_fires("0 12 31 * *", "UTC", utc(2024, 1, 31, 12, 0), 3,
	    "2024-03-31 12:00:00 +0000 UTC|2024-05-31 12:00:00 +0000 UTC|"
	    "2024-07-31 12:00:00 +0000 UTC");
	/* February 29th: 2096, then 2104 (2100 is not a leap year). */
	expect_fires("0 0 29 2 *", "UTC", utc(2095, 1, 1, 0, 0), 2,
	    "2096-02-29 00:00:00 +0000 UTC|2104-02-29 00:00:00 +0000 UTC");
}
END_TEST

START_TEST(test_never)
{
	static const char *const never[] = { "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 *" };
	struct tz *z = load("UTC");

	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
		struct cron *c = parse(never[i], z);
		int64_t next = 42;

		ck_assert_int_eq(cron_next(c, T2024, &next), -ERANGE);
		ck_assert_int_eq(next, 42);
		cron_free(c);
	}
	{
		struct cron *c = parse("* * * * *", z);
		int64_t next = 42;

		/* Beyond year 9999 nothing is computed. */
		ck_assert_int_eq(cron_next(c, INT64_MAX, &next), -ERANGE);
		ck_assert_int_eq(cron_next(c, INT64_C(253402300799), &next), -ERANGE);
		ck_assert_int_eq(next, 42);
		ck_assert_int_eq(cron_next(c, INT64_C(253402000000), &next), 0);
		ck_assert_int_eq(next, INT64_C(253402000020));
		cron_free(c);
	}
	tz_free(z);
}
END_TEST

/*
 * cron_next jumps field by field: a yearly expression answers 20000 calls
 * quickly (minute stepping would be 525600 steps per call).
 */
START_TEST(test_efficiency)
{
	struct tz *z = load("Europe/Berlin");
	struct cron *c = parse("59 23 31 12 *", z), *d = parse("0 0 13 * 5", z);
	int64_t t = 0, u = 0;
	clock_t start = clock();

	for (int i = 0; i < 20000; i++) {
		/* Once a year: until 9999, then -ERANGE. */
		if (cron_next(c, t, &t) != 0 && i < 8000)
			ck_abort_msg("yearly: cron_next failed at %lld", (long long)t);
		if (cron_next(d, u, &u) != 0)
			ck_abort_msg("cron_next failed");
	}
	/* The last day of 9999 is past the supported range in +01:00. */
	ck_assert_int_eq(t, utc(9998, 12, 31, 22, 59));
	ck_assert_msg(clock() - start < 20 * CLOCKS_PER_SEC, "too slow");
	cron_free(c);
	cron_free(d);
	tz_free(z);
}
END_TEST

/* The default zone is copied: the schedule outlives it. */
START_TEST(test_zone_ownership)
{
	struct tz *z = load("Europe/Berlin");
	struct cron *c = parse("0 3 * * *", z), *k;
	int64_t next;
	char *cause = NULL;

	tz_free(z);
	ck_assert_str_eq(tz_name(cron_zone(c)), "Europe/Berlin");
	ck_assert_int_eq(cron_next(c, T2024, &next), 0);
	ck_assert_int_eq(next, utc(2024, 1, 1, 2, 0));
	cron_free(c);
	cron_free(NULL);

	/* A named zone needs no default. */
	ck_assert_int_eq(cron_parse(&k, "@daily America/New_York", NULL, NULL, &cause), 0);
	ck_assert_str_eq(tz_name(cron_zone(k)), "America/New_York");
	ck_assert_int_eq(cron_next(k, T2024, &next), 0);
	ck_assert_int_eq(next, utc(2024, 1, 1, 5, 0));
	cron_free(k);
	/* A private zoneinfo directory is used for named zones. */
	ck_assert_int_eq(cron_parse(&k, "@daily Europe/Berlin", NULL, "/nonexistent", &cause), -ENOENT);
	ck_assert_str_eq(cause, "unknown time zone \"Europe/Berlin\"");
	free(cause);
}
END_TEST

/* ---- errors ---- */

static const struct {
	const char *expr;
	int err;
	const char *msg;
} bad[] = {
	{ "61 * * * *", -EINVAL, "minute field \"61\": value out of range 0-59" },
	{ "* * * * mon-", -EINVAL, "day-of-week field \"mon-\": range end missing" },
	{ "* * * *", -EINVAL, "expected 5 fields, got 4" },
	{ "", -EINVAL, "expected 5 fields, got 0" },
	{ " \t ", -EINVAL, "expected 5 fields, got 0" },
	{ "* * * * * Mars/Base", -ENOENT, "unknown time zone \"Mars/Base\"" },
	{ "* * * * * * *", -EINVAL, "expected 5 fields and an optional time zone, got 7 fields" },
	{ "0 0 * * * 2026", -EINVAL, "expected 5 fields, got 6 (\"2026\" is not a time zone)" },
	{ "0 0 * * * ../etc/passwd", -EINVAL,
	    "expected 5 fields, got 6 (\"../etc/passwd\" is not a time zone)" },
	{ "0 0 * * * Europe/../../etc/passwd", -EINVAL,
	    "time zone \"Europe/../../etc/passwd\": invalid name (must not contain \"..\")" },
	{ "* 24 * * *", -EINVAL, "hour field \"24\": value out of range 0-23" },
	{ "* * 0 * *", -EINVAL, "day-of-month field \"0\": value out of range 1-31" },
	{ "* * 32 * *", -EINVAL, "day-of-month field \"32\": value out of range 1-31" },
	{ "* * * 0 *", -EINVAL, "month field \"0\": value out of range 1-12" },
	{ "* * * 13 *", -EINVAL, "month field \"13\": value out of range 1-12" },
	{ "* * * * 8", -EINVAL, "day-of-week field \"8\": value out of range 0-7" },
	{ "99999999999999999999 * * * *", -EINVAL,
	    "minute field \"99999999999999999999\": value out of range 0-59" },
	{ "* * * foo *", -EINVAL, "month field \"foo\": unknown name \"foo\" (jan..dec)" },
	{ "* * * january *", -EINVAL, "month field \"january\": unknown name \"january\" (jan..dec)" },
	{ "* * * jan-foo *", -EINVAL, "month field \"jan-foo\": unknown name \"foo\" (jan..dec)" },
	{ "* * * * funday", -EINVAL, "day-of-week field \"funday\": unknown name \"funday\" (sun..sat)" },
	{ "abc * * * *", -EINVAL, "minute field \"abc\": \"abc\" is not a number" },
	{ "* mon * * *", -EINVAL, "hour field \"mon\": \"mon\" is not a number" },
	{ "*/0 * * * *", -EINVAL, "minute field \"*/0\": step out of range 1-60" },
	{ "*/61 * * * *", -EINVAL, "minute field \"*/61\": step out of range 1-60" },
	{ "* * * * */8", -EINVAL, "day-of-week field \"*/8\": step out of range 1-7" },
	{ "*/ * * * *", -EINVAL, "minute field \"*/\": step missing" },
	{ "*/x * * * *", -EINVAL, "minute field \"*/x\": step \"x\" is not a number" },
	{ "*/5/5 * * * *", -EINVAL, "minute field \"*/5/5\": unexpected \"/5\"" },
	{ "-5 * * * *", -EINVAL, "minute field \"-5\": range start missing" },
	{ "5-1 * * * *", -EINVAL, "minute field \"5-1\": range start 5 is greater than its end 1" },
	{ "* * * dec-jan *", -EINVAL, "month field \"dec-jan\": range start 12 is greater than its end 1" },
	{ "1,,2 * * * *", -EINVAL, "minute field \"1,,2\": element \"\": empty list element" },
	{ "1, * * * *", -EINVAL, "minute field \"1,\": element \"\": empty list element" },
	{ ",1 * * * *", -EINVAL, "minute field \",1\": element \"\": empty list element" },
	{ "1,61 * * * *", -EINVAL, "minute field \"1,61\": element \"61\": value out of range 0-59" },
	{ "1-2-3 * * * *", -EINVAL, "minute field \"1-2-3\": unexpected \"-3\"" },
	{ "*-5 * * * *", -EINVAL, "minute field \"*-5\": unexpected \"-5\"" },
	{ "1-x * * * *", -EINVAL, "minute field \"1-x\": \"x\" is not a number" },
	{ "1-# * * * *", -EINVAL, "minute field \"1-#\": unexpected \"#\" in range" },
	{ "# * * * *", -EINVAL, "minute field \"#\": unexpected \"#\"" },
	{ "1.5 * * * *", -EINVAL, "minute field \"1.5\": unexpected \".5\"" },
	{ "? * * * *", -EINVAL, "minute field \"?\": unexpected \"?\"" },
	{ "@reboot", -EINVAL, "@reboot is not supported (salesd runs jobs on a schedule or after "
	    "other jobs)" },
	{ "@fortnightly", -EINVAL, "unknown macro \"@fortnightly\" (@hourly, @daily, @midnight, "
	    "@weekly, @monthly, @yearly, @annually)" },
	{ "@daily Europe/Berlin extra", -EINVAL,
	    "unexpected \"extra\" after @daily (only a time zone may follow)" },
	{ "@daily Mars/Base", -ENOENT, "unknown time zone \"Mars/Base\"" },
};

START_TEST(test_errors)
{
	struct tz *z = load("UTC");
	struct cron *c = (struct cron *)&c;     /* a sentinel: must stay untouched */
	char *cause = NULL;
	int r = cron_parse(&c, bad[_i].expr, z, NULL, &cause);

	ck_assert_msg(r == bad[_i].err, "\"%s\": %d, want %d (%s)", bad[_i].expr, r, bad[_i].err,
	    cause ? cause : "");
	ck_assert_ptr_eq(c, (struct cron *)&c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, bad[_i].msg);
	free(cause);
	tz_free(z);
}
END_TEST

START_TEST(test_errors_other)
{
	struct cron *c = NULL;
	char *cause = NULL, longexpr[CRON_EXPR_MAX + 2];

	ck_assert_int_eq(cron_parse(&c, "0 0 * * *", NULL, NULL, &cause), -EINVAL);
	ck_assert_str_eq(cause, "no time zone in \"0 0 * * *\" and no default zone");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cron_parse(&c, NULL, NULL, NULL, &cause), -EINVAL);
	ck_assert_str_eq(cause, "no cron expression");
	free(cause);
	cause = NULL;
	memset(longexpr, '1', sizeof longexpr - 1);
	longexpr[sizeof longexpr - 1] = '\0';
	ck_assert_int_eq(cron_parse(&c, longexpr, NULL, NULL, &cause), -EINVAL);
	ck_assert_str_eq(cause, "cron expression too long (at most 1024 bytes)");
	free(cause);
	/* A NULL cause is allowed. */
	ck_assert_int_eq(cron_parse(&c, "61 * * * *", NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(cron_parse(&c, "* * * * * Mars/Base", NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(cron_parse(&c, "* * * * * Europe/..", NULL, NULL, NULL), -EINVAL);
	ck_assert_ptr_null(c);
}
END_TEST

/* ---- the calendar line ---- */

static void
expect_format(const char *zone, int64_t t, const char *want)
{
	struct tz *z = load(zone);
	char buf[CRON_INSTANT_LEN];

	ck_assert_int_eq(cron_format_instant(z, t, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, want);
	tz_free(z);
}

START_TEST(test_format)
{
	struct tz *z = load("Europe/Berlin");
	char buf[64];

	expect_format("Europe/Berlin", 1711846800, "2024-03-31 03:00:00 +0200 CEST");
	expect_format("Asia/Kolkata", 1704048900, "2024-01-01 00:25:00 +0530 IST");
	expect_format("America/New_York", 1730611800, "2024-11-03 01:30:00 -0400 EDT");
	expect_format("America/New_York", 1730615400, "2024-11-03 01:30:00 -0500 EST");
	expect_format("Australia/Lord_Howe", 1728142200, "2024-10-06 02:30:00 +1100 +11");
	expect_format("America/Sao_Paulo", T2024, "2023-12-31 21:00:00 -0300 -03");
	expect_format("UTC", 0, "1970-01-01 00:00:00 +0000 UTC");
	/* Local mean time before 1880 has seconds in its offset. */
	expect_format("Asia/Kolkata", INT64_C(-3786825600), "1850-01-01 05:53:28 +055328 LMT");

	/* The same as strftime's "%F %T %z %Z" for many instants. */
	set_tz("Europe/Berlin");
	for (int64_t t = 0; t < T2030; t += 999983) {
		time_t tt = (time_t)t;
		struct tm tm;
		char want[64];

		localtime_r(&tt, &tm);
		strftime(want, sizeof want, "%F %T %z %Z", &tm);
		ck_assert_int_eq(cron_format_instant(z, t, buf, sizeof buf), 0);
		ck_assert_str_eq(buf, want);
	}
	ck_assert_int_eq(cron_format_instant(z, 0, buf, 30), 0);
	ck_assert_int_eq(cron_format_instant(z, 0, buf, 29), -ENOSPC);
	ck_assert_int_eq(cron_format_instant(z, 0, buf, 0), -ENOSPC);
	ck_assert_int_eq(cron_format_instant(z, INT64_MAX, buf, sizeof buf), -ERANGE);
	tz_free(z);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cron");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("reference");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_reference, 0, (int)(sizeof ref_zones / sizeof ref_zones[0]));
	tcase_add_test(tc, test_dst_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_equivalences);
	tcase_add_test(tc, test_day_rule);
	tcase_add_test(tc, test_never);
	tcase_add_test(tc, test_efficiency);
	tcase_add_test(tc, test_zone_ownership);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, test_errors_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
