/*
 * render: one report task: build the model of a report (report.c) for a
 * period and scope, and write its PDF (pdf.c) and workbook (xlsx.c) to
 * {state_dir}/reports/{daily|weekly|monthly}/{period}/{scope}.pdf and .xlsx
 * (INTERFACES.md), and then their manifest (report/manifest.h), scope.json,
 * which is what delivery reads. Each file is written aside and renamed into
 * place, so a reader sees the old file or the new one, never half of one;
 * the manifest is removed before the files are replaced and written after,
 * so it always describes the files beside it.
 *
 * Blocking: for task children ("salesd task ..."), never the daemon loop.
 */
#ifndef SALESD_RENDER_H
#define SALESD_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/config.h"
#include "base/period.h"
#include "report/report.h"
#include "report/slug.h"

/* Where a report's files live. */
struct render_files {
	char dir[4096];         /* {state_dir}/reports/KIND/PERIOD */
	char scope[SLUG_LEN];   /* "company" or the store's slug */
	char pdf[4200];         /* dir/scope.pdf */
	char xlsx[4200];        /* dir/scope.xlsx */
	char manifest[4200];    /* dir/scope.json (report/manifest.h) */
};

struct render_result {
	struct render_files files;
	bool empty;             /* nothing sold in the period */
	int64_t sales;          /* the scope's sales, minor units */
	int32_t held_day;       /* -EINPROGRESS: the incomplete day it waits for */
};

/*
 * The files of the report of kind and period (its name, "2026-W47") for
 * store (NULL: the company's). A store's slug is assigned on first use
 * (slug_assign), so the report job and the jobs that send its files agree.
 * 0, or a negative errno with *cause.
 */
int render_files(PGconn *c, const struct config *cfg, enum report_kind kind, const char *period,
    const char *store, struct render_files *out, char **cause);

/*
 * Render the report of period p (its kind gives daily, weekly or monthly)
 * for store (NULL: company-wide). 0, or a negative errno with *cause:
 * -EAGAIN (a day not loaded yet, the database unreachable), -EINPROGRESS
 * (held: a day is incomplete and not released, res->held_day), -EBADMSG
 * (withheld: a day is quarantined); held or withheld, the manifest of an
 * earlier rendering is removed; -EINVAL (a daily report for a store), -EIO.
 */
int render_report(const struct config *cfg, const struct period *p, const char *store,
    struct render_result *res, char **cause);

#endif
