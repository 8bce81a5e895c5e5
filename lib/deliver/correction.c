/*
 * correction: corrections of reports that went out (see correction.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "deliver/correction.h"

/* One currency unit: a smaller change is never worth a correction, whatever the threshold. */
#define CORRECTION_MIN_MINOR 100

int
correction_threshold(const char *percent, int64_t *millionths)
{
	char *end;
	double d;

	if (percent == NULL)
		return -EINVAL;
	errno = 0;
	d = strtod(percent, &end);
	if (errno != 0 || end == percent || strcmp(end, "%") != 0 || !(d >= 0 && d <= 100))
		return -EINVAL;
	/* 1% is 10,000 millionths; rounded, so "0.1%" is exactly 1,000 whatever the binary double says. */
	*millionths = (int64_t)(d * 10000 + 0.5);
	return 0;
}

bool
correction_moved(int64_t before, int64_t after, int64_t millionths)
{
	/* In unsigned arithmetic: the difference of any two int64 fits, and wraps to the right value. */
	uint64_t diff = after >= before ? (uint64_t)after - (uint64_t)before : (uint64_t)before - (uint64_t)after;
	uint64_t base = before < 0 ? (uint64_t)0 - (uint64_t)before : (uint64_t)before;

	if (diff < CORRECTION_MIN_MINOR)
		return false;
	/* diff >= threshold x |before|, exactly: 128 bits hold both products. */
	return (unsigned __int128)diff * 1000000u >= (unsigned __int128)(uint64_t)millionths * base;
}

void
correction_lines_free(struct correction_line *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i].store);
	free(v);
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct correction_line *)a)->store, ((const struct correction_line *)b)->store);
}

/* Append a moved store to v (room for it is there). */
static int
add_line(struct correction_line *v, size_t *n, const char *store, int64_t before, int64_t after)
{
	if ((v[*n].store = util_strdup(store)) == NULL)
		return -ENOMEM;
	v[*n].before = before;
	v[(*n)++].after = after;
	return 0;
}

int
correction_compare(const struct manifest_stores *before, const struct manifest_stores *after,
    int64_t millionths, struct correction_line **out, size_t *n)
{
	struct correction_line *v = calloc(before->n + after->n + 1, sizeof *v);
	size_t k = 0;
	int64_t was;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return -ENOMEM;
	/* Every store of either side once; a store on one side only is 0 on the other. */
	for (size_t i = 0; i < after->n; i++) {
		if (!manifest_stores_find(before, after->names[i], &was))
			was = 0;
		if (correction_moved(was, after->sales[i], millionths) &&
		    add_line(v, &k, after->names[i], was, after->sales[i]) < 0)
			goto oom;
	}
	for (size_t i = 0; i < before->n; i++) {
		int64_t now;

		if (!manifest_stores_find(after, before->names[i], &now) &&
		    correction_moved(before->sales[i], 0, millionths) &&
		    add_line(v, &k, before->names[i], before->sales[i], 0) < 0)
			goto oom;
	}
	qsort(v, k, sizeof *v, line_cmp);
	*out = v;
	*n = k;
	return 0;
oom:
	correction_lines_free(v, k);
	return -ENOMEM;
}

/*
 * The stores that moved from the figures a delivery recorded (text) to the
 * manifest's, into p. Figures that cannot be compared (none recorded, text
 * that is not theirs, a manifest without stores) move nothing.
 */
static int
moved_since(const char *text, const struct manifest *m, int64_t millionths, struct correction_plan *p)
{
	struct manifest_stores was = { 0 };
	char *ignored = NULL;
	int e;

	correction_lines_free(p->moved, p->nmoved);
	p->moved = NULL;
	p->nmoved = 0;
	if (text == NULL || !m->stores.present)
		return 0;
	if ((e = manifest_stores_parse(text, &was, &ignored)) < 0) {
		free(ignored);
		return e == -ENOMEM ? e : 0;
	}
	e = correction_compare(&was, &m->stores, millionths, &p->moved, &p->nmoved);
	manifest_stores_done(&was);
	return e;
}

int
correction_plan(struct delivery_ledger *l, const struct delivery_key *k, const struct manifest *m,
    const struct config *cfg, bool force, struct correction_plan *out, char **cause)
{
	struct delivery_latest x = { 0 };
	struct correction_plan p = { .version = 1 };
	int64_t millionths;
	bool again = false;     /* the latest version goes (or may go) out again */
	int e;

	if (correction_threshold(cfg->report.correction_threshold, &millionths) < 0)
		return util_fail(cause, -EINVAL, "[report] correction_threshold: \"%s\" is not a percentage",
		    cfg->report.correction_threshold ? cfg->report.correction_threshold : "");
	if ((e = delivery_latest(l, k, &x, cause)) < 0)
		return e;
	if (x.version > 0)
		p.version = x.version;
	p.first = x.state == DELIVERY_STATE_NONE || (x.version <= 1 && (x.state == DELIVERY_STATE_FAILED ||
	    x.state == DELIVERY_STATE_SENDING));
	switch (x.state) {
	case DELIVERY_STATE_NONE:
		break;
	case DELIVERY_STATE_FAILED:
	case DELIVERY_STATE_SENDING:
		/* As before: delivery_begin sends a failed one and makes a "sending" one unknown. */
		again = true;
		break;
	case DELIVERY_STATE_SENT:
		if (force) {
			again = true;
			break;
		}
		if ((e = moved_since(x.figures, m, millionths, &p)) < 0)
			goto oom;
		if (p.nmoved > 0)
			p.version = x.version + 1;
		break;
	case DELIVERY_STATE_UNKNOWN:
		if (force) {
			again = true;
			break;
		}
		/* It may never have arrived: a correction of it could be the first the reader hears. */
		if ((e = moved_since(x.figures, m, millionths, &p)) < 0)
			goto oom;
		p.withheld = p.nmoved > 0;
		correction_lines_free(p.moved, p.nmoved);
		p.moved = NULL;
		p.nmoved = 0;
		break;
	}
	/*
	 * A correction sent again says what it corrects: the version before it
	 * against the report now. Nothing moved any more (the POS system
	 * restated the day back): there is nothing to correct. A "sending" one
	 * is left to delivery_begin, which makes it unknown unless forced.
	 */
	if (again && p.version > 1) {
		if ((e = moved_since(x.corrects, m, millionths, &p)) < 0)
			goto oom;
		p.moot = p.nmoved == 0 && (force || x.state == DELIVERY_STATE_FAILED);
	}
	delivery_latest_done(&x);
	*out = p;
	return 0;
oom:
	delivery_latest_done(&x);
	correction_plan_done(&p);
	return util_fail(cause, -ENOMEM, "out of memory");
}

void
correction_plan_done(struct correction_plan *p)
{
	if (p == NULL)
		return;
	correction_lines_free(p->moved, p->nmoved);
	*p = (struct correction_plan){ 0 };
}

char *
correction_text(const struct config *cfg, const struct manifest *m, const struct correction_plan *p)
{
	char *text = util_strdup(""), *more;

	for (size_t i = 0; text != NULL && i < p->nmoved; i++) {
		char before[64], after[64];

		manifest_money(cfg, p->moved[i].before, before, sizeof before);
		manifest_money(cfg, p->moved[i].after, after, sizeof after);
		more = util_printf("%s%s sales %s: %s -> %s\n", text, p->moved[i].store, m->period, before, after);
		free(text);
		text = more;
	}
	return text;
}
