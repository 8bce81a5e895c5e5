/*
 * xlsx: render a report model (report.h) as an Excel workbook with
 * libxlsxwriter, in constant-memory mode.
 *
 * Sheets: Summary (title, company, store, period, baseline; the headline
 * figures against their baseline average with growth; daily, the 30-day
 * trend; a bar chart of the top stores, or in a store's report the top
 * brands), then one sheet per table present in the model, in the order of
 * enum report_dim, titled by report_dim_title(). Figures are numbers with
 * number formats (money in major units with r->currency and r->grouping;
 * growth, shares and margins as fractions shown as percentages); names are
 * always string cells, never formulas. An empty report (report_is_empty)
 * says "No sales in <period>" on the Summary and keeps each table sheet with
 * its header row only.
 */
#ifndef SALESD_XLSX_H
#define SALESD_XLSX_H

#include "report/report.h"

/*
 * Write the workbook to path (the caller writes to a temporary name and
 * renames); tmpdir holds libxlsxwriter's scratch files, one per sheet (NULL:
 * the default; a tmpdir that cannot take files is an error, where
 * libxlsxwriter would quietly use /tmp or the current directory). 0, or a
 * negative errno with *cause naming path; on failure nothing is left at path.
 */
int xlsx_render(const struct report *r, const char *path, const char *tmpdir, char **cause);

#endif
