/*
 * report_sample: synthetic report models for the renderer suites (check_pdf,
 * check_xlsx): every table of a kind filled with deterministic figures and
 * the awkward cases (no baseline, nothing today, non-ASCII, very long and
 * formula-like names), without a database.
 */
#ifndef SALESD_REPORT_SAMPLE_H
#define SALESD_REPORT_SAMPLE_H

#include <stdbool.h>

#include "report/report.h"

/*
 * A model of kind; store NULL for company-wide. rows: lines per table before
 * the top-N cuts (the cuts are applied as report_build does). empty: nothing
 * sold in the period. Weekly and monthly: Dropped lists of 2 stores, 12
 * brands (10 named) and 3 products; none for the sub-categories. The caller
 * frees with report_free.
 */
struct report *report_sample(enum report_kind kind, const char *store, size_t rows, bool empty);

#endif
