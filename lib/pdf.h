/*
 * pdf: render a report model (report.h) as an A4 PDF with cairo and pango.
 */
#ifndef SALESD_PDF_H
#define SALESD_PDF_H

#include "report.h"

/*
 * Write the report to path (created or truncated; the caller writes to a
 * temporary name and renames). 0, or a negative errno with *cause.
 */
int pdf_render(const struct report *r, const char *path, char **cause);

#endif
