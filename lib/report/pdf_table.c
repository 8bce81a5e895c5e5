/*
 * pdf_table: the report's tables (see pdf_table.h), one row per line in the
 * model's order, with their columns laid out across the page; a table that
 * goes on past the foot of a page repeats its heading, marked as continued,
 * and its header row. Under a weekly or monthly table, its Dropped list.
 */
#include <stdio.h>

#include "report/numfmt.h"
#include "report/pdf_table.h"

#define HEADER_H        17.0            /* a table's header row */
#define ROW_H           13.5            /* a table row */
#define CELL_PAD        4.0
#define DROPPED_GAP     6.0             /* between a table and its Dropped list */
#define DROPPED_FIG_W   90.0            /* the Dropped list's baseline column */

/* Each dimension as the heading of its name column (report_dim_title gives the tables' headings). */
static const char *const dim_heading[REPORT_NDIMS] = {
	[REPORT_STORES] = "Store",
	[REPORT_CATEGORIES] = "Category",
	[REPORT_SUBCATEGORIES] = "Sub-category",
	[REPORT_BRANDS] = "Brand",
	[REPORT_PRODUCTS] = "Product",
};

/* Table columns; C_D_ columns are the change of a figure against its baseline. */
enum col {
	C_RANK, C_NAME, C_ID, C_ORDERS, C_QTY, C_SALES, C_AOV, C_PROFIT, C_SHARE, C_MARGIN,
	C_D_ORDERS, C_D_SALES, C_D_AOV, C_D_MARGIN, C_END,
};

static const struct {
	const char *title;      /* NULL: the dimension's name */
	double width;           /* 0: whatever the others leave */
} cols[] = {
	[C_RANK] = { "#", 24 },
	[C_NAME] = { NULL, 0 },
	[C_ID] = { "Code", 46 },
	[C_ORDERS] = { "Orders", 44 },
	[C_QTY] = { "Qty", 50 },
	[C_SALES] = { "Sales", 76 },
	[C_AOV] = { "AOV", 62 },
	[C_PROFIT] = { "Profit", 74 },
	[C_SHARE] = { "Share", 38 },
	[C_MARGIN] = { "Margin", 42 },
	[C_D_ORDERS] = { "Change", 48 },
	[C_D_SALES] = { "Change", 48 },
	[C_D_AOV] = { "Change", 48 },
	[C_D_MARGIN] = { "Change", 48 },
};

/* The columns of each table; C_ID is dropped when no row has an id. */
static const enum col daily_cols[] = {
	C_RANK, C_NAME, C_ORDERS, C_D_ORDERS, C_SALES, C_D_SALES, C_AOV, C_D_AOV, C_END,
};
static const enum col daily_product_cols[] = {
	C_RANK, C_NAME, C_ID, C_ORDERS, C_QTY, C_SALES, C_D_SALES, C_END,
};
static const enum col period_store_cols[] = {
	C_RANK, C_NAME, C_SALES, C_D_SALES, C_PROFIT, C_SHARE, C_MARGIN, C_D_MARGIN, C_END,
};
static const enum col period_cols[] = {
	C_RANK, C_NAME, C_ID, C_QTY, C_SALES, C_SHARE, C_MARGIN, C_D_SALES, C_END,
};

/* A table's columns laid out across the page. */
struct grid {
	enum col col[C_END];
	double x[C_END];        /* left edge */
	double w[C_END];
	size_t n;
	const char *name;       /* heading of the name column */
};

/*
 * The text of one cell of row (rank 0: the total row) and its colour. Names
 * are returned as they are; figures are formatted into buf.
 */
static const char *
cell(const struct pdf *p, const struct report_row *row, size_t rank, enum col c, char *buf, size_t len,
    uint32_t *rgb)
{
	const struct report *r = p->r;
	enum report_growth g;
	int64_t t;

	*rgb = PDF_INK;
	buf[0] = '\0';
	switch (c) {
	case C_RANK:
		*rgb = PDF_MUTED;
		return rank == 0 ? "" : numfmt_count(buf, len, (int64_t)rank, r->grouping);
	case C_NAME:
		return row->name;
	case C_ID:
		*rgb = PDF_MUTED;
		return row->id;
	case C_ORDERS:
		return numfmt_count(buf, len, row->orders, r->grouping);
	case C_QTY:
		return numfmt_quantity(buf, len, row->quantity, r->grouping);
	case C_SALES:
		/* Nothing sold now against something before: the 0 itself is the warning. */
		if (row->sales == 0 && row->b_sales > 0 && row->gap == NULL)
			*rgb = PDF_DOWN;
		return pdf_page_money(p, row->sales, buf, len);
	case C_AOV:
		return row->orders == 0 ? PDF_EM_DASH : pdf_page_money(p, report_aov(row), buf, len);
	case C_PROFIT:
		return pdf_page_money(p, row->sales - row->cost, buf, len);
	case C_SHARE:
		return report_pct(row->sales, r->total.sales, &t) ? numfmt_pct(buf, len, t, 0) : PDF_EM_DASH;
	case C_MARGIN:
		return report_pct(row->sales - row->cost, row->sales, &t) ? numfmt_pct(buf, len, t, 0) :
		    PDF_EM_DASH;
	case C_D_ORDERS:
	case C_D_SALES:
	case C_D_AOV:
		/* Without orders there is no AOV to compare. */
		if (c == C_D_AOV && row->orders == 0)
			return buf;
		/* A store missing or short in the source: not a fall in sales (docs/completeness.md). */
		if (row->gap != NULL) {
			if (c == C_D_SALES)
				snprintf(buf, len, "%s", row->gap);
			*rgb = PDF_MUTED;
			return buf;
		}
		g = c == C_D_AOV ? report_aov_growth(row, &t) : c == C_D_ORDERS ?
		    report_growth(row->orders, row->b_orders, r->base_windows, &t) :
		    report_growth(row->sales, row->b_sales, r->base_windows, &t);
		*rgb = pdf_page_change(buf, len, g, t, false, false);
		return buf;
	case C_D_MARGIN:
		if (report_margin_change(row, &t))
			*rgb = pdf_page_change(buf, len, REPORT_GROWTH_PCT, t, true, false);
		return buf;
	case C_END:
		break;
	}
	return buf;
}

/* Lay t's columns out across the content width; the name column takes what is left. */
static void
grid_init(const struct pdf *p, const struct report_table *t, struct grid *g)
{
	const enum col *src;
	bool ids = false;
	double fixed = 0, x = PDF_MARGIN;

	if (p->r->kind == REPORT_DAILY)
		src = t->dim == REPORT_PRODUCTS ? daily_product_cols : daily_cols;
	else
		src = t->dim == REPORT_STORES ? period_store_cols : period_cols;
	for (size_t k = 0; k < t->n && !ids; k++)
		ids = t->rows[k].id != NULL;
	g->n = 0;
	for (; *src != C_END; src++)
		if (*src != C_ID || ids) {
			g->col[g->n++] = *src;
			fixed += cols[*src].width;
		}
	for (size_t i = 0; i < g->n; i++) {
		g->x[i] = x;
		g->w[i] = cols[g->col[i]].width > 0 ? cols[g->col[i]].width : PDF_CONTENT_W - fixed;
		x += g->w[i];
	}
	g->name = dim_heading[t->dim];
}

static bool
col_left(enum col c)
{
	return c == C_NAME || c == C_ID;
}

static void
header_row(struct pdf *p, const struct grid *g)
{
	for (size_t i = 0; i < g->n; i++)
		pdf_page_text(p, PDF_TEXT_HEAD, g->x[i] + CELL_PAD, p->y + 11, g->w[i] - 2 * CELL_PAD,
		    col_left(g->col[i]) ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, PDF_MUTED,
		    cols[g->col[i]].title ? cols[g->col[i]].title : g->name);
	pdf_page_hline(p, PDF_MARGIN, p->y + HEADER_H - 2, PDF_CONTENT_W, 0.8, PDF_MUTED);
	p->y += HEADER_H;
}

/* One row of a table; total: the bold total row under a rule. */
static void
table_row(struct pdf *p, const struct grid *g, const struct report_row *row, size_t rank, bool zebra,
    bool total)
{
	char buf[NUMFMT_LEN + 8];

	if (zebra)
		pdf_page_fill_rect(p, PDF_MARGIN, p->y, PDF_CONTENT_W, ROW_H, PDF_ZEBRA);
	if (total)
		pdf_page_hline(p, PDF_MARGIN, p->y, PDF_CONTENT_W, 0.8, PDF_MUTED);
	for (size_t i = 0; i < g->n && p->draw; i++) {
		bool left = col_left(g->col[i]);
		uint32_t rgb;
		const char *s = cell(p, row, rank, g->col[i], buf, sizeof buf, &rgb);

		pdf_page_text(p, g->col[i] == C_NAME ? total ? PDF_TEXT_BOLD : PDF_TEXT_BODY :
		    g->col[i] == C_ID ? PDF_TEXT_CODE : total ? PDF_TEXT_BOLDNUM : PDF_TEXT_NUM,
		    g->x[i] + CELL_PAD, p->y + 9.5, g->w[i] - 2 * CELL_PAD,
		    left ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, rgb, s);
	}
	p->y += ROW_H;
}

/*
 * The Dropped list under a table: its sentence over the names, a line per
 * key with its baseline average at the right (as the cards show a
 * baseline), then "and 2 more". At most REPORT_DROPPED_MAX + 2 lines, it is
 * kept whole on one page; its sentence names the table, so it reads alone
 * at the top of the next page too.
 */
static void
dropped_list(struct pdf *p, const struct report_table *t)
{
	const struct report *r = p->r;
	const double x = PDF_MARGIN + cols[C_RANK].width, fx = PDF_MARGIN + PDF_CONTENT_W - DROPPED_FIG_W;
	char title[256], more[NUMFMT_LEN + 16], buf[NUMFMT_LEN];
	double h;

	numfmt_dropped_title(title, sizeof title, r, t);
	numfmt_dropped_more(more, sizeof more, r, t);
	h = HEADER_H + ROW_H * (double)(t->ndropped + (more[0] != '\0'));
	if (!pdf_page_need(p, DROPPED_GAP + h))
		p->y += DROPPED_GAP;
	pdf_page_text(p, PDF_TEXT_HEAD, x + CELL_PAD, p->y + 11, fx - x - 2 * CELL_PAD, PANGO_ALIGN_LEFT,
	    PDF_DOWN, title);
	pdf_page_text(p, PDF_TEXT_HEAD, fx + CELL_PAD, p->y + 11, DROPPED_FIG_W - 2 * CELL_PAD,
	    PANGO_ALIGN_RIGHT, PDF_MUTED, "Baseline avg");
	pdf_page_hline(p, PDF_MARGIN, p->y + HEADER_H - 2, PDF_CONTENT_W, 0.6, PDF_RULE);
	p->y += HEADER_H;
	for (size_t k = 0; k < t->ndropped; k++) {
		const struct report_row *row = &t->dropped[k];

		if (k % 2 == 1)
			pdf_page_fill_rect(p, PDF_MARGIN, p->y, PDF_CONTENT_W, ROW_H, PDF_ZEBRA);
		pdf_page_text(p, PDF_TEXT_BODY, x + CELL_PAD, p->y + 9.5, fx - x - 2 * CELL_PAD, PANGO_ALIGN_LEFT,
		    PDF_INK, row->name);
		pdf_page_text(p, PDF_TEXT_NUM, fx + CELL_PAD, p->y + 9.5, DROPPED_FIG_W - 2 * CELL_PAD,
		    PANGO_ALIGN_RIGHT, PDF_INK,
		    pdf_page_money(p, report_div_round(row->b_sales, r->base_windows), buf, sizeof buf));
		p->y += ROW_H;
	}
	if (more[0] != '\0') {
		pdf_page_text(p, PDF_TEXT_SMALL, x + CELL_PAD, p->y + 9.5, fx - x - 2 * CELL_PAD, PANGO_ALIGN_LEFT,
		    PDF_MUTED, more);
		p->y += ROW_H;
	}
}

/*
 * A table in the model's order. A page break repeats the heading (marked
 * as continued) and the header row. The stores table ends with the total,
 * since it holds every store. Its Dropped list, if it has one, follows.
 */
void
pdf_table_draw(struct pdf *p, const struct report_table *t)
{
	const struct report *r = p->r;
	const char *title = report_dim_title(t->dim);
	char note[2 * NUMFMT_LEN + 32], n[NUMFMT_LEN], total[NUMFMT_LEN], cont[96];
	struct grid g;
	size_t rows = t->n + (t->dim == REPORT_STORES);

	grid_init(p, t, &g);
	numfmt_count(n, sizeof n, (int64_t)t->n, r->grouping);
	numfmt_count(total, sizeof total, (int64_t)t->total, r->grouping);
	if (t->total > t->n)
		snprintf(note, sizeof note, "Top %s of %s, by sales", n, total);
	else
		snprintf(note, sizeof note, "All %s, by sales", n);
	snprintf(cont, sizeof cont, "%s (continued)", title);
	/* Never leave a heading alone at the foot of a page. */
	pdf_page_need(p, PDF_HEADING_H + HEADER_H + ROW_H * (double)(rows < 3 ? rows : 3));
	pdf_page_heading(p, title, note);
	header_row(p, &g);
	for (size_t k = 0; k < rows; k++) {
		bool is_total = k == t->n;

		if (pdf_page_need(p, ROW_H)) {
			pdf_page_heading(p, cont, "");
			header_row(p, &g);
		}
		table_row(p, &g, is_total ? &r->total : &t->rows[k], is_total ? 0 : k + 1, k % 2 == 1,
		    is_total);
	}
	pdf_page_hline(p, PDF_MARGIN, p->y, PDF_CONTENT_W, 0.6, PDF_RULE);
	if (t->ndropped > 0)
		dropped_list(p, t);
	p->y += PDF_GAP;
}
