/*
 * check_tz: the TZif reader against glibc's localtime_r (TZ set in this
 * process only, which the library itself never does) for 1970-2040 across
 * zones with odd offsets and 30-minute shifts; the POSIX footer alone, on
 * files cut down to "slim" and on TZ strings glibc parses itself; wall time
 * to instant at every transition; names; and broken files.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/tz.h"

#define T1970 INT64_C(0)
#define T2024 INT64_C(1704067200)
#define T2040 INT64_C(2208988800)

static const char *const zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
	"America/Sao_Paulo", "Pacific/Chatham", "Europe/Dublin", "America/Nuuk", "Asia/Jerusalem",
};
#define NZONES ((int)(sizeof zones / sizeof zones[0]))

/* ---- helpers ---- */

static void
set_tz(const char *spec)
{
	ck_assert_int_eq(setenv("TZ", spec, 1), 0);
	tzset();
}

static struct tz *
load(const char *name)
{
	struct tz *z = NULL;
	char *cause = NULL;
	int r = tz_load(&z, name, NULL, &cause);

	ck_assert_msg(r == 0, "tz_load(%s): %d %s", name, r, cause ? cause : "");
	free(cause);
	return z;
}

/* The zone's local time of t must equal glibc's in every field. */
static void
same_as_glibc(const struct tz *z, int64_t t, const char *what)
{
	time_t tt = (time_t)t;
	struct tm tm;
	struct tz_local lt;
	int r;

	/*
	 * Plain ifs in the hot loops: every passing ck_assert costs Check a
	 * write to its channel, which would dominate the run time.
	 */
	if (localtime_r(&tt, &tm) == NULL)
		ck_abort_msg("localtime_r(%lld) failed", (long long)t);
	if ((r = tz_to_local(z, t, &lt)) != 0)
		ck_abort_msg("%s: tz_to_local(%lld) = %d", what, (long long)t, r);
	if (lt.year != tm.tm_year + 1900 || lt.mon != tm.tm_mon + 1 || lt.mday != tm.tm_mday ||
	    lt.hour != tm.tm_hour || lt.min != tm.tm_min || lt.sec != tm.tm_sec ||
	    lt.wday != tm.tm_wday || lt.yday != tm.tm_yday || lt.utcoff != tm.tm_gmtoff ||
	    lt.isdst != (tm.tm_isdst > 0) || strcmp(lt.abbr, tm.tm_zone) != 0)
		ck_abort_msg("%s at %lld: got %04d-%02d-%02d %02d:%02d:%02d wd%d yd%d %+d dst%d %s, "
		    "glibc %04d-%02d-%02d %02d:%02d:%02d wd%d yd%d %+ld dst%d %s", what, (long long)t,
		    lt.year, lt.mon, lt.mday, lt.hour, lt.min, lt.sec, lt.wday, lt.yday, lt.utcoff,
		    lt.isdst, lt.abbr, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, tm.tm_wday, tm.tm_yday, tm.tm_gmtoff, tm.tm_isdst, tm.tm_zone);
}

/* glibc's local state at t, to notice transitions. */
struct gstate {
	long off;
	int dst;
	char abbr[16];
};

static struct gstate
gstate_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	struct gstate g;

	if (localtime_r(&tt, &tm) == NULL)
		ck_abort_msg("localtime_r(%lld) failed", (long long)t);
	g.off = tm.tm_gmtoff;
	g.dst = tm.tm_isdst > 0;
	snprintf(g.abbr, sizeof g.abbr, "%s", tm.tm_zone);
	return g;
}

static bool
gstate_eq(const struct gstate *a, const struct gstate *b)
{
	return a->off == b->off && a->dst == b->dst && strcmp(a->abbr, b->abbr) == 0;
}

static int64_t
glibc_wall(int64_t t)
{
	return t + gstate_at(t).off;
}

/*
 * tz_from_wall near a transition at T, checked against glibc's clock: the
 * instant u found for wall time L is the earliest one whose wall time
 * reaches L: wall(u) >= L > wall(u - 1), and wall(u) == L unless the clock
 * jumped at u. Results never decrease as L grows.
 */
static void
check_from_wall_around(const struct tz *z, int64_t T)
{
	int64_t prev = INT64_MIN;

	for (int64_t L = glibc_wall(T) - 3 * 3600 - 7; L <= glibc_wall(T) + 3 * 3600; L += 97) {
		int64_t u, wu, wb;

		if (tz_from_wall(z, L, &u) != 0)
			ck_abort_msg("from_wall(%lld) failed", (long long)L);
		wu = glibc_wall(u);
		wb = glibc_wall(u - 1);
		if (!(wu >= L && wb < L))
			ck_abort_msg("from_wall(%lld) = %lld: walls %lld %lld",
			    (long long)L, (long long)u, (long long)wu, (long long)wb);
		if (!(wu == L || wb != wu - 1))
			ck_abort_msg("from_wall(%lld) = %lld is not at a jump", (long long)L, (long long)u);
		if (u < prev)
			ck_abort_msg("from_wall not monotonic at %lld", (long long)L);
		prev = u;
	}
}

/*
 * Compare z with glibc from `from` to `to`: a sample every 6h08m13s, and
 * around every transition (found by bisection with glibc) the seconds before,
 * at and after it. Returns the number of transitions seen.
 */
static int
compare_range(const struct tz *z, int64_t from, int64_t to, bool wall_too, const char *what)
{
	struct gstate prev = gstate_at(from), cur;
	int64_t p = from;
	int ntrans = 0;

	for (int64_t t = from; t <= to; t += 22093) {
		same_as_glibc(z, t, what);
		cur = gstate_at(t);
		if (!gstate_eq(&cur, &prev)) {
			int64_t lo = p, hi = t;   /* state(lo) = prev, state(hi) = cur */

			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				struct gstate g = gstate_at(mid);

				if (gstate_eq(&g, &prev))
					lo = mid;
				else
					hi = mid;
			}
			for (int64_t d = -2; d <= 2; d++)
				same_as_glibc(z, hi + d, what);
			if (wall_too)
				check_from_wall_around(z, hi);
			ntrans++;
		}
		prev = cur;
		p = t;
	}
	return ntrans;
}

/* ---- TZif images built in the test ---- */

struct img {
	size_t n;
	int64_t t[2100];
	uint8_t idx[2100];
	size_t ntypes;
	uint8_t types[256 * 6];
	size_t nchars;
	uint8_t chars[1100];
	char footer[300];
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t **p, uint32_t v)
{
	(*p)[0] = (uint8_t)(v >> 24);
	(*p)[1] = (uint8_t)(v >> 16);
	(*p)[2] = (uint8_t)(v >> 8);
	(*p)[3] = (uint8_t)v;
	*p += 4;
}

static void
put64(uint8_t **p, int64_t v)
{
	put32(p, (uint32_t)((uint64_t)v >> 32));
	put32(p, (uint32_t)v);
}

static uint8_t *
read_zone_file(const char *name, size_t *len)
{
	char path[256];
	uint8_t *buf = malloc(1 << 18);
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", TZ_DEFAULT_DIR, name);
	ck_assert_ptr_nonnull(buf);
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "open %s", path);
	*len = fread(buf, 1, 1 << 18, fp);
	fclose(fp);
	return buf;
}

/* The 64-bit data and footer of a real version 2+ file, read independently. */
static void
img_read(const char *name, struct img *m)
{
	size_t len, pos, n;
	uint8_t *buf = read_zone_file(name, &len);
	const uint8_t *h;

	ck_assert(len > 44 && memcmp(buf, "TZif", 4) == 0 && buf[4] >= '2');
	h = buf;
	pos = 44 + get32(h + 32) * 5 + get32(h + 36) * 6 + get32(h + 40) + get32(h + 28) * 8 +
	    get32(h + 24) + get32(h + 20);
	h = buf + pos;
	ck_assert(get32(h + 28) == 0);
	m->n = get32(h + 32);
	m->ntypes = get32(h + 36);
	m->nchars = get32(h + 40);
	ck_assert(m->n <= 2100 && m->ntypes <= 256 && m->nchars <= 1100);
	pos += 44;
	for (size_t i = 0; i < m->n; i++)
		m->t[i] = (int64_t)((uint64_t)get32(buf + pos + i * 8) << 32 | get32(buf + pos + i * 8 + 4));
	pos += m->n * 8;
	memcpy(m->idx, buf + pos, m->n);
	pos += m->n;
	memcpy(m->types, buf + pos, m->ntypes * 6);
	pos += m->ntypes * 6;
	memcpy(m->chars, buf + pos, m->nchars);
	pos += m->nchars + get32(h + 24) + get32(h + 20);
	ck_assert(buf[pos] == '\n');
	n = (size_t)((uint8_t *)memchr(buf + pos + 1, '\n', len - pos - 1) - (buf + pos + 1));
	ck_assert(n < sizeof m->footer);
	memcpy(m->footer, buf + pos + 1, n);
	m->footer[n] = '\0';
	free(buf);
}

/*
 * Write m as a TZif image of the given version ('\0', '2', '3'), keeping the
 * transitions up to the first at or after cut (a real slim file also ends
 * its table only where the footer's rule has taken over). Version 1 images hold 32-bit times and no
 * footer; later ones carry a minimal version 1 block, then the real data.
 */
static size_t
img_build(const struct img *m, char version, int64_t cut, uint8_t *out)
{
	uint8_t *p = out;
	size_t n = 0, first = 0;
	int tsize = version == '\0' ? 4 : 8;

	for (size_t i = 0; i < m->n; i++) {
		if (tsize == 4 && m->t[i] < INT32_MIN)
			first = i;
		if (tsize == 4 && m->t[i] > INT32_MAX)
			break;
		n = i + 1;
		if (m->t[i] >= cut)
			break;
	}
	if (version != '\0') {
		memcpy(p, "TZif", 4);
		p[4] = (uint8_t)version;
		memset(p + 5, 0, 15);
		p += 20;
		put32(&p, 0);
		put32(&p, 0);
		put32(&p, 0);
		put32(&p, 0);
		put32(&p, 1);
		put32(&p, 1);
		put32(&p, 0);
		*p++ = 0;
		*p++ = 0;
		*p++ = 0;
	}
	memcpy(p, "TZif", 4);
	p[4] = (uint8_t)version;
	memset(p + 5, 0, 15);
	p += 20;
	put32(&p, 0);
	put32(&p, 0);
	put32(&p, 0);
	put32(&p, (uint32_t)(n - first));
	put32(&p, (uint32_t)m->ntypes);
	put32(&p, (uint32_t)m->nchars);
	for (size_t i = first; i < n; i++) {
		if (tsize == 8)
			put64(&p, m->t[i]);
		else    /* a transition before 1901 counts from the start of 32-bit time */
			put32(&p, (uint32_t)(int32_t)(m->t[i] < INT32_MIN ? INT32_MIN : m->t[i]));
	}
	memcpy(p, m->idx + first, n - first);
	p += n - first;
	memcpy(p, m->types, m->ntypes * 6);
	p += m->ntypes * 6;
	memcpy(p, m->chars, m->nchars);
	p += m->nchars;
	if (version != '\0') {
		size_t fl = strlen(m->footer);

		*p++ = '\n';
		memcpy(p, m->footer, fl);
		p += fl;
		*p++ = '\n';
	}
	return (size_t)(p - out);
}

/* A zone that is a POSIX TZ string only: one type (its standard time), no transitions. */
static size_t
img_rule_only(const char *rule, int32_t std_utoff, const char *std_abbr, char version, uint8_t *out)
{
	struct img *m = calloc(1, sizeof *m);
	size_t len;

	ck_assert_ptr_nonnull(m);
	m->ntypes = 1;
	m->types[0] = (uint8_t)((uint32_t)std_utoff >> 24);
	m->types[1] = (uint8_t)((uint32_t)std_utoff >> 16);
	m->types[2] = (uint8_t)((uint32_t)std_utoff >> 8);
	m->types[3] = (uint8_t)std_utoff;
	m->nchars = strlen(std_abbr) + 1;
	memcpy(m->chars, std_abbr, m->nchars);
	snprintf(m->footer, sizeof m->footer, "%s", rule);
	len = img_build(m, version, INT64_MAX, out);
	free(m);
	return len;
}

static struct tz *
parse_ok(const uint8_t *buf, size_t len, const char *name)
{
	struct tz *z = NULL;
	char *cause = NULL;
	int r = tz_parse(&z, name, buf, len, &cause);

	ck_assert_msg(r == 0, "tz_parse(%s): %d %s", name, r, cause ? cause : "");
	free(cause);
	return z;
}

/* ---- glibc comparisons ---- */

/* Every zone, 1970-2040, and tz_from_wall at every transition. */
START_TEST(test_zone_vs_glibc)
{
	const char *name = zones[_i];
	struct tz *z = load(name);
	char spec[128];
	int n;

	snprintf(spec, sizeof spec, ":%s", name);
	set_tz(spec);
	ck_assert_str_eq(tz_name(z), name);
	n = compare_range(z, T1970, T2040, true, name);
	if (strcmp(name, "UTC") != 0 && strcmp(name, "Asia/Kolkata") != 0)
		ck_assert_msg(n > 10, "%s: only %d transitions seen", name, n);
	tz_free(z);
}
END_TEST

/*
 * The same zones cut down to "slim": no transitions after 2024, so the
 * footer's rule alone gives 2024-2040. Also a version 1 image (32-bit
 * data, no footer), good until 2037.
 */
START_TEST(test_slim_and_v1_vs_glibc)
{
	const char *name = zones[_i];
	struct img *m = calloc(1, sizeof *m);
	uint8_t *buf = malloc(1 << 16);
	struct tz *z;
	char spec[128];
	size_t len;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(buf);
	img_read(name, m);
	snprintf(spec, sizeof spec, ":%s", name);
	set_tz(spec);

	len = img_build(m, '2', T2024, buf);
	z = parse_ok(buf, len, name);
	compare_range(z, T1970, T2040, true, "slim");
	tz_free(z);

	len = img_build(m, '\0', INT64_MAX, buf);
	z = parse_ok(buf, len, name);
	compare_range(z, T1970, INT64_C(2145916800), false, "v1");     /* to 2038 */
	tz_free(z);
	free(buf);
	free(m);
}
END_TEST

/* POSIX TZ strings that glibc interprets itself, as zones without a table. */
static const struct {
	const char *rule;
	int32_t std_utoff;
	const char *std_abbr;
	const char *glibc;      /* what glibc is given instead, when not the same */
} rules[] = {
	{ "EST5EDT,M3.2.0,M11.1.0", -18000, "EST", NULL },
	{ "CET-1CEST,M3.5.0,M10.5.0/3", 3600, "CET", NULL },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800, "+1030", NULL },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 45900, "+1245", NULL },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", 3600, "IST", NULL },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -7200, "-02", NULL },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", 7200, "IST", NULL },
	{ "EST5EDT,0/0,J365/25", -18000, "EST", NULL },
	{ "XXX3YYY,J60/2,J300/2", -10800, "XXX", NULL },
	{ "AAA+3BBB,59/2,300", -10800, "AAA", NULL },
	{ "<-03>3", -10800, "-03", NULL },
	{ "<+0530>-5:30", 19800, "+0530", NULL },
	/* No dates: US rules, which glibc takes from its posixrules file instead. */
	{ "AAA5BBB", -18000, "AAA", "AAA5BBB,M3.2.0,M11.1.0" },
	{ "NZST-12NZDT,M9.5.0,M4.1.0/3", 43200, "NZST", NULL },
	{ "AAA-1:30BBB-2:45:10,M2.1.6/23:59:59,M11.5.3/-23", 5400, "AAA", NULL },
};

START_TEST(test_rules_vs_glibc)
{
	uint8_t buf[4096];
	size_t len = img_rule_only(rules[_i].rule, rules[_i].std_utoff, rules[_i].std_abbr, '3', buf);
	struct tz *z = parse_ok(buf, len, rules[_i].rule);

	set_tz(rules[_i].glibc != NULL ? rules[_i].glibc : rules[_i].rule);
	compare_range(z, T1970, T2040, true, rules[_i].rule);
	tz_free(z);
}
END_TEST

/* ---- wall time to instant ---- */

static int64_t
from_civil(const struct tz *z, int y, int mo, int d, int h, int mi)
{
	int64_t u = 0;

	ck_assert_int_eq(tz_from_civil(z, y, mo, d, h, mi, 0, &u), 0);
	return u;
}

START_TEST(test_from_wall_cases)
{
	struct tz *berlin = load("Europe/Berlin"), *ny = load("America/New_York");
	struct tz *lh = load("Australia/Lord_Howe"), *kol = load("Asia/Kolkata");
	int64_t u = 42;

	/* Berlin spring gap 02:00-03:00 on 2024-03-31 (01:00 UTC). */
	ck_assert_int_eq(from_civil(berlin, 2024, 3, 31, 1, 59), 1711846740);
	ck_assert_int_eq(from_civil(berlin, 2024, 3, 31, 2, 0), 1711846800);
	ck_assert_int_eq(from_civil(berlin, 2024, 3, 31, 2, 30), 1711846800);
	ck_assert_int_eq(from_civil(berlin, 2024, 3, 31, 3, 0), 1711846800);
	ck_assert_int_eq(from_civil(berlin, 2024, 3, 31, 3, 1), 1711846860);
	/* Berlin fall-back: 02:00-03:00 twice on 2024-10-27; the first (CEST) counts. */
	ck_assert_int_eq(from_civil(berlin, 2024, 10, 27, 2, 30), 1729989000);
	ck_assert_int_eq(from_civil(berlin, 2024, 10, 27, 3, 0), 1729994400);
	/* New York: 2024-03-10 02:30 does not exist -> 03:00 EDT = 07:00Z. */
	ck_assert_int_eq(from_civil(ny, 2024, 3, 10, 2, 30), 1710054000);
	/* 2024-11-03 01:30 twice -> EDT, 05:30Z. */
	ck_assert_int_eq(from_civil(ny, 2024, 11, 3, 1, 30), 1730611800);
	/* Lord Howe: 30-minute gap 02:00-02:30 on 2024-10-06 (15:00Z). */
	ck_assert_int_eq(from_civil(lh, 2024, 10, 6, 2, 15), 1728142200);
	ck_assert_int_eq(from_civil(lh, 2024, 10, 6, 2, 30), 1728142200);
	/* 01:30-02:00 twice on 2024-04-07: the first, at +11 = 04-06 14:45Z. */
	ck_assert_int_eq(from_civil(lh, 2024, 4, 7, 1, 45), 1712414700);
	/* Kolkata, +05:30 without DST. */
	ck_assert_int_eq(from_civil(kol, 2024, 1, 1, 0, 25), 1704048900);

	ck_assert_int_eq(tz_from_civil(berlin, 2024, 2, 30, 0, 0, 0, &u), -EINVAL);
	ck_assert_int_eq(tz_from_civil(berlin, 2023, 2, 29, 0, 0, 0, &u), -EINVAL);
	ck_assert_int_eq(tz_from_civil(berlin, 2024, 1, 1, 24, 0, 0, &u), -EINVAL);
	ck_assert_int_eq(tz_from_civil(berlin, 10000, 1, 1, 0, 0, 0, &u), -ERANGE);
	ck_assert_int_eq(tz_from_wall(berlin, INT64_MAX, &u), -ERANGE);
	ck_assert_int_eq(tz_from_wall(berlin, INT64_MIN, &u), -ERANGE);
	ck_assert_int_eq(u, 42);
	ck_assert_int_eq(tz_wall_from_civil(2024, 1, 1, 0, 25, 0), 1704068700);
	tz_free(berlin);
	tz_free(ny);
	tz_free(lh);
	tz_free(kol);
}
END_TEST

START_TEST(test_range_and_dup)
{
	struct tz *z = load("Europe/Berlin"), *d;
	struct tz_local lt, lt2;

	memset(&lt, 0x5a, sizeof lt);
	lt2 = lt;
	ck_assert_int_eq(tz_to_local(z, INT64_MAX, &lt), -ERANGE);
	ck_assert_int_eq(tz_to_local(z, INT64_MIN, &lt), -ERANGE);
	ck_assert_int_eq(tz_to_local(z, INT64_C(253402300800), &lt), -ERANGE);
	ck_assert(memcmp(&lt, &lt2, sizeof lt) == 0);
	/* The extremes of the range work. */
	ck_assert_int_eq(tz_to_local(z, INT64_C(-62135596800), &lt), 0);
	ck_assert_int_eq(lt.year, 1);
	ck_assert_int_eq(tz_to_local(z, INT64_C(253402300799), &lt), 0);
	ck_assert_int_eq(lt.year, 10000);       /* 9999-12-31 23:59:59Z is 10000-01-01 in CET */
	ck_assert_str_eq(lt.abbr, "CET");

	ck_assert_ptr_nonnull(d = tz_dup(z));
	tz_free(z);
	ck_assert_str_eq(tz_name(d), "Europe/Berlin");
	ck_assert_int_eq(tz_to_local(d, 1711846800, &lt), 0);
	ck_assert_int_eq(lt.hour, 3);
	ck_assert_str_eq(lt.abbr, "CEST");
	tz_free(d);
	tz_free(NULL);
}
END_TEST

/* ---- names and files ---- */

static void
load_fails(const char *name, const char *dir, int err, const char *msg)
{
	struct tz *z = (struct tz *)&z;     /* a sentinel: must stay untouched */
	char *cause = NULL;
	int r = tz_load(&z, name, dir, &cause);

	ck_assert_msg(r == err, "tz_load(%s) = %d, want %d (%s)", name ? name : "NULL", r, err,
	    cause ? cause : "");
	ck_assert_ptr_eq(z, (struct tz *)&z);
	ck_assert_ptr_nonnull(cause);
	if (msg != NULL)
		ck_assert_str_eq(cause, msg);
	free(cause);
}

START_TEST(test_bad_names)
{
	char longname[TZ_NAME_MAX + 2];

	load_fails("Europe/Berln", NULL, -ENOENT,
	    "time zone \"Europe/Berln\": not found in /usr/share/zoneinfo");
	load_fails("Mars/Base", NULL, -ENOENT, NULL);
	load_fails("UTC/x", NULL, -ENOENT, NULL);
	load_fails("Europe", NULL, -ENOENT,
	    "time zone \"Europe\": not a zone but a directory in /usr/share/zoneinfo");
	load_fails("", NULL, -EINVAL, "time zone name is empty");
	load_fails(NULL, NULL, -EINVAL, NULL);
	load_fails("/etc/passwd", NULL, -EINVAL,
	    "time zone \"/etc/passwd\": invalid name (must not start with '/')");
	load_fails("../../etc/passwd", NULL, -EINVAL,
	    "time zone \"../../etc/passwd\": invalid name (must not contain \"..\")");
	load_fails("Europe/../UTC", NULL, -EINVAL, NULL);
	load_fails("Europe/Berlin/", NULL, -EINVAL,
	    "time zone \"Europe/Berlin/\": invalid name (empty component)");
	load_fails("Europe//Berlin", NULL, -EINVAL, NULL);
	load_fails("Europe/Ber lin", NULL, -EINVAL,
	    "time zone \"Europe/Ber lin\": invalid name (letters, digits, '_', '+', '-' and '/' only)");
	load_fails("posix.rules", NULL, -EINVAL, NULL);
	load_fails("Europe/Berlin\n", NULL, -EINVAL, NULL);
	memset(longname, 'A', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	load_fails(longname, NULL, -EINVAL, NULL);
	load_fails("Europe/Berlin", "/nonexistent-zoneinfo", -ENOENT,
	    "time zone \"Europe/Berlin\": not found in /nonexistent-zoneinfo");
}
END_TEST

/* A private zoneinfo directory: a copied zone, a text file, the default dir. */
START_TEST(test_zoneinfo_dir)
{
	char dir[] = "/tmp/check_tz.XXXXXX", path[512], *cause = NULL;
	size_t len;
	uint8_t *data = read_zone_file("Asia/Kolkata", &len);
	struct tz *z = NULL;
	struct tz_local lt;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/Test", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/Test/Zone_1+x-y", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "wb"));
	fwrite(data, 1, len, fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/Text", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("Europe/Berlin\n", fp);
	fclose(fp);

	ck_assert_int_eq(tz_load(&z, "Test/Zone_1+x-y", dir, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(tz_name(z), "Test/Zone_1+x-y");
	ck_assert_int_eq(tz_to_local(z, 0, &lt), 0);
	ck_assert_int_eq(lt.utcoff, 19800);
	ck_assert_int_eq(lt.hour, 5);
	ck_assert_int_eq(lt.min, 30);
	ck_assert_str_eq(lt.abbr, "IST");
	tz_free(z);
	z = NULL;
	/* NULL and "" mean the default directory. */
	ck_assert_int_eq(tz_load(&z, "UTC", "", &cause), 0);
	tz_free(z);

	snprintf(path, sizeof path, "time zone \"Text\": %s/Text: not a TZif file", dir);
	load_fails("Text", dir, -EBADMSG, path);
	load_fails("Europe/Berlin", dir, -ENOENT, NULL);

	snprintf(path, sizeof path, "%s/Test/Zone_1+x-y", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/Test", dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/Text", dir);
	unlink(path);
	rmdir(dir);
	free(data);
}
END_TEST

/* ---- broken data ---- */

static void
parse_fails(const void *buf, size_t len, const char *msg)
{
	struct tz *z = (struct tz *)&z;
	char *cause = NULL;
	int r = tz_parse(&z, "X", buf, len, &cause);

	if (r != -EBADMSG || z != (struct tz *)&z || cause == NULL)
		ck_abort_msg("parse %s: got %d (%s)", msg, r, cause ? cause : "");
	if (strchr(msg, ' ') != NULL || strchr(msg, '-') != NULL) {
		char want[256];

		snprintf(want, sizeof want, "time zone \"X\": %s", msg);
		ck_assert_str_eq(cause, want);
	}
	free(cause);
}

/* Every proper prefix of a real file is refused; so are files not TZif at all. */
START_TEST(test_truncated)
{
	size_t len;
	uint8_t *data = read_zone_file("Europe/Berlin", &len);
	struct tz *z;

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n + 1);   /* exact size, so ASan sees overreads */

		memcpy(copy, data, n);
		parse_fails(copy, n, "prefix");
		free(copy);
	}
	z = parse_ok(data, len, "whole");
	tz_free(z);
	parse_fails("", 0, "not a TZif file");
	parse_fails("TZif", 4, "truncated header");
	parse_fails("# not a zone\n", 13, "not a TZif file");
	parse_fails("TZiF2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
	    44, "not a TZif file");
	free(data);
}
END_TEST

/* Corruptions of a built image, each refused with its reason. */
START_TEST(test_corrupt)
{
	struct img *m = calloc(1, sizeof *m), *c = malloc(sizeof *m);
	uint8_t *buf = malloc(1 << 16);
	static const char *const bad_footers[] = {
		"CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "<+1030-10:30",
		"AB-1", "CET-25", "CET-1CEST,J0,J365", "CET-1CEST,M3.5.0/168,M10.5.0",
		"CET-1CEST,M3.5.0,M10.5.0,", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,366,0", "CET-1:60", "CET-1CEST-2:00:99,M3.5.0,M10.5.0", "-1", "CET-1 ",
		"<+ab?>-1", "ABCDEFGHIJKLMNOP-1",
	};
	size_t len, pos1;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(buf);
	img_read("Europe/Berlin", m);
	len = img_build(m, '2', INT64_MAX, buf);
	pos1 = 44 + 6 + 1;                      /* the second header */

	/* Header fields: the first header, then the second. */
	buf[4] = 'x';
	parse_fails(buf, len, "unknown TZif version");
	buf[4] = '2';
	buf[pos1 + 4] = '\0';
	parse_fails(buf, len, "second header has version 1");
	buf[pos1 + 4] = '2';
	buf[pos1 + 31] = 1;                     /* leapcnt */
	parse_fails(buf, len, "leap-second zones (right/...) are not supported");
	buf[pos1 + 31] = 0;
	buf[pos1 + 34] = 0xff;                  /* timecnt */
	parse_fails(buf, len, "too many transitions");
	buf[pos1 + 34] = 0;
	buf[pos1 + 39] = 0;                     /* typecnt 0 */
	parse_fails(buf, len, "bad number of local time types");
	buf[pos1 + 39] = (uint8_t)m->ntypes;
	buf[pos1 + 23] = 1;                     /* isutcnt 1 != typecnt */
	parse_fails(buf, len, "bad standard/UT indicator counts");
	buf[pos1 + 23] = 0;
	buf[pos1 + 42] = 0x7f;                  /* charcnt huge */
	parse_fails(buf, len, "bad size of abbreviations");
	buf[pos1 + 42] = 0;
	{
		struct tz *z = parse_ok(buf, len, "restored");

		tz_free(z);
	}

	/* Data: each on a fresh copy of the image. */
	*c = *m;
	c->t[5] = c->t[4];
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "transition times not ascending");
	*c = *m;
	c->idx[3] = (uint8_t)m->ntypes;
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "transition to an undefined local time type");
	*c = *m;
	c->types[0] = 0x7f;                     /* utoff of type 0 huge */
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "UTC offset out of range");
	*c = *m;
	c->types[4] = 2;
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "bad DST flag");
	*c = *m;
	c->types[5] = (uint8_t)m->nchars;
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "bad abbreviation index");
	*c = *m;
	c->chars[c->nchars - 1] = 'X';          /* the last abbreviation loses its NUL */
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "bad abbreviation index");
	for (size_t i = 0; i < sizeof bad_footers / sizeof bad_footers[0]; i++) {
		*c = *m;
		snprintf(c->footer, sizeof c->footer, "%s", bad_footers[i]);
		parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "bad TZ string in footer");
	}
	*c = *m;
	memset(c->footer, 'A', 280);
	c->footer[280] = '\0';
	parse_fails(buf, img_build(c, '2', INT64_MAX, buf), "footer not terminated or too long");
	/* No newline before the footer. */
	len = img_build(m, '2', INT64_MAX, buf);
	buf[len - strlen(m->footer) - 2] = 'x';
	parse_fails(buf, len, "missing footer");
	/* An empty footer is allowed: the last transition's type holds after it. */
	*c = *m;
	c->footer[0] = '\0';
	tz_free(parse_ok(buf, img_build(c, '2', INT64_MAX, buf), "empty footer"));
	free(c);
	free(m);
	free(buf);
}
END_TEST

/*
 * Random corruption of real files: whatever is accepted must answer every
 * query within its range without crashing (ASan and UBSan watch).
 */
START_TEST(test_mutations)
{
	static const char *const names[] = { "Europe/Berlin", "Australia/Lord_Howe", "UTC" };
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	int accepted = 0;

	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t len;
		uint8_t *data = read_zone_file(names[k], &len);

		for (int round = 0; round < 1500; round++) {
			uint8_t *copy = malloc(len);
			struct tz *z = NULL;
			char *cause = NULL;
			int flips;

			memcpy(copy, data, len);
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			flips = 1 + (int)(rng % 4);
			for (int f = 0; f < flips; f++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				copy[(rng >> 8) % len] ^= (uint8_t)(1u << (rng % 8));
			}
			if (tz_parse(&z, names[k], copy, len, &cause) == 0) {
				int64_t prev = INT64_MIN;

				accepted++;
				for (int64_t t = -4000000000LL; t < 8000000000LL; t += 50000000) {
					struct tz_local lt;
					int64_t u;

					if (tz_to_local(z, t, &lt) != 0 || lt.utcoff < -26 * 3600 ||
					    lt.utcoff > 26 * 3600 || tz_from_wall(z, t, &u) != 0 || u < prev)
						ck_abort_msg("mutation %d of %s: bad answer at %lld", round,
						    names[k], (long long)t);
					prev = u;
				}
				tz_free(z);
			} else if (cause == NULL) {
				ck_abort_msg("mutation %d of %s: refused without a cause", round, names[k]);
			}
			free(cause);
			free(copy);
		}
		free(data);
	}
	ck_assert_int_gt(accepted, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tz");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("glibc");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_zone_vs_glibc, 0, NZONES);
	tcase_add_loop_test(tc, test_slim_and_v1_vs_glibc, 0, NZONES);
	tcase_add_loop_test(tc, test_rules_vs_glibc, 0, (int)(sizeof rules / sizeof rules[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("wall");
	tcase_add_test(tc, test_from_wall_cases);
	tcase_add_test(tc, test_range_and_dup);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_zoneinfo_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("corrupt");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
