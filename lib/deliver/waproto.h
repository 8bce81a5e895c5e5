/*
 * waproto: the protocol between a WhatsApp task (deliver/whatsapp.c) and
 * its child salesd-whatsapp (daemon/whatsapp_child.c), in one place.
 *
 * The task writes the batch as one JSON line; the child answers with one
 * JSON event per line (docs/whatsapp.md): started, needs-login, logged-in,
 * progress, ready, sent, failed, unsure, skipped, error, exit. Before it
 * presses Send for a chat the child says "ready" with the delivery key and
 * waits for the task's {"go": KEY} (the ledger says "sending" now) or
 * {"skip": KEY}.
 *
 * The child is a browser driver that reads pages from the internet: what it
 * says is untrusted input. waproto_parse_event() accepts only known events
 * with fields of the right types and says why anything else is refused;
 * tests/fuzz_waproto.c holds it to that.
 */
#ifndef SALESD_WAPROTO_H
#define SALESD_WAPROTO_H

#include <stdbool.h>
#include <stddef.h>

/* Longest line either side sends (a batch, an event with its evidence). */
#define WAPROTO_LINE_MAX (1024 * 1024)

enum waproto_event_type {
	WAPROTO_STARTED,        /* the browser runs: browser, sandbox */
	WAPROTO_NEEDS_LOGIN,    /* the QR screen: qr (a PNG's path) */
	WAPROTO_LOGGED_IN,
	WAPROTO_PROGRESS,       /* message, chat; without a chat, a note for the log at priority level */
	WAPROTO_READY,          /* key, chat: about to press Send, waiting for go or skip */
	WAPROTO_SENT,           /* key, chat, evidence */
	WAPROTO_FAILED,         /* key, chat, step, reason, screenshot, source: nothing went out */
	WAPROTO_UNSURE,         /* the same, after Send was pressed: it may have gone out */
	WAPROTO_SKIPPED,        /* key, chat: the task said skip */
	WAPROTO_ERROR,          /* step, reason, screenshot, source: the batch cannot go on */
	WAPROTO_EXIT,           /* status: the child's exit status (over a socket, where no wait() tells) */
};

/* One event; the strings belong to it (NULL when the event did not carry them). */
struct waproto_event {
	enum waproto_event_type type;
	char *key, *chat, *step, *reason, *evidence, *screenshot, *source, *qr, *message, *browser, *sandbox, *level;
	int status;             /* WAPROTO_EXIT */
};

const char *waproto_strevent(enum waproto_event_type t);

/*
 * Parse one line of the child's (len bytes, no newline). 0 with *ev filled
 * (free with waproto_event_done), or -EBADMSG with *cause saying why: not
 * JSON, not an object, an unknown event, a field of the wrong type, a
 * per-chat event without its key.
 */
int waproto_parse_event(const char *line, size_t len, struct waproto_event *ev, char **cause);
void waproto_event_done(struct waproto_event *ev);

/* The task's answer to a ready event: {"go": key} or {"skip": key}, one line without its newline. Caller frees. */
char *waproto_reply(bool go, const char *key);

/* The child's side: parse a reply line. 0 with *go and *key (caller frees), or -EBADMSG with *cause. */
int waproto_parse_reply(const char *line, size_t len, bool *go, char **key, char **cause);

#endif
