/*
 * pdf: a report model (report.h) as an A4 PDF that can go to partners:
 * headline cards, charts drawn as vector paths, and tables that break across
 * pages with their header row repeated. Every page carries the company, the
 * report's title and "Page N of M".
 *
 * The body is laid out twice by the same code. The first pass only moves the
 * cursor, to count the pages; the second draws. That works because every
 * height is fixed in advance (a table row is one line, names are ellipsized
 * to their column), so the counting pass never needs to shape any text.
 *
 * Text goes through pango for shaping, font fallback (Devanagari, Tamil and
 * Arabic names come from the Noto fonts) and ellipsis, with one PangoLayout
 * per text style reused for every cell: a layout per cell would cost more
 * than the rest of the page. Names are user data and set as plain text,
 * never as markup. Every figure is formatted by numfmt, so the PDF agrees
 * with the spreadsheet and the messages to the digit.
 *
 * Speed (a store's report is a few hundred table rows; hundreds of stores
 * render in one run): figures and codes, which need no shaping, skip pango
 * when the font has their glyphs, and glyphs are handed to cairo a page at
 * a time, one run per font and colour, rather than per cell. Together that
 * cuts the time per report to about a third (text(), plain_text(),
 * show_layout()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include "report/numfmt.h"
#include "report/pdf.h"
#include "base/util.h"

/* A4 portrait in PostScript points, the unit of the PDF surface. */
#define PAGE_W          595.28
#define PAGE_H          841.89
#define MARGIN          42.0
#define CONTENT_W       (PAGE_W - 2 * MARGIN)
#define TOP             64.0            /* content starts below the page header */
#define BOTTOM          (PAGE_H - 54.0) /* and ends above the footer */

#define HEADING_H       26.0            /* a section heading */
#define HEADER_H        17.0            /* a table's header row */
#define ROW_H           13.5            /* a table row */
#define BAR_H           11.5            /* a row of a bar chart */
#define CARD_H          68.0
#define TREND_H         160.0           /* the 30-day chart below its heading */
#define GAP             18.0            /* between sections */
#define CELL_PAD        4.0
#define PI              3.14159265358979323846

/* Preferred families in order; pango falls back along the list per script. */
#define FAMILIES "DejaVu Sans, Noto Sans, Noto Sans Devanagari, Noto Sans Tamil, Noto Sans Arabic, " \
	"Noto Sans Bengali, Noto Sans Gujarati, Noto Sans Gurmukhi, Noto Sans Kannada, Noto Sans Malayalam, " \
	"Noto Sans Oriya, Noto Sans Telugu"

/*
 * The files behind FAMILIES (Debian's fonts-dejavu-core and fonts-noto-core),
 * the only fonts the report's own font map knows (fonts_new()): a script
 * none of them covers (Thai, Chinese, ...) is drawn as boxes, so
 * add its Noto Sans files here. "Noto Sans" itself is for the system's
 * fontconfig, when a file is missing; DejaVu Sans covers the same Latin,
 * Greek and Cyrillic.
 */
static const char *const font_files[] = {
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansDevanagari-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansTamil-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansTamil-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
	/* The other scripts of India's store and product names. */
	"/usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansBengali-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansGujarati-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansGujarati-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansGurmukhi-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansGurmukhi-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansKannada-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansKannada-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansMalayalam-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansMalayalam-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansOriya-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansOriya-Bold.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansTelugu-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansTelugu-Bold.ttf",
};

#define UP_ARROW        "\xe2\x96\xb2 "         /* ▲ (DejaVu Sans has it) */
#define DOWN_ARROW      "\xe2\x96\xbc "         /* ▼ */
#define EM_DASH         "\xe2\x80\x94"
#define EN_DASH         "\xe2\x80\x93"

/* Colours as 0xRRGGBB: quiet ink and rules; green and red dark enough to read. */
enum {
	INK = 0x1d2733,
	MUTED = 0x5f6b7a,
	RULE = 0xd3d9e0,
	ZEBRA = 0xf3f5f8,
	PANEL = 0xeef2f6,
	ACCENT = 0x2e6299,
	ACCENT_LIGHT = 0xdce7f3,
	NOTE = 0xfdf3e1,
	UP = 0x1b7a3d,
	DOWN = 0xb3261e,
};

enum style {
	S_BODY,         /* table cells */
	S_NUM,          /* figures in cells */
	S_BOLD,
	S_BOLDNUM,
	S_CODE,         /* product codes */
	S_HEAD,         /* table headers and card labels */
	S_SMALL,        /* footers and notes */
	S_SMALLNUM,     /* axes and chart values */
	S_LEAD,         /* the line under the title */
	S_H2,           /* section headings */
	S_H1,           /* the title */
	S_CARD,         /* the large figure of a card */
	S_NSTYLES,
};

/*
 * A figure style has tabular digits, so that a column of numbers lines up,
 * and is scaled down to its box rather than ellipsized: a figure with its
 * end cut off would be a different figure. Names are ellipsized. A plain
 * style has nothing to shape (digits, signs, codes) and is drawn without
 * pango when its first font has every glyph (see plain_text()).
 */
static const struct {
	double size;    /* points */
	bool bold;
	bool figure;
	bool plain;
} styles[S_NSTYLES] = {
	[S_BODY] = { 7.5, false, false, false },
	[S_NUM] = { 7.5, false, true, true },
	[S_BOLD] = { 7.5, true, false, false },
	[S_BOLDNUM] = { 7.5, true, true, true },
	[S_CODE] = { 7.5, false, false, true },
	[S_HEAD] = { 7.0, true, false, false },
	[S_SMALL] = { 7.0, false, false, false },
	[S_SMALLNUM] = { 7.0, false, true, true },
	[S_LEAD] = { 9.5, false, false, false },
	[S_H2] = { 11.5, true, false, false },
	[S_H1] = { 17.0, true, false, false },
	[S_CARD] = { 16.0, true, true, true },
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

/* Nouns for each dimension (report_dim_title gives the headings). */
static const struct {
	const char *one;        /* a column heading */
	const char *many;       /* in a sentence */
} dims[REPORT_NDIMS] = {
	[REPORT_STORES] = { "Store", "stores" },
	[REPORT_CATEGORIES] = { "Category", "categories" },
	[REPORT_SUBCATEGORIES] = { "Sub-category", "sub-categories" },
	[REPORT_BRANDS] = { "Brand", "brands" },
	[REPORT_PRODUCTS] = { "Product", "products" },
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

/* Glyphs of one font and colour waiting to be drawn, each placed on the page. */
#define NBATCH          8
#define BATCH_GLYPHS    2048
struct batch {
	cairo_scaled_font_t *font;      /* referenced while n > 0 */
	uint32_t rgb;
	int n;
	cairo_glyph_t g[BATCH_GLYPHS];
};

struct pdf {
	const struct report *r;
	cairo_t *cr;
	PangoLayout *lay[S_NSTYLES];
	PangoFont *font[S_NSTYLES];     /* plain styles: the first font, when plain_text() may use it */
	struct batch *batch;            /* NBATCH of them */
	bool draw;              /* false: the counting pass */
	int page;
	int npages;
	double y;               /* the cursor: top of the next thing on the page */
	char title[512];        /* "Weekly report 2026-W47 — Store" */
	char basis[256];        /* what the changes are measured against */
};

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

static void
set_rgb(struct pdf *p, uint32_t rgb)
{
	cairo_set_source_rgb(p->cr, (rgb >> 16 & 0xff) / 255.0, (rgb >> 8 & 0xff) / 255.0,
	    (rgb & 0xff) / 255.0);
}

static void
fill_rect(struct pdf *p, double x, double y, double w, double h, uint32_t rgb)
{
	if (!p->draw)
		return;
	set_rgb(p, rgb);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_fill(p->cr);
}

static void
hline(struct pdf *p, double x, double y, double w, double width, uint32_t rgb)
{
	if (!p->draw)
		return;
	set_rgb(p, rgb);
	cairo_set_line_width(p->cr, width);
	cairo_move_to(p->cr, x, y);
	cairo_rel_line_to(p->cr, w, 0);
	cairo_stroke(p->cr);
}

/* Draw the waiting glyphs. */
static void
flush(struct pdf *p)
{
	for (struct batch *b = p->batch; b < p->batch + NBATCH; b++) {
		if (b->n == 0)
			continue;
		cairo_set_scaled_font(p->cr, b->font);
		set_rgb(p, b->rgb);
		cairo_show_glyphs(p->cr, b->g, b->n);
		cairo_scaled_font_destroy(b->font);
		b->font = NULL;
		b->n = 0;
	}
}

/* Room for n glyphs of font sf in colour rgb, drawing what waits when there is none. */
static struct batch *
batch_for(struct pdf *p, cairo_scaled_font_t *sf, uint32_t rgb, int n)
{
	struct batch *b, *end = p->batch + NBATCH, *free_one = NULL;

	for (b = p->batch; b < end && !(b->n > 0 && b->font == sf && b->rgb == rgb); b++)
		if (b->n == 0 && free_one == NULL)
			free_one = b;
	if (b < end && b->n + n <= BATCH_GLYPHS)
		return b;
	if (b < end || free_one == NULL) {
		flush(p);
		free_one = p->batch;
	}
	free_one->font = cairo_scaled_font_reference(sf);
	free_one->rgb = rgb;
	return free_one;
}

static void
batch_add(struct batch *b, unsigned long glyph, double x, double y)
{
	b->g[b->n].index = glyph;
	b->g[b->n].x = x;
	b->g[b->n++].y = y;
}

/*
 * Text of a plain style drawn without pango, when the style's first font
 * has every glyph and it fits: figures are most of the cells and need no
 * shaping, and laying them out with pango costs several times as much.
 * False: use pango.
 */
static bool
plain_text(struct pdf *p, enum style s, double x, double y, double w, PangoAlignment align, uint32_t rgb,
    const char *str)
{
	cairo_scaled_font_t *sf;
	cairo_glyph_t *g = NULL;
	cairo_text_extents_t ext;
	struct batch *b;
	bool ok = false;
	int n = 0;

	if (p->font[s] == NULL)
		return false;
	sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(p->font[s]));
	if (sf == NULL || cairo_scaled_font_text_to_glyphs(sf, 0, 0, str, -1, &g, &n, NULL, NULL, NULL) !=
	    CAIRO_STATUS_SUCCESS)
		return false;
	/* Glyph 0 is a character the font lacks: pango knows where else to find it. */
	for (int i = 0; i < n; i++)
		if (g[i].index == 0)
			goto out;
	cairo_scaled_font_glyph_extents(sf, g, n, &ext);
	if (ext.x_advance > w || n > BATCH_GLYPHS)
		goto out;
	x += align == PANGO_ALIGN_RIGHT ? w - ext.x_advance : align == PANGO_ALIGN_CENTER ?
	    (w - ext.x_advance) / 2 : 0;
	b = batch_for(p, sf, rgb, n);
	for (int i = 0; i < n; i++)
		batch_add(b, g[i].index, g[i].x + x, g[i].y + y);
	ok = true;
out:
	cairo_glyph_free(g);
	return ok;
}

/*
 * A run shaped a glyph per character, in order, in Latin or common script:
 * the font's cmap maps each glyph back to its character, which is how the
 * PDF's ToUnicode map gives the text back to copy and search.
 */
static bool
simple_run(const PangoGlyphItem *run)
{
	const PangoGlyphString *gs = run->glyphs;
	PangoScript sc = (PangoScript)run->item->analysis.script;

	if ((sc != PANGO_SCRIPT_LATIN && sc != PANGO_SCRIPT_COMMON) ||
	    gs->num_glyphs != run->item->num_chars || gs->num_glyphs > BATCH_GLYPHS)
		return false;
	for (int i = 0; i < gs->num_glyphs; i++) {
		PangoGlyph glyph = gs->glyphs[i].glyph;

		if ((glyph & PANGO_GLYPH_UNKNOWN_FLAG) || glyph == PANGO_GLYPH_EMPTY ||
		    (i > 0 && gs->log_clusters[i] <= gs->log_clusters[i - 1]))
			return false;
	}
	return true;
}

/*
 * Draw a laid out line with its top left at (x, y). Simple runs join the
 * batches; runs shaped into conjuncts, ligatures, contextual forms or right
 * to left are drawn at once with their clusters, so that copy and search
 * still find the characters.
 */
static void
show_layout(struct pdf *p, PangoLayout *l, double x, double y, uint32_t rgb)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	const char *str = pango_layout_get_text(l);

	do {
		PangoGlyphItem *run = pango_layout_iter_get_run_readonly(it);
		cairo_scaled_font_t *sf;
		PangoRectangle log;
		struct batch *b;
		double gx, by;

		if (run == NULL)
			continue;
		pango_layout_iter_get_run_extents(it, NULL, &log);
		gx = x + (double)log.x / PANGO_SCALE;
		by = y + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
		if (!simple_run(run)) {
			set_rgb(p, rgb);
			cairo_move_to(p->cr, gx, by);
			pango_cairo_show_glyph_item(p->cr, str, run);
			continue;
		}
		sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(run->item->analysis.font));
		b = batch_for(p, sf, rgb, run->glyphs->num_glyphs);
		for (int i = 0; i < run->glyphs->num_glyphs; i++) {
			const PangoGlyphInfo *gi = &run->glyphs->glyphs[i];

			batch_add(b, gi->glyph, gx + (double)gi->geometry.x_offset / PANGO_SCALE,
			    by + (double)gi->geometry.y_offset / PANGO_SCALE);
			gx += (double)gi->geometry.width / PANGO_SCALE;
		}
	} while (pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
}

/*
 * One line of text with its baseline at y, in a box of width w starting at
 * x: ellipsized when it does not fit, or scaled down for a figure style.
 * Cells are placed by baseline rather than by top so that a Devanagari name
 * (taller fallback font) sits on the same line as the figures next to it.
 *
 * Glyphs are collected and drawn a page at a time in a few long runs, one
 * per font and colour, rather than a run per cell: that halves the time
 * cairo spends writing the PDF. They land on top of the page's fills and
 * rules, which is where text goes anyway.
 */
static void
text(struct pdf *p, enum style s, double x, double y, double w, PangoAlignment align, uint32_t rgb,
    const char *str)
{
	PangoLayout *l = p->lay[s];
	char *valid = NULL;
	double k = 1, tw;
	int lw;

	if (!p->draw || str == NULL || *str == '\0')
		return;
	/* pango would complain on stderr about bad UTF-8; names come from outside. */
	if (!g_utf8_validate(str, -1, NULL))
		str = valid = g_utf8_make_valid(str, -1);
	if (plain_text(p, s, x, y, w, align, rgb, str))
		goto out;
	if (styles[s].figure) {
		pango_layout_set_text(l, str, -1);
		pango_layout_get_size(l, &lw, NULL);
		tw = (double)lw / PANGO_SCALE;
		k = tw > w ? w / tw : 1;
		x += align == PANGO_ALIGN_RIGHT ? w - tw * k : align == PANGO_ALIGN_CENTER ? (w - tw * k) / 2 : 0;
	} else {
		pango_layout_set_width(l, (int)(w * PANGO_SCALE));
		pango_layout_set_alignment(l, align);
		pango_layout_set_text(l, str, -1);
	}
	if (k == 1) {
		show_layout(p, l, x, y - (double)pango_layout_get_baseline(l) / PANGO_SCALE, rgb);
		goto out;
	}
	/* A figure too wide for its box, drawn smaller. */
	set_rgb(p, rgb);
	cairo_save(p->cr);
	cairo_translate(p->cr, x, y);
	cairo_scale(p->cr, k, k);
	cairo_move_to(p->cr, 0, -(double)pango_layout_get_baseline(l) / PANGO_SCALE);
	pango_cairo_show_layout(p->cr, l);
	cairo_restore(p->cr);
out:
	g_free(valid);
}

/* "22 Nov" or "22 Nov 2026". */
static void
date_str(int32_t day, bool year, char *buf, size_t len)
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

/* "16 Nov – 22 Nov 2026", or "Sunday, 22 Nov 2026" for a single day. */
static void
range_str(const struct period *pd, char *buf, size_t len)
{
	static const char *const wdays[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	    "Saturday", "Sunday" };
	char a[32], b[32];
	int ya, yb, m, d;

	date_str(pd->last, true, b, sizeof b);
	if (pd->first == pd->last) {
		snprintf(buf, len, "%s, %s", wdays[period_weekday(pd->last) - 1], b);
		return;
	}
	period_civil_from_day(pd->first, &ya, &m, &d);
	period_civil_from_day(pd->last, &yb, &m, &d);
	date_str(pd->first, ya != yb, a, sizeof a);
	snprintf(buf, len, "%s " EN_DASH " %s", a, b);
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

static char *
money(const struct pdf *p, int64_t minor, char *buf, size_t len)
{
	return numfmt_money(buf, len, minor, p->r->grouping, p->r->currency);
}

/*
 * A change as shown in a cell or on a card: arrow, signed percentage (or
 * percentage points) and the colour to draw it in. Returns the colour.
 * neutral: a figure where up is neither good nor bad (cost).
 */
static uint32_t
change(char *buf, size_t len, enum report_growth g, int64_t tenths, bool pp, bool neutral)
{
	char num[NUMFMT_LEN];

	numfmt_growth(num, sizeof num, g, tenths);
	if (g != REPORT_GROWTH_PCT) {
		snprintf(buf, len, "%s", num);
		return g == REPORT_GROWTH_NEW ? ACCENT : MUTED;
	}
	if (pp)
		numfmt_points(num, sizeof num, tenths);
	snprintf(buf, len, "%s%s", tenths > 0 ? UP_ARROW : tenths < 0 ? DOWN_ARROW : "", num);
	if (neutral || tenths == 0)
		return MUTED;
	return tenths > 0 ? UP : DOWN;
}

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

	*rgb = INK;
	buf[0] = '\0';
	switch (c) {
	case C_RANK:
		*rgb = MUTED;
		return rank == 0 ? "" : numfmt_count(buf, len, (int64_t)rank, r->grouping);
	case C_NAME:
		return row->name;
	case C_ID:
		*rgb = MUTED;
		return row->id;
	case C_ORDERS:
		return numfmt_count(buf, len, row->orders, r->grouping);
	case C_QTY:
		return numfmt_quantity(buf, len, row->quantity, r->grouping);
	case C_SALES:
		/* Nothing sold now against something before: the 0 itself is the warning. */
		if (row->sales == 0 && row->b_sales > 0)
			*rgb = DOWN;
		return money(p, row->sales, buf, len);
	case C_AOV:
		return row->orders == 0 ? EM_DASH : money(p, report_aov(row), buf, len);
	case C_PROFIT:
		return money(p, row->sales - row->cost, buf, len);
	case C_SHARE:
		return report_pct(row->sales, r->total.sales, &t) ? numfmt_pct(buf, len, t, 0) : EM_DASH;
	case C_MARGIN:
		return report_pct(row->sales - row->cost, row->sales, &t) ? numfmt_pct(buf, len, t, 0) : EM_DASH;
	case C_D_ORDERS:
	case C_D_SALES:
	case C_D_AOV:
		/* Without orders there is no AOV to compare. */
		if (c == C_D_AOV && row->orders == 0)
			return buf;
		g = c == C_D_AOV ? report_aov_growth(row, &t) : c == C_D_ORDERS ?
		    report_growth(row->orders, row->b_orders, r->base_windows, &t) :
		    report_growth(row->sales, row->b_sales, r->base_windows, &t);
		*rgb = change(buf, len, g, t, false, false);
		return buf;
	case C_D_MARGIN:
		if (report_margin_change(row, &t))
			*rgb = change(buf, len, REPORT_GROWTH_PCT, t, true, false);
		return buf;
	case C_END:
		break;
	}
	return buf;
}

/* The page header and footer, drawn when the page is done. */
static void
furniture(struct pdf *p)
{
	char pages[64];
	double half = CONTENT_W / 2;

	text(p, S_HEAD, MARGIN, 32, half - 8, PANGO_ALIGN_LEFT, INK, p->r->company);
	text(p, S_SMALL, MARGIN + half, 32, half, PANGO_ALIGN_RIGHT, MUTED, p->title);
	hline(p, MARGIN, 39, CONTENT_W, 0.6, RULE);
	hline(p, MARGIN, PAGE_H - 42, CONTENT_W, 0.6, RULE);
	snprintf(pages, sizeof pages, "Page %d of %d", p->page, p->npages);
	text(p, S_SMALL, MARGIN, PAGE_H - 30, CONTENT_W - 80, PANGO_ALIGN_LEFT, MUTED, p->basis);
	text(p, S_SMALLNUM, MARGIN + CONTENT_W - 80, PAGE_H - 30, 80, PANGO_ALIGN_RIGHT, MUTED, pages);
}

static void
page_finish(struct pdf *p)
{
	if (!p->draw)
		return;
	furniture(p);
	flush(p);
	cairo_show_page(p->cr);
}

/* Start a new page unless h more points fit below the cursor; true when it did. */
static bool
need(struct pdf *p, double h)
{
	if (p->y + h <= BOTTOM)
		return false;
	page_finish(p);
	p->page++;
	p->y = TOP;
	return true;
}

/* A section heading with an optional note on the right, at the cursor. */
static void
heading(struct pdf *p, const char *title, const char *note)
{
	text(p, S_H2, MARGIN, p->y + 14, CONTENT_W * 0.6, PANGO_ALIGN_LEFT, INK, title);
	text(p, S_SMALL, MARGIN + CONTENT_W * 0.6, p->y + 14, CONTENT_W * 0.4, PANGO_ALIGN_RIGHT, MUTED,
	    note);
	p->y += HEADING_H;
}

static void
rounded_rect(struct pdf *p, double x, double y, double w, double h, double rad, uint32_t rgb)
{
	if (!p->draw)
		return;
	cairo_new_sub_path(p->cr);
	cairo_arc(p->cr, x + w - rad, y + rad, rad, -PI / 2, 0);
	cairo_arc(p->cr, x + w - rad, y + h - rad, rad, 0, PI / 2);
	cairo_arc(p->cr, x + rad, y + h - rad, rad, PI / 2, PI);
	cairo_arc(p->cr, x + rad, y + rad, rad, PI, 3 * PI / 2);
	cairo_close_path(p->cr);
	set_rgb(p, rgb);
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
		snprintf(p->title, sizeof p->title, "%s " EM_DASH " %s", kind[k], r->period_name);
	else
		snprintf(p->title, sizeof p->title, "%s %s " EM_DASH " %s", kind[k], r->period_name, scope);
	range_str(&r->base, range, sizeof range);
	snprintf(p->basis, sizeof p->basis, "Amounts in %s. Changes compare with the %s average of the "
	    "%u %ss before (%s).", r->currency, adj[k], r->base_windows, unit[k], range);
}

static void
title_block(struct pdf *p)
{
	char range[96];

	range_str(&p->r->period, range, sizeof range);
	text(p, S_H1, MARGIN, p->y + 18, CONTENT_W, PANGO_ALIGN_LEFT, INK, p->title);
	text(p, S_LEAD, MARGIN, p->y + 36, CONTENT_W, PANGO_ALIGN_LEFT, MUTED, range);
	p->y += 50;
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
	rounded_rect(p, MARGIN, p->y, CONTENT_W, 44, 4, NOTE);
	text(p, S_LEAD, MARGIN + 12, p->y + 18, CONTENT_W - 24, PANGO_ALIGN_LEFT, INK, line);
	text(p, S_SMALL, MARGIN + 12, p->y + 33, CONTENT_W - 24, PANGO_ALIGN_LEFT, MUTED,
	    "Nothing was sold in this period. The figures below compare it with the baseline.");
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
		money(p, cur, c->value, sizeof c->value);
	else
		numfmt_count(c->value, sizeof c->value, cur, r->grouping);
	c->rgb = change(c->delta, sizeof c->delta, g, t, false, neutral);
	if (base_num == 0 || base_den == 0) {
		snprintf(c->base, sizeof c->base, "no baseline");
		return;
	}
	if (is_money)
		money(p, b, avg, sizeof avg);
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
			snprintf(c[2].value, sizeof c[2].value, EM_DASH);
			c[2].delta[0] = '\0';
		}
		n = 3;
	} else {
		card_set(p, &c[1], "Cost", true, t->cost, t->b_cost, w, true);
		card_set(p, &c[2], "Profit", true, t->sales - t->cost, t->b_sales - t->b_cost, w, false);
		c[3].label = "Margin";
		c[3].rgb = MUTED;
		snprintf(c[3].value, sizeof c[3].value, EM_DASH);
		if (report_pct(t->sales - t->cost, t->sales, &m))
			numfmt_pct(c[3].value, sizeof c[3].value, m, 0);
		snprintf(c[3].base, sizeof c[3].base, "no baseline");
		if (report_pct(t->b_sales - t->b_cost, t->b_sales, &m))
			snprintf(c[3].base, sizeof c[3].base, "baseline %s", numfmt_pct(pct, sizeof pct, m, 0));
		if (report_margin_change(t, &m))
			c[3].rgb = change(c[3].delta, sizeof c[3].delta, REPORT_GROWTH_PCT, m, true, false);
		n = 4;
	}
	/* Four cards go two by two: a money figure needs the width. */
	across = n == 4 ? 2 : n;
	lines = (n + across - 1) / across;
	cw = (CONTENT_W - gap * (double)(across - 1)) / (double)across;
	need(p, (CARD_H + gap) * (double)lines - gap);
	for (size_t i = 0; i < n; i++) {
		double x = MARGIN + (double)(i % across) * (cw + gap);
		double y = p->y + (double)(i / across) * (CARD_H + gap);

		rounded_rect(p, x, y, cw, CARD_H, 5, PANEL);
		text(p, S_HEAD, x + 10, y + 15, cw - 20, PANGO_ALIGN_LEFT, MUTED, c[i].label);
		text(p, S_CARD, x + 10, y + 37, cw - 20, PANGO_ALIGN_LEFT, INK, c[i].value);
		text(p, S_BOLDNUM, x + 10, y + 50, cw - 20, PANGO_ALIGN_LEFT, c[i].rgb, c[i].delta);
		text(p, S_SMALL, x + 10, y + 61, cw - 20, PANGO_ALIGN_LEFT, MUTED, c[i].base);
	}
	p->y += (CARD_H + gap) * (double)lines - gap + GAP;
}

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

/* Daily: the company's sales of the last 30 days as a line, the baseline week shaded. */
static void
trend(struct pdf *p)
{
	const struct report *r = p->r;
	const double x1 = MARGIN + CONTENT_W - 8;
	struct plot pl = { .x0 = MARGIN + 62 };
	int64_t max = 0, step, avg = report_div_round(r->total.b_sales, r->base_windows);
	char buf[NUMFMT_LEN];
	size_t n = r->ntrend;
	double ty;

	if (n < 2)
		return;
	need(p, HEADING_H + TREND_H);
	heading(p, "Daily sales, last 30 days", "shaded: the baseline days; dashed: their average");
	pl.top = p->y + 6;
	pl.bot = p->y + TREND_H - 26;
	p->y += TREND_H + GAP;
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
			fill_rect(p, plot_x(&pl, i) - pl.dx / 2, pl.top, pl.dx, pl.bot - pl.top, ACCENT_LIGHT);
	for (int64_t v = 0; v <= pl.ymax; v += step) {
		hline(p, pl.x0, plot_y(&pl, v), x1 - pl.x0, v == 0 ? 0.8 : 0.4, v == 0 ? MUTED : RULE);
		text(p, S_SMALLNUM, MARGIN, plot_y(&pl, v) + 2.5, pl.x0 - MARGIN - 6, PANGO_ALIGN_RIGHT, MUTED,
		    money_short(p, v, buf, sizeof buf));
	}
	/* Every 7th day back from the last, centred under its point but inside the margin. */
	for (size_t i = 0; i < n; i++)
		if ((n - 1 - i) % 7 == 0) {
			double lx = plot_x(&pl, i) - 30, edge = MARGIN + CONTENT_W - 60;

			date_str(r->trend[i].day, false, buf, sizeof buf);
			text(p, S_SMALLNUM, lx < edge ? lx : edge, pl.bot + 12, 60, lx < edge ? PANGO_ALIGN_CENTER :
			    PANGO_ALIGN_RIGHT, MUTED, buf);
		}
	/* The baseline average, dashed, so that today's point reads against it. */
	cairo_set_dash(p->cr, (const double[]){ 3, 2 }, 2, 0);
	hline(p, pl.x0, plot_y(&pl, avg), x1 - pl.x0, 0.8, MUTED);
	cairo_set_dash(p->cr, NULL, 0, 0);
	cairo_move_to(p->cr, plot_x(&pl, 0), plot_y(&pl, r->trend[0].sales));
	for (size_t i = 1; i < n; i++)
		cairo_line_to(p->cr, plot_x(&pl, i), plot_y(&pl, r->trend[i].sales));
	cairo_set_line_join(p->cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_line_width(p->cr, 1.6);
	set_rgb(p, ACCENT);
	cairo_stroke(p->cr);
	for (size_t i = 0; i < n; i++) {
		cairo_arc(p->cr, plot_x(&pl, i), plot_y(&pl, r->trend[i].sales), i == n - 1 ? 3.2 : 1.6, 0,
		    2 * PI);
		cairo_fill(p->cr);
	}
	/* The last day's figure above its point, kept inside the plot. */
	ty = plot_y(&pl, r->trend[n - 1].sales) - 7;
	text(p, S_BOLDNUM, x1 - 140, ty < pl.top + 8 ? pl.top + 8 : ty, 136, PANGO_ALIGN_RIGHT, INK,
	    money_short(p, r->trend[n - 1].sales, buf, sizeof buf));
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
	text(p, S_H2, x, y + 14, w, PANGO_ALIGN_LEFT, INK, title);
	y += HEADING_H;
	for (size_t k = 0; k < n; k++) {
		const struct report_row *row = &t->rows[k];
		double len = row->sales > 0 ? bw * (double)row->sales / (double)max : 0;
		double base = y + BAR_H * (double)k;

		text(p, S_BODY, x, base + 8.5, label_w, PANGO_ALIGN_LEFT, INK, row->name);
		fill_rect(p, bx, base + 2, len, BAR_H - 4, ACCENT);
		text(p, S_SMALLNUM, bx + len + 4, base + 8.5, val_w, PANGO_ALIGN_LEFT,
		    row->sales == 0 && row->b_sales > 0 ? DOWN : MUTED, money_short(p, row->sales, buf, sizeof buf));
	}
}

/* Daily: the top stores by sales; weekly and monthly: top brands and sub-categories side by side. */
static void
charts(struct pdf *p)
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
	w = n == 1 ? CONTENT_W : (CONTENT_W - 24) / 2;
	for (size_t i = 0; i < n; i++) {
		double th = HEADING_H + BAR_H * (double)(t[i]->n < top ? t[i]->n : top);

		h = th > h ? th : h;
		snprintf(title[i], sizeof title[i], "Top %zu %s by sales", t[i]->n < top ? t[i]->n : top,
		    dims[t[i]->dim].many);
	}
	need(p, h);
	for (size_t i = 0; i < n; i++)
		bars(p, MARGIN + (double)i * (w + 24), p->y, w, title[i], t[i], top);
	p->y += h + GAP;
}

/* Lay t's columns out across the content width; the name column takes what is left. */
static void
grid_init(const struct pdf *p, const struct report_table *t, struct grid *g)
{
	const enum col *src;
	bool ids = false;
	double fixed = 0, x = MARGIN;

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
		g->w[i] = cols[g->col[i]].width > 0 ? cols[g->col[i]].width : CONTENT_W - fixed;
		x += g->w[i];
	}
	g->name = dims[t->dim].one;
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
		text(p, S_HEAD, g->x[i] + CELL_PAD, p->y + 11, g->w[i] - 2 * CELL_PAD,
		    col_left(g->col[i]) ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, MUTED,
		    cols[g->col[i]].title ? cols[g->col[i]].title : g->name);
	hline(p, MARGIN, p->y + HEADER_H - 2, CONTENT_W, 0.8, MUTED);
	p->y += HEADER_H;
}

/* One row of a table; total: the bold total row under a rule. */
static void
table_row(struct pdf *p, const struct grid *g, const struct report_row *row, size_t rank, bool zebra,
    bool total)
{
	char buf[NUMFMT_LEN + 8];

	if (zebra)
		fill_rect(p, MARGIN, p->y, CONTENT_W, ROW_H, ZEBRA);
	if (total)
		hline(p, MARGIN, p->y, CONTENT_W, 0.8, MUTED);
	for (size_t i = 0; i < g->n && p->draw; i++) {
		bool left = col_left(g->col[i]);
		uint32_t rgb;
		const char *s = cell(p, row, rank, g->col[i], buf, sizeof buf, &rgb);

		text(p, g->col[i] == C_NAME ? total ? S_BOLD : S_BODY : g->col[i] == C_ID ? S_CODE :
		    total ? S_BOLDNUM : S_NUM, g->x[i] + CELL_PAD,
		    p->y + 9.5, g->w[i] - 2 * CELL_PAD, left ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, rgb, s);
	}
	p->y += ROW_H;
}

/*
 * A table in the model's order. A page break repeats the heading (marked
 * as continued) and the header row. The stores table ends with the total,
 * since it holds every store.
 */
static void
table(struct pdf *p, const struct report_table *t)
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
	need(p, HEADING_H + HEADER_H + ROW_H * (double)(rows < 3 ? rows : 3));
	heading(p, title, note);
	header_row(p, &g);
	for (size_t k = 0; k < rows; k++) {
		bool is_total = k == t->n;

		if (need(p, ROW_H)) {
			heading(p, cont, "");
			header_row(p, &g);
		}
		table_row(p, &g, is_total ? &r->total : &t->rows[k], is_total ? 0 : k + 1, k % 2 == 1,
		    is_total);
	}
	hline(p, MARGIN, p->y, CONTENT_W, 0.6, RULE);
	p->y += GAP;
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
	p->y = TOP;
	title_block(p);
	if (empty)
		empty_note(p);
	cards(p);
	if (r->kind == REPORT_DAILY)
		trend(p);
	/* An empty period has rows only for what sold in the baseline: no tables, no bars. */
	if (!empty) {
		charts(p);
		for (size_t i = 0; i < UTIL_NELEM(order); i++)
			if (r->tables[order[i]].present && r->tables[order[i]].n > 0)
				table(p, &r->tables[order[i]]);
	}
	page_finish(p);
}

/*
 * The font pango picks first for fd, for plain_text() to draw with; or NULL.
 * For figures, only when its plain digits are all of one width: that is
 * what "tnum" asks of pango, and plain_text() applies no font features.
 */
static PangoFont *
plain_font(PangoContext *ctx, const PangoFontDescription *fd, bool tabular)
{
	PangoFont *f = pango_context_load_font(ctx, fd);
	cairo_scaled_font_t *sf = f ? pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(f)) : NULL;
	cairo_glyph_t *g = NULL;
	int n = 0;
	bool even = sf != NULL && (!tabular || (cairo_scaled_font_text_to_glyphs(sf, 0, 0, "0123456789",
	    -1, &g, &n, NULL, NULL, NULL) == CAIRO_STATUS_SUCCESS && n == 10));

	for (int i = 2; i < n && even; i++)
		even = g[i].x - g[i - 1].x == g[1].x - g[0].x;
	cairo_glyph_free(g);
	if (!even && f != NULL) {
		g_object_unref(f);
		f = NULL;
	}
	return f;
}

/* One layout per style, sharing the context; set up once, reused for every cell. */
static void
layouts_new(struct pdf *p, PangoContext *ctx)
{
	for (size_t s = 0; s < S_NSTYLES; s++) {
		PangoFontDescription *fd = pango_font_description_new();
		PangoLayout *l = pango_layout_new(ctx);

		pango_font_description_set_family(fd, FAMILIES);
		pango_font_description_set_absolute_size(fd, styles[s].size * PANGO_SCALE);
		pango_font_description_set_weight(fd, styles[s].bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
		pango_layout_set_font_description(l, fd);
		if (styles[s].plain)
			p->font[s] = plain_font(ctx, fd, styles[s].figure);
		pango_font_description_free(fd);
		/* One line per cell; RTL names keep the column's alignment. */
		pango_layout_set_single_paragraph_mode(l, TRUE);
		pango_layout_set_ellipsize(l, styles[s].figure ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_END);
		pango_layout_set_auto_dir(l, FALSE);
		if (styles[s].figure) {
			PangoAttrList *al = pango_attr_list_new();

			pango_attr_list_insert(al, pango_attr_font_features_new("tnum"));
			pango_layout_set_attributes(l, al);
			pango_attr_list_unref(al);
		}
		p->lay[s] = l;
	}
}

/*
 * A font map of font_files alone, through a fontconfig configuration of
 * our own: no system rules to apply to every pattern and no sort over
 * every font on the machine when pango falls back to another script, which
 * took a fresh process's first report from 57 to 44 ms; and the same
 * fonts, so the same PDF, on every machine. Made per report, since a task
 * child renders one: reading the 22 files costs about 4 ms.
 *
 * NULL when a file is missing (another distribution) or fontconfig fails:
 * the caller then uses pango's default map, the system's fontconfig, since
 * a report in whatever fonts the machine has beats no report.
 */
static PangoFontMap *
fonts_new(void)
{
	FcConfig *fc;
	PangoFontMap *map = NULL;

	if ((fc = FcConfigCreate()) == NULL)
		return NULL;
	for (size_t i = 0; i < UTIL_NELEM(font_files); i++)
		if (!FcConfigAppFontAddFile(fc, (const FcChar8 *)font_files[i]))
			goto out;
	if (!FcConfigBuildFonts(fc))
		goto out;
	if ((map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT)) != NULL)
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), fc);
out:
	/* The map holds its own reference to fc. */
	FcConfigDestroy(fc);
	return map;
}

/*
 * Release a map from fonts_new(). Pango before 1.54 (Debian 12 has 1.50)
 * never drops the reference set_config took, which would leak the
 * configuration and its fonts, about 20 KB, with every report: detach it
 * first. Shut the map down before that, as its finalizer would, or the
 * detaching would rebuild its caches from the system's fonts (1 ms).
 */
static void
fonts_free(PangoFontMap *map)
{
	if (map == NULL)
		return;
	pango_fc_font_map_shutdown(PANGO_FC_FONT_MAP(map));
	pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), NULL);
	g_object_unref(map);
}

/* A PangoContext on map for PDF output: no hinting, positions not rounded to whole units. */
static PangoContext *
context_new(PangoFontMap *map)
{
	PangoContext *ctx = pango_font_map_create_context(map);
	cairo_font_options_t *fo = cairo_font_options_create();

	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(ctx, fo);
	cairo_font_options_destroy(fo);
	pango_context_set_round_glyph_positions(ctx, FALSE);
	return ctx;
}

int
pdf_render(const struct report *r, const char *path, char **cause)
{
	struct pdf p;
	struct sink out = { NULL, 0 };
	cairo_surface_t *surface = NULL;
	PangoFontMap *map = NULL;
	PangoContext *ctx = NULL;
	cairo_status_t st;
	int e = 0;

	memset(&p, 0, sizeof p);
	p.r = r;
	if ((p.batch = calloc(NBATCH, sizeof *p.batch)) == NULL) {
		e = util_fail(cause, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((out.fp = fopen(path, "wbe")) == NULL) {
		e = -errno;
		util_fail(cause, e, "%s: %s", path, strerror(-e));
		goto out;
	}
	surface = cairo_pdf_surface_create_for_stream(sink_write, &out, PAGE_W, PAGE_H);
	p.cr = cairo_create(surface);
	map = fonts_new();
	ctx = context_new(map != NULL ? map : pango_cairo_font_map_get_default());
	layouts_new(&p, ctx);
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
	for (size_t s = 0; s < S_NSTYLES; s++) {
		if (p.lay[s] != NULL)
			g_object_unref(p.lay[s]);
		if (p.font[s] != NULL)
			g_object_unref(p.font[s]);
	}
	if (ctx != NULL)
		g_object_unref(ctx);
	if (p.cr != NULL)
		cairo_destroy(p.cr);
	if (surface != NULL)
		cairo_surface_destroy(surface);
	fonts_free(map);
	free(p.batch);
	if (out.fp != NULL && fclose(out.fp) != 0 && e == 0) {
		e = -errno;
		util_fail(cause, e, "%s: %s", path, strerror(-e));
	}
	return e;
}
