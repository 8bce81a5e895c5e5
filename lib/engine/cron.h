/*
 * cron: cron expressions evaluated in an IANA time zone.
 *
 * Syntax: five fields "minute hour day-of-month month day-of-week" with
 * lists (1,15), ranges (1-5), steps (*\/15, 1-30/5, 5/10 = 5-max/10),
 * month names jan..dec and weekday names sun..sat (case-insensitive; 0 and 7
 * are both Sunday, and a weekday range ending in Sunday may be written
 * fri-sun or 5-0), or one of @hourly @daily @midnight @weekly @monthly
 * @yearly @annually. An optional time zone may follow: "25 0 * * * Asia/Kolkata",
 * "@daily Europe/Berlin"; otherwise the caller's default zone applies.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week are
 * restricted, a day matches if either does; a field counts as unrestricted
 * when it begins with '*' (so "*\/2" in day-of-month with a weekday still
 * requires both, as in Vixie cron).
 *
 * Daylight saving time: a wall time that does not exist (the clocks jump over
 * it) fires once, at the first instant after the gap; a wall time that occurs
 * twice fires once, at its first occurrence. Several wall times in one gap
 * fire once together. See tz_from_wall().
 */
#ifndef SALESD_CRON_H
#define SALESD_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "base/tz.h"

/* Longest expression accepted, in bytes. */
#define CRON_EXPR_MAX 1024
/* cron_next gives up (-ERANGE) after this many years without a match. */
#define CRON_SEARCH_YEARS 9
/* Room for cron_format_instant's output with its NUL. */
#define CRON_INSTANT_LEN 48

struct cron;

/*
 * Parse expr. default_tz is used when the expression names no zone (it is
 * copied, so it need not outlive the result; it may be NULL if every
 * expression names its zone); a named zone is loaded from zoneinfo_dir (NULL:
 * the default). Returns 0 and a new schedule in *out (free with cron_free),
 * or -EINVAL / -ENOENT / -ENOMEM with a message in *cause (caller frees),
 * e.g. 'minute field "61": value out of range 0-59'. *out is untouched on
 * failure.
 */
int cron_parse(struct cron **out, const char *expr, const struct tz *default_tz,
    const char *zoneinfo_dir, char **cause);

/* Free a schedule; NULL is fine. */
void cron_free(struct cron *c);

/* The schedule's time zone (owned by the schedule). */
const struct tz *cron_zone(const struct cron *c);

/*
 * The next fire instant strictly after `after` (UTC seconds) into *next.
 * Returns 0, or -ERANGE when there is none within CRON_SEARCH_YEARS years
 * (e.g. "0 0 30 2 *") or beyond year 9999.
 */
int cron_next(const struct cron *c, int64_t after, int64_t *next);

/*
 * Format an instant as "YYYY-MM-DD HH:MM:SS +HHMM ABBR" in zone z (the
 * `salesd calendar` line), e.g. "2026-03-29 03:00:00 +0200 CEST". The
 * abbreviation is the zone data's, which is numeric for many zones
 * ("+1030"). Returns 0, -ERANGE, or -ENOSPC when len is too small
 * (CRON_INSTANT_LEN always suffices).
 */
int cron_format_instant(const struct tz *z, int64_t utc, char *buf, size_t len);

#endif
