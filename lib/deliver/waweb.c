/*
 * waweb: sending a document through WhatsApp Web (see waweb.h).
 *
 * The page re-renders lists on every keystroke and shows pop-ups whenever
 * it likes, so every step that acts is "close what covers the page, find by
 * the element's strategies, act, and on a stale element or a covered click
 * try again" until the step's time-out. Anything else the browser says
 * (gone, not answering) ends the step at once. After Send nothing on the
 * page is touched: the steps only read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "base/util.h"
#include "deliver/wafind.h"
#include "deliver/waweb.h"

#define POLL_MS         200
#define QR_REFRESH_MS   3000

static unsigned long long
deadline(unsigned long ms)
{
	return util_now_monotonic_usec() + (unsigned long long)ms * 1000ULL;
}

static bool
expired(unsigned long long end)
{
	return util_now_monotonic_usec() >= end;
}

static void
nap(void)
{
	usleep(POLL_MS * 1000);
}

/* A state of the page worth waiting out, as opposed to the browser failing. */
static bool
transient(int e)
{
	return e == -ENOENT || e == -ESTALE || e == -EBUSY;
}

const char *
waweb_step(const struct waweb *w)
{
	return w->step != NULL ? w->step : "start";
}

char *
waweb_chat_selector(const char *tmpl, const char *chat)
{
	const char *at = strstr(tmpl, "{chat}");
	size_t cap = strlen(tmpl) + 4 * strlen(chat) + 8, n = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	if (at == NULL) {
		free(out);
		return util_strdup(tmpl);
	}
	memcpy(out, tmpl, (size_t)(at - tmpl));
	n = (size_t)(at - tmpl);
	/* A CSS string: quotes and backslashes escaped, control characters as hex escapes. */
	out[n++] = '"';
	for (const unsigned char *s = (const unsigned char *)chat; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*s;
		} else if (*s < 0x20 || *s == 0x7f)
			n += (size_t)sprintf(out + n, "\\%x ", *s);
		else
			out[n++] = (char)*s;
	}
	out[n++] = '"';
	strcpy(out + n, at + strlen("{chat}"));
	return out;
}

static const char *const element_names[WAWEB_NELEMENTS] = {
	[WAWEB_QR] = "qr", [WAWEB_APP] = "app", [WAWEB_POPUP_CLOSE] = "popup_close", [WAWEB_SEARCH] = "search",
	[WAWEB_CHAT] = "chat", [WAWEB_CHAT_TITLE] = "chat_title", [WAWEB_ATTACH] = "attach",
	[WAWEB_DOCUMENT_INPUT] = "document_input", [WAWEB_CAPTION] = "caption", [WAWEB_SEND] = "send",
	[WAWEB_MESSAGE_OUT] = "message_out", [WAWEB_SENT] = "sent", [WAWEB_FAILED] = "failed",
};

const char *
waweb_element_name(enum waweb_element x)
{
	return (size_t)x < UTIL_NELEM(element_names) ? element_names[x] : "?";
}

/* Element x's strategy list. */
static const char *
spec(const struct waweb *w, enum waweb_element x)
{
	switch (x) {
	case WAWEB_QR: return w->sel.qr;
	case WAWEB_APP: return w->sel.app;
	case WAWEB_POPUP_CLOSE: return w->sel.popup_close;
	case WAWEB_SEARCH: return w->sel.search;
	case WAWEB_CHAT: return w->sel.chat;
	case WAWEB_CHAT_TITLE: return w->sel.chat_title;
	case WAWEB_ATTACH: return w->sel.attach;
	case WAWEB_DOCUMENT_INPUT: return w->sel.document_input;
	case WAWEB_CAPTION: return w->sel.caption;
	case WAWEB_SEND: return w->sel.send;
	case WAWEB_MESSAGE_OUT: return w->sel.message_out;
	case WAWEB_SENT: return w->sel.sent;
	case WAWEB_FAILED: return w->sel.failed;
	case WAWEB_NELEMENTS: break;
	}
	return "";
}

/* Hand msg (taken) to whoever listens. */
static void
note(struct waweb *w, int priority, char *msg)
{
	if (w->note != NULL && msg != NULL)
		w->note(w->note_arg, priority, msg);
	free(msg);
}

/* Element x was found by strategy index: worth a line when that changed, most of all when it is not the first. */
static void
found_by(struct waweb *w, enum waweb_element x, int index)
{
	size_t n = 0;
	char **v;

	if (index < 0 || w->matched[x] == index + 1)
		return;
	w->matched[x] = index + 1;
	if ((v = wafind_split(spec(w, x), &n)) == NULL || (size_t)index >= n) {
		util_strv_free(v);
		return;
	}
	note(w, LOG_DEBUG, util_printf("%s: selector_%s matched by strategy %d of %zu: %s%s", waweb_step(w),
	    element_names[x], index + 1, n, v[index], index > 0 ? " (the ones before it match nothing: "
	    "WhatsApp Web may have changed its page)" : ""));
	util_strv_free(v);
}

/* Element x once, below scope (NULL: the page). */
static int
find(struct waweb *w, enum waweb_element x, const char *chat, const char *scope, char **el, char **cause)
{
	int index, e;

	if ((e = wafind_first(w->wd, spec(w, x), chat, scope, el, &index, cause)) == 0)
		found_by(w, x, index);
	return e;
}

int
waweb_probe(struct waweb *w, enum waweb_element x, const char *chat, int *index, char **cause)
{
	char *el = NULL;
	int e;

	if ((e = wafind_first(w->wd, spec(w, x), chat, NULL, &el, index, cause)) == 0)
		found_by(w, x, *index);
	free(el);
	return e;
}

void
waweb_done(struct waweb *w)
{
	free(w->dialog_seen);
	w->dialog_seen = NULL;
}

/* Wait up to a second for the dialog to leave the page: true once it did. */
static bool
went_away(struct waweb *w, const char *dialog)
{
	for (int i = 0; i < 5; i++) {
		bool showing = true;

		if (wafind_showing(w->wd, dialog, &showing, NULL) < 0)
			return false;
		if (!showing)
			return true;
		nap();
	}
	return false;
}

/*
 * Click el (escape: press Escape in the dialog el) to close a dialog. A try
 * the page refused (covered, stale, not a thing to type into) is no error:
 * whether the dialog went is what counts. Only the browser failing is.
 */
static int
act(struct waweb *w, const char *el, bool escape, char **cause)
{
	char *c = NULL;
	int e = escape ? wafind_escape(w->wd, el, &c) : webdriver_click(w->wd, el, &c);

	if (e < 0 && (transient(e) || e == -EIO))
		e = 0;
	else if (e < 0)
		util_fail(cause, e, "%s", c ? c : "closing a dialog failed");
	free(c);
	return e;
}

/*
 * Close what covers the page, in the documented order: the dialog's close
 * control, its one button named in dismiss_buttons, Escape. target is the
 * element a click was meant for when one was intercepted (NULL: look for
 * dialogs). 0 once nothing covers the page; -EBUSY, with the dialog's text,
 * when one stays; the browser's errors pass through.
 */
static int
clear_dialogs(struct waweb *w, const char *target, char **cause)
{
	char *dialog = NULL, *text = NULL, *el = NULL, *phrase = NULL, *how = NULL;
	int e = 0;

	/* A second dialog may wait behind the first; a few, not forever. */
	for (int round = 0; round < 3; round++) {
		int index;

		free(dialog);
		free(text);
		dialog = text = NULL;
		if ((e = wafind_dialog(w->wd, w->sel.caption, round == 0 ? target : NULL, &dialog, &text, cause)) < 0 ||
		    dialog == NULL)
			goto out;
		if (w->dialog_seen == NULL || strcmp(w->dialog_seen, text) != 0) {
			note(w, LOG_INFO, util_printf("%s: a dialog covers the page: \"%s\"", waweb_step(w), text));
			free(w->dialog_seen);
			w->dialog_seen = util_strdup(text);
		}
		if (wafind_first(w->wd, w->sel.popup_close, NULL, dialog, &el, &index, NULL) == 0) {
			found_by(w, WAWEB_POPUP_CLOSE, index);
			if ((e = act(w, el, false, cause)) < 0)
				goto out;
			free(el);
			el = NULL;
			if (went_away(w, dialog)) {
				how = util_strdup("its close control");
				goto closed;
			}
		}
		if (w->dismiss_buttons != NULL &&
		    wafind_button(w->wd, dialog, w->dismiss_buttons, &el, &phrase, NULL) == 0) {
			if ((e = act(w, el, false, cause)) < 0)
				goto out;
			free(el);
			el = NULL;
			if (went_away(w, dialog)) {
				how = util_printf("its button \"%s\"", phrase);
				goto closed;
			}
		}
		if ((e = act(w, dialog, true, cause)) < 0)
			goto out;
		if (went_away(w, dialog)) {
			how = util_strdup("Escape");
			goto closed;
		}
		e = util_fail(cause, -EBUSY, "something covers the page: a dialog \"%s\", and neither its close control "
		    "([whatsapp] selector_popup_close), a button named in [whatsapp] dismiss_buttons, nor Escape "
		    "closes it", text);
		goto out;
closed:
		note(w, LOG_INFO, util_printf("%s: closed the dialog \"%s\" with %s", waweb_step(w), text, how));
		free(w->dialog_seen);
		w->dialog_seen = NULL;
		free(how);
		free(phrase);
		how = phrase = NULL;
	}
	e = 0;
out:
	free(how);
	free(phrase);
	free(el);
	free(text);
	free(dialog);
	return e;
}

char *
waweb_dialog_text(struct waweb *w)
{
	char *dialog = NULL, *text = NULL;

	wafind_dialog(w->wd, w->sel.caption, NULL, &dialog, &text, NULL);
	free(dialog);
	return text;
}

/* Why a step ran out of time, from the last transient error it met and its message (why, taken: kept for -EBUSY). */
static int
step_timeout(struct waweb *w, int last, char *why, enum waweb_element x, unsigned long ms, char **cause)
{
	int e;

	if (last == -EBUSY)
		e = util_fail(cause, -EBUSY, "%s: %s (%.1f s)", w->step, why ? why : "something covers the page, and "
		    "nothing of [whatsapp] selector_popup_close or dismiss_buttons closes it", ms / 1000.0);
	else
		e = util_fail(cause, -ETIME, "%s: no strategy of [whatsapp] selector_%s (%s) matches within %.1f s",
		    w->step, element_names[x], spec(w, x), ms / 1000.0);
	free(why);
	return e;
}

/*
 * Wait until element x shows (its reference into *el). act: the caller
 * will act on it, so whatever covers the page is closed first.
 */
static int
wait_find(struct waweb *w, enum waweb_element x, bool act, unsigned long ms, char **el, char **cause)
{
	unsigned long long end = deadline(ms);

	for (;;) {
		char *c = NULL;
		int e = act ? clear_dialogs(w, NULL, &c) : 0;

		if (e == 0)
			e = find(w, x, NULL, NULL, el, &c);
		if (e == 0)
			return 0;
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		if (expired(end))
			return step_timeout(w, e, c, x, ms, cause);
		free(c);
		nap();
	}
}

/* Find element x and click it, again over re-renders and dialogs, until ms. */
static int
wait_click(struct waweb *w, enum waweb_element x, const char *chat, unsigned long ms, char **cause)
{
	unsigned long long end = deadline(ms);

	for (;;) {
		char *el = NULL, *c = NULL;
		int e = clear_dialogs(w, NULL, &c);

		if (e == 0 && (e = find(w, x, chat, NULL, &el, &c)) == 0) {
			if ((e = webdriver_click(w->wd, el, &c)) == -EBUSY) {
				/* Something over the element took the click: close it, then try again. */
				int d;

				free(c);
				c = NULL;
				if ((d = clear_dialogs(w, el, &c)) < 0)
					e = d;
			}
			free(el);
			if (e == 0)
				return 0;
		}
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		if (expired(end))
			return step_timeout(w, e, c, x, ms, cause);
		free(c);
		nap();
	}
}

int
waweb_open(struct waweb *w, const char *url, enum waweb_screen *screen, char **cause)
{
	unsigned long long end = deadline(w->t.load_ms);
	int e;

	w->step = "load";
	if ((e = webdriver_navigate(w->wd, url, cause)) < 0)
		return e;
	for (;;) {
		char *el = NULL, *c = NULL;

		if ((e = find(w, WAWEB_APP, NULL, NULL, &el, &c)) == 0) {
			free(el);
			*screen = WAWEB_SCREEN_APP;
			return 0;
		}
		if (e == -ENOENT) {
			free(c);
			c = NULL;
			if ((e = find(w, WAWEB_QR, NULL, NULL, &el, &c)) == 0) {
				free(el);
				*screen = WAWEB_SCREEN_QR;
				return 0;
			}
		}
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		free(c);
		if (expired(end))
			return util_fail(cause, -ETIME, "load: neither the app (selector_app: %s) nor the QR code "
			    "(selector_qr: %s) showed within %.1f s", w->sel.app, w->sel.qr, w->t.load_ms / 1000.0);
		nap();
	}
}

int
waweb_save_qr(struct waweb *w, const char *path, char **cause)
{
	char *el = NULL;
	int e;

	w->step = "qr";
	if ((e = wait_find(w, WAWEB_QR, false, w->t.step_ms, &el, cause)) == 0)
		e = webdriver_element_screenshot(w->wd, el, path, cause);
	free(el);
	return e;
}

int
waweb_wait_login(struct waweb *w, unsigned long ms, const char *qr_png, char **cause)
{
	unsigned long long end = deadline(ms), refresh = deadline(QR_REFRESH_MS);

	for (;;) {
		char *el = NULL, *c = NULL;
		int e;

		w->step = "login";
		if ((e = find(w, WAWEB_APP, NULL, NULL, &el, &c)) == 0) {
			free(el);
			return 0;
		}
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		free(c);
		if (expired(end))
			return util_fail(cause, -ETIME, "login: nobody scanned the QR code within %.0f s", ms / 1000.0);
		/* The code on the page changes every 20 s or so: keep the file current. */
		if (qr_png != NULL && expired(refresh)) {
			char *qc = NULL;

			if (find(w, WAWEB_QR, NULL, NULL, &el, NULL) == 0) {
				webdriver_element_screenshot(w->wd, el, qr_png, &qc);
				free(el);
				free(qc);
			}
			refresh = deadline(QR_REFRESH_MS);
		}
		nap();
	}
}

/* The visible text of an element, or its title attribute when it has no text. */
static int
element_name(struct webdriver *wd, const char *el, char **name, char **cause)
{
	int e;

	if ((e = webdriver_text(wd, el, name, cause)) < 0)
		return e;
	if (*name == NULL || (*name)[0] == '\0') {
		free(*name);
		*name = NULL;
		if ((e = webdriver_attribute(wd, el, "title", name, cause)) < 0)
			return e;
	}
	return 0;
}

/*
 * Does a conversation title show chat? Every match of the strategy counts,
 * since a loose strategy may also match a header elsewhere; *seen (caller
 * frees) is the last title seen, for the message when none is chat.
 */
static int
title_shows(struct waweb *w, const char *chat, bool *yes, char **seen, char **cause)
{
	char **els = NULL;
	size_t n = 0;
	int index, e;

	*yes = false;
	if ((e = wafind_all(w->wd, w->sel.chat_title, -1, &els, &n, &index, cause)) < 0)
		return e;
	if (n == 0)
		e = util_fail(cause, -ENOENT, "no conversation title");
	found_by(w, WAWEB_CHAT_TITLE, index);
	for (size_t i = 0; e == 0 && i < n && !*yes; i++) {
		free(*seen);
		*seen = NULL;
		if ((e = element_name(w->wd, els[i], seen, cause)) == 0 && *seen != NULL && strcmp(*seen, chat) == 0)
			*yes = true;
	}
	util_strv_free(els);
	return e;
}

int
waweb_open_chat(struct waweb *w, const char *chat, char **cause)
{
	unsigned long long end;
	char *el = NULL, *seen = NULL;
	int e;

	w->step = "search";
	if ((e = wait_click(w, WAWEB_SEARCH, NULL, w->t.step_ms, cause)) < 0 ||
	    (e = wait_find(w, WAWEB_SEARCH, true, w->t.step_ms, &el, cause)) < 0)
		goto out;
	/* A previous search may still be in the box. */
	webdriver_clear(w->wd, el, NULL);
	if ((e = webdriver_send_keys(w->wd, el, chat, cause)) < 0)
		goto out;

	w->step = "find-chat";
	if ((e = wait_click(w, WAWEB_CHAT, chat, w->t.step_ms, cause)) < 0) {
		if (e == -ETIME) {
			free(*cause);
			*cause = NULL;
			e = util_fail(cause, -ENOENT, "find-chat: the search finds no chat named \"%s\" (selector_chat: "
			    "%s, %.1f s); check the name in the recipients file against WhatsApp", chat, w->sel.chat,
			    w->t.step_ms / 1000.0);
		}
		goto out;
	}

	/* The header may still show the previous chat for a moment. */
	w->step = "verify-chat";
	end = deadline(w->t.step_ms);
	for (;;) {
		char *c = NULL;
		bool yes = false;

		if ((e = title_shows(w, chat, &yes, &seen, &c)) == 0 && yes)
			break;
		if (e < 0 && !transient(e)) {
			*cause = c;
			goto out;
		}
		free(c);
		if (expired(end)) {
			e = seen != NULL ?
			    util_fail(cause, -EPROTO, "verify-chat: the conversation opened is \"%s\", not \"%s\"", seen, chat) :
			    util_fail(cause, -ETIME, "verify-chat: no conversation title (selector_chat_title: %s) within "
			    "%.1f s", w->sel.chat_title, w->t.step_ms / 1000.0);
			goto out;
		}
		nap();
	}
	e = 0;
out:
	free(seen);
	free(el);
	return e;
}

int
waweb_prepare(struct waweb *w, const char *file, const char *caption, char **cause)
{
	char *el = NULL, **lines = NULL;
	size_t n = 0;
	int e;

	w->step = "attach";
	if ((e = wait_click(w, WAWEB_ATTACH, NULL, w->t.step_ms, cause)) < 0)
		goto out;
	w->step = "choose-file";
	if ((e = wait_find(w, WAWEB_DOCUMENT_INPUT, true, w->t.step_ms, &el, cause)) < 0 ||
	    (e = webdriver_send_keys(w->wd, el, file, cause)) < 0)
		goto out;
	w->step = "caption";
	free(el);
	el = NULL;
	if ((e = wait_click(w, WAWEB_CAPTION, NULL, w->t.step_ms, cause)) < 0 ||
	    (e = wait_find(w, WAWEB_CAPTION, true, w->t.step_ms, &el, cause)) < 0)
		goto out;
	if ((lines = util_split(caption, '\n', &n)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	/* Enter would send: a line break is Shift+Enter, Shift released after it. */
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (e = webdriver_send_keys(w->wd, el, WEBDRIVER_KEY_SHIFT WEBDRIVER_KEY_ENTER
		    WEBDRIVER_KEY_NULL, cause)) < 0)
			goto out;
		if (lines[i][0] != '\0' && (e = webdriver_send_keys(w->wd, el, lines[i], cause)) < 0)
			goto out;
	}
	e = 0;
out:
	util_strv_free(lines);
	free(el);
	return e;
}

int
waweb_open_attach(struct waweb *w, char **cause)
{
	char *el = NULL;
	int e;

	w->step = "attach";
	if ((e = wait_click(w, WAWEB_ATTACH, NULL, w->t.step_ms, cause)) < 0)
		return e;
	w->step = "choose-file";
	e = wait_find(w, WAWEB_DOCUMENT_INPUT, false, w->t.step_ms, &el, cause);
	free(el);
	return e;
}

void
waweb_cancel(struct waweb *w)
{
	char *el = NULL;

	/* Escape closes the preview; the next chat's search starts from the app anyway. */
	if (find(w, WAWEB_CAPTION, NULL, NULL, &el, NULL) == 0)
		webdriver_send_keys(w->wd, el, WEBDRIVER_KEY_ESCAPE, NULL);
	free(el);
}

/*
 * The last outgoing bubble once strategy index (-1: the first that
 * matches) finds more than n0 and the last shows name.
 */
static int
new_bubble(struct waweb *w, int index, size_t n0, const char *name, char **bubble, char **text, char **cause)
{
	char **els = NULL;
	size_t n = 0;
	int e, got;

	*bubble = *text = NULL;
	if ((e = wafind_all(w->wd, w->sel.message_out, index, &els, &n, &got, cause)) < 0)
		return e;
	if (n <= n0) {
		util_strv_free(els);
		return -ENOENT;
	}
	found_by(w, WAWEB_MESSAGE_OUT, got);
	if ((e = webdriver_text(w->wd, els[n - 1], text, cause)) == 0 && *text != NULL && strstr(*text, name) != NULL)
		*bubble = util_strdup(els[n - 1]);
	else if (e == 0)
		e = -ENOENT;
	util_strv_free(els);
	if (e < 0) {
		free(*text);
		*text = NULL;
	}
	return e;
}

int
waweb_send(struct waweb *w, const char *file, char **evidence, char **cause)
{
	const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	unsigned long long end;
	char *bubble = NULL, *text = NULL, *tick = NULL, *icon = NULL, **els = NULL;
	size_t n0 = 0;
	int index, e;

	*evidence = NULL;
	w->step = "send";
	/*
	 * The bubbles before: the new one is the one after them, counted by the
	 * same strategy (none yet: whichever finds the first).
	 */
	if ((e = wafind_all(w->wd, w->sel.message_out, -1, &els, &n0, &index, cause)) < 0)
		return e;
	util_strv_free(els);
	/* A dialog over the preview is closed here, or the send fails: before Send, never after. */
	if ((e = wait_click(w, WAWEB_SEND, NULL, w->t.step_ms, cause)) < 0)
		return e;

	w->step = "confirm";
	end = deadline(w->t.step_ms);
	for (;;) {
		char *c = NULL;

		if ((e = new_bubble(w, index, n0, name, &bubble, &text, &c)) == 0)
			break;
		if (!transient(e)) {
			*cause = c;
			goto out;
		}
		free(c);
		if (expired(end)) {
			e = util_fail(cause, -ETIME, "confirm: no new message (selector_message_out: %s) showing \"%s\" "
			    "within %.1f s", w->sel.message_out, name, w->t.step_ms / 1000.0);
			goto out;
		}
		nap();
	}

	/* The upload: a clock, then the tick (or the failure mark). Nothing on the page is touched now. */
	w->step = "upload";
	end = deadline(w->t.send_ms);
	for (;;) {
		char *c = NULL;

		if ((e = find(w, WAWEB_SENT, NULL, bubble, &tick, &c)) == 0)
			break;
		if (e == -ENOENT && find(w, WAWEB_FAILED, NULL, bubble, &tick, NULL) == 0) {
			free(c);
			e = util_fail(cause, -EBADMSG, "upload: WhatsApp marks the message \"%s\" as not sent "
			    "(selector_failed: %s)", name, w->sel.failed);
			goto out;
		}
		if (!transient(e)) {
			*cause = c;
			goto out;
		}
		free(c);
		if (e == -ESTALE) {
			/* The list re-rendered: the same bubble is the last one again. */
			free(bubble);
			free(text);
			new_bubble(w, index, n0, name, &bubble, &text, NULL);
		}
		if (expired(end)) {
			e = util_fail(cause, -ETIME, "upload: the message \"%s\" shows no sent tick (selector_sent: %s) "
			    "within %.0f s", name, w->sel.sent, w->t.send_ms / 1000.0);
			goto out;
		}
		if (bubble == NULL) {
			e = util_fail(cause, -EIO, "upload: the message \"%s\" went away", name);
			goto out;
		}
		nap();
	}
	webdriver_attribute(w->wd, tick, "data-icon", &icon, NULL);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	/* The bubble holds the caption with store names: cut between characters. */
	*evidence = util_printf("the new message shows \"%.*s\" and the sent tick (%s)",
	    (int)util_utf8_prefix(text, 200), text, icon ? icon : "selector_sent");
	e = *evidence ? 0 : util_fail(cause, -ENOMEM, "out of memory");
out:
	free(icon);
	free(tick);
	free(text);
	free(bubble);
	return e;
}
