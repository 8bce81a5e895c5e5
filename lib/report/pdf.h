/*
 * pdf: render a report model (report.h) as an A4 PDF with cairo and pango.
 */
#ifndef SALESD_PDF_H
#define SALESD_PDF_H

#include "report/report.h"

/*
 * Write the report to path (created or truncated; the caller writes to a
 * temporary name and renames). 0, or a negative errno with *cause naming
 * the path; on failure the file may be left half written, for the caller to
 * remove. r is only read. The fonts are DejaVu Sans and Noto Sans
 * Devanagari, Tamil and Arabic, read from their files by each call through
 * a fontconfig configuration of its own (the system's only when one of the
 * files is missing) and embedded as subsets; a script they do not cover is
 * drawn as boxes.
 */
int pdf_render(const struct report *r, const char *path, char **cause);

#endif
