/*
 * pdf: render a report model (report.h) as an A4 PDF with cairo and pango.
 */
#ifndef SALESD_PDF_H
#define SALESD_PDF_H

#include "report.h"

/*
 * Write the report to path (created or truncated; the caller writes to a
 * temporary name and renames). 0, or a negative errno with *cause naming
 * the path; on failure the file may be left half written, for the caller to
 * remove. r is only read. Fonts come from fontconfig ("DejaVu Sans", then
 * the Noto families for other scripts) and are embedded as subsets. Pango's
 * font cache is per thread and kept between calls, so the first report of
 * a process pays for loading the fonts.
 */
int pdf_render(const struct report *r, const char *path, char **cause);

#endif
