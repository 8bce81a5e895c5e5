/*
 * tz: TZif reader and local-time conversions (see tz.h).
 *
 * A zone is a sorted table of transitions (instant -> local time type) plus,
 * for version 2 and later files, a POSIX TZ string (the footer, e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3") that gives local time after the last
 * transition. Debian may ship "slim" files whose table stops early and relies
 * on the footer entirely, so the footer is not optional for correctness.
 *
 * The file is external input: every count is capped, every index checked,
 * and no arithmetic can overflow because instants are confined to years
 * 1..9999 and offsets to +-26 hours.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tz.h"
#include "base/util.h"

#define TZ_MIN_TIME (-62135596800LL)    /* 0001-01-01 00:00:00 UTC */
#define TZ_MAX_TIME 253402300799LL      /* 9999-12-31 23:59:59 UTC */
#define TZ_MAX_OFF (26 * 3600)          /* largest |UTC offset| accepted */
#define TZ_FILE_MAX (256 * 1024)        /* real files are below 4 KiB */
#define TZ_MAX_TIMES 2000               /* as tzcode's TZ_MAX_TIMES */
#define TZ_MAX_TYPES 256                /* type indices are one byte */
#define TZ_MAX_CHARS 1024
#define TZ_FOOTER_MAX 256
#define TZ_HEADER_LEN 44
/*
 * tz_from_wall looks at transitions within this distance of the wall time:
 * the instant a wall time denotes is never further from it than one offset.
 */
#define TZ_WINDOW (TZ_MAX_OFF + 3600)

/* One local time type: offset, DST flag and abbreviation. */
struct tz_type {
	int32_t utoff;
	int isdst;
	char abbr[16];
};

/* A POSIX TZ rule date: Jn, n or Mm.w.d, plus a time of day in seconds. */
struct tz_date {
	char kind;      /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' */
	int n, m, w, d;
	int32_t secs;   /* may be negative or beyond 24 h (version 3) */
};

/* The footer: standard time, and daylight saving time with its two dates. */
struct tz_rule {
	struct tz_type std, dst;
	bool has_dst;
	struct tz_date start, end;
};

struct tz {
	char *name;
	size_t ntrans;
	int64_t *trans;         /* strictly ascending */
	uint8_t *idx;           /* type index per transition */
	size_t ntypes;
	struct tz_type *types;
	bool has_rule;
	struct tz_rule rule;
};

/* Floor division and modulo for a positive divisor. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int *year, int *mon, int *mday)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(y + (*mon <= 2));
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static int
weekday(int64_t days)
{
	return (int)((days % 7 + 11) % 7);
}

/* Wall seconds of a civil time: plain calendar arithmetic, no zone. */
int64_t
tz_wall_from_civil(int year, int mon, int mday, int hour, int min, int sec)
{
	return days_from_civil(year, mon, mday) * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

/* Copy an abbreviation, replacing anything unprintable: it ends up in output lines. */
static void
copy_abbr(char dst[16], const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 15 && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x21 && src[i] <= 0x7e) ? src[i] : '?';
	dst[i] = '\0';
}

/* ---- POSIX TZ strings ---- */

/* Parse an abbreviation: 3+ letters, or <...> with letters, digits, '+', '-'. */
static bool
rule_name(const char **sp, char abbr[16])
{
	const char *s = *sp, *start;
	size_t n;

	if (*s == '<') {
		start = ++s;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '-')
			s++;
		if (*s != '>')
			return false;
		n = (size_t)(s - start);
		s++;
	} else {
		start = s;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
			s++;
		n = (size_t)(s - start);
	}
	if (n < 3 || n > 15)
		return false;
	copy_abbr(abbr, start, n);
	*sp = s;
	return true;
}

/* An unsigned number of at most maxdigits digits, at most max. */
static bool
rule_num(const char **sp, int maxdigits, int max, int *out)
{
	const char *s = *sp;
	int v = 0, n = 0;

	while (*s >= '0' && *s <= '9' && n < maxdigits) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || v > max || (*s >= '0' && *s <= '9'))
		return false;
	*out = v;
	*sp = s;
	return true;
}

/* [+-]hh[:mm[:ss]] in seconds; hours up to maxh (24 for offsets, 167 for times). */
static bool
rule_hms(const char **sp, int maxh, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!rule_num(&s, 3, maxh, &h))
		return false;
	if (*s == ':') {
		s++;
		if (!rule_num(&s, 2, 59, &m))
			return false;
		if (*s == ':') {
			s++;
			if (!rule_num(&s, 2, 59, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	*sp = s;
	return true;
}

/* A rule date with its optional /time (default 02:00). */
static bool
rule_date(const char **sp, struct tz_date *d)
{
	const char *s = *sp;

	memset(d, 0, sizeof *d);
	if (*s == 'J') {
		s++;
		d->kind = 'J';
		if (!rule_num(&s, 3, 365, &d->n) || d->n < 1)
			return false;
	} else if (*s == 'M') {
		s++;
		d->kind = 'M';
		if (!rule_num(&s, 2, 12, &d->m) || d->m < 1 || *s++ != '.' ||
		    !rule_num(&s, 1, 5, &d->w) || d->w < 1 || *s++ != '.' ||
		    !rule_num(&s, 1, 6, &d->d))
			return false;
	} else {
		d->kind = 'D';
		if (!rule_num(&s, 3, 365, &d->n))
			return false;
	}
	d->secs = 2 * 3600;
	if (*s == '/') {
		s++;
		if (!rule_hms(&s, 167, &d->secs))
			return false;
	}
	*sp = s;
	return true;
}

/* Parse a whole POSIX TZ string (the footer); false if malformed. */
static bool
rule_parse(const char *s, struct tz_rule *r)
{
	int32_t off;

	memset(r, 0, sizeof *r);
	if (!rule_name(&s, r->std.abbr) || !rule_hms(&s, 24, &off))
		return false;
	/* POSIX offsets count west of Greenwich; ours count east. */
	r->std.utoff = -off;
	if (*s == '\0')
		return true;
	if (!rule_name(&s, r->dst.abbr))
		return false;
	r->has_dst = true;
	r->dst.isdst = 1;
	r->dst.utoff = r->std.utoff + 3600;
	if (*s != ',' && *s != '\0') {
		if (!rule_hms(&s, 24, &off))
			return false;
		r->dst.utoff = -off;
	}
	if (*s == '\0') {
		/* No dates: the POSIX default glibc uses too (US rules since 2007). */
		r->start = (struct tz_date){ .kind = 'M', .m = 3, .w = 2, .d = 0, .secs = 7200 };
		r->end = (struct tz_date){ .kind = 'M', .m = 11, .w = 1, .d = 0, .secs = 7200 };
		return true;
	}
	if (*s++ != ',' || !rule_date(&s, &r->start) || *s++ != ',' || !rule_date(&s, &r->end))
		return false;
	return *s == '\0';
}

/* Day number (since 1970) on which a rule date falls in year y. */
static int64_t
rule_day(const struct tz_date *d, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1), first;
	int mday;

	switch (d->kind) {
	case 'J':
		/* Jn never counts February 29. */
		return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60);
	case 'D':
		return jan1 + d->n;
	default:
		first = days_from_civil(y, d->m, 1);
		mday = 1 + (d->d - weekday(first) + 7) % 7 + (d->w - 1) * 7;
		while (mday > days_in_month(y, d->m))
			mday -= 7;
		return first + mday - 1;
	}
}

/* UTC instants at which DST starts and ends in year y. */
static void
rule_changes(const struct tz_rule *r, int64_t y, int64_t *start, int64_t *end)
{
	/* The start time is in standard time, the end time in daylight time. */
	*start = rule_day(&r->start, y) * 86400 + r->start.secs - r->std.utoff;
	*end = rule_day(&r->end, y) * 86400 + r->end.secs - r->dst.utoff;
}

static int64_t
utc_year(int64_t t)
{
	int y, m, d;

	civil_from_days(floor_div(t, 86400), &y, &m, &d);
	return y;
}

/* The local time type the rule gives at instant t. */
static const struct tz_type *
rule_type(const struct tz_rule *r, int64_t t)
{
	int64_t start, end;
	bool dst;

	if (!r->has_dst)
		return &r->std;
	/*
	 * The year is taken from UTC, as glibc does; for real rules the changes
	 * are months away from New Year, so local and UTC year agree anyway.
	 */
	rule_changes(r, utc_year(t), &start, &end);
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);     /* southern hemisphere */
	return dst ? &r->dst : &r->std;
}

/* ---- the transition table ---- */

/* Local time type in effect at instant t. */
static const struct tz_type *
type_at(const struct tz *z, int64_t t)
{
	size_t lo, hi;

	if (z->ntrans == 0)
		return z->has_rule ? rule_type(&z->rule, t) : &z->types[0];
	/* RFC 8536: type 0 before the first transition. */
	if (t < z->trans[0])
		return &z->types[0];
	if (t >= z->trans[z->ntrans - 1]) {
		if (z->has_rule)
			return rule_type(&z->rule, t);
		return &z->types[z->idx[z->ntrans - 1]];
	}
	/* The last transition at or before t: trans[lo] <= t < trans[hi]. */
	lo = 0;
	hi = z->ntrans - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &z->types[z->idx[lo]];
}

/* Local time of an instant: the type in effect, applied to the instant. */
int
tz_to_local(const struct tz *z, int64_t utc, struct tz_local *out)
{
	const struct tz_type *ty;
	int64_t wall, days, secs;
	struct tz_local lt;

	if (utc < TZ_MIN_TIME || utc > TZ_MAX_TIME)
		return -ERANGE;
	ty = type_at(z, utc);
	wall = utc + ty->utoff;
	days = floor_div(wall, 86400);
	secs = wall - days * 86400;
	memset(&lt, 0, sizeof lt);
	civil_from_days(days, &lt.year, &lt.mon, &lt.mday);
	lt.hour = (int)(secs / 3600);
	lt.min = (int)(secs / 60 % 60);
	lt.sec = (int)(secs % 60);
	lt.wday = weekday(days);
	lt.yday = (int)(days - days_from_civil(lt.year, 1, 1));
	lt.utcoff = ty->utoff;
	lt.isdst = ty->isdst;
	memcpy(lt.abbr, ty->abbr, sizeof lt.abbr);
	*out = lt;
	return 0;
}

/*
 * Walking the segments of constant offset in time order, looking for the
 * first one whose wall clock reaches the wanted wall time.
 */
struct walk {
	int64_t wall;   /* the wall time looked for */
	int64_t start;  /* start of the current segment */
	int32_t utoff;  /* its offset */
	bool done;
	int64_t result;
};

/* The current segment ends at instant t (where the offset may change). */
static void
walk_step(const struct tz *z, struct walk *w, int64_t t)
{
	if (w->done || t <= w->start)
		return;
	if (t + w->utoff > w->wall) {
		/*
		 * The segment's wall clock runs past the wanted time before it
		 * ends; the earlier segments never reached it. Either the time
		 * occurs in this segment, or the segment starts after it (the
		 * wanted time fell in a gap) and its start is the answer.
		 */
		w->result = w->wall - w->utoff > w->start ? w->wall - w->utoff : w->start;
		w->done = true;
		return;
	}
	w->start = t;
	w->utoff = type_at(z, t)->utoff;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The earliest instant whose wall clock reaches wall: walk the segments of
 * constant offset that can contain it, in time order.
 */
int
tz_from_wall(const struct tz *z, int64_t wall, int64_t *utc)
{
	int64_t lo, hi, cand[16];
	struct walk w;
	size_t i, n = 0, a, b;

	if (wall < TZ_MIN_TIME + TZ_WINDOW || wall > TZ_MAX_TIME - TZ_WINDOW)
		return -ERANGE;
	lo = wall - TZ_WINDOW;
	hi = wall + TZ_WINDOW;
	/* At lo the wall clock is surely before wall: |offset| < TZ_WINDOW. */
	w.wall = wall;
	w.start = lo;
	w.utoff = type_at(z, lo)->utoff;
	w.done = false;
	w.result = 0;

	/* Table transitions in (lo, hi]. */
	a = 0;
	b = z->ntrans;
	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (z->trans[mid] <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (i = a; i < z->ntrans && z->trans[i] <= hi && !w.done; i++)
		walk_step(z, &w, z->trans[i]);

	/*
	 * Changes the footer rule makes after the table ends: every DST start
	 * and end of the years around, and each New Year (rule_type picks the
	 * year by UTC, so a change could in theory happen there too). Extra
	 * candidates where nothing changes are harmless.
	 */
	if (!w.done && z->has_rule && z->rule.has_dst) {
		int64_t after = z->ntrans > 0 ? z->trans[z->ntrans - 1] : INT64_MIN;

		for (int64_t y = utc_year(lo) - 1; y <= utc_year(hi) + 1; y++) {
			int64_t c[3];

			rule_changes(&z->rule, y, &c[0], &c[1]);
			c[2] = days_from_civil(y, 1, 1) * 86400;
			for (size_t k = 0; k < 3; k++)
				if (c[k] > lo && c[k] <= hi && c[k] > after && n < UTIL_NELEM(cand))
					cand[n++] = c[k];
		}
		qsort(cand, n, sizeof cand[0], cmp_i64);
		for (i = 0; i < n && !w.done; i++)
			walk_step(z, &w, cand[i]);
	}
	if (!w.done)
		w.result = wall - w.utoff > w.start ? wall - w.utoff : w.start;
	*utc = w.result;
	return 0;
}

/* tz_from_wall for a checked civil date and time. */
int
tz_from_civil(const struct tz *z, int year, int mon, int mday, int hour, int min, int sec,
    int64_t *utc)
{
	if (year < 1 || year > 9999)
		return -ERANGE;
	if (mon < 1 || mon > 12 || mday < 1 || mday > days_in_month(year, mon) ||
	    hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
		return -EINVAL;
	return tz_from_wall(z, tz_wall_from_civil(year, mon, mday, hour, min, sec), utc);
}

/* ---- reading TZif ---- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Transition time i of a block with 4- or 8-byte times. */
static int64_t
trans_time(const uint8_t *times, size_t i, size_t tsize)
{
	return tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
}

/* The six counts of a TZif header. */
struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

/* Read and check a header at p (TZ_HEADER_LEN bytes available). */
static const char *
read_header(const uint8_t *p, struct tzif_counts *c, char *version)
{
	if (memcmp(p, "TZif", 4) != 0)
		return "not a TZif file";
	/* '\0' is version 1; later versions only add to the format. */
	if (p[4] != '\0' && (p[4] < '2' || p[4] > '9'))
		return "unknown TZif version";
	*version = (char)p[4];
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->leap != 0)
		return "leap-second zones (right/...) are not supported";
	if (c->time > TZ_MAX_TIMES)
		return "too many transitions";
	if (c->type == 0 || c->type > TZ_MAX_TYPES)
		return "bad number of local time types";
	if (c->chars == 0 || c->chars > TZ_MAX_CHARS)
		return "bad size of abbreviations";
	if ((c->isstd != 0 && c->isstd != c->type) || (c->isut != 0 && c->isut != c->type))
		return "bad standard/UT indicator counts";
	return NULL;
}

/* Length of the data block after a header with counts c and time size tsize. */
static size_t
block_len(const struct tzif_counts *c, size_t tsize)
{
	/* The counts are capped by read_header, so this cannot overflow. */
	return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
	    (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Allocate a zone with room for its tables and name in one block. */
static struct tz *
tz_alloc(size_t ntrans, size_t ntypes, const char *name)
{
	size_t namelen = strlen(name) + 1;
	size_t size = sizeof(struct tz) + ntrans * sizeof(int64_t) +
	    ntypes * sizeof(struct tz_type) + ntrans + namelen;
	struct tz *z;
	char *p;

	if ((z = calloc(1, size)) == NULL)
		return NULL;
	/* Largest alignment first: int64_t, then the types, then bytes. */
	p = (char *)(z + 1);
	z->trans = (int64_t *)(void *)p;
	p += ntrans * sizeof(int64_t);
	z->types = (struct tz_type *)(void *)p;
	p += ntypes * sizeof(struct tz_type);
	z->idx = (uint8_t *)p;
	p += ntrans;
	z->name = p;
	memcpy(z->name, name, namelen);
	z->ntrans = ntrans;
	z->ntypes = ntypes;
	return z;
}

/*
 * The footer of a version 2+ file at p: "\n" TZ-string "\n", where an empty
 * string means there is no rule. Returns NULL or the reason it is bad.
 */
static const char *
read_footer(const uint8_t *p, size_t len, struct tz_rule *rule, bool *has_rule)
{
	const uint8_t *nl;
	char footer[TZ_FOOTER_MAX];
	size_t n;

	if (len == 0 || p[0] != '\n')
		return "missing footer";
	p++;
	len--;
	if ((nl = memchr(p, '\n', len < TZ_FOOTER_MAX ? len : TZ_FOOTER_MAX)) == NULL)
		return "footer not terminated or too long";
	n = (size_t)(nl - p);
	memcpy(footer, p, n);
	footer[n] = '\0';
	*has_rule = n > 0;
	/*
	 * rule_parse stops at a NUL byte short of the newline and refuses it.
	 * Its offsets stay within 24:59:59, inside TZ_MAX_OFF.
	 */
	if (n > 0 && (strlen(footer) != n || !rule_parse(footer, rule)))
		return "bad TZ string in footer";
	return NULL;
}

/*
 * Parse an image; on failure return a negative error and a static reason.
 */
static int
parse_image(struct tz **out, const char *name, const uint8_t *p, size_t len, const char **why)
{
	struct tzif_counts c;
	char version;
	size_t pos = 0, tsize = 4, n, first, keep;
	const uint8_t *times, *idx, *types, *chars;
	bool has_rule = false, clipped_end = false;
	struct tz_rule rule = { 0 };
	struct tz *z;

	if (len < TZ_HEADER_LEN) {
		*why = len >= 4 && memcmp(p, "TZif", 4) == 0 ? "truncated header" : "not a TZif file";
		return -EBADMSG;
	}
	if ((*why = read_header(p, &c, &version)) != NULL)
		return -EBADMSG;
	pos = TZ_HEADER_LEN;
	if (version != '\0') {
		/* Skip the 32-bit block; use the second header and 64-bit block. */
		n = block_len(&c, 4);
		if (len - pos < n + TZ_HEADER_LEN) {
			*why = "truncated data";
			return -EBADMSG;
		}
		pos += n;
		if ((*why = read_header(p + pos, &c, &version)) != NULL)
			return -EBADMSG;
		if (version == '\0') {
			*why = "second header has version 1";
			return -EBADMSG;
		}
		pos += TZ_HEADER_LEN;
		tsize = 8;
	}
	n = block_len(&c, tsize);
	if (len - pos < n) {
		*why = "truncated data";
		return -EBADMSG;
	}
	times = p + pos;
	idx = times + c.time * tsize;
	types = idx + c.time;
	chars = types + (size_t)c.type * 6;
	pos += n;

	if (version != '\0' && (*why = read_footer(p + pos, len - pos, &rule, &has_rule)) != NULL)
		return -EBADMSG;

	/* Check the transitions and find the part inside years 1..9999. */
	first = 0;
	keep = c.time;
	for (size_t i = 0; i < c.time; i++) {
		int64_t t = trans_time(times, i, tsize);

		if (i > 0 && t <= trans_time(times, i - 1, tsize)) {
			*why = "transition times not ascending";
			return -EBADMSG;
		}
		if (idx[i] >= c.type) {
			*why = "transition to an undefined local time type";
			return -EBADMSG;
		}
		/* Of the transitions before year 1 only the last one matters. */
		if (t < TZ_MIN_TIME && i > 0)
			first = i;
		if (t > TZ_MAX_TIME && keep == c.time)
			keep = i;
	}
	if (keep < c.time) {
		/* The table reaches past 9999, so the footer never applies in range. */
		clipped_end = true;
	}
	if (first > keep)
		first = keep;

	if ((z = tz_alloc(keep - first, c.type, name)) == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (size_t i = first; i < keep; i++) {
		int64_t t = trans_time(times, i, tsize);

		z->trans[i - first] = t < TZ_MIN_TIME ? TZ_MIN_TIME - 1 : t;
		z->idx[i - first] = idx[i];
	}
	for (size_t i = 0; i < c.type; i++) {
		const uint8_t *ty = types + i * 6;
		int32_t utoff = (int32_t)be32(ty);
		uint8_t ai = ty[5];

		if (utoff < -TZ_MAX_OFF || utoff > TZ_MAX_OFF) {
			*why = "UTC offset out of range";
			goto bad;
		}
		if (ty[4] > 1) {
			*why = "bad DST flag";
			goto bad;
		}
		if (ai >= c.chars || memchr(chars + ai, '\0', c.chars - ai) == NULL) {
			*why = "bad abbreviation index";
			goto bad;
		}
		z->types[i].utoff = utoff;
		z->types[i].isdst = ty[4];
		copy_abbr(z->types[i].abbr, (const char *)chars + ai, c.chars - ai);
	}
	z->has_rule = has_rule && !clipped_end;
	if (z->has_rule)
		z->rule = rule;
	*out = z;
	return 0;
bad:
	free(z);
	return -EBADMSG;
}

/* Parse an image from memory (tests, fuzzing); the message names the zone. */
int
tz_parse(struct tz **out, const char *name, const void *buf, size_t len, char **cause)
{
	const char *why = NULL;
	int r;

	if (name == NULL)
		name = "";
	if ((r = parse_image(out, name, buf, len, &why)) < 0)
		return util_fail(cause, r, "time zone \"%s\": %s", name, why);
	return 0;
}

/* Check a zone name before it becomes part of a path. */
static int
check_name(const char *name, char **cause)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return util_fail(cause, -EINVAL, "time zone name is empty");
	if ((len = strlen(name)) > TZ_NAME_MAX)
		return util_fail(cause, -EINVAL, "time zone \"%.*s...\": name too long (at most %d characters)",
		    (int)util_utf8_prefix(name, 40), name, TZ_NAME_MAX);
	if (name[0] == '/')
		return util_fail(cause, -EINVAL, "time zone \"%s\": invalid name (must not start with '/')",
		    name);
	if (strstr(name, "..") != NULL)
		return util_fail(cause, -EINVAL, "time zone \"%s\": invalid name (must not contain \"..\")",
		    name);
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '+' || ch == '-' || ch == '/'))
			return util_fail(cause, -EINVAL, "time zone \"%s\": invalid name (letters, digits, "
			    "'_', '+', '-' and '/' only)", name);
		if (ch == '/' && (name[i + 1] == '/' || name[i + 1] == '\0'))
			return util_fail(cause, -EINVAL, "time zone \"%s\": invalid name (empty component)",
			    name);
	}
	return 0;
}

/* Check the name, read the file below zoneinfo_dir, parse it. */
int
tz_load(struct tz **out, const char *name, const char *zoneinfo_dir, char **cause)
{
	char *path = NULL, *buf = NULL;
	const char *why = NULL;
	size_t len = 0;
	int r;

	if (zoneinfo_dir == NULL || zoneinfo_dir[0] == '\0')
		zoneinfo_dir = TZ_DEFAULT_DIR;
	if ((r = check_name(name, cause)) < 0)
		return r;
	if ((path = util_printf("%s/%s", zoneinfo_dir, name)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	r = util_read_file(path, TZ_FILE_MAX, &buf, &len);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
	case -ENOTDIR:
		r = util_fail(cause, -ENOENT, "time zone \"%s\": not found in %s", name, zoneinfo_dir);
		goto out;
	case -EISDIR:
		r = util_fail(cause, -ENOENT, "time zone \"%s\": not a zone but a directory in %s",
		    name, zoneinfo_dir);
		goto out;
	case -EFBIG:
		r = util_fail(cause, -EFBIG, "time zone \"%s\": %s is too large for a zone file", name, path);
		goto out;
	default:
		r = util_fail(cause, r, "time zone \"%s\": cannot read %s: %s", name, path, strerror(-r));
		goto out;
	}
	if ((r = parse_image(out, name, (const uint8_t *)buf, len, &why)) < 0)
		r = util_fail(cause, r, "time zone \"%s\": %s: %s", name, path, why);
out:
	free(buf);
	free(path);
	return r;
}

/* A deep copy: one block, re-laid out by tz_alloc. */
struct tz *
tz_dup(const struct tz *z)
{
	struct tz *c;

	if ((c = tz_alloc(z->ntrans, z->ntypes, z->name)) == NULL)
		return NULL;
	if (z->ntrans > 0) {
		memcpy(c->trans, z->trans, z->ntrans * sizeof *z->trans);
		memcpy(c->idx, z->idx, z->ntrans);
	}
	memcpy(c->types, z->types, z->ntypes * sizeof *z->types);
	c->has_rule = z->has_rule;
	c->rule = z->rule;
	return c;
}

/* Everything is in one block. */
void
tz_free(struct tz *z)
{
	free(z);
}

/* The name the zone was loaded under. */
const char *
tz_name(const struct tz *z)
{
	return z->name;
}
