/*
 * load: one business day's POS lines into PostgreSQL, all or nothing.
 *
 * The day changes in one transaction: a new table is created aside
 * (sales_line_YYYYMMDD_new), each order type's lines are streamed into it with
 * COPY inside a savepoint (so a download that fails half-way is rolled back
 * and tried again without a trace), and load_commit() then records the
 * rejected rows, recomputes the day's four KPI tables from the new lines,
 * swaps the new table in as the day's partition of sales_line, records the
 * outcome in etl_day and commits. A crash at any point leaves the previous
 * state of the day as it was. A quarantined day (too many rejects) keeps its
 * rejects and its etl_day row, and no lines or KPIs at all.
 *
 * Errors: -EAGAIN when the connection to PostgreSQL is lost (also in the
 * middle of a COPY: the day may load once the server is back), -EIO when
 * the server refused a statement, -ENOMEM.
 *
 * Blocking libpq calls: for task children, not for the daemon's loop.
 */
#ifndef SALESD_LOAD_H
#define SALESD_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "etl/salesrow.h"

/*
 * Rejected rows are kept in memory until commit; this much at most. Past it
 * rejects are still counted, not kept (load_rejects_dropped), and the ETL
 * quarantines the day: a whole-day limit, not a per-record one.
 */
#define LOAD_REJECTS_MAX (64u << 20)
/*
 * Of a rejected record's raw text, this many bytes are stored. The stored
 * text (etl_reject.raw) is always valid UTF-8: a byte that is not part of a
 * valid character, and NUL, is written as \xHH, and a backslash as \\, so
 * the bytes received can be read back from it.
 */
#define LOAD_REJECT_RAW_MAX 2000

struct load;

/* A store's count of lines in the day (load_store_lines). */
struct load_count {
	char *store;
	int64_t lines;
};

/*
 * How load_commit records the day: state "loaded" or "incomplete" (the
 * completeness gate's verdict), why (NULL: nothing to say), and a hook run
 * on the connection inside the transaction that makes the day final, for
 * what must change with it (the gate's reasons); hook may be NULL.
 */
struct load_outcome {
	const char *state;
	const char *error;
	const char *digest;             /* of the day's content (etl/digest.h); a new one is a new version */
	int (*hook)(void *arg, PGconn *c, char **cause);
	void *arg;
};

struct load_options {
	char *const *exclude_stores;    /* left out of the KPIs; may be NULL */
	size_t nexclude;
};

/*
 * Start the day's transaction on c. c2, when not NULL, is a second
 * connection for computing KPIs two at a time (see load_commit). The caller
 * keeps and frees both.
 */
int load_begin(struct load **out, PGconn *c, PGconn *c2, int32_t day, const struct load_options *o,
    char **cause);
/* Start streaming one order type's lines (a savepoint and a COPY). */
int load_copy_begin(struct load *l, const char *order_type, char **cause);
/* One validated line; line_no is the record's line in its CSV body. */
int load_line(struct load *l, uint64_t line_no, const struct salesrow_line *line, char **cause);
/* One rejected record, kept for load_commit / load_quarantine; any bytes in field, reason and raw. */
int load_reject(struct load *l, uint64_t line_no, const char *field, const char *reason,
    const char *raw, size_t rawlen, char **cause);
/* The order type's lines are complete: end the COPY, keep them. *rows gets how many. */
int load_copy_end(struct load *l, uint64_t *rows, char **cause);
/* The order type failed half-way: drop its lines and rejects, to try again or give up. */
int load_copy_abort(struct load *l, const char *why, char **cause);
/* Lines and rejects of the day so far (kept copies only). */
uint64_t load_nlines(const struct load *l);
uint64_t load_nrejects(const struct load *l);
/* Rejects counted but not kept, past LOAD_REJECTS_MAX. */
uint64_t load_rejects_dropped(const struct load *l);
/*
 * The day's lines per store (excluded stores left out), once every order
 * type has ended: a vector owned by l, sorted by store, valid until
 * load_free. Errors as run: -EAGAIN, -EIO, -ENOMEM.
 */
int load_store_lines(struct load *l, const struct load_count **v, size_t *n, char **cause);
/*
 * Make the day final: rejects, KPIs, the lines per store (etl_store_day),
 * the partition swap, etl_day (state and error as o says, order_types as
 * given; a release of the day recorded before stays), o's hook, commit. With a second connection, the new
 * lines are committed first as a table nothing reads, the four KPI queries
 * run two at a time on both connections, and one last transaction replaces
 * the KPI rows, swaps the partition and records the day; a crash in between
 * leaves the day as it was and a leftover table that load_begin drops.
 */
int load_commit(struct load *l, const char *order_types, const struct load_outcome *o, char **cause);
/*
 * Refuse the day: roll back its lines, then record its rejects and etl_day
 * (state quarantined, with error) in a transaction of their own. The day's
 * previous lines, KPIs, lines per store and gaps are removed too, so that no
 * report uses them.
 */
int load_quarantine(struct load *l, const char *order_types, const char *error, char **cause);
/* Roll back whatever is open and free. */
void load_free(struct load *l);

#endif
