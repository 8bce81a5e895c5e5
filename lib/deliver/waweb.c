/*
 * waweb: sending a document through WhatsApp Web (see waweb.h).
 *
 * The page re-renders lists on every keystroke and shows pop-ups whenever
 * it likes, so every step is "find, act, and on a stale element or a covered
 * click dismiss the known pop-ups and try again" until the step's time-out.
 * Anything else the browser says (gone, not answering) ends the step at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
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

/* Click whatever closes a known pop-up; nothing to report when none shows. */
static void
dismiss_popups(struct waweb *w)
{
	char **els = NULL;
	size_t n = 0;

	if (webdriver_find_all(w->wd, w->sel.popup_close, &els, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		webdriver_click(w->wd, els[i], NULL);
	util_strv_free(els);
}

char *
waweb_dialog_text(struct waweb *w)
{
	char *el = NULL, *text = NULL;

	if (webdriver_find(w->wd, "[role=\"dialog\"]", &el, NULL) == 0 &&
	    webdriver_text(w->wd, el, &text, NULL) == 0 && text != NULL) {
		for (char *p = text; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		if (strlen(text) > 160)
			strcpy(text + util_utf8_cut(text, 157), "...");
	}
	free(el);
	return text;
}

/* Why a step timed out, from the last transient error it met. */
static int
step_timeout(struct waweb *w, int last, const char *css, unsigned long ms, char **cause)
{
	char *dialog = last == -EBUSY ? waweb_dialog_text(w) : NULL;
	int e;

	if (last == -EBUSY)
		e = util_fail(cause, -EBUSY, "%s: something covers the page%s%s%s and no [whatsapp] "
		    "selector_popup_close matches a button that closes it (%.1f s)", w->step,
		    dialog ? ": a dialog \"" : "", dialog ? dialog : "", dialog ? "\"" : "", ms / 1000.0);
	else
		e = util_fail(cause, -ETIME, "%s: nothing matches %s within %.1f s", w->step, css, ms / 1000.0);
	free(dialog);
	return e;
}

/* Wait until css matches an element (its reference into *el). */
static int
wait_find(struct waweb *w, const char *css, unsigned long ms, char **el, char **cause)
{
	unsigned long long end = deadline(ms);

	for (;;) {
		char *c = NULL;
		int e = webdriver_find(w->wd, css, el, &c);

		if (e == 0)
			return 0;
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		free(c);
		if (expired(end))
			return step_timeout(w, e, css, ms, cause);
		dismiss_popups(w);
		nap();
	}
}

/* Find css and click it, again over re-renders and pop-ups, until ms. */
static int
wait_click(struct waweb *w, const char *css, unsigned long ms, char **cause)
{
	unsigned long long end = deadline(ms);

	for (;;) {
		char *el = NULL, *c = NULL;
		int e = webdriver_find(w->wd, css, &el, &c);

		if (e == 0) {
			free(c);
			c = NULL;
			e = webdriver_click(w->wd, el, &c);
			free(el);
			if (e == 0)
				return 0;
		}
		if (!transient(e)) {
			*cause = c;
			return e;
		}
		free(c);
		if (expired(end))
			return step_timeout(w, e, css, ms, cause);
		dismiss_popups(w);
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

		if ((e = webdriver_find(w->wd, w->sel.app, &el, &c)) == 0) {
			free(el);
			*screen = WAWEB_SCREEN_APP;
			return 0;
		}
		if (e == -ENOENT) {
			free(c);
			c = NULL;
			if ((e = webdriver_find(w->wd, w->sel.qr, &el, &c)) == 0) {
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
			return util_fail(cause, -ETIME, "load: neither the app (%s) nor the QR code (%s) showed "
			    "within %.1f s", w->sel.app, w->sel.qr, w->t.load_ms / 1000.0);
		dismiss_popups(w);
		nap();
	}
}

int
waweb_save_qr(struct waweb *w, const char *path, char **cause)
{
	char *el = NULL;
	int e;

	w->step = "qr";
	if ((e = wait_find(w, w->sel.qr, w->t.step_ms, &el, cause)) == 0)
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
		if ((e = webdriver_find(w->wd, w->sel.app, &el, &c)) == 0) {
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

			if (webdriver_find(w->wd, w->sel.qr, &el, NULL) == 0) {
				webdriver_element_screenshot(w->wd, el, qr_png, &qc);
				free(el);
				free(qc);
			}
			refresh = deadline(QR_REFRESH_MS);
		}
		nap();
	}
}

/* The visible text of the first element matching css, or its title attribute when it has no text. */
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

int
waweb_open_chat(struct waweb *w, const char *chat, char **cause)
{
	unsigned long long end;
	char *el = NULL, *css = NULL, *seen = NULL;
	int e;

	w->step = "search";
	if ((e = wait_click(w, w->sel.search, w->t.step_ms, cause)) < 0 ||
	    (e = wait_find(w, w->sel.search, w->t.step_ms, &el, cause)) < 0)
		goto out;
	/* A previous search may still be in the box. */
	webdriver_clear(w->wd, el, NULL);
	if ((e = webdriver_send_keys(w->wd, el, chat, cause)) < 0)
		goto out;

	w->step = "find-chat";
	if ((css = waweb_chat_selector(w->sel.chat, chat)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = wait_click(w, css, w->t.step_ms, cause)) < 0) {
		if (e == -ETIME) {
			free(*cause);
			*cause = NULL;
			e = util_fail(cause, -ENOENT, "find-chat: the search finds no chat named \"%s\" (%s, %.1f s); "
			    "check the name in the recipients file against WhatsApp", chat, css, w->t.step_ms / 1000.0);
		}
		goto out;
	}

	/* The header may still show the previous chat for a moment. */
	w->step = "verify-chat";
	end = deadline(w->t.step_ms);
	for (;;) {
		free(el);
		el = NULL;
		free(seen);
		seen = NULL;
		char *c = NULL;

		if ((e = webdriver_find(w->wd, w->sel.chat_title, &el, &c)) == 0)
			e = element_name(w->wd, el, &seen, &c);
		if (e == 0 && seen != NULL && strcmp(seen, chat) == 0)
			break;
		if (e < 0 && !transient(e)) {
			*cause = c;
			goto out;
		}
		free(c);
		if (expired(end)) {
			e = seen != NULL ?
			    util_fail(cause, -EPROTO, "verify-chat: the conversation opened is \"%s\", not \"%s\"", seen, chat) :
			    util_fail(cause, -ETIME, "verify-chat: no conversation title (%s) within %.1f s",
			    w->sel.chat_title, w->t.step_ms / 1000.0);
			goto out;
		}
		nap();
	}
	e = 0;
out:
	free(seen);
	free(css);
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
	if ((e = wait_click(w, w->sel.attach, w->t.step_ms, cause)) < 0)
		goto out;
	w->step = "choose-file";
	if ((e = wait_find(w, w->sel.document_input, w->t.step_ms, &el, cause)) < 0 ||
	    (e = webdriver_send_keys(w->wd, el, file, cause)) < 0)
		goto out;
	w->step = "caption";
	free(el);
	el = NULL;
	if ((e = wait_click(w, w->sel.caption, w->t.step_ms, cause)) < 0 ||
	    (e = wait_find(w, w->sel.caption, w->t.step_ms, &el, cause)) < 0)
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

void
waweb_cancel(struct waweb *w)
{
	char *el = NULL;

	/* Escape closes the preview; the next chat's search starts from the app anyway. */
	if (webdriver_find(w->wd, w->sel.caption, &el, NULL) == 0)
		webdriver_send_keys(w->wd, el, "\xee\x80\x8c", NULL);  /* U+E00C: Escape */
	free(el);
}

static int
count(struct waweb *w, const char *css, size_t *n, char **cause)
{
	char **els = NULL;
	int e;

	*n = 0;
	if ((e = webdriver_find_all(w->wd, css, &els, n, cause)) == 0)
		util_strv_free(els);
	return e;
}

/* The last outgoing bubble once there are more than n0 and it shows name. */
static int
new_bubble(struct waweb *w, size_t n0, const char *name, char **bubble, char **text, char **cause)
{
	char **els = NULL;
	size_t n = 0;
	int e;

	*bubble = *text = NULL;
	if ((e = webdriver_find_all(w->wd, w->sel.message_out, &els, &n, cause)) < 0)
		return e;
	if (n <= n0) {
		util_strv_free(els);
		return -ENOENT;
	}
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
	char *bubble = NULL, *text = NULL, *tick = NULL, *icon = NULL;
	size_t n0;
	int e;

	*evidence = NULL;
	w->step = "send";
	/* The bubbles before: the new one is the one after them. */
	if ((e = count(w, w->sel.message_out, &n0, cause)) < 0 ||
	    (e = wait_click(w, w->sel.send, w->t.step_ms, cause)) < 0)
		return e;

	w->step = "confirm";
	end = deadline(w->t.step_ms);
	for (;;) {
		char *c = NULL;

		if ((e = new_bubble(w, n0, name, &bubble, &text, &c)) == 0)
			break;
		if (!transient(e)) {
			*cause = c;
			goto out;
		}
		free(c);
		if (expired(end)) {
			e = util_fail(cause, -ETIME, "confirm: no new message (%s) showing \"%s\" within %.1f s",
			    w->sel.message_out, name, w->t.step_ms / 1000.0);
			goto out;
		}
		nap();
	}

	/* The upload: a clock, then the tick (or the failure mark). */
	w->step = "upload";
	end = deadline(w->t.send_ms);
	for (;;) {
		char *c = NULL;

		if ((e = webdriver_find_in(w->wd, bubble, w->sel.sent, &tick, &c)) == 0)
			break;
		if (e == -ENOENT && webdriver_find_in(w->wd, bubble, w->sel.failed, &tick, NULL) == 0) {
			free(c);
			e = util_fail(cause, -EBADMSG, "upload: WhatsApp marks the message \"%s\" as not sent (%s)",
			    name, w->sel.failed);
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
			new_bubble(w, n0, name, &bubble, &text, NULL);
		}
		if (expired(end)) {
			e = util_fail(cause, -ETIME, "upload: the message \"%s\" shows no sent tick (%s) within %.0f s",
			    name, w->sel.sent, w->t.send_ms / 1000.0);
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
	    (int)util_utf8_prefix(text, 200), text, icon ? icon : w->sel.sent);
	e = *evidence ? 0 : util_fail(cause, -ENOMEM, "out of memory");
out:
	free(icon);
	free(tick);
	free(text);
	free(bubble);
	return e;
}
