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

struct etl_result {
	uint64_t lines;                 /* loaded */
	uint64_t rejected;
	bool quarantined;
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
 */
int etl_run_day(const struct config *cfg, int32_t day, etl_progress_fn progress, void *arg,
    struct etl_result *res, char **cause);

/*
 * The stores that sold anything in the days first..last (days since
 * 1970-01-01, inclusive), by name, from the KPI tables the loads wrote
 * (excluded stores are not there): a NULL-terminated vector in *stores
 * (caller frees with util_strv_free) and its length in *n. Errors as
 * db_check says (-EAGAIN: the connection lost; -EIO: refused), or -ENOMEM.
 * Blocking; its signature is the engine's engine_stores_fn.
 */
int etl_stores_that_sold(PGconn *c, int32_t first, int32_t last, char ***stores, size_t *n, char **cause);

#endif
