/*
 * pdf_text: the report's text in the PDF (see pdf_text.h): its fonts, one
 * pango layout per text style, and glyphs collected and drawn a page at a
 * time.
 *
 * Text goes through pango for shaping, font fallback (Devanagari, Tamil and
 * Arabic names come from the Noto fonts) and ellipsis, with one PangoLayout
 * per text style reused for every cell: a layout per cell would cost more
 * than the rest of the page. Names are user data and set as plain text,
 * never as markup.
 *
 * Speed (a store's report is a few hundred table rows; hundreds of stores
 * render in one run): figures and codes, which need no shaping, skip pango
 * when the font has their glyphs, and glyphs are handed to cairo a page at
 * a time, one run per font and colour, rather than per cell. Together that
 * cuts the time per report to about a third (pdf_text_draw(), plain_text(),
 * show_layout()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include "report/pdf_text.h"
#include "base/util.h"

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
} styles[PDF_TEXT_NSTYLES] = {
	[PDF_TEXT_BODY] = { 7.5, false, false, false },
	[PDF_TEXT_NUM] = { 7.5, false, true, true },
	[PDF_TEXT_BOLD] = { 7.5, true, false, false },
	[PDF_TEXT_BOLDNUM] = { 7.5, true, true, true },
	[PDF_TEXT_CODE] = { 7.5, false, false, true },
	[PDF_TEXT_HEAD] = { 7.0, true, false, false },
	[PDF_TEXT_SMALL] = { 7.0, false, false, false },
	[PDF_TEXT_SMALLNUM] = { 7.0, false, true, true },
	[PDF_TEXT_LEAD] = { 9.5, false, false, false },
	[PDF_TEXT_H2] = { 11.5, true, false, false },
	[PDF_TEXT_H1] = { 17.0, true, false, false },
	[PDF_TEXT_CARD] = { 16.0, true, true, true },
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

/* Fonts, one layout per style, and the glyphs waiting to be drawn. */
struct pdf_text {
	cairo_t *cr;                    /* borrowed */
	PangoFontMap *map;              /* fonts_new()'s; NULL: pango's default map */
	PangoContext *ctx;
	PangoLayout *lay[PDF_TEXT_NSTYLES];
	PangoFont *font[PDF_TEXT_NSTYLES];      /* plain styles: the first font, when plain_text() may use it */
	struct batch batch[NBATCH];
};

void
pdf_text_set_rgb(cairo_t *cr, uint32_t rgb)
{
	cairo_set_source_rgb(cr, (rgb >> 16 & 0xff) / 255.0, (rgb >> 8 & 0xff) / 255.0,
	    (rgb & 0xff) / 255.0);
}

/* Room for n glyphs of font sf in colour rgb, drawing what waits when there is none. */
static struct batch *
batch_for(struct pdf_text *t, cairo_scaled_font_t *sf, uint32_t rgb, int n)
{
	struct batch *b, *end = t->batch + NBATCH, *free_one = NULL;

	for (b = t->batch; b < end && !(b->n > 0 && b->font == sf && b->rgb == rgb); b++)
		if (b->n == 0 && free_one == NULL)
			free_one = b;
	if (b < end && b->n + n <= BATCH_GLYPHS)
		return b;
	if (b < end || free_one == NULL) {
		pdf_text_flush(t);
		free_one = t->batch;
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
plain_text(struct pdf_text *t, enum pdf_text_style s, double x, double y, double w, PangoAlignment align,
    uint32_t rgb, const char *str)
{
	cairo_scaled_font_t *sf;
	cairo_glyph_t *g = NULL;
	cairo_text_extents_t ext;
	struct batch *b;
	bool ok = false;
	int n = 0;

	if (t->font[s] == NULL)
		return false;
	sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(t->font[s]));
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
	b = batch_for(t, sf, rgb, n);
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
show_layout(struct pdf_text *t, PangoLayout *l, double x, double y, uint32_t rgb)
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
			pdf_text_set_rgb(t->cr, rgb);
			cairo_move_to(t->cr, gx, by);
			pango_cairo_show_glyph_item(t->cr, str, run);
			continue;
		}
		sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(run->item->analysis.font));
		b = batch_for(t, sf, rgb, run->glyphs->num_glyphs);
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
void
pdf_text_draw(struct pdf_text *t, enum pdf_text_style s, double x, double y, double w,
    PangoAlignment align, uint32_t rgb, const char *str)
{
	PangoLayout *l = t->lay[s];
	char *valid = NULL;
	double k = 1, tw;
	int lw;

	if (str == NULL || *str == '\0')
		return;
	/* pango would complain on stderr about bad UTF-8; names come from outside. */
	if (!g_utf8_validate(str, -1, NULL))
		str = valid = g_utf8_make_valid(str, -1);
	if (plain_text(t, s, x, y, w, align, rgb, str))
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
		show_layout(t, l, x, y - (double)pango_layout_get_baseline(l) / PANGO_SCALE, rgb);
		goto out;
	}
	/* A figure too wide for its box, drawn smaller. */
	pdf_text_set_rgb(t->cr, rgb);
	cairo_save(t->cr);
	cairo_translate(t->cr, x, y);
	cairo_scale(t->cr, k, k);
	cairo_move_to(t->cr, 0, -(double)pango_layout_get_baseline(l) / PANGO_SCALE);
	pango_cairo_show_layout(t->cr, l);
	cairo_restore(t->cr);
out:
	g_free(valid);
}

void
pdf_text_flush(struct pdf_text *t)
{
	for (struct batch *b = t->batch; b < t->batch + NBATCH; b++) {
		if (b->n == 0)
			continue;
		cairo_set_scaled_font(t->cr, b->font);
		pdf_text_set_rgb(t->cr, b->rgb);
		cairo_show_glyphs(t->cr, b->g, b->n);
		cairo_scaled_font_destroy(b->font);
		b->font = NULL;
		b->n = 0;
	}
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
layouts_new(struct pdf_text *t, PangoContext *ctx)
{
	for (size_t s = 0; s < PDF_TEXT_NSTYLES; s++) {
		PangoFontDescription *fd = pango_font_description_new();
		PangoLayout *l = pango_layout_new(ctx);

		pango_font_description_set_family(fd, FAMILIES);
		pango_font_description_set_absolute_size(fd, styles[s].size * PANGO_SCALE);
		pango_font_description_set_weight(fd, styles[s].bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
		pango_layout_set_font_description(l, fd);
		if (styles[s].plain)
			t->font[s] = plain_font(ctx, fd, styles[s].figure);
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
		t->lay[s] = l;
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
pdf_text_new(cairo_t *cr, struct pdf_text **out)
{
	struct pdf_text *t;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return -ENOMEM;
	t->cr = cr;
	t->map = fonts_new();
	t->ctx = context_new(t->map != NULL ? t->map : pango_cairo_font_map_get_default());
	layouts_new(t, t->ctx);
	*out = t;
	return 0;
}

void
pdf_text_free(struct pdf_text *t)
{
	if (t == NULL)
		return;
	for (size_t s = 0; s < PDF_TEXT_NSTYLES; s++) {
		if (t->lay[s] != NULL)
			g_object_unref(t->lay[s]);
		if (t->font[s] != NULL)
			g_object_unref(t->font[s]);
	}
	if (t->ctx != NULL)
		g_object_unref(t->ctx);
	fonts_free(t->map);
	free(t);
}
