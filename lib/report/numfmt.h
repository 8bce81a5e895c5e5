/*
 * numfmt: figures as people read them on a report. Money from integer minor
 * units with Indian (12,34,567.89) or Western (1,234,567.89) digit grouping,
 * counts and quantities grouped the same way, percentages from tenths. Pure
 * functions over caller buffers; the PDF, the e-mail body and the WhatsApp
 * caption all format through here so they agree to the digit.
 */
#ifndef SALESD_NUMFMT_H
#define SALESD_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

/* Large enough for any int64 with grouping, sign, decimals and a currency of up to 16 bytes. */
#define NUMFMT_LEN 64

/* "₹12,34,567.89" (currency may be "" or NULL; negative: "-₹1,234.00"). */
char *numfmt_money(char *buf, size_t len, int64_t minor, enum report_grouping g, const char *currency);
/* "12,34,567" */
char *numfmt_count(char *buf, size_t len, int64_t n, enum report_grouping g);
/* Thousandths as "1,234" when whole, else up to 3 decimals without trailing zeros: "12.5". */
char *numfmt_quantity(char *buf, size_t len, int64_t thousandths, enum report_grouping g);
/* Tenths of a percent as "12.3%" (explicit sign when sign is non-zero: "+12.3%", "-4.0%"). */
char *numfmt_pct(char *buf, size_t len, int64_t tenths, int sign);
/* Tenths of a percentage point, signed: "+1.2 pp", "-0.3 pp", "0.0 pp" (a change of a margin). */
char *numfmt_points(char *buf, size_t len, int64_t tenths);
/* A growth for a table cell: "+12.3%", "-4.0%", "new" or "" (REPORT_GROWTH_NONE). */
char *numfmt_growth(char *buf, size_t len, enum report_growth g, int64_t tenths);

/*
 * The headline figures of a report, formatted once for an e-mail's subject
 * and bodies and a WhatsApp caption: sales, growth against the baseline
 * ("n/a" without one), profit, margin and its change, and the baseline's words.
 */
struct numfmt_headline {
	char sales[NUMFMT_LEN], growth[NUMFMT_LEN], profit[NUMFMT_LEN], margin[NUMFMT_LEN];
	char margin_change[NUMFMT_LEN], base[64];
};

void numfmt_headline(const struct report *r, struct numfmt_headline *h);

/*
 * "Name (+12.3%)" of the store with the highest (best) or lowest growth
 * against its baseline, "n/a" when no store has a growth; cut between
 * characters to fit len.
 */
void numfmt_extreme_store(const struct report *r, bool best, char *buf, size_t len);

/*
 * The Dropped list of table t under its heading (the PDF's and the
 * workbook's words): "Dropped: 3 of the baseline's top 50 brands sold
 * nothing in 2026-W42", or "Dropped: 1 of the baseline's stores sold
 * nothing in 2026-11" for a table without a cut; and "and 2 more" when it
 * names fewer keys than dropped ("" otherwise).
 */
char *numfmt_dropped_title(char *buf, size_t len, const struct report *r, const struct report_table *t);
char *numfmt_dropped_more(char *buf, size_t len, const struct report *r, const struct report_table *t);

#endif
