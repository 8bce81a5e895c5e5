/*
 * whatsapp: WhatsApp tasks and the login, on top of the salesd-whatsapp
 * child (see whatsapp.h, docs/whatsapp.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "base/db.h"
#include "base/runner.h"
#include "deliver/correction.h"
#include "deliver/delivery.h"
#include "deliver/email.h"
#include "deliver/recipients.h"
#include "deliver/waproto.h"
#include "report/manifest.h"
#include "base/util.h"
#include "deliver/whatsapp.h"

#ifndef SALESD_LIBEXECDIR
#define SALESD_LIBEXECDIR "/usr/libexec/salesd"
#endif

/* ---- paths, state, lock --------------------------------------------------- */

/* Say msg (ours to free; NULL: out of memory, said nothing). */
static void
say(whatsapp_progress_fn progress, void *arg, int priority, char *msg)
{
	if (progress != NULL && msg != NULL)
		progress(arg, priority, msg);
	free(msg);
}


char *
whatsapp_path(const struct config *cfg, const char *name)
{
	return util_printf("%s/whatsapp/%s", cfg->salesd.state_dir, name);
}

/* The child: next to this executable (a build tree, /usr/bin), else the installed libexec one. */
static char *
child_path(void)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((p = util_printf("%s/salesd-whatsapp", self)) != NULL && access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return util_strdup(SALESD_LIBEXECDIR "/salesd-whatsapp");
}

/* Remember the login state for `salesd status`: one JSON object in {state_dir}/whatsapp/state. */
static void
state_write(const struct config *cfg, bool logged_in, const char *qr)
{
	char *path = whatsapp_path(cfg, "state"), *text;
	json_t *o = json_pack("{s:s, s:I}", "state", logged_in ? "logged-in" : "needs-login",
	    "at", (json_int_t)time(NULL));

	if (o != NULL && qr != NULL)
		json_object_set_new(o, "qr", json_string(qr));
	if (path != NULL && o != NULL && (text = json_dumps(o, JSON_COMPACT)) != NULL) {
		util_write_atomic(path, text, strlen(text), 0600, NULL);
		free(text);
	}
	json_decref(o);
	free(path);
	/* Logged in: the lost-login incident is over; the next one alerts again. */
	if (logged_in && (path = whatsapp_path(cfg, "alerted")) != NULL) {
		unlink(path);
		free(path);
	}
}

/*
 * Tell the operator, once per incident, that the profile needs a login: an
 * e-mail to [whatsapp] fallback_email. {state_dir}/whatsapp/alerted marks the
 * incident as told; a login or a send that works removes it (state_write).
 */
static void
login_alert(const struct config *cfg, whatsapp_progress_fn progress, void *arg)
{
	char *path = whatsapp_path(cfg, "alerted"), *subject = NULL, *text = NULL, *key = NULL, *why = NULL;
	char host[256] = "", stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (path == NULL)
		return;
	if (access(path, F_OK) == 0)
		goto out;               /* told already, this incident */
	if (cfg->whatsapp.fallback_email.n == 0) {
		if (progress != NULL)
			progress(arg, LOG_WARNING, "nobody is e-mailed about the lost login: [whatsapp] fallback_email "
			    "is empty");
		goto out;
	}
	gethostname(host, sizeof host - 1);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", &tm);
	subject = util_printf("salesd: WhatsApp needs a login on %s", host);
	text = util_printf("Since %s, WhatsApp Web shows its QR code instead of the app on %s: the linked "
	    "device was logged out. No report goes to WhatsApp until someone logs it in again:\n\n"
	    "    salesd whatsapp-login\n\nthen scans the QR code with the phone (WhatsApp > Settings > Linked "
	    "devices > Link a device). Meanwhile the reports go by e-mail to the chats' fallback addresses.\n"
	    "`salesd status` shows the state. This is the only message about this incident.\n", stamp, host);
	key = util_printf("whatsapp-login-alert/%s/%lld", host, (long long)now);
	if (subject == NULL || text == NULL || key == NULL)
		goto out;
	if (email_notice(cfg, cfg->whatsapp.fallback_email.v, cfg->whatsapp.fallback_email.n, key, subject, text,
	    &why) < 0)
		say(progress, arg, LOG_ERR, util_printf("the lost-login alert could not be e-mailed (the next attempt "
		    "tries again): %s", why ? why : "?"));
	else {
		/* Written after the send: a failed alert is tried again by the next run, never skipped. */
		util_write_atomic(path, stamp, strlen(stamp), 0600, NULL);
		say(progress, arg, LOG_NOTICE, util_printf("the lost login was e-mailed to [whatsapp] fallback_email "
		    "(%zu address%s)", cfg->whatsapp.fallback_email.n, cfg->whatsapp.fallback_email.n == 1 ? "" :
		    "es"));
	}
out:
	free(path);
	free(subject);
	free(text);
	free(key);
	free(why);
}

char *
whatsapp_state(const struct config *cfg)
{
	char *path = whatsapp_path(cfg, "state"), *text = NULL, when[64] = "?", *out = NULL;
	size_t len;
	json_t *o = NULL;

	if (path != NULL && util_read_file(path, 65536, &text, &len) == 0 && (o = json_loads(text, 0, NULL)) != NULL) {
		const char *state = json_string_value(json_object_get(o, "state"));
		const char *qr = json_string_value(json_object_get(o, "qr"));
		time_t at = (time_t)json_integer_value(json_object_get(o, "at"));
		struct tm tm;

		if (gmtime_r(&at, &tm) != NULL)
			strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
		if (state != NULL && strcmp(state, "logged-in") == 0)
			out = util_printf("logged in (checked %s)", when);
		else
			out = util_printf("NEEDS LOGIN since %s: nothing is sent until someone scans the QR code%s%s; "
			    "run `salesd whatsapp-login`", when, qr ? " in " : "", qr ? qr : "");
	}
	json_decref(o);
	free(text);
	free(path);
	return out;
}

/*
 * One batch at a time: Chromium refuses a profile another browser holds, and
 * two batches would share the daily cap. The lock is released with the fd.
 */
static int
lock_profile(const struct config *cfg, int *fd, char **cause)
{
	char *dir = whatsapp_path(cfg, ""), *path = whatsapp_path(cfg, "lock");
	int e = 0;

	*fd = -1;
	if (dir == NULL || path == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	else if ((e = util_mkdirs(dir, 0700, cause)) == 0) {
		if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
			e = util_fail(cause, -errno, "%s: %s", path, strerror(errno));
		else if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
			e = util_fail(cause, -EAGAIN, "another WhatsApp batch (or whatsapp-login) is using the browser "
			    "profile (%s is locked); this one waits for its retry", path);
			close(*fd);
			*fd = -1;
		}
	}
	free(dir);
	free(path);
	return e;
}

/* ---- the batch handed to the child ---------------------------------------- */

static json_t *
batch_new(const struct config *cfg, const char *mode, const char *diagnostics)
{
	const struct config_whatsapp_section *w = &cfg->whatsapp;
	/* Each selector under the name the child knows it by. */
	const struct { const char *name, *css; } sel[] = {
		{ "qr", w->selector_qr }, { "app", w->selector_app },
		{ "popup_close", w->selector_popup_close }, { "search", w->selector_search },
		{ "chat", w->selector_chat }, { "chat_title", w->selector_chat_title },
		{ "attach", w->selector_attach }, { "document_input", w->selector_document_input },
		{ "caption", w->selector_caption }, { "send", w->selector_send },
		{ "message_out", w->selector_message_out }, { "sent", w->selector_sent },
		{ "failed", w->selector_failed },
	};
	char *profile = whatsapp_path(cfg, "profile"), *qr = whatsapp_path(cfg, "qr.png");
	json_t *b = NULL, *s = json_object();

	if (profile == NULL || qr == NULL || s == NULL)
		goto out;
	for (size_t i = 0; i < UTIL_NELEM(sel); i++)
		json_object_set_new(s, sel[i].name, json_string(sel[i].css));
	json_object_set_new(s, "dismiss_buttons", json_string(w->dismiss_buttons));
	b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:O, s:[]}",
	    "mode", mode,
	    "url", cfg->whatsapp.url,
	    "chromium", cfg->whatsapp.chromium,
	    "chromedriver", cfg->whatsapp.chromedriver,
	    "profile", profile,
	    "diagnostics", diagnostics,
	    "qr", qr,
	    "headless", cfg->whatsapp.headless,
	    "pause_min_ms", (json_int_t)cfg->whatsapp.pause_min_ms,
	    "pause_max_ms", (json_int_t)cfg->whatsapp.pause_max_ms,
	    "login_timeout_ms", (json_int_t)cfg->whatsapp.login_timeout_ms,
	    "timeouts",
	    "load_ms", (json_int_t)cfg->whatsapp.load_timeout_ms,
	    "step_ms", (json_int_t)cfg->whatsapp.step_timeout_ms,
	    "send_ms", (json_int_t)cfg->whatsapp.send_timeout_ms,
	    "selectors", s,
	    "sends");
out:
	json_decref(s);
	free(profile);
	free(qr);
	return b;
}

/* {state_dir}/whatsapp/diagnostics/WHAT-YYYYmmddTHHMMSS: where a failing step leaves its screenshot. */
static char *
diagnostics_dir(const struct config *cfg, const char *what)
{
	char stamp[32], *name, *path;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	name = util_printf("diagnostics/%s-%s", what, stamp);
	path = name ? whatsapp_path(cfg, name) : NULL;
	free(name);
	return path;
}

/* ---- running the child ----------------------------------------------------- */

/* One event of the child's (NULL with why for a line that is not one); *reply: a line to answer with. */
typedef int (*event_fn)(void *arg, const struct waproto_event *ev, const char *why, char **reply);

/*
 * One run of salesd-whatsapp, supervised by base/runner: spawned in a process
 * group of its own, or reached over salesd-whatsapp.socket. The runner owns
 * the time-outs, the kill and the grace; this side speaks the protocol.
 */
struct child {
	uv_loop_t loop;
	uv_signal_t term;               /* the task told to stop: the child goes too */
	struct runner_task *task;       /* NULL once finished */
	struct runner_result result;
	int exit_event;                 /* the status its "exit" event gave, -1 none */
	event_fn on_event;
	void *arg;
};

static void
on_term(uv_signal_t *s, int sig)
{
	struct child *ch = s->data;

	(void)sig;
	if (ch->task != NULL)
		runner_stop(ch->task, false);
}

static void
child_line(void *arg, int stream, const char *line)
{
	struct child *ch = arg;
	struct waproto_event ev;
	char *reply = NULL, *why = NULL;

	(void)stream;           /* stdout (or the connection): its stderr is the task's */
	if (waproto_parse_event(line, strlen(line), &ev, &why) < 0) {
		ch->on_event(ch->arg, NULL, why, &reply);
		free(why);
		free(reply);
		return;
	}
	/* Over a socket the exit status comes as the last event. */
	if (ev.type == WAPROTO_EXIT)
		ch->exit_event = ev.status;
	if (runner_killing(ch->task) != RUNNER_KILL_NONE && ev.type == WAPROTO_READY)
		/* Being stopped: nothing more goes out, and the ledger is not told it might. */
		reply = waproto_reply(false, ev.key);
	else
		ch->on_event(ch->arg, &ev, NULL, &reply);
	if (reply != NULL)
		runner_write(ch->task, reply);
	free(reply);
	waproto_event_done(&ev);
}

static void
child_exit(void *arg, const struct runner_result *r)
{
	struct child *ch = arg;

	ch->result = *r;
	ch->task = NULL;
	uv_close((uv_handle_t *)&ch->term, NULL);
}

/*
 * Run salesd-whatsapp with batch; events go to on_event, whose reply (if
 * any) is written back. Returns 0 with the child's exit status (or 128+signal)
 * in *status and why it was killed ("send", "batch", "stop") in *killed, or
 * -errno when it cannot start.
 */
static int
child_run(json_t *batch, const char *socket, unsigned long silence_ms, unsigned long whole_ms, event_fn on_event,
    void *arg, int *status, const char **killed, char **cause)
{
	static const char *const why[] = { [RUNNER_KILL_SILENCE] = "send", [RUNNER_KILL_TIMEOUT] = "batch",
	    [RUNNER_KILL_STOP] = "stop" };
	struct child ch = { .exit_event = -1, .on_event = on_event, .arg = arg };
	char *path = child_path(), *line = json_dumps(batch, JSON_COMPACT);
	char *args[] = { path, NULL };
	/* A session and process group of its own: chromedriver and Chromium join it, one kill ends them all. */
	struct runner_spec spec = { .file = path, .argv = args, .stdin_pipe = true, .stderr_inherit = true,
	    .timeout_ms = whole_ms, .silence_ms = silence_ms, .kill_grace_ms = 5000,
	    .on_line = child_line, .on_exit = child_exit, .arg = &ch };
	bool by_socket = socket != NULL && socket[0] != '\0';
	int e;

	*killed = NULL;
	/* A child gone while a reply is on its way must not take the task with it. */
	signal(SIGPIPE, SIG_IGN);
	if (path == NULL || line == NULL) {
		free(path);
		free(line);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	uv_loop_init(&ch.loop);
	uv_signal_init(&ch.loop, &ch.term);
	ch.term.data = &ch;
	/* salesd-whatsapp.socket: systemd starts the child in a unit of its own (docs/systemd.md). */
	if ((e = by_socket ? runner_connect(&ch.loop, socket, &spec, &ch.task, cause) :
	    runner_start(&ch.loop, &spec, &ch.task, cause)) < 0) {
		uv_close((uv_handle_t *)&ch.term, NULL);
		uv_run(&ch.loop, UV_RUN_DEFAULT);
		goto out;
	}
	runner_write(ch.task, line);
	uv_signal_start(&ch.term, on_term, SIGTERM);
	uv_run(&ch.loop, UV_RUN_DEFAULT);
	if (by_socket && ch.result.error < 0) {
		e = util_fail(cause, -ECONNREFUSED, "%s: %s; is salesd-whatsapp.socket running (systemctl status "
		    "salesd-whatsapp.socket)?", socket, uv_strerror(ch.result.error));
		goto out;
	}
	if (by_socket)
		*status = ch.exit_event >= 0 ? ch.exit_event : WHATSAPP_EXIT_BROWSER;
	else
		*status = ch.result.term_signal ? 128 + ch.result.term_signal : ch.result.exit_status;
	*killed = why[ch.result.killed];
out:
	uv_loop_close(&ch.loop);
	free(path);
	free(line);
	return e;
}

/* ---- the caption ------------------------------------------------------------ */

/* The caption from the manifest's figures: the numbers of the PDF it goes with. */
static int
caption_of(const struct config *cfg, const struct manifest *m, char **caption, char **cause)
{
	const char *names[] = { "company", "store", "report", "period", "sales", "growth", "baseline", "profit",
	    "margin", "best", "worst" };
	const char *values[UTIL_NELEM(names)];
	char *why;
	int e;

	for (size_t k = 0; k < UTIL_NELEM(names); k++)
		values[k] = manifest_figure(m, names[k]) ? manifest_figure(m, names[k]) : "";
	if ((e = email_expand(cfg->whatsapp.caption, names, values, UTIL_NELEM(names), caption,
	    cause)) < 0) {
		why = util_printf("[whatsapp] caption: %s", *cause);
		free(*cause);
		*cause = why;
		return e;
	}
	/* A day released incomplete: the caption says so first (docs/completeness.md). */
	if (manifest_figure(m, "warning") != NULL) {
		why = util_printf("WARNING: the figures may be too low. %s\n%s", manifest_figure(m, "warning"),
		    *caption);
		free(*caption);
		if ((*caption = why) == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * A correction's caption: "Correction: ", why, the stores that moved, then the
 * usual caption (docs/whatsapp.md "Corrections").
 */
static char *
correction_caption(const struct config *cfg, const struct manifest *m, const struct correction_plan *plan,
    const char *caption)
{
	char *lines = correction_text(cfg, m, plan), *out;

	out = lines ? util_printf("Correction: the figures changed since this report was sent (the POS system "
	    "restated its data)\n%s%s", lines, caption) : NULL;
	free(lines);
	return out;
}

/* ---- the task ----------------------------------------------------------------- */

/*
 * One chat's send, as the task sees it. waiting -> (ready) -> go | skipped;
 * go -> sent | failed | unsure; waiting -> failed (before Send). "go" means
 * the ledger says "sending": from then on a lost child leaves "unknown".
 */
enum send_state {
	SEND_WAITING,           /* in the batch; the child has not reached it */
	SEND_GO,                /* the ledger says sending; the child may press Send */
	SEND_SKIPPED,           /* sent before, unknown, or being stopped: not sent now */
	SEND_SENT,              /* the chat shows it with the sent tick */
	SEND_FAILED,            /* nothing went out */
	SEND_UNSURE,            /* Send was pressed and then something failed: it may have gone */
};

struct send {
	struct delivery_key k;  /* with the version to send: a correction's is above 1 */
	char *keystr;
	char *caption;          /* a correction's caption; NULL: the report's */
	char *reason;           /* failed on the page: why (for the fallback e-mail), or NULL */
	enum send_state state;
};

static const char *
send_strstate(enum send_state st)
{
	static const char *const n[] = { "waiting", "go", "skipped", "sent", "failed", "unsure" };

	return (size_t)st < UTIL_NELEM(n) ? n[st] : "?";
}

struct batch_ctx {
	const struct config *cfg;
	PGconn *c;
	struct delivery_ledger ledger;  /* over c; its changes told at debug priority */
	whatsapp_progress_fn progress;
	void *arg;
	struct whatsapp_result *res;
	struct send *sends;
	size_t n;
	bool force;
	const char *figures;    /* the stores' sales every send carries, for the ledger (JSON) */
	char *error;            /* the first batch-level failure or database error */
};

/* The one place a send changes state; said at debug priority as "chat: old -> new (why)". */
static void
send_enter(struct batch_ctx *b, struct send *s, enum send_state st, const char *why)
{
	say(b->progress, b->arg, LOG_DEBUG, util_printf("\"%s\": %s -> %s%s%s%s", s->k.recipient,
	    send_strstate(s->state), send_strstate(st), why ? " (" : "", why ? why : "", why ? ")" : ""));
	s->state = st;
}

/* The delivery ledger's observer: each change of state, with the run's fields. */
static void
ledger_change(void *arg, const struct delivery_key *k, enum delivery_state from, enum delivery_state to,
    const char *why)
{
	struct batch_ctx *b = arg;
	char *key = delivery_key_string(k);

	if (key != NULL)
		say(b->progress, b->arg, LOG_DEBUG, util_printf("delivery %s: %s -> %s%s%s%s", key,
		    delivery_strstate(from), delivery_strstate(to), why ? " (" : "", why ? why : "", why ? ")" : ""));
	free(key);
}

static struct send *
find_send(struct batch_ctx *b, const char *key)
{
	for (size_t i = 0; key != NULL && i < b->n; i++)
		if (strcmp(b->sends[i].keystr, key) == 0)
			return &b->sends[i];
	return NULL;
}

static void
note_error(struct batch_ctx *b, char *why)
{
	if (b->error == NULL)
		b->error = why;
	else
		free(why);
}

/* "; screenshot PATH, page source PATH" when the event has them. */
static char *
diagnostics_of(const struct waproto_event *ev)
{
	return util_printf("%s%s%s%s", ev->screenshot ? "; screenshot " : "", ev->screenshot ? ev->screenshot : "",
	    ev->source ? ", page source " : "", ev->source ? ev->source : "");
}

/* The priority of a note of the child's ("debug", "info"); anything else is debug, so a child cannot shout. */
static int
note_priority(const char *level)
{
	return level != NULL && strcmp(level, "info") == 0 ? LOG_INFO : LOG_DEBUG;
}

static int
batch_event(void *arg, const struct waproto_event *ev, const char *bad, char **reply)
{
	struct batch_ctx *b = arg;
	struct send *s = ev != NULL ? find_send(b, ev->key) : NULL;
	char *cause = NULL, *diag;

	if (ev == NULL) {
		say(b->progress, b->arg, LOG_WARNING, util_printf("salesd-whatsapp said something that is not "
		    "an event of its protocol (%s); ignored", bad));
		return 0;
	}
	switch (ev->type) {
	case WAPROTO_STARTED:
		say(b->progress, b->arg, LOG_INFO, util_printf("Chromium %s started (sandbox %s)",
		    ev->browser ? ev->browser : "?", ev->sandbox ? ev->sandbox : "?"));
		break;
	case WAPROTO_LOGGED_IN:
		state_write(b->cfg, true, NULL);
		break;
	case WAPROTO_NEEDS_LOGIN:
		b->res->needs_login = true;
		state_write(b->cfg, false, ev->qr);
		say(b->progress, b->arg, LOG_ERR, util_printf("WhatsApp needs a login: nothing is sent until someone "
		    "scans the QR code saved in %s with the phone (WhatsApp > Linked devices); run `salesd "
		    "whatsapp-login` to do it", ev->qr ? ev->qr : "?"));
		break;
	case WAPROTO_PROGRESS:
		if (ev->chat != NULL)
			say(b->progress, b->arg, LOG_INFO, util_printf("sending to \"%s\"", ev->chat));
		else if (ev->message != NULL)
			say(b->progress, b->arg, note_priority(ev->level), util_printf("salesd-whatsapp: %s", ev->message));
		break;
	case WAPROTO_READY: {
		enum delivery_decision d = DELIVERY_UNKNOWN;

		if (s == NULL || s->state != SEND_WAITING) {
			/* A key we did not give, or asked twice: never a go. */
			*reply = waproto_reply(false, ev->key);
			break;
		}
		/*
		 * The ledger says "sending" before the message can go: a crash
		 * from now on leaves "unknown", never a second message. When the
		 * ledger cannot be written, nothing is sent.
		 */
		if (delivery_begin(&b->ledger, &s->k, NULL, b->figures, b->force, &d, &cause) < 0) {
			send_enter(b, s, SEND_SKIPPED, "the delivery ledger cannot be written");
			note_error(b, cause);
		} else if (d != DELIVERY_SEND) {
			b->res->before++;
			send_enter(b, s, SEND_SKIPPED, delivery_strdecision(d));
		} else
			send_enter(b, s, SEND_GO, NULL);
		*reply = waproto_reply(s->state == SEND_GO, ev->key);
		break;
	}
	case WAPROTO_SENT:
		if (s == NULL || s->state != SEND_GO)
			break;
		send_enter(b, s, SEND_SENT, NULL);
		b->res->sent++;
		if (s->k.version > 1)
			b->res->corrections++;
		if (delivery_finish(&b->ledger, &s->k, DELIVERY_STATE_SENT, ev->evidence, &cause) < 0)
			note_error(b, cause);
		say(b->progress, b->arg, LOG_NOTICE, util_printf("sent to \"%s\": %s", s->k.recipient,
		    ev->evidence ? ev->evidence : "confirmed"));
		break;
	case WAPROTO_FAILED: {
		const char *reason = ev->reason ? ev->reason : "failed";
		bool begun;

		if (s == NULL || (s->state != SEND_WAITING && s->state != SEND_GO))
			break;
		begun = s->state == SEND_GO;
		send_enter(b, s, SEND_FAILED, reason);
		free(s->reason);
		s->reason = util_strdup(reason);
		b->res->failed++;
		/* Recorded as failed (nothing went out), so `salesd status` shows it and the next run sends it. */
		if ((begun ? delivery_finish(&b->ledger, &s->k, DELIVERY_STATE_FAILED, reason, &cause) :
		    delivery_fail(&b->ledger, &s->k, reason, &cause)) < 0)
			note_error(b, cause);
		diag = diagnostics_of(ev);
		say(b->progress, b->arg, LOG_WARNING, util_printf("\"%s\": %s%s", s->k.recipient, reason,
		    diag ? diag : ""));
		free(diag);
		break;
	}
	case WAPROTO_UNSURE:
		if (s == NULL || s->state != SEND_GO)
			break;
		/* Send was pressed and then something failed: unknown, never sent again by itself. */
		send_enter(b, s, SEND_UNSURE, ev->reason);
		b->res->failed++;
		if (delivery_finish(&b->ledger, &s->k, DELIVERY_STATE_UNKNOWN, ev->reason ? ev->reason :
		    "failed after Send", &cause) < 0)
			note_error(b, cause);
		diag = diagnostics_of(ev);
		say(b->progress, b->arg, LOG_WARNING, util_printf("\"%s\": %s; Send was pressed, so whether the "
		    "message went is unknown: it is not sent again unless forced%s", s->k.recipient,
		    ev->reason ? ev->reason : "failed after Send", diag ? diag : ""));
		free(diag);
		break;
	case WAPROTO_SKIPPED:
		if (s != NULL && s->state == SEND_WAITING)
			send_enter(b, s, SEND_SKIPPED, "the child skipped it");
		break;
	case WAPROTO_ERROR: {
		char *why;

		diag = diagnostics_of(ev);
		why = util_printf("%s%s", ev->reason ? ev->reason : "the browser failed", diag ? diag : "");
		free(diag);
		say(b->progress, b->arg, LOG_ERR, util_strdup(why));
		note_error(b, why);
		break;
	}
	case WAPROTO_EXIT:
		break;
	}
	return 0;
}

/* ---- the fallback to e-mail ------------------------------------------------------ */

/*
 * Send rep by e-mail in place of the WhatsApp message of wk (a chat's
 * delivery), to the chat's whatsapp_fallback addresses or else [whatsapp]
 * fallback_email (docs/whatsapp.md "Fallback to e-mail"). unsure: the
 * message may have gone. record: the chat was not tried, so it gets a
 * "failed" WhatsApp row if it had none, for the e-mail to point at and for a
 * WhatsApp run after the login to send (a chat that failed on the page has
 * its row, with the page's reason, already). 0, or the e-mail's failure
 * with *cause.
 */
static int
fallback_chat(struct batch_ctx *b, const struct recipients *rcp, const struct manifest *rep,
    const struct delivery_key *wk, bool unsure, bool record, const char *why, char **cause)
{
	struct email_fallback fb = { wk->recipient, NULL, 0, unsure, why };
	char *reason = NULL, *ignored = NULL;
	size_t sent = 0;
	int e;

	if ((fb.to = recipients_whatsapp_fallback(rcp, wk->store, wk->recipient, &fb.nto)) == NULL) {
		fb.to = b->cfg->whatsapp.fallback_email.v;
		fb.nto = b->cfg->whatsapp.fallback_email.n;
	}
	if (fb.nto == 0) {
		say(b->progress, b->arg, LOG_INFO, util_printf("\"%s\": %s, and it has no fallback address "
		    "(recipients file whatsapp_fallback, [whatsapp] fallback_email): no e-mail goes instead",
		    wk->recipient, why));
		return 0;
	}
	if (record && ((reason = util_printf("not sent: %s; e-mailed instead", why)) == NULL ||
	    delivery_fail(&b->ledger, wk, reason, &ignored) < 0))
		free(ignored);  /* the e-mail still goes; it only lacks its link */
	free(reason);
	e = email_fallback(b->cfg, b->c, rep, wk->store, &fb, b->progress, b->arg, &sent, cause);
	b->res->fallbacks += sent;
	return e;
}

/*
 * The end of a task: the chats WhatsApp did not reach get their e-mail when
 * the task gives up (deadline, login, the last attempt failed: giving_up),
 * and a send that ended unknown gets it whatever happens. Returns the first
 * fallback failure (0: none) with *cause.
 */
static int
fallback_all(struct batch_ctx *b, const struct recipients *rcp, const struct manifest *rep,
    const struct delivery_key *owed, size_t nowed, const struct delivery_key *unsure, size_t nunsure,
    const char *why, char **cause)
{
	int e = 0, r;
	char *one = NULL;

	for (size_t i = 0; i < b->n; i++) {
		const struct send *s = &b->sends[i];

		/* Corrections have no fallback of their own: the original's e-mail carried the report. */
		if (s->k.version > 1)
			continue;
		if (s->state == SEND_UNSURE)
			r = fallback_chat(b, rcp, rep, &s->k, true, false, "Send was pressed, then the browser failed",
			    &one);
		else if (why != NULL && s->state == SEND_FAILED && s->reason != NULL) {
			/* The page's reason tells the reader more than the batch's. */
			char *own = util_printf("%s; no retry is left", s->reason);

			r = fallback_chat(b, rcp, rep, &s->k, false, false, own ? own : why, &one);
			free(own);
		} else if (why != NULL && (s->state == SEND_WAITING || s->state == SEND_FAILED))
			r = fallback_chat(b, rcp, rep, &s->k, false, s->state == SEND_WAITING, why, &one);
		else
			continue;
		if (r < 0 && e == 0) {
			e = r;
			*cause = one;
		} else
			free(one);
		one = NULL;
	}
	for (size_t i = 0; i < nowed + nunsure; i++) {
		bool u = i >= nowed;

		if ((!u && why == NULL) || (u ? unsure[i - nowed].version : owed[i].version) > 1)
			continue;
		r = fallback_chat(b, rcp, rep, u ? &unsure[i - nowed] : &owed[i], u, !u, u ? "an earlier batch "
		    "stopped after pressing Send" : why, &one);
		if (r < 0 && e == 0) {
			e = r;
			*cause = one;
		} else
			free(one);
		one = NULL;
	}
	return e;
}

/*
 * The file the chat receives, named for people: "daily-report-2026-11-24-company.pdf",
 * a copy of the rendered PDF checked once more against its manifest as it is
 * copied, so the bytes uploaded are the bytes the caption describes.
 */
static int
outbox_copy(const struct config *cfg, const struct manifest *m, const char *name, char **out, char **cause)
{
	char *dir = whatsapp_path(cfg, "outbox"), *pdf = manifest_path_of(m, &m->pdf), *data = NULL;
	struct manifest_file copy = { 0 };
	size_t len;
	int e;

	*out = NULL;
	if (dir == NULL || pdf == NULL || (*out = util_printf("%s/%s", dir, name)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	else if ((e = util_mkdirs(dir, 0700, cause)) == 0) {
		if ((e = util_read_file(pdf, 512u << 20, &data, &len)) < 0)
			e = util_fail(cause, e, "%s: %s; the report job renders it first", pdf, strerror(-e));
		else if ((e = util_write_atomic(*out, data, len, 0600, cause)) == 0 &&
		    (e = manifest_digest(*out, &copy, cause)) == 0 &&
		    (copy.size != m->pdf.size || strcmp(copy.sha256, m->pdf.sha256) != 0))
			e = util_fail(cause, -EBADMSG, "%s changed while it was copied for WhatsApp; render the report "
			    "again", pdf);
	}
	free(data);
	free(pdf);
	free(dir);
	return e;
}

int
whatsapp_task(const struct config *cfg, const struct period *p, const char *store, unsigned how,
    const struct whatsapp_giveup *g, whatsapp_progress_fn progress, void *arg, struct whatsapp_result *res,
    char **cause)
{
	bool company = store == NULL || strcmp(store, RECIPIENTS_COMPANY) == 0;
	const char *key_store = company ? RECIPIENTS_COMPANY : store;
	const char *rfile = cfg->recipients.file;
	bool force = (how & DELIVERY_FORCE) != 0;
	struct batch_ctx b = { .cfg = cfg, .progress = progress, .arg = arg, .res = res, .force = force };
	struct recipients *rcp = NULL;
	struct manifest *rep = NULL;
	char **problems = NULL, *caption = NULL, *file = NULL, *diag = NULL, *what = NULL, *figures = NULL;
	char name[256];
	char *const *chats;
	json_t *batch = NULL;
	const char *killed = NULL;
	long long today = 0, cap = cfg->whatsapp.daily_cap;
	int lock = -1, status = 0, e;
	size_t n, nowed = 0, nunsure = 0;
	/* Chats left for another day by the cap, and chats an earlier batch left unknown. */
	struct delivery_key *owed = NULL, *unsure = NULL;
	bool late = g != NULL && g->deadline > 0 && g->now >= g->deadline;
	char *why_fallback = NULL, *fcause = NULL;

	memset(res, 0, sizeof *res);
	if ((e = recipients_load(rfile, &rcp, &problems, cause)) < 0)
		return e == -ENOMEM ? e : -EINVAL;
	for (size_t k = 0; problems != NULL && problems[k] != NULL; k++)
		say(progress, arg, LOG_WARNING, util_printf("recipients: %s", problems[k]));
	chats = recipients_whatsapp(rcp, key_store, &n);
	res->chats = n;
	if (n == 0) {
		say(progress, arg, LOG_WARNING, util_printf("%s has no WhatsApp chat in %s; nothing sent", company ?
		    "the company (store \"*\")" : key_store, rfile));
		e = 0;
		goto out;
	}
	if ((e = db_connect(&b.c, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		e = e == -ECONNREFUSED ? -EAGAIN : e;
		goto out;
	}
	b.ledger = (struct delivery_ledger){ b.c, ledger_change, &b };
	/* What was rendered, and only that: the caption's figures are the PDF's. */
	if ((e = manifest_open(b.c, cfg, p, company ? NULL : store, &rep, cause)) < 0 ||
	    (e = caption_of(cfg, rep, &caption, cause)) < 0)
		goto out;
	/* What each send carries, for the ledger: the next run compares the report with it. */
	if (manifest_stores_json(&rep->stores, &figures) < 0) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	b.figures = figures;
	util_utf8_snprintf(name, sizeof name, "%s-report-%s-%s.pdf", rep->report, rep->period, rep->scope);
	/* Past the deadline the browser is not even started: the chats due get the e-mail instead. */
	if (!late && ((e = lock_profile(cfg, &lock, cause)) < 0 || (e = outbox_copy(cfg, rep, name, &file,
	    cause)) < 0))
		goto out;

	/* Which chats still need it, and how many the account may send today. */
	if ((b.sends = calloc(n, sizeof *b.sends)) == NULL || (owed = calloc(n, sizeof *owed)) == NULL ||
	    (unsure = calloc(n, sizeof *unsure)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = delivery_count_today(b.c, "whatsapp", cfg->salesd.timezone, &today, cause)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct delivery_key k = { rep->report, rep->period, key_store, "whatsapp", chats[i], 1 };
		struct correction_plan plan = { 0 };
		enum delivery_decision d;

		/* The original, or a correction of what the chat got (the same rule as e-mail's). */
		if ((e = correction_plan(&b.ledger, &k, rep, cfg, force, &plan, cause)) < 0)
			goto out;
		k.version = plan.version;
		if (plan.withheld)
			say(progress, arg, LOG_WARNING, util_printf("\"%s\": the figures of the %s report %s changed "
			    "since it was sent, but whether that message went is unknown, so no correction is sent "
			    "(--force sends the report as it is now)", chats[i], rep->report, rep->period));
		if (plan.moot) {
			res->before++;
			say(progress, arg, LOG_INFO, util_printf("\"%s\": correction %d is not sent: the figures are "
			    "back to those of version %d, which was sent", chats[i], plan.version, plan.version - 1));
			correction_plan_done(&plan);
			continue;
		}
		/* Run for a restated day: the report was rendered again, not due to anyone new. */
		if ((how & DELIVERY_CORRECTIONS_ONLY) && plan.first) {
			res->before++;
			say(progress, arg, LOG_INFO, util_printf("\"%s\": the %s report %s never reached it; a run for "
			    "a restated day sends corrections only", chats[i], rep->report, rep->period));
			correction_plan_done(&plan);
			continue;
		}
		if ((e = delivery_lookup(&b.ledger, &k, force, &d, cause)) < 0) {
			correction_plan_done(&plan);
			goto out;
		}
		if (d != DELIVERY_SEND) {
			correction_plan_done(&plan);
			res->before++;
			if (d == DELIVERY_UNKNOWN)
				unsure[nunsure++] = k;
			say(progress, arg, d == DELIVERY_UNKNOWN ? LOG_WARNING : LOG_INFO, util_printf("\"%s\": %s", chats[i],
			    d == DELIVERY_UNKNOWN ? "an earlier batch stopped after pressing Send, so it may have gone; "
			    "not sent again (--force sends it)" : "sent before"));
			continue;
		}
		if (!late && today + (long long)b.n >= cap) {
			owed[nowed++] = k;
			res->capped++;
			correction_plan_done(&plan);
			continue;
		}
		b.sends[b.n].k = k;
		if ((b.sends[b.n].keystr = delivery_key_string(&k)) == NULL || (plan.version > 1 &&
		    (b.sends[b.n].caption = correction_caption(cfg, rep, &plan, caption)) == NULL)) {
			free(b.sends[b.n].keystr);
			correction_plan_done(&plan);
			e = util_fail(cause, -ENOMEM, "out of memory");
			goto out;
		}
		if (plan.version > 1)
			say(progress, arg, LOG_NOTICE, util_printf("\"%s\": the figures changed since the report was "
			    "sent (%zu store%s moved); sending correction %d", chats[i], plan.nmoved,
			    plan.nmoved == 1 ? "" : "s", plan.version));
		correction_plan_done(&plan);
		b.n++;
	}
	if (res->capped)
		say(progress, arg, LOG_WARNING, util_printf("the daily cap of %lld WhatsApp messages ([whatsapp] daily_cap) "
		    "is reached (%lld sent today); %zu chat%s wait for tomorrow", cap, today + (long long)b.n, res->capped,
		    res->capped == 1 ? "" : "s"));
	if (late) {
		res->late = true;
		say(progress, arg, LOG_WARNING, util_printf("the [whatsapp] deadline %s for the %s report %s has "
		    "passed: the browser is not started, and %zu chat%s get%s the report by e-mail instead",
		    cfg->whatsapp.deadline, rep->report, rep->period, b.n, b.n == 1 ? "" : "s", b.n == 1 ? "s" : ""));
		e = 0;
		goto out;
	}
	if (b.n == 0) {
		e = res->capped ? util_fail(cause, -EAGAIN, "daily cap reached; %zu chat%s still to send", res->capped,
		    res->capped == 1 ? "" : "s") : 0;
		goto out;
	}

	if ((what = util_printf("%s-%s-%s", rep->report, rep->period, rep->scope)) == NULL ||
	    (diag = diagnostics_dir(cfg, what)) == NULL || (batch = batch_new(cfg, "send", diag)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.n; i++)
		json_array_append_new(json_object_get(batch, "sends"), json_pack("{s:s, s:s, s:s, s:s}",
		    "key", b.sends[i].keystr, "chat", b.sends[i].k.recipient, "file", file, "caption",
		    b.sends[i].caption ? b.sends[i].caption : caption));
	{
		/* The longest a send may go without a word from the child: every step, the upload and a pause. */
		unsigned long step = (unsigned long)cfg->whatsapp.step_timeout_ms;
		unsigned long silence = (unsigned long)cfg->whatsapp.load_timeout_ms + 10 * step +
		    (unsigned long)cfg->whatsapp.send_timeout_ms +
		    (unsigned long)cfg->whatsapp.pause_max_ms + 60000;

		if ((e = child_run(batch, cfg->whatsapp.socket, silence, (unsigned long)cfg->whatsapp.batch_timeout_ms,
		    batch_event, &b, &status, &killed, cause)) < 0) {
			e = -EAGAIN;
			goto out;
		}
		if (killed != NULL)
			say(progress, arg, LOG_ERR, util_printf("%s; the browser's process group was killed", strcmp(killed,
			    "send") == 0 ? "a send took longer than the step, load and send time-outs allow" :
			    strcmp(killed, "batch") == 0 ? "the batch took longer than [whatsapp] batch_timeout" :
			    "stopped"));
	}
	for (size_t i = 0; i < b.n; i++) {
		char *ignored = NULL;

		if (b.sends[i].state != SEND_GO)
			continue;
		send_enter(&b, &b.sends[i], SEND_UNSURE, "the child ended after go");
		if (delivery_finish(&b.ledger, &b.sends[i].k, DELIVERY_STATE_UNKNOWN, "the browser stopped after Send "
		    "could have been pressed", &ignored) < 0)
			free(ignored);
		say(progress, arg, LOG_WARNING, util_printf("\"%s\": the browser stopped after Send was pressed; "
		    "whether the message went is unknown, so it is not sent again unless forced",
		    b.sends[i].k.recipient));
	}

	if (res->needs_login)
		e = util_fail(cause, -EACCES, "WhatsApp needs a login (QR code); run `salesd whatsapp-login`");
	else if (killed != NULL || status == WHATSAPP_EXIT_BROWSER || status >= 128)
		e = util_fail(cause, -EAGAIN, "%zu of %zu sent; %s", res->sent, b.n, b.error ? b.error :
		    killed ? "the browser was killed after a time-out" : "the browser failed");
	else if (status == WHATSAPP_EXIT_FAILED || res->failed)
		/*
		 * Some chats failed (not found, an upload refused, a dialog in the
		 * way): some heal, some need a person. Not classified (exit 1):
		 * WhatsApp jobs retry it, and a retry sends only what failed.
		 */
		e = util_fail(cause, -EIO, "%zu of %zu sent, %zu failed (see the warnings above)", res->sent, b.n,
		    res->failed);
	else if (status != WHATSAPP_EXIT_SENT)
		e = util_fail(cause, -EIO, "salesd-whatsapp exited with status %d%s%s", status, b.error ? ": " : "",
		    b.error ? b.error : "");
	else if (b.error != NULL)
		e = util_fail(cause, -EAGAIN, "%s", b.error);
	else if (res->capped)
		e = util_fail(cause, -EAGAIN, "%zu sent; daily cap reached, %zu chat%s still to send", res->sent,
		    res->capped, res->capped == 1 ? "" : "s");
	else
		e = 0;
out:
	/*
	 * Giving up on WhatsApp (docs/whatsapp.md "Fallback to e-mail"): the
	 * deadline passed, a person must log in, or no retry follows this
	 * failure. Whatever else, a send that ended unknown gets its e-mail.
	 */
	if (rep != NULL && b.c != NULL && b.sends != NULL) {
		why_fallback = late ? util_printf("the [whatsapp] deadline %s passed before it could be sent",
		    cfg->whatsapp.deadline) : res->needs_login ? util_printf("WhatsApp needs a login on the server") :
		    e < 0 && g != NULL && g->last ? util_printf("WhatsApp failed and no retry is left: %s",
		    *cause ? *cause : strerror(-e)) : NULL;
		if ((late || res->needs_login || (e < 0 && g != NULL && g->last)) && why_fallback == NULL)
			say(progress, arg, LOG_ERR, util_strdup("out of memory: no fallback e-mail"));
		else if (fallback_all(&b, rcp, rep, owed, nowed, unsure, nunsure, why_fallback, &fcause) < 0) {
			say(progress, arg, LOG_ERR, util_printf("fallback e-mail: %s", fcause ? fcause : "failed"));
			/* Past the deadline the fallback is the task: a failed e-mail is its failure, and a retry's. */
			if (e == 0) {
				e = -EAGAIN;
				*cause = fcause;
				fcause = NULL;
			}
		}
		if (res->fallbacks)
			say(progress, arg, LOG_NOTICE, util_printf("%zu e-mail%s sent in place of WhatsApp",
			    res->fallbacks, res->fallbacks == 1 ? "" : "s"));
	}
	if (res->needs_login)
		login_alert(cfg, progress, arg);
	free(why_fallback);
	free(fcause);
	free(owed);
	free(unsure);
	if (lock >= 0)
		close(lock);
	for (size_t i = 0; b.sends != NULL && i < b.n; i++) {
		free(b.sends[i].keystr);
		free(b.sends[i].caption);
		free(b.sends[i].reason);
	}
	free(b.sends);
	free(b.error);
	if (b.c != NULL)
		PQfinish(b.c);
	json_decref(batch);
	manifest_free(rep);
	recipients_free(rcp);
	util_strv_free(problems);
	free(caption);
	free(figures);
	free(file);
	free(diag);
	free(what);
	return e;
}

/* ---- the login ---------------------------------------------------------------- */

struct login_ctx {
	const struct config *cfg;
	whatsapp_progress_fn progress;
	void *arg;
	bool logged_in;
	char *error;
};

static int
login_event(void *arg, const struct waproto_event *ev, const char *bad, char **reply)
{
	struct login_ctx *l = arg;

	(void)reply;
	if (ev == NULL) {
		say(l->progress, l->arg, LOG_WARNING, util_printf("salesd-whatsapp said something that is not an "
		    "event of its protocol (%s); ignored", bad));
		return 0;
	}
	if (ev->type == WAPROTO_NEEDS_LOGIN) {
		state_write(l->cfg, false, ev->qr);
		say(l->progress, l->arg, LOG_NOTICE, util_printf("QR code saved in %s: open WhatsApp on the phone, "
		    "Settings > Linked devices > Link a device, and scan it (the file is renewed as the code changes)",
		    ev->qr ? ev->qr : "?"));
	} else if (ev->type == WAPROTO_LOGGED_IN) {
		l->logged_in = true;
		state_write(l->cfg, true, NULL);
		say(l->progress, l->arg, LOG_NOTICE, util_strdup("logged in"));
	} else if (ev->type == WAPROTO_ERROR && l->error == NULL)
		l->error = util_strdup(ev->reason);
	return 0;
}

int
whatsapp_login(const struct config *cfg, whatsapp_progress_fn progress, void *arg, char **cause)
{
	struct login_ctx l = { .cfg = cfg, .progress = progress, .arg = arg };
	char *diag = diagnostics_dir(cfg, "login");
	json_t *batch = NULL;
	const char *killed = NULL;
	unsigned long wait = (unsigned long)cfg->whatsapp.login_timeout_ms +
	    (unsigned long)cfg->whatsapp.load_timeout_ms + 60000;
	int lock = -1, status = 0, e;

	if (diag == NULL || (batch = batch_new(cfg, "login", diag)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = lock_profile(cfg, &lock, cause)) < 0)
		goto out;
	if ((e = child_run(batch, cfg->whatsapp.socket, wait, wait, login_event, &l, &status,
	    &killed, cause)) < 0) {
		e = e == -ENOMEM ? e : -EAGAIN;
		goto out;
	}
	if (l.logged_in && status == WHATSAPP_EXIT_SENT)
		e = 0;
	else if (status == WHATSAPP_EXIT_LOGIN)
		e = util_fail(cause, -ETIME, "%s", l.error ? l.error : "nobody scanned the QR code in time");
	else
		e = util_fail(cause, -EAGAIN, "%s", l.error ? l.error : killed ? "the browser was killed after a "
		    "time-out" : "the browser failed");
out:
	if (lock >= 0)
		close(lock);
	json_decref(batch);
	free(l.error);
	free(diag);
	return e;
}

/* ---- the check ---------------------------------------------------------------- */

static int
check_event(void *arg, const struct waproto_event *ev, const char *bad, char **reply)
{
	struct login_ctx *l = arg;
	char *diag;

	(void)reply;
	if (ev == NULL) {
		say(l->progress, l->arg, LOG_WARNING, util_printf("salesd-whatsapp said something that is not an "
		    "event of its protocol (%s); ignored", bad));
		return 0;
	}
	if (ev->type == WAPROTO_PROGRESS && ev->chat == NULL && ev->message != NULL)
		say(l->progress, l->arg, note_priority(ev->level), util_strdup(ev->message));
	else if (ev->type == WAPROTO_NEEDS_LOGIN) {
		state_write(l->cfg, false, ev->qr);
		say(l->progress, l->arg, LOG_ERR, util_printf("WhatsApp needs a login: the QR code is saved in %s; "
		    "run `salesd whatsapp-login`", ev->qr ? ev->qr : "?"));
	} else if (ev->type == WAPROTO_LOGGED_IN) {
		l->logged_in = true;
		state_write(l->cfg, true, NULL);
		say(l->progress, l->arg, LOG_NOTICE, util_strdup("logged in"));
	} else if (ev->type == WAPROTO_ERROR && l->error == NULL) {
		diag = diagnostics_of(ev);
		l->error = util_printf("%s%s", ev->reason ? ev->reason : "the browser failed", diag ? diag : "");
		free(diag);
	}
	return 0;
}

int
whatsapp_check(const struct config *cfg, const char *chat, whatsapp_progress_fn progress, void *arg, char **cause)
{
	struct login_ctx l = { .cfg = cfg, .progress = progress, .arg = arg };
	char *diag = diagnostics_dir(cfg, "check");
	json_t *batch = NULL;
	const char *killed = NULL;
	/* The page, then a few steps (search, the chat, its title, the attach menu), each bounded. */
	unsigned long wait = (unsigned long)cfg->whatsapp.load_timeout_ms +
	    6 * (unsigned long)cfg->whatsapp.step_timeout_ms + 60000;
	int lock = -1, status = 0, e;

	if (diag == NULL || (batch = batch_new(cfg, "check", diag)) == NULL ||
	    (chat != NULL && json_object_set_new(batch, "chat", json_string(chat)) < 0)) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = lock_profile(cfg, &lock, cause)) < 0)
		goto out;
	if ((e = child_run(batch, cfg->whatsapp.socket, wait, wait, check_event, &l, &status,
	    &killed, cause)) < 0) {
		e = e == -ENOMEM ? e : -EAGAIN;
		goto out;
	}
	if (status == WHATSAPP_EXIT_SENT && l.logged_in)
		e = 0;
	else if (status == WHATSAPP_EXIT_LOGIN)
		e = util_fail(cause, -EACCES, "the login is lost: run `salesd whatsapp-login`");
	else if (status == WHATSAPP_EXIT_FAILED)
		e = util_fail(cause, -ENOENT, "%s", l.error ? l.error : "an element was not found");
	else
		e = util_fail(cause, -EAGAIN, "%s", l.error ? l.error : killed ? "the browser was killed after a "
		    "time-out" : "the browser failed");
out:
	if (lock >= 0)
		close(lock);
	json_decref(batch);
	free(l.error);
	free(diag);
	return e;
}
