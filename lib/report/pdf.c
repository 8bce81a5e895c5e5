/*
 * pdf: a report model (report.h) as an A4 PDF that can go to partners:
 * headline cards, charts drawn as vector paths (pdf_chart), and tables that
 * break across pages with their header row repeated (pdf_table). Every page
 * carries the company, the report's title and "Page N of M" (pdf_page); the
 * text and its fonts are pdf_text's. This file is the document: its title,
 * the cards, the order of the sections and the file itself.
 *
 * The body is laid out twice by the same code. The first pass only moves the
 * cursor, to count the pages; the second draws. That works because every
 * height is fixed in advance (a table row is one line, names are ellipsized
 * to their column), so the counting pass never needs to shape any text.
 *
 * Every figure is formatted by numfmt, so the PDF agrees with the
 * spreadsheet and the messages to the digit.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>

#include "report/numfmt.h"
#include "report/pdf.h"
#include "report/pdf_chart.h"
#include "report/pdf_page.h"
#include "report/pdf_table.h"
#include "report/pdf_text.h"
#include "base/period.h"
#include "base/util.h"

#define CARD_H          68.0
#define EN_DASH         "\xe2\x80\x93"

/* Output through stdio, keeping the errno of a failed write for the cause. */
struct sink {
	FILE *fp;
	int err;
};

static cairo_status_t
sink_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct sink *s = closure;

	if (fwrite(data, 1, len, s->fp) != len) {
		s->err = errno != 0 ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

/* "16 Nov – 22 Nov 2026", or "Sunday, 22 Nov 2026" for a single day. */
static void
range_str(const struct period *pd, char *buf, size_t len)
{
	static const char *const wdays[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	    "Saturday", "Sunday" };
	char a[32], b[32];
	int ya, yb, m, d;

	pdf_page_date(pd->last, true, b, sizeof b);
	if (pd->first == pd->last) {
		snprintf(buf, len, "%s, %s", wdays[period_weekday(pd->last) - 1], b);
		return;
	}
	period_civil_from_day(pd->first, &ya, &m, &d);
	period_civil_from_day(pd->last, &yb, &m, &d);
	pdf_page_date(pd->first, ya != yb, a, sizeof a);
	snprintf(buf, len, "%s " EN_DASH " %s", a, b);
}

static void
rounded_rect(struct pdf *p, double x, double y, double w, double h, double rad, uint32_t rgb)
{
	if (!p->draw)
		return;
	cairo_new_sub_path(p->cr);
	cairo_arc(p->cr, x + w - rad, y + rad, rad, -M_PI / 2, 0);
	cairo_arc(p->cr, x + w - rad, y + h - rad, rad, 0, M_PI / 2);
	cairo_arc(p->cr, x + rad, y + h - rad, rad, M_PI / 2, M_PI);
	cairo_arc(p->cr, x + rad, y + rad, rad, M_PI, 3 * M_PI / 2);
	cairo_close_path(p->cr);
	pdf_text_set_rgb(p->cr, rgb);
	cairo_fill(p->cr);
}

/* Title, period and what the changes compare against; p->title and p->basis. */
static void
describe(struct pdf *p)
{
	static const char *const unit[] = { "day", "week", "month" };
	static const char *const adj[] = { "daily", "weekly", "monthly" };
	static const char *const kind[] = { "Daily sales report", "Weekly report", "Monthly report" };
	const struct report *r = p->r;
	const char *scope = r->store ? r->store : r->total.name ? r->total.name : "All stores";
	size_t k = (size_t)r->kind < UTIL_NELEM(kind) ? (size_t)r->kind : 0;
	char range[96];

	if (r->kind == REPORT_DAILY && r->store == NULL)
		snprintf(p->title, sizeof p->title, "%s " PDF_EM_DASH " %s", kind[k], r->period_name);
	else
		snprintf(p->title, sizeof p->title, "%s %s " PDF_EM_DASH " %s", kind[k], r->period_name, scope);
	range_str(&r->base, range, sizeof range);
	snprintf(p->basis, sizeof p->basis, "Amounts in %s. Changes compare with the %s average of the "
	    "%u %ss before (%s).", r->currency, adj[k], r->base_windows, unit[k], range);
}

static void
title_block(struct pdf *p)
{
	char range[96];

	range_str(&p->r->period, range, sizeof range);
	pdf_page_text(p, PDF_TEXT_H1, PDF_MARGIN, p->y + 18, PDF_CONTENT_W, PANGO_ALIGN_LEFT, PDF_INK,
	    p->title);
	pdf_page_text(p, PDF_TEXT_LEAD, PDF_MARGIN, p->y + 36, PDF_CONTENT_W, PANGO_ALIGN_LEFT, PDF_MUTED,
	    range);
	p->y += 50;
}

/*
 * A day of the period was released incomplete (docs/completeness.md): a
 * banner above everything, one line per gap, so nobody reads a partial
 * day as a fall in sales.
 */
static void
warning_banner(struct pdf *p)
{
	const char *w = p->r->warning;
	char **lines, *text = NULL;
	size_t n, shown;
	double h;

	if (w == NULL || (text = util_strdup(w)) == NULL)
		return;
	/* "Incomplete data for D: missing: A (...); short: B (...)": a line per gap. */
	for (char *c = text; (c = strstr(c, "; ")) != NULL; c++)
		c[0] = '\n', c[1] = ' ';
	lines = util_split(text, '\n', &n);
	free(text);
	if (lines == NULL)
		return;
	shown = n > 12 ? 12 : n;
	h = 26 + 13.0 * (double)shown;
	rounded_rect(p, PDF_MARGIN, p->y, PDF_CONTENT_W, h, 4, PDF_NOTE);
	pdf_page_text(p, PDF_TEXT_LEAD, PDF_MARGIN + 12, p->y + 17, PDF_CONTENT_W - 24, PANGO_ALIGN_LEFT,
	    PDF_DOWN, "Warning: incomplete data " PDF_EM_DASH " the figures may be too low");
	for (size_t i = 0; i < shown; i++)
		pdf_page_text(p, PDF_TEXT_SMALL, PDF_MARGIN + 12, p->y + 31 + 13.0 * (double)i, PDF_CONTENT_W - 24,
		    PANGO_ALIGN_LEFT, PDF_INK, util_trim(lines[i]));
	util_strv_free(lines);
	p->y += h + 14;
}

/* No sales in the period: say so plainly, in place of the tables. */
static void
empty_note(struct pdf *p)
{
	const struct report *r = p->r;
	char line[512];

	if (r->store != NULL)
		snprintf(line, sizeof line, "No sales at %s in %s.", r->store, r->period_name);
	else
		snprintf(line, sizeof line, "No sales in %s at any store.", r->period_name);
	rounded_rect(p, PDF_MARGIN, p->y, PDF_CONTENT_W, 44, 4, PDF_NOTE);
	pdf_page_text(p, PDF_TEXT_LEAD, PDF_MARGIN + 12, p->y + 18, PDF_CONTENT_W - 24, PANGO_ALIGN_LEFT,
	    PDF_INK, line);
	pdf_page_text(p, PDF_TEXT_SMALL, PDF_MARGIN + 12, p->y + 33, PDF_CONTENT_W - 24, PANGO_ALIGN_LEFT,
	    PDF_MUTED, "Nothing was sold in this period. The figures below compare it with the baseline.");
	p->y += 44 + 14;
}

struct card {
	const char *label;
	char value[NUMFMT_LEN];
	char delta[NUMFMT_LEN + 8];
	char base[NUMFMT_LEN + 32];
	uint32_t rgb;
};

/*
 * A card comparing a figure with its baseline average. base_num / base_den
 * is that average; shown is the average itself, formatted like the figure.
 */
static void
card_set(const struct pdf *p, struct card *c, const char *label, bool is_money, int64_t cur,
    int64_t base_num, int64_t base_den, bool neutral)
{
	static const char *const unit[] = { "7-day", "2-week", "2-month" };
	const struct report *r = p->r;
	char avg[NUMFMT_LEN];
	int64_t t, b = report_div_round(base_num, base_den);
	enum report_growth g = report_growth(cur, base_num, base_den, &t);

	c->label = label;
	if (is_money)
		pdf_page_money(p, cur, c->value, sizeof c->value);
	else
		numfmt_count(c->value, sizeof c->value, cur, r->grouping);
	c->rgb = pdf_page_change(c->delta, sizeof c->delta, g, t, false, neutral);
	if (base_num == 0 || base_den == 0) {
		snprintf(c->base, sizeof c->base, "no baseline");
		return;
	}
	if (is_money)
		pdf_page_money(p, b, avg, sizeof avg);
	else
		numfmt_count(avg, sizeof avg, b, r->grouping);
	snprintf(c->base, sizeof c->base, "%s avg %s", unit[r->kind <= REPORT_MONTHLY ? r->kind : 0], avg);
}

/* The headline figures: sales, orders and AOV (daily) or sales, cost, profit and margin. */
static void
cards(struct pdf *p)
{
	const struct report *r = p->r;
	const struct report_row *t = &r->total;
	unsigned w = r->base_windows;
	struct card c[4];
	size_t n, across, lines;
	double cw, gap = 10;
	char pct[NUMFMT_LEN];
	int64_t m;

	memset(c, 0, sizeof c);
	card_set(p, &c[0], "Total sales", true, t->sales, t->b_sales, w, false);
	if (r->kind == REPORT_DAILY) {
		card_set(p, &c[1], "Orders", false, t->orders, t->b_orders, w, false);
		card_set(p, &c[2], "Average order value", true, report_aov(t),
		    t->b_sales, t->b_orders, false);
		/* No orders, no AOV: nothing to compare, but the baseline's AOV still says something. */
		if (t->orders == 0) {
			snprintf(c[2].value, sizeof c[2].value, PDF_EM_DASH);
			c[2].delta[0] = '\0';
		}
		n = 3;
	} else {
		card_set(p, &c[1], "Cost", true, t->cost, t->b_cost, w, true);
		card_set(p, &c[2], "Profit", true, t->sales - t->cost, t->b_sales - t->b_cost, w, false);
		c[3].label = "Margin";
		c[3].rgb = PDF_MUTED;
		snprintf(c[3].value, sizeof c[3].value, PDF_EM_DASH);
		if (report_pct(t->sales - t->cost, t->sales, &m))
			numfmt_pct(c[3].value, sizeof c[3].value, m, 0);
		snprintf(c[3].base, sizeof c[3].base, "no baseline");
		if (report_pct(t->b_sales - t->b_cost, t->b_sales, &m))
			snprintf(c[3].base, sizeof c[3].base, "baseline %s", numfmt_pct(pct, sizeof pct, m, 0));
		if (report_margin_change(t, &m))
			c[3].rgb = pdf_page_change(c[3].delta, sizeof c[3].delta, REPORT_GROWTH_PCT, m, true,
			    false);
		n = 4;
	}
	/* Four cards go two by two: a money figure needs the width. */
	across = n == 4 ? 2 : n;
	lines = (n + across - 1) / across;
	cw = (PDF_CONTENT_W - gap * (double)(across - 1)) / (double)across;
	pdf_page_need(p, (CARD_H + gap) * (double)lines - gap);
	for (size_t i = 0; i < n; i++) {
		double x = PDF_MARGIN + (double)(i % across) * (cw + gap);
		double y = p->y + (double)(i / across) * (CARD_H + gap);

		rounded_rect(p, x, y, cw, CARD_H, 5, PDF_PANEL);
		pdf_page_text(p, PDF_TEXT_HEAD, x + 10, y + 15, cw - 20, PANGO_ALIGN_LEFT, PDF_MUTED,
		    c[i].label);
		pdf_page_text(p, PDF_TEXT_CARD, x + 10, y + 37, cw - 20, PANGO_ALIGN_LEFT, PDF_INK, c[i].value);
		pdf_page_text(p, PDF_TEXT_BOLDNUM, x + 10, y + 50, cw - 20, PANGO_ALIGN_LEFT, c[i].rgb,
		    c[i].delta);
		pdf_page_text(p, PDF_TEXT_SMALL, x + 10, y + 61, cw - 20, PANGO_ALIGN_LEFT, PDF_MUTED,
		    c[i].base);
	}
	p->y += (CARD_H + gap) * (double)lines - gap + PDF_GAP;
}

/* The whole document, in either pass. */
static void
body(struct pdf *p)
{
	static const enum report_dim order[] = { REPORT_STORES, REPORT_CATEGORIES, REPORT_BRANDS,
	    REPORT_SUBCATEGORIES, REPORT_PRODUCTS };
	const struct report *r = p->r;
	bool empty = report_is_empty(r);

	p->page = 1;
	p->y = PDF_TOP;
	title_block(p);
	warning_banner(p);
	if (empty)
		empty_note(p);
	cards(p);
	if (r->kind == REPORT_DAILY)
		pdf_chart_trend(p);
	/* An empty period has rows only for what sold in the baseline: no tables, no bars. */
	if (!empty) {
		pdf_chart_bars(p);
		for (size_t i = 0; i < UTIL_NELEM(order); i++)
			if (r->tables[order[i]].present && r->tables[order[i]].n > 0)
				pdf_table_draw(p, &r->tables[order[i]]);
	}
	pdf_page_finish(p);
}

int
pdf_render(const struct report *r, const char *path, char **cause)
{
	struct pdf p;
	struct sink out = { NULL, 0 };
	cairo_surface_t *surface = NULL;
	cairo_status_t st;
	int e = 0;

	memset(&p, 0, sizeof p);
	p.r = r;
	if ((out.fp = fopen(path, "wbe")) == NULL) {
		e = -errno;
		util_fail(cause, e, "%s: %s", path, strerror(-e));
		goto out;
	}
	surface = cairo_pdf_surface_create_for_stream(sink_write, &out, PDF_PAGE_W, PDF_PAGE_H);
	p.cr = cairo_create(surface);
	if ((e = pdf_text_new(p.cr, &p.text)) < 0) {
		util_fail(cause, e, "%s: out of memory", path);
		goto out;
	}
	describe(&p);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, p.title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, r->company);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "salesd");
	/* Count the pages, then draw them knowing how many there are. */
	p.draw = false;
	body(&p);
	p.npages = p.page;
	p.draw = true;
	body(&p);
	/* The trailer and the fonts are written now: a full disk shows up here. */
	cairo_surface_finish(surface);
	if ((st = cairo_status(p.cr)) == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	if (st != CAIRO_STATUS_SUCCESS)
		e = util_fail(cause, out.err != 0 ? -out.err : st == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EIO,
		    "%s: %s", path, out.err != 0 ? strerror(out.err) : cairo_status_to_string(st));
out:
	if (p.cr != NULL)
		cairo_destroy(p.cr);
	if (surface != NULL)
		cairo_surface_destroy(surface);
	/* After the surface: its fonts are pdf_text's font map's. */
	pdf_text_free(p.text);
	if (out.fp != NULL && fclose(out.fp) != 0 && e == 0) {
		e = -errno;
		util_fail(cause, e, "%s: %s", path, strerror(-e));
	}
	return e;
}
