/*
 * tz: IANA time zones read straight from TZif files (RFC 8536, versions 1 to
 * 4), without touching the process's TZ environment or glibc's global time
 * zone state, so any number of zones can live side by side in one process.
 *
 * A loaded zone is immutable and may be shared between threads. Instants are
 * POSIX seconds since 1970-01-01 00:00:00 UTC. "Wall" seconds count local
 * time the same way, as if the local clock were UTC: a wall value is what
 * utc + utcoff gives, and tz_from_wall() goes back.
 *
 * Supported instants: years 1 to 9999; outside that range the conversions
 * return -ERANGE. Leap-second ("right/") zones are refused.
 */
#ifndef SALESD_TZ_H
#define SALESD_TZ_H

#include <stddef.h>
#include <stdint.h>

/* The zoneinfo directory used when the caller passes NULL. */
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
/* Longest zone name accepted (without the NUL). */
#define TZ_NAME_MAX 128

struct tz;

/* Broken-down local time of an instant. */
struct tz_local {
	int year;
	int mon;        /* 1-12 */
	int mday;       /* 1-31 */
	int hour, min, sec;
	int wday;       /* 0 = Sunday ... 6 = Saturday */
	int yday;       /* 0-365, as struct tm's tm_yday */
	int utcoff;     /* seconds east of UTC */
	int isdst;      /* 1 in daylight saving time, else 0 */
	char abbr[16];  /* abbreviation from the zone data: "CET", "IST", "+1030" */
};

/*
 * Load zone name (e.g. "Europe/Berlin") from zoneinfo_dir (NULL: the
 * default). The name is validated first: letters, digits, '_', '+', '-' and
 * '/' only, no leading '/', no empty, "." or ".." component. Returns 0 and a
 * new zone in *out (free with tz_free), or -ENOENT (unknown zone), -EINVAL
 * (bad name), -EBADMSG (not a valid TZif file), -EFBIG, -ENOMEM or another
 * -errno, with a message in *cause (caller frees). *out is untouched on failure.
 */
int tz_load(struct tz **out, const char *name, const char *zoneinfo_dir, char **cause);

/*
 * Parse a TZif image of len bytes (the file's contents) under the given name
 * (used for tz_name() and messages; not validated). Same results as tz_load.
 */
int tz_parse(struct tz **out, const char *name, const void *buf, size_t len, char **cause);

/* A copy of z (free with tz_free), or NULL when out of memory. */
struct tz *tz_dup(const struct tz *z);

/* Free a zone; NULL is fine. */
void tz_free(struct tz *z);

/* The zone's name as given to tz_load/tz_parse; owned by the zone. */
const char *tz_name(const struct tz *z);

/* Local time of the instant utc in zone z. Returns 0 or -ERANGE. */
int tz_to_local(const struct tz *z, int64_t utc, struct tz_local *out);

/*
 * The instant a local wall time denotes (wall: local seconds since
 * 1970-01-01 00:00:00 local). A wall time that occurs twice (the clocks went
 * back) gives its first occurrence; one that does not exist (the clocks
 * jumped forward over it) gives the first instant after the gap, i.e. the
 * moment of the jump. Formally: the earliest instant whose wall time is
 * at or after wall, which never decreases as wall grows. Returns 0 or -ERANGE.
 */
int tz_from_wall(const struct tz *z, int64_t wall, int64_t *utc);

/*
 * Same as tz_from_wall for a civil date and time (mon 1-12, mday 1-31,
 * hour 0-23, min 0-59, sec 0-59); -EINVAL for fields out of those ranges or
 * a day the month does not have, -ERANGE for years outside 1-9999.
 */
int tz_from_civil(const struct tz *z, int year, int mon, int mday, int hour, int min, int sec,
    int64_t *utc);

/* Wall seconds of a civil date and time, fields in their usual ranges (not checked). */
int64_t tz_wall_from_civil(int year, int mon, int mday, int hour, int min, int sec);

#endif
