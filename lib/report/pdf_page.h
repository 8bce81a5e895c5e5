/*
 * pdf_page: the layout context the pieces of the PDF renderer share (pdf.c
 * the document, pdf_chart.c, pdf_table.c), and what every one of them draws
 * with: the page's geometry and colours, text (pdf_text) only in the
 * drawing pass, fills and rules, the cursor with its page breaks, the header
 * and footer of each page, section headings, and dates, money and changes
 * as the PDF writes them.
 *
 * The document is laid out twice by the same code (pdf.c): the counting
 * pass (draw false) only moves the cursor; every function here draws
 * nothing in it.
 */
#ifndef SALESD_PDF_PAGE_H
#define SALESD_PDF_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "report/pdf_text.h"
#include "report/report.h"

/* A4 portrait in PostScript points, the unit of the PDF surface. */
#define PDF_PAGE_W      595.28
#define PDF_PAGE_H      841.89
#define PDF_MARGIN      42.0
#define PDF_CONTENT_W   (PDF_PAGE_W - 2 * PDF_MARGIN)
#define PDF_TOP         64.0                    /* content starts below the page header */
#define PDF_BOTTOM      (PDF_PAGE_H - 54.0)     /* and ends above the footer */

#define PDF_HEADING_H   26.0            /* a section heading */
#define PDF_GAP         18.0            /* between sections */

#define PDF_EM_DASH     "\xe2\x80\x94"  /* a figure that cannot be (no orders, no AOV) */

/* Colours as 0xRRGGBB: quiet ink and rules; green and red dark enough to read. */
enum {
	PDF_INK = 0x1d2733,
	PDF_MUTED = 0x5f6b7a,
	PDF_RULE = 0xd3d9e0,
	PDF_ZEBRA = 0xf3f5f8,
	PDF_PANEL = 0xeef2f6,
	PDF_ACCENT = 0x2e6299,
	PDF_ACCENT_LIGHT = 0xdce7f3,
	PDF_NOTE = 0xfdf3e1,
	PDF_UP = 0x1b7a3d,
	PDF_DOWN = 0xb3261e,
};

/* One report being laid out; pdf_render() owns it, the pieces read and move its cursor. */
struct pdf {
	const struct report *r;
	cairo_t *cr;
	struct pdf_text *text;
	bool draw;              /* false: the counting pass */
	int page;
	int npages;
	double y;               /* the cursor: top of the next thing on the page */
	char title[512];        /* "Weekly report 2026-W47 — Store" */
	char basis[256];        /* what the changes are measured against */
};

/* pdf_text_draw(), in the drawing pass only. */
void pdf_page_text(struct pdf *p, enum pdf_text_style s, double x, double y, double w, PangoAlignment align,
    uint32_t rgb, const char *str);
/* A filled rectangle; a horizontal rule of the given line width. */
void pdf_page_fill_rect(struct pdf *p, double x, double y, double w, double h, uint32_t rgb);
void pdf_page_hline(struct pdf *p, double x, double y, double w, double width, uint32_t rgb);

/* Start a new page unless h more points fit below the cursor; true when it did. */
bool pdf_page_need(struct pdf *p, double h);
/* Finish the page: its header and footer, the waiting glyphs, the page itself. */
void pdf_page_finish(struct pdf *p);
/* A section heading with an optional note on the right, at the cursor, which moves below it. */
void pdf_page_heading(struct pdf *p, const char *title, const char *note);

/* "22 Nov" or "22 Nov 2026" (year true). */
void pdf_page_date(int32_t day, bool year, char *buf, size_t len);
/* Money in the report's currency and grouping, into buf; returns buf. */
char *pdf_page_money(const struct pdf *p, int64_t minor, char *buf, size_t len);
/*
 * A change as shown in a cell or on a card: arrow, signed percentage (or
 * percentage points, pp) into buf; returns the colour to draw it in.
 * neutral: a figure where up is neither good nor bad (cost).
 */
uint32_t pdf_page_change(char *buf, size_t len, enum report_growth g, int64_t tenths, bool pp, bool neutral);

#endif
