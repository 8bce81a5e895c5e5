/*
 * email: one e-mail task (see email.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/db.h"
#include "deliver/correction.h"
#include "deliver/delivery.h"
#include "deliver/email.h"
#include "deliver/mail.h"
#include "deliver/mime.h"
#include "deliver/recipients.h"
#include "report/manifest.h"
#include "base/util.h"

/* A growing string. */
struct str {
	char *p;
	size_t len, cap;
	int oom;
};

static void
str_addn(struct str *s, const char *t, size_t n)
{
	if (s->oom)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		char *p;

		while (cap < s->len + n + 1)
			cap *= 2;
		if ((p = realloc(s->p, cap)) == NULL) {
			s->oom = 1;
			return;
		}
		s->p = p;
		s->cap = cap;
	}
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void
str_add(struct str *s, const char *t)
{
	str_addn(s, t, strlen(t));
}

/* Text for HTML: the five characters that matter escaped. */
static void
str_html(struct str *s, const char *t)
{
	for (; *t != '\0'; t++) {
		switch (*t) {
		case '&': str_add(s, "&amp;"); break;
		case '<': str_add(s, "&lt;"); break;
		case '>': str_add(s, "&gt;"); break;
		case '"': str_add(s, "&quot;"); break;
		case '\'': str_add(s, "&#39;"); break;
		case '\n': str_add(s, "<br>\n"); break;
		default: str_addn(s, t, 1); break;
		}
	}
}

int
email_expand(const char *tmpl, const char *const *names, const char *const *values, size_t n, char **out,
    char **cause)
{
	struct str s = { 0 };

	*out = NULL;
	for (const char *t = tmpl; *t != '\0'; t++) {
		const char *end;
		size_t k;

		/* "\n" in a one-line configuration value is a line break. */
		if (t[0] == '\\' && t[1] == 'n') {
			str_add(&s, "\n");
			t++;
			continue;
		}
		if (*t != '{' || (end = strchr(t, '}')) == NULL) {
			str_addn(&s, t, 1);
			continue;
		}
		for (k = 0; k < n; k++)
			if (strlen(names[k]) == (size_t)(end - t - 1) && strncmp(t + 1, names[k], (size_t)(end - t - 1)) == 0)
				break;
		if (k == n) {
			struct str known = { 0 };
			int e;

			for (k = 0; k < n; k++) {
				str_add(&known, k ? ", {" : "{");
				str_add(&known, names[k]);
				str_add(&known, "}");
			}
			free(s.p);
			e = util_fail(cause, -EINVAL, "unknown placeholder \"%.*s\" (known: %s)", (int)(end - t + 1),
			    t, known.p ? known.p : "");
			free(known.p);
			return e;
		}
		str_add(&s, values[k]);
		t = end;
	}
	str_add(&s, "");
	if (s.oom) {
		free(s.p);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*out = s.p;
	return 0;
}

/* A figure of the manifest, "" when it has none (a manifest of an older salesd). */
static const char *
figure(const struct manifest *m, const char *name)
{
	const char *v = manifest_figure(m, name);

	return v ? v : "";
}

/* What a correction says first, before the stores that moved (docs/email.md "Corrections"). */
#define CORRECTION_WORDS "Correction: the figures of this report changed since it was sent (the POS system " \
	"restated its data). The attached files are the corrected report. What changed:"

/*
 * The text and HTML bodies: a correction's words and moved stores (lines,
 * one per line; NULL for an original), then the configured words and the
 * figures as rendered.
 */
static int
bodies(const char *intro, const struct manifest *m, const char *lines, char **text, char **html, char **cause)
{
	struct str t = { 0 }, h = { 0 };
	struct {
		const char *sales, *growth, *base, *profit, *margin, *margin_change;
	} fig = { figure(m, "sales"), figure(m, "growth"), figure(m, "base"), figure(m, "profit"),
	    figure(m, "margin"), figure(m, "margin_change") }, *f = &fig;
	char line[512];

	/* A correction says so before anything else: the reader has the old figures in front of them. */
	if (lines != NULL) {
		str_add(&t, CORRECTION_WORDS "\n\n");
		str_add(&t, lines);
		str_add(&t, "\n");
	}
	/* A day released incomplete: said before the report's own words (docs/completeness.md). */
	if (figure(m, "warning")[0] != '\0') {
		str_add(&t, "WARNING: the figures may be too low.\n");
		str_add(&t, figure(m, "warning"));
		str_add(&t, "\n\n");
	}
	str_add(&t, intro);
	str_add(&t, "\n\n");
	util_utf8_snprintf(line, sizeof line, "Sales:  %s (%s against %s)\n", f->sales, f->growth, f->base);
	str_add(&t, line);
	util_utf8_snprintf(line, sizeof line, "Profit: %s\nMargin: %s%s%s%s\n", f->profit, f->margin,
	    f->margin_change[0] ? " (" : "", f->margin_change, f->margin_change[0] ? ")" : "");
	str_add(&t, line);
	if (m->empty)
		str_add(&t, "\nThere were no sales in this period.\n");
	str_add(&h, "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
	if (lines != NULL) {
		str_add(&h, "<p><b>");
		str_html(&h, CORRECTION_WORDS);
		str_add(&h, "</b></p>\n<ul>\n");
		for (const char *l = lines, *end; *l != '\0'; l = *end ? end + 1 : end) {
			char *one;

			end = l + strcspn(l, "\n");
			if (end == l)
				continue;
			if ((one = util_printf("%.*s", (int)(end - l), l)) == NULL) {
				h.oom = 1;
				break;
			}
			str_add(&h, "<li>");
			str_html(&h, one);
			str_add(&h, "</li>\n");
			free(one);
		}
		str_add(&h, "</ul>\n");
	}
	if (figure(m, "warning")[0] != '\0') {
		str_add(&h, "<p style=\"color: #b00020; white-space: pre-line\"><b>WARNING: the figures may be too "
		    "low.</b>\n");
		str_html(&h, figure(m, "warning"));
		str_add(&h, "</p>\n");
	}
	str_add(&h, "<p>");
	str_html(&h, intro);
	str_add(&h, "</p>\n<table cellpadding=\"4\">\n<tr><td>Sales</td><td align=\"right\"><b>");
	str_html(&h, f->sales);
	str_add(&h, "</b></td><td>");
	str_html(&h, f->growth);
	str_add(&h, " against ");
	str_html(&h, f->base);
	str_add(&h, "</td></tr>\n<tr><td>Profit</td><td align=\"right\"><b>");
	str_html(&h, f->profit);
	str_add(&h, "</b></td><td></td></tr>\n<tr><td>Margin</td><td align=\"right\"><b>");
	str_html(&h, f->margin);
	str_add(&h, "</b></td><td>");
	str_html(&h, f->margin_change);
	str_add(&h, "</td></tr>\n</table>\n");
	if (m->empty)
		str_add(&h, "<p>There were no sales in this period.</p>\n");
	str_add(&h, "</body></html>\n");
	if (t.oom || h.oom) {
		free(t.p);
		free(h.p);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*text = t.p;
	*html = h.p;
	return 0;
}

static void
say(email_progress_fn progress, void *arg, int priority, char *msg)
{
	if (progress != NULL && msg != NULL)
		progress(arg, priority, msg);
	free(msg);
}

/* Every recipient once: the store's, then [smtp] cc, then bcc. */
static char **
all_recipients(char *const *to, size_t nto, char *const *cc, size_t ncc, char *const *bcc, size_t nbcc,
    size_t *n)
{
	char **v = calloc(nto + ncc + nbcc + 1, sizeof *v);
	char *const *lists[] = { to, cc, bcc };
	size_t lens[] = { nto, ncc, nbcc };

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t l = 0; l < 3; l++) {
		for (size_t k = 0; k < lens[l]; k++) {
			bool dup = false;

			for (size_t m = 0; m < *n; m++)
				dup = dup || strcmp(v[m], lists[l][k]) == 0;
			if (!dup)
				v[(*n)++] = lists[l][k];
		}
	}
	return v;
}

/* The delivery ledger's observer: each change of state, at debug priority, with the run's fields. */
struct observer {
	email_progress_fn progress;
	void *arg;
};

static void
on_change(void *arg, const struct delivery_key *k, enum delivery_state from, enum delivery_state to, const char *why)
{
	struct observer *o = arg;
	char *key = delivery_key_string(k);

	if (key != NULL)
		say(o->progress, o->arg, LOG_DEBUG, util_printf("delivery %s: %s -> %s%s%s%s", key,
		    delivery_strstate(from), delivery_strstate(to), why ? " (" : "", why ? why : "", why ? ")" : ""));
	free(key);
}

/* What every recipient's message shares. */
struct message {
	struct mail_server srv;
	const struct config *cfg;
	const struct manifest *rep;     /* the report as rendered */
	const char *report, *period, *store, *faddr;
	const char *subject, *intro, *text, *html; /* the original's words */
	const char *figures;            /* the stores' sales it carries, for the ledger (JSON) */
	struct delivery_ledger *ledger;
	bool force;
	bool corrections_only;          /* a run for a restated day: nothing to whom nothing went */
	email_progress_fn progress;
	void *arg;
	struct mime_message mm;         /* key, date, and a correction's words set per recipient */
	struct mime_address *toa, *cca;
};

/* The To and Cc headers: the store's addresses and [smtp] cc (To: cc when the store has none). */
static int
addresses(struct message *m, char *const *to, size_t nto, char *const *cc, size_t ncc, char **cause)
{
	if ((m->toa = calloc(nto + 1, sizeof *m->toa)) == NULL || (m->cca = calloc(ncc + 1, sizeof *m->cca)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	for (size_t k = 0; k < nto; k++)
		m->toa[k].addr = to[k];
	for (size_t k = 0; k < ncc; k++)
		m->cca[k].addr = cc[k];
	m->mm.to = nto ? m->toa : m->cca;
	m->mm.nto = nto ? nto : ncc;
	m->mm.cc = m->cca;
	m->mm.ncc = nto ? ncc : 0;
	return 0;
}

/*
 * A correction's subject and bodies for one recipient: "Correction: " and the
 * usual subject; the stores that moved, then the usual bodies.
 */
static int
correction_words(struct message *m, const struct correction_plan *plan, char **subject, char **text, char **html,
    char **cause)
{
	char *lines = correction_text(m->cfg, m->rep, plan);
	int e;

	if (lines == NULL || (*subject = util_printf("Correction: %s", m->subject)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	else
		e = bodies(m->intro, m->rep, lines, text, html, cause);
	free(lines);
	return e;
}

/*
 * One recipient: decide the version (the original, or a correction of what
 * was sent), look the delivery up, record "sending", send, record the
 * server's answer. Returns 0 whatever the server said (the counters and
 * the ledger hold it), or an error that stops the task: the database, a
 * message that cannot be built, a configuration problem (login, TLS) that
 * every other recipient would meet too.
 */
static int
send_one(struct message *m, const char *rcpt, struct email_result *res, char **cause)
{
	struct delivery_key dk = { m->report, m->period, m->store, "email", rcpt, 1 };
	struct correction_plan plan = { 0 };
	enum delivery_decision d;
	struct mail_outcome o;
	char msgid[MIME_MSGID_LEN], *key = NULL, *msg = NULL, *why = NULL;
	char *csubject = NULL, *ctext = NULL, *chtml = NULL;
	size_t len;
	int e;

	if ((e = correction_plan(m->ledger, &dk, m->rep, m->cfg, m->force, &plan, cause)) < 0)
		return e;
	dk.version = plan.version;
	if (plan.withheld)
		say(m->progress, m->arg, LOG_WARNING, util_printf("%s: the figures of the %s report %s changed since "
		    "it was sent, but whether that message arrived is unknown, so no correction is sent (a "
		    "correction of a message never received would mislead; --force sends the report as it is now)",
		    rcpt, m->report, m->period));
	if (plan.moot) {
		res->skipped++;
		say(m->progress, m->arg, LOG_INFO, util_printf("%s: correction %d is not sent: the figures are back to "
		    "those of version %d, which was sent", rcpt, plan.version, plan.version - 1));
		goto out;
	}
	/* Run for a restated day: the report was rendered again, not due to anyone new. */
	if (m->corrections_only && plan.first) {
		res->skipped++;
		say(m->progress, m->arg, LOG_INFO, util_printf("%s: the %s report %s never reached it; a run for a "
		    "restated day sends corrections only", rcpt, m->report, m->period));
		goto out;
	}
	/* A correction has words of its own, built before anything is recorded. */
	if (plan.version > 1 && (e = correction_words(m, &plan, &csubject, &ctext, &chtml, cause)) < 0)
		goto out;
	if ((key = delivery_key_string(&dk)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	m->mm.key = key;
	m->mm.subject = csubject ? csubject : m->subject;
	m->mm.text = ctext ? ctext : m->text;
	m->mm.html = chtml ? chtml : m->html;
	if ((e = mime_message_id(key, m->faddr, msgid, sizeof msgid, cause)) < 0 ||
	    (e = delivery_begin(m->ledger, &dk, msgid, m->figures, m->force, &d, cause)) < 0)
		goto out;
	if (d != DELIVERY_SEND) {
		res->skipped++;
		say(m->progress, m->arg, d == DELIVERY_UNKNOWN ? LOG_WARNING : LOG_INFO, util_printf("%s: %s; not sent again (--force sends it)", rcpt,
		    delivery_strdecision(d)));
		goto out;
	}
	if (plan.version > 1)
		say(m->progress, m->arg, LOG_NOTICE, util_printf("%s: the figures changed since the report was sent "
		    "(%zu store%s moved); sending correction %d", rcpt, plan.nmoved, plan.nmoved == 1 ? "" : "s",
		    plan.version));
	if ((e = mime_build(&m->mm, &msg, &len, &why)) < 0) {
		/* Nothing went out: the row says failed, with why. */
		delivery_finish(m->ledger, &dk, DELIVERY_STATE_FAILED, why, NULL);
		/* Bad data (a line break in a store's name), not the configuration: exit 65, not 78. */
		e = util_fail(cause, e == -ENOMEM ? e : -EBADMSG, "%s", why ? why : "cannot build the message");
		goto out;
	}
	mail_send(&m->srv, m->faddr, rcpt, msg, len, &o, &why);
	/* The whole message went out and its verdict did not come back: it may be there. */
	e = delivery_finish(m->ledger, &dk, o.verdict == MAIL_SENT ? DELIVERY_STATE_SENT : o.verdict == MAIL_UNKNOWN ?
	    DELIVERY_STATE_UNKNOWN : DELIVERY_STATE_FAILED, o.verdict == MAIL_CONFIG ? why : o.reply, cause);
	if (e < 0)
		goto out;
	switch (o.verdict) {
	case MAIL_SENT:
		res->sent++;
		if (plan.version > 1)
			res->corrections++;
		say(m->progress, m->arg, LOG_INFO, util_printf("%s: sent %s%s: %s", rcpt, msgid, plan.version > 1 ?
		    " (a correction)" : "", o.reply));
		break;
	case MAIL_TEMPORARY:
		res->temporary++;
		say(m->progress, m->arg, LOG_WARNING, util_printf("%s", why));
		break;
	case MAIL_REFUSED:
		res->refused++;
		say(m->progress, m->arg, LOG_WARNING, util_printf("%s", why));
		break;
	case MAIL_UNKNOWN:
		res->unknown++;
		say(m->progress, m->arg, LOG_WARNING, util_printf("%s", why));
		break;
	case MAIL_CONFIG:
		/* Every other recipient would meet the same: it stops the task, and is said once, there. */
		e = util_fail(cause, -EINVAL, "%s", why);
		break;
	}
out:
	/* The shared message must not keep pointers to this recipient's words. */
	m->mm.key = NULL;
	m->mm.subject = m->subject;
	m->mm.text = m->text;
	m->mm.html = m->html;
	correction_plan_done(&plan);
	free(csubject);
	free(ctext);
	free(chtml);
	free(msg);
	free(why);
	free(key);
	return e;
}

/* A rendered report as an e-mail carries it: its attachments, subject and opening words. */
struct report_mail {
	char *pdfpath, *xlsxpath;
	char pdfname[256], xlsxname[256];
	struct mime_attachment att[2];
	size_t natt;
	char *subject, *intro;          /* [smtp] subject and body, their placeholders filled from the manifest */
};

/*
 * The parts of the mail of rendered report rep, from its manifest only (the
 * figures are the attached PDF's). Empty rm with report_mail_done, also
 * after a failure.
 */
static int
report_mail_open(const struct config *cfg, const struct manifest *rep, struct report_mail *rm, char **cause)
{
	const char *names[] = { "company", "store", "report", "period", "sales", "growth", "profit", "margin" };
	const char *values[UTIL_NELEM(names)];
	char *why;
	int e;

	memset(rm, 0, sizeof *rm);
	if ((rm->pdfpath = manifest_path_of(rep, &rep->pdf)) == NULL ||
	    (rm->xlsxpath = manifest_path_of(rep, &rep->xlsx)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	util_utf8_snprintf(rm->pdfname, sizeof rm->pdfname, "%s-report-%s-%s.pdf", rep->report, rep->period,
	    rep->scope);
	util_utf8_snprintf(rm->xlsxname, sizeof rm->xlsxname, "%s-report-%s-%s.xlsx", rep->report, rep->period,
	    rep->scope);
	rm->att[rm->natt++] = (struct mime_attachment){ rm->pdfpath, rm->pdfname, "application/pdf" };
	if (cfg->smtp.attach_xlsx)
		rm->att[rm->natt++] = (struct mime_attachment){ rm->xlsxpath, rm->xlsxname,
		    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
	for (size_t k = 0; k < UTIL_NELEM(names); k++)
		values[k] = figure(rep, names[k]);
	if ((e = email_expand(cfg->smtp.subject, names, values, UTIL_NELEM(names), &rm->subject, cause)) < 0 ||
	    (e = email_expand(cfg->smtp.body, names, values, UTIL_NELEM(names), &rm->intro, cause)) < 0) {
		why = util_printf("[smtp] %s: %s", rm->subject == NULL ? "subject" : "body", *cause);
		free(*cause);
		*cause = why;
	}
	return e;
}

static void
report_mail_done(struct report_mail *rm)
{
	free(rm->pdfpath);
	free(rm->xlsxpath);
	free(rm->subject);
	free(rm->intro);
	memset(rm, 0, sizeof *rm);
}

int
email_task(const struct config *cfg, const struct period *p, const char *store, unsigned how,
    email_progress_fn progress, void *arg, struct email_result *res, char **cause)
{
	bool company = store == NULL || strcmp(store, RECIPIENTS_COMPANY) == 0;
	bool force = (how & DELIVERY_FORCE) != 0;
	const char *key_store = company ? RECIPIENTS_COMPANY : store;
	const char *from = cfg->smtp.from, *url = cfg->smtp.url;
	const char *rfile = cfg->recipients.file;
	struct recipients *rcp = NULL;
	struct manifest *rep = NULL;
	PGconn *c = NULL;
	struct observer obs = { progress, arg };
	struct delivery_ledger ledger = { NULL, on_change, &obs };
	char **problems = NULL, **everyone = NULL, *text = NULL, *html = NULL;
	char *figures = NULL, fname[256], faddr[256];
	char *const *to, *const *cc, *const *bcc;
	struct report_mail rm = { 0 };
	size_t nto, ncc, nbcc, n;
	int e;

	memset(res, 0, sizeof *res);
	if (url == NULL || from == NULL)
		return util_fail(cause, -EINVAL, "[smtp] %s is not set; e-mail cannot be sent", url == NULL ? "url" :
		    "from");
	if ((e = addr_split(from, fname, sizeof fname, faddr, sizeof faddr, cause)) < 0)
		return e;
	cc = cfg->smtp.cc.v;
	ncc = cfg->smtp.cc.n;
	bcc = cfg->smtp.bcc.v;
	nbcc = cfg->smtp.bcc.n;
	/* [smtp] cc and bcc passed the address rule when the configuration was loaded. */
	if ((e = recipients_load(rfile, &rcp, &problems, cause)) < 0)
		return e == -ENOMEM ? e : -EINVAL;
	for (size_t k = 0; problems != NULL && problems[k] != NULL; k++)
		say(progress, arg, LOG_WARNING, util_printf("recipients: %s", problems[k]));
	to = recipients_email(rcp, key_store, &nto);
	if ((everyone = all_recipients(to, nto, cc, ncc, bcc, nbcc, &n)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	res->recipients = n;
	if (nto == 0)
		say(progress, arg, LOG_WARNING, util_printf("%s has no e-mail recipient in %s%s", company ?
		    "the company (store \"*\")" : key_store, rfile, n ? "; only [smtp] cc and bcc get it" :
		    "; nothing sent"));
	if (n == 0) {
		e = 0;
		goto out;
	}
	if ((e = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		e = e == -ECONNREFUSED ? -EAGAIN : e;
		goto out;
	}
	ledger.c = c;
	/*
	 * What was rendered, and only that: the figures in the message are the
	 * ones in the attached PDF, whatever the KPI tables say by now.
	 */
	if ((e = manifest_open(c, cfg, p, company ? NULL : store, &rep, cause)) < 0)
		goto out;
	if ((e = report_mail_open(cfg, rep, &rm, cause)) < 0)
		goto out;
	if ((e = bodies(rm.intro, rep, NULL, &text, &html, cause)) < 0)
		goto out;
	/* What each delivery carries, for the ledger: the next run compares the report with it. */
	if (manifest_stores_json(&rep->stores, &figures) < 0) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	{
		struct mime_address from_a = { fname[0] ? fname : NULL, faddr };
		size_t k;
		struct message m = {
			.srv = {
				url, cfg->smtp.username, cfg->smtp.password,
				cfg->smtp.ca_file, cfg->smtp.allow_plain,
				(unsigned long)cfg->smtp.connect_timeout_ms,
				(unsigned long)cfg->smtp.timeout_ms,
			},
			.cfg = cfg, .rep = rep, .subject = rm.subject, .intro = rm.intro, .text = text, .html = html,
			.figures = figures,
			.report = rep->report, .period = rep->period, .store = key_store, .ledger = &ledger,
			.faddr = faddr, .force = force, .progress = progress, .arg = arg,
			.corrections_only = (how & DELIVERY_CORRECTIONS_ONLY) != 0,
			.mm = { .from = from_a, .subject = rm.subject, .text = text, .html = html, .att = rm.att,
			    .natt = rm.natt, .date = time(NULL) },
		};

		if ((e = addresses(&m, to, nto, cc, ncc, cause)) < 0)
			goto out;
		if (m.srv.allow_plain && strncmp(url, "smtp://", 7) == 0)
			say(progress, arg, LOG_WARNING, util_printf("sending without TLS to %s ([smtp] allow_plain = yes): "
			    "the password and the reports cross the network in plain text", url));
		for (k = 0; k < n && e == 0; k++)
			e = send_one(&m, everyone[k], res, cause);
		/*
		 * A configuration problem (no STARTTLS, login refused) stops the
		 * task at the first recipient; the ledger says the same for each
		 * of the others, none of which was tried.
		 */
		for (; e == -EINVAL && k < n; k++) {
			struct delivery_key dk = { m.report, m.period, m.store, "email", everyone[k], 0 };
			char *why = util_printf("not tried: %s", *cause), *ignored = NULL;

			if (why == NULL || delivery_fail(&ledger, &dk, why, &ignored) < 0)
				k = n;
			free(why);
			free(ignored);
		}
		free(m.toa);
		free(m.cca);
		if (e < 0)
			goto out;
	}
	e = res->refused ? util_fail(cause, -EPERM, "%zu of %zu recipients refused the message", res->refused, n) :
	    res->temporary ? util_fail(cause, -EAGAIN, "%zu of %zu recipients could not be reached; the next run "
	    "sends to them", res->temporary, n) : 0;
out:
	if (c != NULL)
		PQfinish(c);
	manifest_free(rep);
	report_mail_done(&rm);
	recipients_free(rcp);
	util_strv_free(problems);
	free(everyone);
	free(text);
	free(html);
	free(figures);
	return e;
}

/* ---- in place of WhatsApp --------------------------------------------------- */

/* The SMTP server of [smtp], and the From address split into fname and faddr. */
static int
server_of(const struct config *cfg, struct mail_server *srv, char *fname, size_t nlen, char *faddr, size_t alen,
    char **cause)
{
	if (cfg->smtp.url == NULL || cfg->smtp.from == NULL)
		return util_fail(cause, -EINVAL, "[smtp] %s is not set; e-mail cannot be sent", cfg->smtp.url == NULL ?
		    "url" : "from");
	*srv = (struct mail_server){ cfg->smtp.url, cfg->smtp.username, cfg->smtp.password, cfg->smtp.ca_file,
	    cfg->smtp.allow_plain, (unsigned long)cfg->smtp.connect_timeout_ms, (unsigned long)cfg->smtp.timeout_ms };
	return addr_split(cfg->smtp.from, fname, nlen, faddr, alen, cause);
}

char *
email_fallback_recipient(const char *addr, const char *chat)
{
	return util_printf("%s (fallback for WhatsApp %s)", addr, chat);
}

/*
 * One address of a fallback: looked up in the ledger (once per report, chat
 * and address), linked to the chat's WhatsApp row, sent, recorded. mm holds
 * the words; its recipient and key are set here.
 */
static int
fallback_one(const struct mail_server *srv, struct delivery_ledger *ledger, struct mime_message *mm,
    const struct manifest *rep, const char *store, const struct email_fallback *fb, const char *to,
    const char *figures, email_progress_fn progress, void *arg, size_t *sent, char **cause)
{
	struct mime_address a = { NULL, to };
	char *recipient = email_fallback_recipient(to, fb->chat), *key = NULL, *msg = NULL, *why = NULL;
	struct delivery_key dk = { rep->report, rep->period, store, "email", recipient, 1 };
	char msgid[MIME_MSGID_LEN];
	enum delivery_decision d;
	struct mail_outcome o;
	size_t len;
	int e;

	if (recipient == NULL || (key = delivery_key_string(&dk)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = mime_message_id(key, mm->from.addr, msgid, sizeof msgid, cause)) < 0 ||
	    (e = delivery_begin(ledger, &dk, msgid, figures, false, &d, cause)) < 0)
		goto out;
	/* Once per report, chat and address, whatever happens to WhatsApp later. */
	if (d != DELIVERY_SEND) {
		say(progress, arg, LOG_INFO, util_printf("%s: the fallback for \"%s\" went before (%s); not again", to,
		    fb->chat, delivery_strdecision(d)));
		goto out;
	}
	if ((e = delivery_link_fallback(ledger, &dk, fb->chat, cause)) < 0)
		goto out;
	mm->to = &a;
	mm->nto = 1;
	mm->key = key;
	if ((e = mime_build(mm, &msg, &len, &why)) < 0) {
		delivery_finish(ledger, &dk, DELIVERY_STATE_FAILED, why, NULL);
		e = util_fail(cause, e == -ENOMEM ? e : -EBADMSG, "%s", why ? why : "cannot build the message");
		goto out;
	}
	mail_send(srv, mm->from.addr, to, msg, len, &o, &why);
	if ((e = delivery_finish(ledger, &dk, o.verdict == MAIL_SENT ? DELIVERY_STATE_SENT : o.verdict ==
	    MAIL_UNKNOWN ? DELIVERY_STATE_UNKNOWN : DELIVERY_STATE_FAILED, o.verdict == MAIL_CONFIG ? why : o.reply,
	    cause)) < 0)
		goto out;
	if (o.verdict == MAIL_SENT) {
		(*sent)++;
		say(progress, arg, LOG_NOTICE, util_printf("%s: sent the report by e-mail in place of WhatsApp \"%s\": "
		    "%s", to, fb->chat, o.reply));
	} else
		e = util_fail(cause, o.verdict == MAIL_TEMPORARY ? -EAGAIN : o.verdict == MAIL_CONFIG ? -EINVAL : -EIO,
		    "fallback e-mail to %s: %s", to, why ? why : "not sent");
out:
	/* mm outlives this call: no pointer to this address's strings stays in it. */
	mm->to = NULL;
	mm->nto = 0;
	mm->key = NULL;
	free(recipient);
	free(key);
	free(msg);
	free(why);
	return e;
}

int
email_fallback(const struct config *cfg, PGconn *c, const struct manifest *rep, const char *store,
    const struct email_fallback *fb, email_progress_fn progress, void *arg, size_t *sent, char **cause)
{
	struct observer obs = { progress, arg };
	struct delivery_ledger ledger = { c, on_change, &obs };
	struct mail_server srv;
	struct report_mail rm = { 0 };
	char fname[256], faddr[256], *words = NULL, *text = NULL, *html = NULL, *figures = NULL;
	char *fsubject = NULL;
	int e;

	*sent = 0;
	if ((e = server_of(cfg, &srv, fname, sizeof fname, faddr, sizeof faddr, cause)) < 0)
		return e;
	if (manifest_stores_json(&rep->stores, &figures) < 0) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	/* The same attachments, words and figures as the report's own e-mail. */
	if ((e = report_mail_open(cfg, rep, &rm, cause)) < 0)
		goto out;
	/*
	 * Why this came by e-mail, before anything else. A WhatsApp message that
	 * may have gone says so: the reader may have it twice.
	 */
	fsubject = fb->unsure ? util_printf("In case the WhatsApp message did not arrive: %s", rm.subject) :
	    util_printf("Instead of WhatsApp: %s", rm.subject);
	words = fb->unsure ? util_printf("This report was sent to the WhatsApp chat \"%s\", but whether it arrived "
	    "is unknown (%s). It comes by e-mail too, in case the WhatsApp message did not arrive.\n\n%s", fb->chat,
	    fb->why, rm.intro) : util_printf("This report was meant for the WhatsApp chat \"%s\", which it could not "
	    "reach (%s), so it comes by e-mail instead.\n\n%s", fb->chat, fb->why, rm.intro);
	if (fsubject == NULL || words == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = bodies(words, rep, NULL, &text, &html, cause)) < 0)
		goto out;
	/* Each address its own transaction and its own ledger row, keyed by the chat as well. */
	for (size_t k = 0; k < fb->nto && e == 0; k++) {
		struct mime_message mm = { .from = { fname[0] ? fname : NULL, faddr }, .subject = fsubject,
		    .text = text, .html = html, .att = rm.att, .natt = rm.natt, .date = time(NULL) };

		e = fallback_one(&srv, &ledger, &mm, rep, store, fb, fb->to[k], figures, progress, arg, sent, cause);
	}
out:
	report_mail_done(&rm);
	free(words);
	free(text);
	free(html);
	free(figures);
	free(fsubject);
	return e;
}

int
email_notice(const struct config *cfg, char *const *to, size_t nto, const char *key, const char *subject,
    const char *text, char **cause)
{
	struct mail_server srv;
	char fname[256], faddr[256], *msg = NULL, *why = NULL;
	size_t len;
	int e, failed = 0;

	if ((e = server_of(cfg, &srv, fname, sizeof fname, faddr, sizeof faddr, cause)) < 0)
		return e;
	for (size_t k = 0; k < nto && e == 0; k++) {
		struct mime_address a = { NULL, to[k] };
		struct mime_message mm = { .from = { fname[0] ? fname : NULL, faddr }, .to = &a, .nto = 1,
		    .subject = subject, .text = text, .key = key, .date = time(NULL) };
		struct mail_outcome o;

		if ((e = mime_build(&mm, &msg, &len, cause)) < 0)
			break;
		mail_send(&srv, faddr, to[k], msg, len, &o, &why);
		if (o.verdict != MAIL_SENT && failed++ == 0)
			util_fail(cause, -EIO, "%s: %s", to[k], why ? why : "not sent");
		free(msg);
		free(why);
		msg = why = NULL;
	}
	return e < 0 ? e : failed ? -EIO : 0;
}
