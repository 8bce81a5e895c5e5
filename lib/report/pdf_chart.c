/*
 * pdf_chart: the report's charts, drawn as vector paths (see pdf_chart.h):
 * the daily report's line of the last 30 days against its baseline, and
 * the bar charts of the top stores, brands and sub-categories by sales.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/numfmt.h"
#include "report/pdf_chart.h"
#include "base/util.h"

#define BAR_H           11.5            /* a row of a bar chart */
#define TREND_H         160.0           /* the 30-day chart below its heading */

/* A step of 1, 2 or 5 x 10^k at least raw, for axis ticks. */
static int64_t
nice_step(int64_t raw)
{
	int64_t mag = 1;

	while (mag <= INT64_MAX / 10 && mag * 10 <= raw)
		mag *= 10;
	if (raw <= mag)
		return mag;
	return raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
}

/* The plot area of the trend chart and its scale. */
struct plot {
	double x0, dx, top, bot;
	int64_t ymax;
};

static double
plot_x(const struct plot *pl, size_t i)
{
	return pl->x0 + pl->dx * (double)i;
}

static double
plot_y(const struct plot *pl, int64_t v)
{
	return pl->bot - (pl->bot - pl->top) * (double)v / (double)pl->ymax;
}

/* Money for an axis or a chart: numfmt's figure without a ".00" that says nothing. */
static char *
money_short(const struct pdf *p, int64_t minor, char *buf, size_t len)
{
	size_t n;

	numfmt_money(buf, len, minor, p->r->grouping, p->r->currency);
	n = strlen(buf);
	if (n > 3 && strcmp(buf + n - 3, ".00") == 0)
		buf[n - 3] = '\0';
	return buf;
}

/* Daily: the company's sales of the last 30 days as a line, the baseline week shaded. */
void
pdf_chart_trend(struct pdf *p)
{
	const struct report *r = p->r;
	const double x1 = PDF_MARGIN + PDF_CONTENT_W - 8;
	struct plot pl = { .x0 = PDF_MARGIN + 62 };
	int64_t max = 0, step, avg = report_div_round(r->total.b_sales, r->base_windows);
	char buf[NUMFMT_LEN];
	size_t n = r->ntrend;
	double ty;

	if (n < 2)
		return;
	pdf_page_need(p, PDF_HEADING_H + TREND_H);
	pdf_page_heading(p, "Daily sales, last 30 days", "shaded: the baseline days; dashed: their average");
	pl.top = p->y + 6;
	pl.bot = p->y + TREND_H - 26;
	p->y += TREND_H + PDF_GAP;
	if (!p->draw)
		return;
	for (size_t i = 0; i < n; i++)
		max = r->trend[i].sales > max ? r->trend[i].sales : max;
	max = avg > max ? avg : max;
	step = nice_step(max / 4 > 0 ? max / 4 : 1);
	pl.ymax = (max / step + 1) * step;
	pl.dx = (x1 - pl.x0) / (double)(n - 1);
	for (size_t i = 0; i < n; i++)
		if (r->trend[i].day >= r->base.first && r->trend[i].day <= r->base.last)
			pdf_page_fill_rect(p, plot_x(&pl, i) - pl.dx / 2, pl.top, pl.dx, pl.bot - pl.top,
			    PDF_ACCENT_LIGHT);
	for (int64_t v = 0; v <= pl.ymax; v += step) {
		pdf_page_hline(p, pl.x0, plot_y(&pl, v), x1 - pl.x0, v == 0 ? 0.8 : 0.4,
		    v == 0 ? PDF_MUTED : PDF_RULE);
		pdf_page_text(p, PDF_TEXT_SMALLNUM, PDF_MARGIN, plot_y(&pl, v) + 2.5, pl.x0 - PDF_MARGIN - 6,
		    PANGO_ALIGN_RIGHT, PDF_MUTED, money_short(p, v, buf, sizeof buf));
	}
	/* Every 7th day back from the last, centred under its point but inside the margin. */
	for (size_t i = 0; i < n; i++)
		if ((n - 1 - i) % 7 == 0) {
			double lx = plot_x(&pl, i) - 30, edge = PDF_MARGIN + PDF_CONTENT_W - 60;

			pdf_page_date(r->trend[i].day, false, buf, sizeof buf);
			pdf_page_text(p, PDF_TEXT_SMALLNUM, lx < edge ? lx : edge, pl.bot + 12, 60,
			    lx < edge ? PANGO_ALIGN_CENTER : PANGO_ALIGN_RIGHT, PDF_MUTED, buf);
		}
	/* The baseline average, dashed, so that today's point reads against it. */
	cairo_set_dash(p->cr, (const double[]){ 3, 2 }, 2, 0);
	pdf_page_hline(p, pl.x0, plot_y(&pl, avg), x1 - pl.x0, 0.8, PDF_MUTED);
	cairo_set_dash(p->cr, NULL, 0, 0);
	cairo_move_to(p->cr, plot_x(&pl, 0), plot_y(&pl, r->trend[0].sales));
	for (size_t i = 1; i < n; i++)
		cairo_line_to(p->cr, plot_x(&pl, i), plot_y(&pl, r->trend[i].sales));
	cairo_set_line_join(p->cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_line_width(p->cr, 1.6);
	pdf_text_set_rgb(p->cr, PDF_ACCENT);
	cairo_stroke(p->cr);
	for (size_t i = 0; i < n; i++) {
		cairo_arc(p->cr, plot_x(&pl, i), plot_y(&pl, r->trend[i].sales), i == n - 1 ? 3.2 : 1.6, 0,
		    2 * M_PI);
		cairo_fill(p->cr);
	}
	/* The last day's figure above its point, kept inside the plot. */
	ty = plot_y(&pl, r->trend[n - 1].sales) - 7;
	pdf_page_text(p, PDF_TEXT_BOLDNUM, x1 - 140, ty < pl.top + 8 ? pl.top + 8 : ty, 136, PANGO_ALIGN_RIGHT,
	    PDF_INK, money_short(p, r->trend[n - 1].sales, buf, sizeof buf));
}

/*
 * A horizontal bar chart of the first n rows of t by sales, in a box at x
 * of width w starting at y. The caller keeps the cursor.
 */
static void
bars(struct pdf *p, double x, double y, double w, const char *title, const struct report_table *t,
    size_t n)
{
	const double val_w = 58, label_w = w * 0.4 < 160 ? w * 0.4 : 160;
	const double bx = x + label_w + 6, bw = w - label_w - 6 - val_w;
	int64_t max = 1;
	char buf[NUMFMT_LEN];

	n = n < t->n ? n : t->n;
	for (size_t k = 0; k < n; k++)
		max = t->rows[k].sales > max ? t->rows[k].sales : max;
	pdf_page_text(p, PDF_TEXT_H2, x, y + 14, w, PANGO_ALIGN_LEFT, PDF_INK, title);
	y += PDF_HEADING_H;
	for (size_t k = 0; k < n; k++) {
		const struct report_row *row = &t->rows[k];
		double len = row->sales > 0 ? bw * (double)row->sales / (double)max : 0;
		double base = y + BAR_H * (double)k;

		pdf_page_text(p, PDF_TEXT_BODY, x, base + 8.5, label_w, PANGO_ALIGN_LEFT, PDF_INK, row->name);
		pdf_page_fill_rect(p, bx, base + 2, len, BAR_H - 4, PDF_ACCENT);
		pdf_page_text(p, PDF_TEXT_SMALLNUM, bx + len + 4, base + 8.5, val_w, PANGO_ALIGN_LEFT,
		    row->sales == 0 && row->b_sales > 0 ? PDF_DOWN : PDF_MUTED,
		    money_short(p, row->sales, buf, sizeof buf));
	}
}

/* Daily: the top stores by sales; weekly and monthly: top brands and sub-categories side by side. */
void
pdf_chart_bars(struct pdf *p)
{
	static const enum report_dim pair[] = { REPORT_BRANDS, REPORT_SUBCATEGORIES };
	const struct report *r = p->r;
	const struct report_table *t[2];
	char title[2][64];
	size_t n = 0, top = 10;
	double h = 0, w;

	if (r->kind == REPORT_DAILY) {
		top = REPORT_TOP_STORES_CHART;
		t[n] = &r->tables[REPORT_STORES];
		n += t[n]->present && t[n]->n > 0;
	} else {
		for (size_t i = 0; i < UTIL_NELEM(pair); i++) {
			t[n] = &r->tables[pair[i]];
			n += t[n]->present && t[n]->n > 0;
		}
	}
	if (n == 0)
		return;
	w = n == 1 ? PDF_CONTENT_W : (PDF_CONTENT_W - 24) / 2;
	for (size_t i = 0; i < n; i++) {
		double th = PDF_HEADING_H + BAR_H * (double)(t[i]->n < top ? t[i]->n : top);

		h = th > h ? th : h;
		snprintf(title[i], sizeof title[i], "Top %zu %s by sales", t[i]->n < top ? t[i]->n : top,
		    report_dim_plural(t[i]->dim));
	}
	pdf_page_need(p, h);
	for (size_t i = 0; i < n; i++)
		bars(p, PDF_MARGIN + (double)i * (w + 24), p->y, w, title[i], t[i], top);
	p->y += h + PDF_GAP;
}
