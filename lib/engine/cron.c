/*
 * cron: parsing cron expressions and finding their next fire time in a time
 * zone (see cron.h).
 *
 * Each field becomes a bit set. cron_next searches wall-clock time (the
 * zone's local calendar) for the next matching minute by jumping field by
 * field, then maps that wall time to an instant with tz_from_wall(). That
 * mapping never decreases, so the first matching wall time whose instant lies
 * after the starting point gives the answer, and wall times that map to an
 * instant already passed (the repeated hour after the clocks went back, or a
 * gap whose firing already happened) are simply skipped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/cron.h"
#include "base/tz.h"
#include "base/util.h"

#define NFIELDS 5

struct cron {
	uint64_t minutes;       /* bits 0-59 */
	uint64_t hours;         /* bits 0-23 */
	uint64_t mdays;         /* bits 1-31 */
	uint64_t months;        /* bits 1-12 */
	uint64_t wdays;         /* bits 0-6, 0 = Sunday */
	bool dom_star, dow_star;/* field began with '*' (Vixie's rule) */
	struct tz *zone;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const wday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/* What a field accepts. */
struct field {
	const char *name;
	int min, max;           /* values accepted */
	int star_max;           /* largest value of '*' and of "N/step" */
	const char *const *names; /* names[i] is value min + i */
	const char *names_hint;
};

static const struct field fields[NFIELDS] = {
	{ "minute", 0, 59, 59, NULL, NULL },
	{ "hour", 0, 23, 23, NULL, NULL },
	{ "day-of-month", 1, 31, 31, NULL, NULL },
	{ "month", 1, 12, 12, month_names, "jan..dec" },
	/* 7 is Sunday too; it folds onto bit 0. */
	{ "day-of-week", 0, 7, 6, wday_names, "sun..sat" },
};

static const struct {
	const char *name;
	const char *expr;
} macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* Report a field error: 'minute field "61": value out of range 0-59'. */
static int field_fail(char **cause, const struct field *f, const char *text, const char *elem,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
field_fail(char **cause, const struct field *f, const char *text, const char *elem,
    const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	/* In a list, name the element at fault too. */
	if (strcmp(text, elem) != 0)
		return util_fail(cause, -EINVAL, "%s field \"%s\": element \"%s\": %s", f->name, text,
		    elem, reason);
	return util_fail(cause, -EINVAL, "%s field \"%s\": %s", f->name, text, reason);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Read a value (number or name) at *sp. Returns 0, 1 when there is none (the
 * caller words the error), or -EINVAL with *cause set.
 */
static int
field_value(const struct field *f, const char *text, const char *elem, const char **sp, int *out,
    char **cause)
{
	const char *s = *sp;
	long v = 0;

	if (is_digit(*s)) {
		/* Nine digits cannot overflow a long; longer is out of range anyway. */
		for (int n = 0; is_digit(*s); n++, s++)
			v = n < 9 ? v * 10 + (*s - '0') : 1000000000L;
		if (v < f->min || v > f->max)
			return field_fail(cause, f, text, elem, "value out of range %d-%d", f->min, f->max);
		*out = (int)v;
		*sp = s;
		return 0;
	}
	if (is_alpha(*s)) {
		const char *start = s;
		size_t n;

		while (is_alpha(*s))
			s++;
		n = (size_t)(s - start);
		if (f->names == NULL)
			return field_fail(cause, f, text, elem, "\"%.*s\" is not a number", (int)n, start);
		for (int i = 0; f->names[i] != NULL; i++)
			if (n == 3 && strncasecmp(start, f->names[i], 3) == 0) {
				*out = f->min + i;
				*sp = s;
				return 0;
			}
		return field_fail(cause, f, text, elem, "unknown name \"%.*s\" (%s)", (int)n, start,
		    f->names_hint);
	}
	return 1;
}

/* Parse one list element ("*", "5", "1-5", "*\/15", "1-30/5", "5/10") into *bits. */
static int
field_element(const struct field *f, const char *text, const char *elem, uint64_t *bits,
    char **cause)
{
	const char *s = elem;
	int lo, hi, step = 1, r;
	bool single = false;

	if (*s == '\0')
		return field_fail(cause, f, text, elem, "empty list element");
	if (*s == '*') {
		s++;
		lo = f->min;
		hi = f->star_max;
	} else {
		if ((r = field_value(f, text, elem, &s, &lo, cause)) < 0)
			return r;
		if (r > 0 && *s == '-')
			return field_fail(cause, f, text, elem, "range start missing");
		if (r > 0)
			return field_fail(cause, f, text, elem, "unexpected \"%s\"", s);
		hi = lo;
		single = true;
		if (*s == '-') {
			s++;
			if ((r = field_value(f, text, elem, &s, &hi, cause)) < 0)
				return r;
			if (r > 0 && *s == '\0')
				return field_fail(cause, f, text, elem, "range end missing");
			if (r > 0)
				return field_fail(cause, f, text, elem, "unexpected \"%s\" in range", s);
			single = false;
			/* "fri-sun", "5-0": Sunday as 7 closes a weekday range. */
			if (f->max == 7 && hi == 0 && lo > 0)
				hi = 7;
			if (lo > hi)
				return field_fail(cause, f, text, elem,
				    "range start %d is greater than its end %d", lo, hi);
		}
	}
	if (*s == '/') {
		int span = f->star_max - f->min + 1;
		long v = 0;

		s++;
		if (*s == '\0')
			return field_fail(cause, f, text, elem, "step missing");
		if (!is_digit(*s))
			return field_fail(cause, f, text, elem, "step \"%s\" is not a number", s);
		for (int n = 0; is_digit(*s); n++, s++)
			v = n < 9 ? v * 10 + (*s - '0') : 1000000000L;
		if (v < 1 || v > span)
			return field_fail(cause, f, text, elem, "step out of range 1-%d", span);
		step = (int)v;
		/* "5/10" means from 5 to the end, every 10. */
		if (single)
			hi = f->star_max;
	}
	if (*s != '\0')
		return field_fail(cause, f, text, elem, "unexpected \"%s\"", s);
	for (int v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << (v == 7 && f->max == 7 ? 0 : v);
	return 0;
}

/* Parse a whole field (a comma-separated list) into *bits. */
static int
field_parse(const struct field *f, const char *text, uint64_t *bits, char **cause)
{
	char *copy, *p, *comma;
	int r = 0;

	if ((copy = strdup(text)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	*bits = 0;
	for (p = copy;; p = comma + 1) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		if ((r = field_element(f, text, p, bits, cause)) < 0 || comma == NULL)
			break;
	}
	free(copy);
	return r;
}

/* Split buf in place at blanks; up to max token pointers in tok; returns the token count. */
static size_t
split_blanks(char *buf, char **tok, size_t max)
{
	size_t n = 0;
	char *p = buf;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		if (n < max)
			tok[n] = p;
		n++;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	return n;
}

/* Load the zone named in an expression; the error says what is wrong with it. */
static int
cron_load_zone(struct tz **out, const char *name, const char *zoneinfo_dir, char **cause)
{
	char *why = NULL;
	int r;

	if ((r = tz_load(out, name, zoneinfo_dir, &why)) == -ENOENT)
		r = util_fail(cause, r, "unknown time zone \"%s\"", name);
	else if (r < 0 && cause != NULL) {
		free(*cause);
		*cause = why;
		why = NULL;
	}
	free(why);
	return r;
}

/*
 * Tokenize, expand a macro, parse the five fields, then load the zone (after
 * the fields, so a typo in a field is reported before a zone problem).
 */
int
cron_parse(struct cron **out, const char *expr, const struct tz *default_tz,
    const char *zoneinfo_dir, char **cause)
{
	char *buf = NULL, *ebuf = NULL, *tok[NFIELDS + 1], *etok[NFIELDS + 1];
	const char *zone_name = NULL;
	char **ftok = tok;
	struct cron *c = NULL;
	size_t n;
	int r;

	if (expr == NULL)
		return util_fail(cause, -EINVAL, "no cron expression");
	if (strlen(expr) > CRON_EXPR_MAX)
		return util_fail(cause, -EINVAL, "cron expression too long (at most %d bytes)",
		    CRON_EXPR_MAX);
	if ((buf = strdup(expr)) == NULL || (c = calloc(1, sizeof *c)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	n = split_blanks(buf, tok, UTIL_NELEM(tok));

	if (n > 0 && tok[0][0] == '@') {
		const char *macro = NULL;

		for (size_t i = 0; i < UTIL_NELEM(macros); i++)
			if (strcasecmp(tok[0], macros[i].name) == 0)
				macro = macros[i].expr;
		if (macro == NULL) {
			r = strcasecmp(tok[0], "@reboot") == 0 ?
			    util_fail(cause, -EINVAL, "@reboot is not supported (salesd runs jobs on a "
			    "schedule or after other jobs)") :
			    util_fail(cause, -EINVAL, "unknown macro \"%s\" (@hourly, @daily, @midnight, "
			    "@weekly, @monthly, @yearly, @annually)", tok[0]);
			goto fail;
		}
		if (n > 2) {
			r = util_fail(cause, -EINVAL, "unexpected \"%s\" after %s (only a time zone may "
			    "follow)", tok[2], tok[0]);
			goto fail;
		}
		zone_name = n == 2 ? tok[1] : NULL;
		if ((ebuf = strdup(macro)) == NULL) {
			r = util_fail(cause, -ENOMEM, "out of memory");
			goto fail;
		}
		split_blanks(ebuf, etok, UTIL_NELEM(etok));
		ftok = etok;
	} else if (n < NFIELDS) {
		r = util_fail(cause, -EINVAL, "expected 5 fields, got %zu", n);
		goto fail;
	} else if (n > NFIELDS + 1) {
		r = util_fail(cause, -EINVAL, "expected 5 fields and an optional time zone, got %zu "
		    "fields", n);
		goto fail;
	} else if (n == NFIELDS + 1) {
		zone_name = tok[NFIELDS];
		/* Zone names begin with a letter; "0 0 * * * 2026" is a sixth field. */
		if (!is_alpha(zone_name[0])) {
			r = util_fail(cause, -EINVAL, "expected 5 fields, got 6 (\"%s\" is not a time zone)",
			    zone_name);
			goto fail;
		}
	}

	{
		uint64_t *bits[NFIELDS] = { &c->minutes, &c->hours, &c->mdays, &c->months, &c->wdays };

		for (size_t i = 0; i < NFIELDS; i++)
			if ((r = field_parse(&fields[i], ftok[i], bits[i], cause)) < 0)
				goto fail;
		c->dom_star = ftok[2][0] == '*';
		c->dow_star = ftok[4][0] == '*';
	}

	if (zone_name != NULL) {
		if ((r = cron_load_zone(&c->zone, zone_name, zoneinfo_dir, cause)) < 0)
			goto fail;
	} else if (default_tz == NULL) {
		r = util_fail(cause, -EINVAL, "no time zone in \"%s\" and no default zone", expr);
		goto fail;
	} else if ((c->zone = tz_dup(default_tz)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	free(ebuf);
	free(buf);
	*out = c;
	return 0;
fail:
	cron_free(c);
	free(ebuf);
	free(buf);
	return r;
}

/* The schedule owns its zone copy. */
void
cron_free(struct cron *c)
{
	if (c == NULL)
		return;
	tz_free(c->zone);
	free(c);
}

/* The zone the schedule is evaluated in. */
const struct tz *
cron_zone(const struct cron *c)
{
	return c->zone;
}

/* The lowest set bit of mask at or above from, or -1. */
static int
next_bit(uint64_t mask, int from)
{
	if (from > 63)
		return -1;
	mask &= ~UINT64_C(0) << from;
	return mask == 0 ? -1 : __builtin_ctzll(mask);
}

static int
month_days(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Does the day match, by Vixie's rule for day-of-month and day-of-week? */
static bool
day_matches(const struct cron *c, int y, int m, int d)
{
	int64_t days = tz_wall_from_civil(y, m, d, 0, 0, 0) / 86400;
	int wd = (int)((days % 7 + 11) % 7);      /* 1970-01-01 was a Thursday */
	bool dom = (c->mdays >> d) & 1, dow = (c->wdays >> wd) & 1;

	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/* A wall-clock minute being searched. */
struct wall {
	int y, mon, d, h, min;
};

/*
 * Move *w to the first matching wall minute at or after it (w->min may be
 * 60 and w->h 24: they carry). Returns -ERANGE past year max_year.
 */
static int
next_match(const struct cron *c, struct wall *w, int max_year)
{
	int v;

	for (;;) {
		if (w->min > 59) {
			w->min = 0;
			w->h++;
		}
		if (w->h > 23) {
			w->h = 0;
			w->d++;
		}
		if (w->d > month_days(w->y, w->mon)) {
			w->d = 1;
			w->mon++;
		}
		if (w->mon > 12) {
			w->mon = 1;
			w->y++;
		}
		if (w->y > max_year)
			return -ERANGE;
		if ((v = next_bit(c->months, w->mon)) < 0) {
			*w = (struct wall){ w->y + 1, 1, 1, 0, 0 };
			continue;
		}
		if (v != w->mon) {
			*w = (struct wall){ w->y, v, 1, 0, 0 };
			continue;
		}
		if (!day_matches(c, w->y, w->mon, w->d)) {
			w->d++;
			w->h = w->min = 0;
			continue;
		}
		if ((v = next_bit(c->hours, w->h)) < 0) {
			w->d++;
			w->h = w->min = 0;
			continue;
		}
		if (v != w->h) {
			w->h = v;
			w->min = 0;
		}
		if ((v = next_bit(c->minutes, w->min)) < 0) {
			w->h++;
			w->min = 0;
			continue;
		}
		w->min = v;
		return 0;
	}
}

/* The next fire instant after `after`: search wall time, map back, skip the passed. */
int
cron_next(const struct cron *c, int64_t after, int64_t *next)
{
	struct tz_local lt;
	struct wall w;
	int64_t t;
	int max_year;

	if (tz_to_local(c->zone, after, &lt) < 0)
		return -ERANGE;
	/* Start at the wall minute after the one `after` falls in. */
	w = (struct wall){ lt.year, lt.mon, lt.mday, lt.hour, lt.min + 1 };
	max_year = lt.year + CRON_SEARCH_YEARS;
	if (max_year > 9999)
		max_year = 9999;
	for (;;) {
		if (next_match(c, &w, max_year) < 0)
			return -ERANGE;
		if (tz_from_wall(c->zone, tz_wall_from_civil(w.y, w.mon, w.d, w.h, w.min, 0), &t) < 0)
			return -ERANGE;
		/*
		 * Wall times the clock has already passed map to an instant at
		 * or before `after` (e.g. in the hour repeated after the clocks
		 * went back, whose minutes fired on their first pass): skip
		 * them. At most a day or so of minutes, and only then.
		 */
		if (t > after) {
			*next = t;
			return 0;
		}
		w.min++;
	}
}

/* "YYYY-MM-DD HH:MM:SS +HHMM ABBR" in zone z. */
int
cron_format_instant(const struct tz *z, int64_t utc, char *buf, size_t len)
{
	struct tz_local lt;
	int off, n, r;
	char sec[4] = "";

	if ((r = tz_to_local(z, utc, &lt)) < 0)
		return r;
	off = lt.utcoff < 0 ? -lt.utcoff : lt.utcoff;
	/* Offsets with seconds exist only in old local mean times: +HHMMSS then. */
	if (off % 60 != 0)
		snprintf(sec, sizeof sec, "%02d", off % 60);
	n = snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %c%02d%02d%s %s", lt.year, lt.mon,
	    lt.mday, lt.hour, lt.min, lt.sec, lt.utcoff < 0 ? '-' : '+', off / 3600, off / 60 % 60,
	    sec, lt.abbr);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}
