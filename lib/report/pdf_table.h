/*
 * pdf_table: the tables of the PDF report (pdf.c), drawn at the cursor of a
 * struct pdf (pdf_page.h) and breaking across pages with their heading and
 * header row repeated.
 */
#ifndef SALESD_PDF_TABLE_H
#define SALESD_PDF_TABLE_H

#include "report/pdf_page.h"

/*
 * Table t of the report in the model's order, its columns chosen by the
 * report's kind and t's dimension. The stores table ends with the total.
 * t's Dropped list (weekly and monthly), if any, is drawn under it.
 */
void pdf_table_draw(struct pdf *p, const struct report_table *t);

#endif
