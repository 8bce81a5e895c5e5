/*
 * delivery: the delivery ledger (sql/004_delivery.sql): before a report goes
 * to a recipient, delivery_begin() says whether to send it and records
 * "sending"; after the server's (or the chat's) confirmation,
 * delivery_finish() records "sent" with the reply, or "failed" with why.
 *
 * A "sending" row met again means the sender died between sending and
 * recording: the row becomes "unknown" and is not sent again unless forced,
 * since the message may have gone out (FIELD-NOTES: no exactly-once).
 *
 * A delivery has versions: 1 is the original, and each correction of a
 * report that was rendered again with other figures is the latest version
 * plus one, a delivery of its own with the same states (deliver/correction
 * decides when). Each row keeps the stores' sales it carried ("figures"), so
 * the next run can tell what changed since.
 *
 * Blocking (libpq): task children only.
 */
#ifndef SALESD_DELIVERY_H
#define SALESD_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/*
 * How a delivery task runs (email_task, whatsapp_task): FORCE sends again
 * what the ledger holds; CORRECTIONS_ONLY (a run for a restated day,
 * docs/completeness.md) sends corrections of what went out and nothing to
 * a recipient nothing reached yet.
 */
#define DELIVERY_FORCE            1u
#define DELIVERY_CORRECTIONS_ONLY 2u

struct delivery_key {
	const char *report;     /* "daily", "weekly", "monthly" */
	const char *period;
	const char *store;      /* "*" for the company */
	const char *channel;    /* "email" or "whatsapp" */
	const char *recipient;
	int version;            /* 0 or 1: the original; 2, 3, ...: its corrections */
};

enum delivery_decision {
	DELIVERY_SEND,          /* recorded as "sending": send it, then delivery_finish */
	DELIVERY_SENT_BEFORE,   /* sent already; not again unless forced */
	DELIVERY_UNKNOWN,       /* an earlier sender died in the gap; not again unless forced */
};

const char *delivery_strdecision(enum delivery_decision d);

/*
 * The states of a delivery (the column delivery.state):
 *
 *   none -> sending      delivery_begin: it is about to go out
 *   failed -> sending    the same, for one that failed before
 *   sending -> sent      delivery_finish: the server or the chat confirmed it
 *   sending -> failed    delivery_finish: refused, or nothing went out
 *   sending -> unknown   delivery_finish: it went out whole, the verdict was
 *                        lost; or a "sending" row met again (its sender died)
 *   none|failed -> failed  delivery_fail: failed before anything could go
 *   any -> sending       forced
 *
 * Every change goes through one function in delivery.c, which reports it
 * as "old -> new" to the ledger's observer (the task logs it with the
 * run's journal fields).
 */
enum delivery_state {
	DELIVERY_STATE_NONE,    /* no row yet */
	DELIVERY_STATE_SENDING,
	DELIVERY_STATE_SENT,
	DELIVERY_STATE_FAILED,
	DELIVERY_STATE_UNKNOWN,
};

const char *delivery_strstate(enum delivery_state s);

/*
 * The ledger as a sender uses it: its connection, and who hears of each
 * change of state (may be NULL): key and states, and why (a server's reply,
 * a reason; may be NULL).
 */
struct delivery_ledger {
	PGconn *c;
	void (*on_change)(void *arg, const struct delivery_key *k, enum delivery_state from, enum delivery_state to,
	    const char *why);
	void *arg;
};

/*
 * The key as one string, "weekly/2026-W47/Indiranagar/email/a@b.c", and
 * "weekly/2026-W47/Indiranagar/email/a@b.c/v2" for a correction, so that a
 * correction has a Message-ID of its own (Message-ID, logs). Caller frees.
 */
char *delivery_key_string(const struct delivery_key *k);

/*
 * Decide and, for DELIVERY_SEND, record "sending" (attempts counted) with
 * message_id and figures (the stores' sales the message carries, JSON text
 * as manifest_stores_json writes it; either may be NULL and then keeps what
 * the row had). force sends whatever the row says. 0 with *decision, or -EIO
 * / -EAGAIN (the connection lost) with *cause.
 */
int delivery_begin(struct delivery_ledger *l, const struct delivery_key *k, const char *message_id,
    const char *figures, bool force, enum delivery_decision *decision, char **cause);

/* The latest version of a delivery, as delivery_latest finds it. */
struct delivery_latest {
	int version;                /* 0: no row for the key yet */
	enum delivery_state state;  /* DELIVERY_STATE_NONE without a row */
	char *figures;              /* the stores' sales it carried (JSON), or NULL when not recorded */
	char *corrects;             /* a correction (version > 1): the figures of the version before it, or NULL */
};

/*
 * The latest version of k's delivery (k->version is not looked at) into
 * *out, which the caller empties with delivery_latest_done. Changes nothing:
 * a "sending" row is reported as it is. 0, or -EIO / -EAGAIN with *cause.
 */
int delivery_latest(struct delivery_ledger *l, const struct delivery_key *k, struct delivery_latest *out,
    char **cause);

/* Free what x holds; NULL is fine. */
void delivery_latest_done(struct delivery_latest *x);

/*
 * What delivery_begin would decide, without recording "sending" (for a
 * sender that records it only at the last moment, after a slow preparation).
 * A "sending" row met here becomes "unknown" just the same.
 */
int delivery_lookup(struct delivery_ledger *l, const struct delivery_key *k, bool force,
    enum delivery_decision *decision, char **cause);

/* Deliveries over channel that went out (or may have) today, midnight to midnight in time zone tz. */
int delivery_count_today(PGconn *c, const char *channel, const char *tz, long long *n, char **cause);

/*
 * Record a delivery that failed before anything could go out (not begun):
 * a new row or a failed one becomes "failed" with reason; any other row
 * (sent, unknown, sending) is left as it is.
 */
int delivery_fail(struct delivery_ledger *l, const struct delivery_key *k, const char *reason, char **cause);

/*
 * Record the outcome of a send begun with DELIVERY_SEND: outcome is
 * DELIVERY_STATE_SENT, _FAILED, or _UNKNOWN (the message went out whole and
 * its verdict was lost: exactly what a crash in that gap leaves), with the
 * reply or what happened. -EINVAL for any other outcome.
 */
int delivery_finish(struct delivery_ledger *l, const struct delivery_key *k, enum delivery_state outcome,
    const char *reply, char **cause);

/*
 * Mark k (an e-mail) as the fallback of chat's WhatsApp delivery of the same
 * report (its latest version; the column delivery.fallback_of, sql/009).
 */
int delivery_link_fallback(struct delivery_ledger *l, const struct delivery_key *k, const char *chat,
    char **cause);

/* A delivery as the ledger lists it; strings belong to the list. */
struct delivery_row {
	char *report;
	char *period;
	char *store;
	char *channel;
	char *recipient;
	int version;            /* 1: the original; 2, ...: a correction */
	char *state;            /* sending, sent, failed, unknown */
	int attempts;
	int64_t updated_usec;   /* its last change */
	char *reply;            /* the server's reply or why it failed, or NULL */
	char *fallback_for;     /* an e-mail in place of a WhatsApp message: its chat; else NULL */
};

struct delivery_list {
	struct delivery_row *v;
	size_t n;
};

/* The latest limit deliveries, the latest first, into *out (untouched on failure). */
int delivery_list_recent(PGconn *c, unsigned limit, struct delivery_list *out, char **cause);

/* Free what a list holds and empty it; NULL is fine. */
void delivery_list_done(struct delivery_list *l);

#endif
