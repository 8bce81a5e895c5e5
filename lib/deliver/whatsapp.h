/*
 * whatsapp: the daemon's side of WhatsApp delivery. A WhatsApp task sends the
 * report of a period to the chats of its scope (recipients file): it works
 * out which chats still need it (delivery ledger) and how many the account
 * may still send today ([whatsapp] daily_cap), words the caption, and runs
 * the salesd-whatsapp child (uv_spawn, a process group of its own) with the
 * batch. Each send is recorded as "sending" when the child is about to press
 * Send and as "sent" or "failed" as its event arrives, so a batch cut short
 * re-sends only what is missing. A send that takes too long, or the whole
 * batch, kills the child's process group: browser, driver and all.
 *
 * When it gives up on a chat (a login needed, the last attempt failed, the
 * [whatsapp] deadline passed) or a send ended unknown, the report goes to the
 * chat's fallback addresses by e-mail instead (email_fallback), and a lost
 * login is e-mailed to the operator once per incident.
 *
 * whatsapp_login() runs the same child to log the profile in (QR code).
 * The child's protocol and exit codes: docs/whatsapp.md.
 *
 * Blocking (libpq, a private libuv loop): task children and commands only.
 */
#ifndef SALESD_WHATSAPP_H
#define SALESD_WHATSAPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/period.h"

/* Exit status of salesd-whatsapp. */
enum whatsapp_exit {
	WHATSAPP_EXIT_SENT = 0,         /* every send confirmed (login: logged in) */
	WHATSAPP_EXIT_LOGIN = 2,        /* the profile needs a scan of the QR code */
	WHATSAPP_EXIT_FAILED = 3,       /* some sends failed; the others went */
	WHATSAPP_EXIT_BROWSER = 4,      /* the browser or the driver failed */
	WHATSAPP_EXIT_USAGE = 64,       /* a bad batch */
};

struct whatsapp_result {
	size_t chats;           /* of the scope */
	size_t sent;            /* confirmed now */
	size_t corrections;     /* of them, corrections of a report sent before with other figures */
	size_t before;          /* sent before, or unknown: not sent again */
	size_t failed;          /* failed now */
	size_t capped;          /* left for another day by the daily cap */
	size_t fallbacks;       /* e-mails sent now in place of WhatsApp messages */
	bool needs_login;
	bool late;              /* the [whatsapp] deadline had passed: the browser was not started */
};

/*
 * When a task gives up on WhatsApp and sends the report by e-mail instead
 * (docs/whatsapp.md "Fallback to e-mail"): the caller knows the attempt and
 * the business time zone.
 */
struct whatsapp_giveup {
	bool last;              /* no retry follows a failure of this attempt */
	int64_t deadline;       /* [whatsapp] deadline for this period (Unix seconds); 0: none */
	int64_t now;            /* the time the task runs at (Unix seconds) */
};

/* Progress for the log; priority is a syslog level (LOG_ERR for "needs login"). */
typedef void (*whatsapp_progress_fn)(void *arg, int priority, const char *message);

/*
 * Send period p's report of store (NULL or "*": the company's) to its chats.
 * 0 when every chat has it; -EACCES when the profile needs a login (nothing
 * will be sent until a person scans the code: not worth a retry); -EAGAIN
 * for a passing failure (browser, time-out, daily cap, database); -EPERM when
 * a send failed on the page (chat not found, upload refused); -EINVAL for a
 * configuration problem; -ENOENT when the report's PDF is missing. how:
 * DELIVERY_* bits (deliver/delivery.h).
 *
 * Past g->deadline the browser is not started: each chat still due gets the
 * e-mail fallback, and 0 unless a fallback failed. On a login needed, or a
 * failure of the last attempt (g->last), the chats not sent get the fallback
 * and the error is returned as it is. A send that ended unknown gets it
 * always, worded "in case it did not arrive". The first "needs login" of an
 * incident e-mails [whatsapp] fallback_email (once, until a send or a login
 * succeeds).
 */
int whatsapp_task(const struct config *cfg, const struct period *p, const char *store, unsigned how,
    const struct whatsapp_giveup *g, whatsapp_progress_fn progress, void *arg, struct whatsapp_result *res,
    char **cause);

/*
 * Open WhatsApp Web with the profile; when it asks for a login, save the QR
 * code (its path reported through progress) and wait up to [whatsapp]
 * login_timeout for the scan. 0 once logged in; -ETIME when nobody scanned.
 */
int whatsapp_login(const struct config *cfg, whatsapp_progress_fn progress, void *arg, char **cause);

/*
 * `salesd whatsapp-check`: open WhatsApp Web with the profile and find every
 * element that can be found without sending (with chat, not NULL: open that
 * chat and its attach menu too), each strategy that matched reported through
 * progress. Sends nothing. 0 when all were found; -EACCES when the login is
 * lost (the QR code is saved); -ENOENT with *cause naming the element (and
 * the diagnostics) when one was not found; -EAGAIN when the browser failed.
 */
int whatsapp_check(const struct config *cfg, const char *chat, whatsapp_progress_fn progress, void *arg,
    char **cause);

/* "{state_dir}/whatsapp/NAME" (caller frees): profile, qr.png, diagnostics, state, lock. */
char *whatsapp_path(const struct config *cfg, const char *name);

/*
 * The last known login state for `salesd status`, one line (caller frees):
 * "logged in (2026-11-25 01:32 UTC)" or "NEEDS LOGIN since ...: ...". NULL
 * when WhatsApp was never used.
 */
char *whatsapp_state(const struct config *cfg);

#endif
