/*
 * waweb: the steps of sending a document through WhatsApp Web, over a
 * WebDriver session (webdriver.h): open the page and tell the logged-in app
 * from the QR screen, dismiss known pop-ups, find a chat through the search
 * box and verify its title, attach a document with a caption, press Send and
 * wait until the new outgoing bubble shows the file name and the sent tick.
 *
 * Every element is found by an ordered list of strategies from the
 * configuration ([whatsapp] selector_*; the syntax: wafind.h), most stable
 * first, so a restyle of WhatsApp's page that keeps labels, roles, titles
 * and icons changes nothing, and any other change is mended by editing the
 * configuration, not this code. Which strategy found an element goes to the
 * note callback at debug priority whenever it changes, so that an operator
 * sees the page drift away from the first one.
 *
 * Before a step acts on the page (a click, typing) whatever covers it is
 * closed: its close control (selector_popup_close, inside the dialog), else
 * the one button whose text is a phrase of dismiss_buttons, else Escape;
 * the dialog's text goes to the note callback. A dialog that none of them
 * closes fails the step with -EBUSY and the text in its reason; so a
 * pop-up over the preview fails the send before Send, never after.
 *
 * Each step has its own time-out (-ETIME when it runs out, -EBUSY when
 * something kept covering the element); -ETIMEDOUT and -ECONNRESET mean the
 * browser itself stopped answering. waweb_step() names the step that
 * failed, for the diagnostics.
 *
 * Blocking: for the salesd-whatsapp child only.
 */
#ifndef SALESD_WAWEB_H
#define SALESD_WAWEB_H

#include <stdbool.h>

#include "deliver/webdriver.h"

/* The elements, in the order of struct waweb_selectors. */
enum waweb_element {
	WAWEB_QR, WAWEB_APP, WAWEB_POPUP_CLOSE, WAWEB_SEARCH, WAWEB_CHAT, WAWEB_CHAT_TITLE, WAWEB_ATTACH,
	WAWEB_DOCUMENT_INPUT, WAWEB_CAPTION, WAWEB_SEND, WAWEB_MESSAGE_OUT, WAWEB_SENT, WAWEB_FAILED,
	WAWEB_NELEMENTS
};

/* Each element's strategy list (wafind.h): "|"-separated CSS selectors and text: phrases, tried in order. */
struct waweb_selectors {
	const char *qr;                 /* the QR code of the login screen (a canvas) */
	const char *app;                /* present once the app (chat list) shows */
	const char *popup_close;        /* a dialog's close control, looked for inside the dialog */
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
	const char *dismiss_buttons;    /* "|"-separated texts of buttons that close a dialog; NULL: none */
	/*
	 * Told what deserves a log line (syslog priorities): which strategy
	 * found an element (LOG_DEBUG), a dialog and how it was closed
	 * (LOG_INFO). message is only lent for the call. NULL: nobody listens.
	 */
	void (*note)(void *arg, int priority, const char *message);
	void *note_arg;
	const char *step;               /* the step running or that failed */
	int matched[WAWEB_NELEMENTS];   /* 1 + the strategy that last found each element; 0: not found yet */
	char *dialog_seen;              /* the text of the last dialog noted, so a stubborn one is noted once */
};

/* The configuration key's name of an element: "qr", "chat_title", ... */
const char *waweb_element_name(enum waweb_element x);

/*
 * Look for element x once (no waiting, nothing closed): 0 with *index (the
 * strategy that matched, 0-based), -ENOENT, or the browser's error. For
 * chat, the chat's name fills {chat}. For `salesd whatsapp-check`.
 */
int waweb_probe(struct waweb *w, enum waweb_element x, const char *chat, int *index, char **cause);

/* Free what waweb allocated along the way (w->dialog_seen); w itself is the caller's. */
void waweb_done(struct waweb *w);

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

/*
 * In the open chat: open the attach menu and find the document's file
 * input, choosing nothing (for `salesd whatsapp-check`: nothing is sent).
 */
int waweb_open_attach(struct waweb *w, char **cause);

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
