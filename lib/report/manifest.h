/*
 * manifest: what a rendered report is, written beside its files as
 * {state_dir}/reports/KIND/PERIOD/SCOPE.json once the PDF and the workbook
 * are in place: the report, period and scope, the store and the company,
 * each file's name, size and SHA-256, the headline figures that e-mail
 * bodies and WhatsApp captions quote (by placeholder name: sales, growth,
 * profit, ...), and the sales of each store the report shows, which a
 * later delivery compares with what it sent to decide on a correction.
 *
 * It is the contract between rendering and delivery. Delivery reads the
 * manifest and the files it names, never the KPI tables, so the figures in a
 * message are the figures of the attached PDF, whatever changed in the
 * database since, and a file that is not the one rendered (a size or digest
 * that differs) is refused rather than sent.
 *
 * Blocking (files, libpq): task children only.
 */
#ifndef SALESD_MANIFEST_H
#define SALESD_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/config.h"
#include "base/period.h"

#define MANIFEST_VERSION 1

struct manifest_file {
	char *name;             /* the file's name in the report's directory */
	uint64_t size;
	char sha256[65];        /* lower-case hex */
};

/*
 * The sales of each store a report shows, in minor units, as the JSON object
 * "stores": {"NAME": 12345, ...}: a company report's stores table, a store
 * report's total. Delivery records them with each delivery (the ledger's
 * figures) and compares them with a later rendering of the same report.
 */
struct manifest_stores {
	char **names;
	int64_t *sales;
	size_t n;
	bool present;           /* false: a manifest of an older salesd, which did not write them */
};

struct manifest {
	char *report;           /* "daily", "weekly", "monthly" */
	char *period;           /* "2026-11-22", "2026-W47", "2026-11" */
	char *scope;            /* "company" or the store's slug */
	char *store;            /* NULL for the company-wide report */
	char *company;
	bool empty;             /* nothing sold in the period */
	char *rendered_at;      /* ISO 8601, UTC */
	struct manifest_file pdf, xlsx;
	char **names, **values; /* the headline figures, nfigures of each */
	size_t nfigures;
	struct manifest_stores stores;
	char *dir;              /* read: the directory it was read from */
};

/* The value of figure name, or NULL when the manifest has none. */
const char *manifest_figure(const struct manifest *m, const char *name);

/* Add (or replace) a figure; 0 or -ENOMEM. */
int manifest_set_figure(struct manifest *m, const char *name, const char *value);

/* Add a store's sales (it becomes present); 0 or -ENOMEM. */
int manifest_stores_add(struct manifest_stores *s, const char *name, int64_t sales);

/* Whether name is one of the stores, with its sales in *sales. */
bool manifest_stores_find(const struct manifest_stores *s, const char *name, int64_t *sales);

/*
 * The stores as compact JSON text, {"NAME": 12345, ...} with the names in
 * byte order (what the delivery ledger records), into *out (caller frees);
 * *out is NULL when they are not present. 0 or -ENOMEM.
 */
int manifest_stores_json(const struct manifest_stores *s, char **out);

/* Parse such text (what the ledger recorded) into *out (present); -EBADMSG with *cause when it is not. */
int manifest_stores_parse(const char *text, struct manifest_stores *out, char **cause);

/* Free what s holds and empty it; NULL is fine. */
void manifest_stores_done(struct manifest_stores *s);

/*
 * Money as the PDF shows it: minor units with [report] currency and
 * digit_grouping ("₹5,24,688.52"), into buf; returns buf. Delivery formats
 * through here, never with a format of its own.
 */
char *manifest_money(const struct config *cfg, int64_t minor, char *buf, size_t len);

/* Size and SHA-256 of the file at path into f (f->name is the caller's). 0 or -errno with *cause. */
int manifest_digest(const char *path, struct manifest_file *f, char **cause);

/* Write m as JSON to path, atomically. 0 or -errno with *cause. */
int manifest_write(const char *path, const struct manifest *m, char **cause);

/*
 * Read the manifest at path (caller frees with manifest_free). -ENOENT when
 * there is none; -EBADMSG when it is not a manifest of this version (the
 * message names the file and the field).
 */
int manifest_read(const char *path, struct manifest **out, char **cause);

/* Whether the files the manifest names are the ones rendered: -EBADMSG naming the file otherwise. */
int manifest_check(const struct manifest *m, char **cause);

/* The path of a file the manifest names (caller frees), or NULL when out of memory. */
char *manifest_path_of(const struct manifest *m, const struct manifest_file *f);

/*
 * The rendered report of period p (its kind: daily, weekly, monthly) for
 * store (NULL: the company's), read and checked: -EAGAIN when it has not been
 * rendered yet (the report job comes first), -EBADMSG when its files are not
 * the ones rendered. The store's slug is looked up, never assigned.
 */
int manifest_open(PGconn *c, const struct config *cfg, const struct period *p, const char *store,
    struct manifest **out, char **cause);

/* NULL-safe. */
void manifest_free(struct manifest *m);

#endif
