/*
 * waweb: the steps of sending a document through WhatsApp Web, over a
 * WebDriver session (webdriver.h): open the page and tell the logged-in app
 * from the QR screen, dismiss known pop-ups, find a chat through the search
 * box and verify its title, attach a document with a caption, press Send and
 * wait until the new outgoing bubble shows the file name and the sent tick.
 *
 * Every element is found by a CSS selector from the configuration ([whatsapp]
 * selector_*), so a change on WhatsApp's side is mended by editing the
 * configuration, not this code. Each step has its own time-out (-ETIME when
 * it runs out, -EBUSY when something kept covering the element); -ETIMEDOUT and -ECONNRESET mean the browser itself stopped
 * answering. waweb_step() names the step that failed, for the diagnostics.
 *
 * Blocking: for the salesd-whatsapp child only.
 */
#ifndef SALESD_WAWEB_H
#define SALESD_WAWEB_H

#include <stdbool.h>

#include "deliver/webdriver.h"

struct waweb_selectors {
	const char *qr;                 /* the QR code of the login screen (a canvas) */
	const char *app;                /* present once the app (chat list) shows */
	const char *popup_close;        /* buttons that dismiss known pop-ups */
	const char *search;             /* the chat search box */
	const char *chat;               /* a chat in the list; {chat}: the name as a CSS string */
	const char *chat_title;         /* the open conversation's title */
	const char *attach;             /* the attach button */
	const char *document_input;     /* the file input of "Document" */
	const char *caption;            /* the caption box of the preview */
	const char *send;               /* the send button of the preview */
	const char *message_out;        /* an outgoing message bubble */
	const char *sent;               /* the sent tick, inside a bubble */
	const char *failed;             /* the failure mark, inside a bubble */
};

struct waweb_timeouts {
	unsigned long load_ms;          /* the page until the app or the QR shows */
	unsigned long step_ms;          /* one find-and-act step */
	unsigned long send_ms;          /* Send until the sent tick (the upload) */
};

struct waweb {
	struct webdriver *wd;
	struct waweb_selectors sel;
	struct waweb_timeouts t;
	const char *step;               /* the step running or that failed */
};

enum waweb_screen {
	WAWEB_SCREEN_APP,               /* logged in */
	WAWEB_SCREEN_QR,                /* needs a scan of the QR code */
};

/*
 * Load url and wait for the app or the QR screen. -ETIME when neither
 * shows within load_ms; errors of the browser pass through.
 */
int waweb_open(struct waweb *w, const char *url, enum waweb_screen *screen, char **cause);

/* Save the QR code as a PNG (atomically). */
int waweb_save_qr(struct waweb *w, const char *path, char **cause);

/*
 * After waweb_open gave the QR screen: wait up to ms for the app, saving the
 * QR to qr_png again whenever the page shows a new one (the code rotates).
 * 0 once logged in, -ETIME.
 */
int waweb_wait_login(struct waweb *w, unsigned long ms, const char *qr_png, char **cause);

/*
 * Open the chat named chat and verify the conversation's title. -ENOENT when
 * the search finds no such chat; -EPROTO when another chat opened.
 */
int waweb_open_chat(struct waweb *w, const char *chat, char **cause);

/*
 * In the open chat: attach file (an absolute path) and type caption (its
 * line breaks as Shift+Enter), up to the moment before Send.
 */
int waweb_prepare(struct waweb *w, const char *file, const char *caption, char **cause);

/* Close the preview of waweb_prepare without sending. */
void waweb_cancel(struct waweb *w);

/*
 * Press Send and wait for a new outgoing bubble that shows the file's name
 * and then the sent tick. *evidence (caller frees) says what was seen.
 * -EBADMSG when the bubble shows WhatsApp's failure mark (surely not sent);
 * -ETIME when the tick does not come within send_ms. A step whose element
 * stays covered (a pop-up nothing closes) fails with -EBUSY.
 */
int waweb_send(struct waweb *w, const char *file, char **evidence, char **cause);

/* The text of the dialog covering the page, if any (caller frees), for a failure's reason. */
char *waweb_dialog_text(struct waweb *w);

/* The step running or that failed: "load", "search", "open-chat", ... */
const char *waweb_step(const struct waweb *w);

/* The selector template's {chat} replaced by chat as a quoted CSS string. Caller frees. */
char *waweb_chat_selector(const char *tmpl, const char *chat);

#endif
