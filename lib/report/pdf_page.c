/*
 * pdf_page: what every piece of the PDF draws with (see pdf_page.h): text
 * only in the drawing pass, fills and rules, the cursor and its page
 * breaks, the header and footer of every page, section headings, and the
 * dates, money and changes as the PDF writes them.
 */
#include <stdio.h>
#include <string.h>

#include "report/numfmt.h"
#include "report/pdf_page.h"
#include "base/period.h"

#define UP_ARROW        "\xe2\x96\xb2 "         /* ▲ (DejaVu Sans has it) */
#define DOWN_ARROW      "\xe2\x96\xbc "         /* ▼ */

void
pdf_page_text(struct pdf *p, enum pdf_text_style s, double x, double y, double w, PangoAlignment align,
    uint32_t rgb, const char *str)
{
	if (p->draw)
		pdf_text_draw(p->text, s, x, y, w, align, rgb, str);
}

void
pdf_page_fill_rect(struct pdf *p, double x, double y, double w, double h, uint32_t rgb)
{
	if (!p->draw)
		return;
	pdf_text_set_rgb(p->cr, rgb);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_fill(p->cr);
}

void
pdf_page_hline(struct pdf *p, double x, double y, double w, double width, uint32_t rgb)
{
	if (!p->draw)
		return;
	pdf_text_set_rgb(p->cr, rgb);
	cairo_set_line_width(p->cr, width);
	cairo_move_to(p->cr, x, y);
	cairo_rel_line_to(p->cr, w, 0);
	cairo_stroke(p->cr);
}

/* "22 Nov" or "22 Nov 2026". */
void
pdf_page_date(int32_t day, bool year, char *buf, size_t len)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	int y, m, d;

	period_civil_from_day(day, &y, &m, &d);
	if (year)
		snprintf(buf, len, "%d %s %d", d, months[m - 1], y);
	else
		snprintf(buf, len, "%d %s", d, months[m - 1]);
}

char *
pdf_page_money(const struct pdf *p, int64_t minor, char *buf, size_t len)
{
	return numfmt_money(buf, len, minor, p->r->grouping, p->r->currency);
}

/*
 * A change as shown in a cell or on a card: arrow, signed percentage (or
 * percentage points) and the colour to draw it in. Returns the colour.
 * neutral: a figure where up is neither good nor bad (cost).
 */
uint32_t
pdf_page_change(char *buf, size_t len, enum report_growth g, int64_t tenths, bool pp, bool neutral)
{
	char num[NUMFMT_LEN];

	numfmt_growth(num, sizeof num, g, tenths);
	if (g != REPORT_GROWTH_PCT) {
		snprintf(buf, len, "%s", num);
		return g == REPORT_GROWTH_NEW ? PDF_ACCENT : PDF_MUTED;
	}
	if (pp)
		numfmt_points(num, sizeof num, tenths);
	snprintf(buf, len, "%s%s", tenths > 0 ? UP_ARROW : tenths < 0 ? DOWN_ARROW : "", num);
	if (neutral || tenths == 0)
		return PDF_MUTED;
	return tenths > 0 ? PDF_UP : PDF_DOWN;
}

/* The page header and footer, drawn when the page is done. */
static void
furniture(struct pdf *p)
{
	char pages[64];
	double half = PDF_CONTENT_W / 2;

	pdf_page_text(p, PDF_TEXT_HEAD, PDF_MARGIN, 32, half - 8, PANGO_ALIGN_LEFT, PDF_INK, p->r->company);
	pdf_page_text(p, PDF_TEXT_SMALL, PDF_MARGIN + half, 32, half, PANGO_ALIGN_RIGHT, PDF_MUTED, p->title);
	pdf_page_hline(p, PDF_MARGIN, 39, PDF_CONTENT_W, 0.6, PDF_RULE);
	pdf_page_hline(p, PDF_MARGIN, PDF_PAGE_H - 42, PDF_CONTENT_W, 0.6, PDF_RULE);
	snprintf(pages, sizeof pages, "Page %d of %d", p->page, p->npages);
	pdf_page_text(p, PDF_TEXT_SMALL, PDF_MARGIN, PDF_PAGE_H - 30, PDF_CONTENT_W - 80, PANGO_ALIGN_LEFT,
	    PDF_MUTED, p->basis);
	pdf_page_text(p, PDF_TEXT_SMALLNUM, PDF_MARGIN + PDF_CONTENT_W - 80, PDF_PAGE_H - 30, 80,
	    PANGO_ALIGN_RIGHT, PDF_MUTED, pages);
}

void
pdf_page_finish(struct pdf *p)
{
	if (!p->draw)
		return;
	furniture(p);
	pdf_text_flush(p->text);
	cairo_show_page(p->cr);
}

/* Start a new page unless h more points fit below the cursor; true when it did. */
bool
pdf_page_need(struct pdf *p, double h)
{
	if (p->y + h <= PDF_BOTTOM)
		return false;
	pdf_page_finish(p);
	p->page++;
	p->y = PDF_TOP;
	return true;
}

/* A section heading with an optional note on the right, at the cursor. */
void
pdf_page_heading(struct pdf *p, const char *title, const char *note)
{
	pdf_page_text(p, PDF_TEXT_H2, PDF_MARGIN, p->y + 14, PDF_CONTENT_W * 0.6, PANGO_ALIGN_LEFT, PDF_INK,
	    title);
	pdf_page_text(p, PDF_TEXT_SMALL, PDF_MARGIN + PDF_CONTENT_W * 0.6, p->y + 14, PDF_CONTENT_W * 0.4,
	    PANGO_ALIGN_RIGHT, PDF_MUTED, note);
	p->y += PDF_HEADING_H;
}
