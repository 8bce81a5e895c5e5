/*
 * pdf_text: text for the PDF renderer (pdf.c and its pieces): the fonts,
 * read from their files through a fontconfig configuration of the report's
 * own, one pango layout per text style, and glyphs drawn a page at a time.
 * The lowest piece of the PDF: it draws on a cairo context it is given and
 * knows nothing of reports or pages.
 */
#ifndef SALESD_PDF_TEXT_H
#define SALESD_PDF_TEXT_H

#include <stdint.h>

#include <cairo.h>
#include <pango/pangocairo.h>

/* The text styles of the report; their sizes and weights are pdf_text.c's. */
enum pdf_text_style {
	PDF_TEXT_BODY,          /* table cells */
	PDF_TEXT_NUM,           /* figures in cells */
	PDF_TEXT_BOLD,
	PDF_TEXT_BOLDNUM,
	PDF_TEXT_CODE,          /* product codes */
	PDF_TEXT_HEAD,          /* table headers and card labels */
	PDF_TEXT_SMALL,         /* footers and notes */
	PDF_TEXT_SMALLNUM,      /* axes and chart values */
	PDF_TEXT_LEAD,          /* the line under the title */
	PDF_TEXT_H2,            /* section headings */
	PDF_TEXT_H1,            /* the title */
	PDF_TEXT_CARD,          /* the large figure of a card */
	PDF_TEXT_NSTYLES,
};

struct pdf_text;

/*
 * The fonts and layouts for drawing on cr (borrowed: it must outlive the
 * result). The fonts are the files of pdf_text.c's list, or the system's
 * when one of them is missing. 0 and *out (free with pdf_text_free), or
 * -ENOMEM.
 */
int pdf_text_new(cairo_t *cr, struct pdf_text **out);
/* Release t; safe with NULL. Draws nothing: pdf_text_flush() first. */
void pdf_text_free(struct pdf_text *t);

/*
 * One line of str (UTF-8; invalid bytes are replaced) in style s, in colour
 * rgb (0xRRGGBB), with its baseline at y in a box of width w starting at x,
 * aligned in it: a name is ellipsized when it does not fit, a figure scaled
 * down. Most glyphs wait for pdf_text_flush(), so they land on top of
 * whatever the page draws meanwhile. NULL or "" draws nothing.
 */
void pdf_text_draw(struct pdf_text *t, enum pdf_text_style s, double x, double y, double w,
    PangoAlignment align, uint32_t rgb, const char *str);
/* Draw the glyphs that wait: before the page is shown. */
void pdf_text_flush(struct pdf_text *t);

/* Set cr's source to the colour rgb (0xRRGGBB), the form every piece of the PDF gives colours in. */
void pdf_text_set_rgb(cairo_t *cr, uint32_t rgb);

#endif
