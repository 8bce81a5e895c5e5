/*
 * pdf_chart: the charts of the PDF report (pdf.c), drawn as vector paths
 * at the cursor of a struct pdf (pdf_page.h), which they move below
 * themselves; nothing when the report has nothing to chart.
 */
#ifndef SALESD_PDF_CHART_H
#define SALESD_PDF_CHART_H

#include "report/pdf_page.h"

/* Daily: the company's sales of the last 30 days as a line, the baseline days shaded. */
void pdf_chart_trend(struct pdf *p);
/* Daily: the top stores by sales; weekly and monthly: top brands and sub-categories side by side. */
void pdf_chart_bars(struct pdf *p);

#endif
