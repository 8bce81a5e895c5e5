/*
 * correction: whether a report that went out must be corrected, and which
 * version of a delivery a sender begins (docs/email.md "Corrections").
 *
 * A report rendered again with other figures (the POS system restated a day)
 * is compared store by store with what the latest delivery to a recipient
 * carried (the ledger's figures against the manifest's stores). A store's
 * sales "moved" when they changed by at least one currency unit (100 minor
 * units) and by at least [report] correction_threshold of what was sent; a
 * store on one side only counts as 0 on the other. Any store moved: the
 * recipient gets a correction, the next version of the delivery, once.
 * Nothing moved: nothing is sent. The rule is the same for every channel.
 *
 * Blocking (libpq): task children only.
 */
#ifndef SALESD_CORRECTION_H
#define SALESD_CORRECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "deliver/delivery.h"
#include "report/manifest.h"

/* A percentage such as "0.5%" as millionths (5000); -EINVAL when it is not one from 0% to 100%. */
int correction_threshold(const char *percent, int64_t *millionths);

/* Whether sales that were before are materially different now: by 100 minor units and the threshold. */
bool correction_moved(int64_t before, int64_t after, int64_t millionths);

/* One store whose sales moved. */
struct correction_line {
	char *store;
	int64_t before, after;  /* minor units; 0 for a store on one side only */
};

/* What a sender does for one recipient, as correction_plan decides it. */
struct correction_plan {
	int version;            /* the version to hand to delivery_begin (1: the original) */
	struct correction_line *moved; /* version > 1: the stores it corrects, in byte order of their names */
	size_t nmoved;
	bool moot;              /* a correction not sent yet whose figures are back to those sent: skip it */
	bool withheld;          /* the latest delivery is unknown and the figures moved: no correction */
	bool first;             /* nothing has reached the recipient yet: none, or a failed or half-begun original */
};

/*
 * The stores whose sales moved from before to after (threshold in
 * millionths) into *out and *n (caller frees with correction_lines_free).
 * 0 or -ENOMEM.
 */
int correction_compare(const struct manifest_stores *before, const struct manifest_stores *after,
    int64_t millionths, struct correction_line **out, size_t *n);

/* Free n lines; NULL is fine. */
void correction_lines_free(struct correction_line *v, size_t n);

/*
 * Decide for the recipient of k (its version is not looked at) from the
 * latest version of its delivery and the manifest m as rendered now:
 *
 *   no delivery yet                the original, version 1
 *   latest failed or sending       that version again, as before (delivery_begin decides)
 *   latest sent, a store moved     a correction: the latest version + 1 (unless forced)
 *   latest sent, nothing moved     the latest (delivery_begin says "sent before")
 *   latest unknown                 the latest (delivery_begin says "unknown"): it may never have
 *                                  arrived, so no correction; withheld says whether one was due
 *   forced                         the latest version again, whatever it is
 *
 * A delivery without recorded figures (an older salesd's) or a manifest
 * without stores cannot be compared: nothing moved. 0 with *out (caller
 * empties it with correction_plan_done), or -EIO / -EAGAIN / -ENOMEM with
 * *cause.
 */
int correction_plan(struct delivery_ledger *l, const struct delivery_key *k, const struct manifest *m,
    const struct config *cfg, bool force, struct correction_plan *out, char **cause);

/* Free what p holds; NULL is fine. */
void correction_plan_done(struct correction_plan *p);

/*
 * The moved stores of a correction, one line each, "Koramangala sales
 * 2026-W42: ₹5,24,688.52 -> ₹5,31,002.10" (money as the PDF shows it), each
 * line ended by a line break; NULL when out of memory. Caller frees.
 */
char *correction_text(const struct config *cfg, const struct manifest *m, const struct correction_plan *p);

#endif
