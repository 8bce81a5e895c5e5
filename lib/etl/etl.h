/*
 * etl: one business day from the POS API into PostgreSQL. For each order
 * type: download (extract), parse (csv), validate (salesrow), stream into the
 * day's new table (load); then either commit the day with its KPIs, or, when
 * the share of rejected rows is above [source] reject_threshold, quarantine it.
 *
 * Blocking: for task children ("salesd task etl ..."), never the daemon loop.
 */
#ifndef SALESD_ETL_H
#define SALESD_ETL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/config.h"
#include "base/tz.h"
#include "etl/digest.h"

struct etl_result {
	uint64_t lines;                 /* loaded */
	uint64_t rejected;
	bool quarantined;
	bool incomplete;                /* loaded, but the completeness gate holds it (gate.h) */
	char released[16];              /* "", "accepted" or "warning": the day's release, if any */
	char gaps[1024];                /* incomplete: what is missing, in words */
	char digest[DIGEST_STRLEN];     /* of the day's content (etl/digest.h) */
	bool restated;                  /* its content changed after its reports could go out */
	int version;                    /* restated: the day's new version */
	char date_format[16];           /* the format orderDate was read in */
};

/* Progress for the log (a task child turns it into JSON lines). */
typedef void (*etl_progress_fn)(void *arg, const char *message);

/*
 * Load day (days since 1970-01-01) as cfg says. Returns 0 (loaded), or one
 * of these, which the task maps to its exit status:
 * -EAGAIN   may heal by waiting: the POS API unreachable or answering 5xx
 *           through every retry, a body cut off, PostgreSQL unreachable or
 *           its connection lost (also in the middle of a COPY);
 * -EINVAL   configuration: [source] settings, the aliases file, the hash key;
 * -EBADMSG  source data that waiting cannot fix: invalid base64, a header
 *           with a duplicate or missing required column or that does not
 *           parse, a quoted field open at the end of the body (the file
 *           cannot be framed), ambiguous dates, or the day quarantined
 *           (res->quarantined tells);
 * -EACCES   the login is refused;
 * other negative errors (-EPROTO: an answer of the API that makes no sense).
 * A record that is merely bad (invalid UTF-8, NUL, too many fields, too
 * long) is a reject, never an error. *cause says what happened and what to do.
 * A day the completeness gate finds short is loaded all the same, as
 * incomplete (res->incomplete, res->gaps): etl_settle says what follows.
 */
int etl_run_day(const struct config *cfg, int32_t day, etl_progress_fn progress, void *arg,
    struct etl_result *res, char **cause);

/*
 * Recheck a day loaded before (docs/completeness.md, restatements): download
 * it again and compare its digest with the one loaded; unchanged, nothing
 * is written (res->restated false); changed, it is loaded again like
 * etl_run_day, and res->restated says whether its reports could have gone
 * out before (a correction may follow). A day never loaded, quarantined, or
 * loaded before digests existed is left alone (0, res->digest empty).
 * Errors as etl_run_day.
 */
int etl_recheck_day(const struct config *cfg, int32_t day, etl_progress_fn progress, void *arg,
    struct etl_result *res, char **cause);

/*
 * What follows for an incomplete day (res of its etl_run_day) at now
 * (seconds since the epoch), by [source] settle_until (a time of the next
 * day in zone) and [source] incomplete:
 * 0             it may be delivered: released before (by an operator, or with
 *               a warning), or released now with a warning, the deadline
 *               having passed under deliver-with-warning (res->released);
 * -EINPROGRESS  held: the POS may still be syncing; try again, at the latest
 *               at *deadline (seconds);
 * -EBADMSG      withheld: the deadline passed under withhold;
 * or a database error (-EAGAIN, -EIO). *cause says which and what to do.
 */
int etl_settle(const struct config *cfg, const struct tz *zone, int32_t day, int64_t now,
    struct etl_result *res, int64_t *deadline, char **cause);

/* The settle deadline of day: [source] settle_until of the next day in zone, as seconds since the epoch. */
int etl_deadline(const struct config *cfg, const struct tz *zone, int32_t day, int64_t *out, char **cause);

/*
 * Release an incomplete day by hand, as who: its reports go out as they
 * are (etl_day.released 'accepted', with who and when). 0, or -ENOENT when
 * the day has not been loaded, -EALREADY when it is not incomplete (then
 * nothing changes), or a database error.
 */
int etl_accept(const struct config *cfg, int32_t day, const char *who, char **cause);

/*
 * The stores that sold anything in the days first..last (days since
 * 1970-01-01, inclusive), by name, from the KPI tables the loads wrote
 * (excluded stores are not there): a NULL-terminated vector in *stores
 * (caller frees with util_strv_free) and its length in *n. Errors as
 * db_check says (-EAGAIN: the connection lost; -EIO: refused), or -ENOMEM.
 * Blocking; its signature is the engine's engine_stores_fn.
 */
int etl_stores_that_sold(PGconn *c, int32_t first, int32_t last, char ***stores, size_t *n, char **cause);

/* An incomplete day as salesd status lists it; strings belong to the list. */
struct etl_incomplete {
	char *day;              /* YYYY-MM-DD */
	char *released;         /* "": held or withheld; "accepted"; "warning" */
	char *released_by;      /* NULL unless released */
	char *gaps;             /* what is missing, in words */
};

struct etl_incomplete_list {
	struct etl_incomplete *v;
	size_t n;
};

/* The latest incomplete days (released or not), the latest first, at most limit. */
int etl_list_incomplete(PGconn *c, unsigned limit, struct etl_incomplete_list *out, char **cause);
void etl_incomplete_list_done(struct etl_incomplete_list *l);

/* A restated day as salesd status lists it (etl_restatement); strings belong to the list. */
struct etl_restated {
	char *day;
	int version;
	int64_t at_usec;        /* when the new version was loaded */
	char *changes;          /* "Koramangala: sales 1234.50 -> 1300.00, lines 120 -> 125; ..." */
};

struct etl_restated_list {
	struct etl_restated *v;
	size_t n;
};

/* The latest restatements, the latest first, at most limit. */
int etl_list_restated(PGconn *c, unsigned limit, struct etl_restated_list *out, char **cause);
void etl_restated_list_done(struct etl_restated_list *l);

#endif
