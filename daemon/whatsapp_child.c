/*
 * salesd-whatsapp: the child that drives Chromium for one batch of WhatsApp
 * sends (or for a login), so that the browser, heavy and flaky, lives in a
 * process the daemon can time out and kill without harm.
 *
 * The protocol (docs/whatsapp.md): the batch comes as one JSON line on
 * stdin; every event goes out as one JSON line on stdout. Before pressing
 * Send, the child says "ready" and waits for the parent's {"go": KEY} (the
 * parent has written "sending" to the delivery ledger by then) or
 * {"skip": KEY}. End of input means the parent is gone or gave up on the
 * batch: the browser and the child stop at once.
 *
 * Exit status: 0 all sent (or logged in), 2 needs login, 3 some sends failed,
 * 4 the browser or the driver failed, 64 a bad batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/util.h"
#include "deliver/wafind.h"
#include "deliver/waproto.h"
#include "deliver/waweb.h"
#include "deliver/webdriver.h"
#include "deliver/whatsapp.h"

#define MAX_BATCH (1024 * 1024)

struct batch {
	json_t *root;
	const char *mode;               /* "send", "login" or "check" */
	const char *check_chat;         /* check: the chat to open, or NULL */
	const char *url, *chromium, *chromedriver, *profile, *diagnostics, *qr;
	bool headless;
	unsigned long pause_min_ms, pause_max_ms, login_ms;
	struct waweb_selectors sel;
	const char *dismiss_buttons;
	struct waweb_timeouts t;
	json_t *sends;
};

static volatile sig_atomic_t stopping;
static volatile pid_t driver_group;     /* chromedriver's own group, when it has one */

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * A JSON string of s; bytes that are not UTF-8 become '?', so that no field
 * goes missing. Our own cuts keep characters whole (util_utf8_cut); this is
 * for what is not ours, such as a file name in another encoding.
 */
static json_t *
utf8_string(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL || (copy = strdup(s)) == NULL)
		return j;
	for (unsigned char *p = (unsigned char *)copy; *p != '\0';) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		int ok = n > 0;

		for (int k = 1; ok && k < n; k++)
			ok = (p[k] & 0xc0) == 0x80;
		if (!ok || (j = json_stringn(copy, (size_t)(p - (unsigned char *)copy + n))) == NULL) {
			*p++ = '?';
			continue;
		}
		json_decref(j);
		p += n;
	}
	j = json_string(copy);
	free(copy);
	return j;
}

/* One event line; the pairs are key, value (strings) until NULL. */
static void
emit(const char *event, ...)
{
	json_t *o = json_pack("{s:s}", "event", event);
	va_list ap;
	const char *k, *v;
	char *line;

	if (o == NULL)
		return;
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v != NULL)
			json_object_set_new(o, k, utf8_string(v));
	}
	va_end(ap);
	if ((line = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", line);
		fflush(stdout);
		free(line);
	}
	json_decref(o);
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static unsigned long
ms(json_t *o, const char *key, unsigned long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (unsigned long)json_integer_value(v) : dflt;
}

static int
batch_parse(const char *line, struct batch *b, char **cause)
{
	json_error_t err;
	json_t *sel, *t;

	memset(b, 0, sizeof *b);
	if ((b->root = json_loads(line, 0, &err)) == NULL || !json_is_object(b->root))
		return util_fail(cause, -EINVAL, "batch: not a JSON object: %s", b->root ? "" : err.text);
	b->mode = str(b->root, "mode");
	b->url = str(b->root, "url");
	b->chromium = str(b->root, "chromium");
	b->chromedriver = str(b->root, "chromedriver");
	b->profile = str(b->root, "profile");
	b->diagnostics = str(b->root, "diagnostics");
	b->qr = str(b->root, "qr");
	b->headless = !json_is_false(json_object_get(b->root, "headless"));
	b->pause_min_ms = ms(b->root, "pause_min_ms", 0);
	b->pause_max_ms = ms(b->root, "pause_max_ms", b->pause_min_ms);
	b->login_ms = ms(b->root, "login_timeout_ms", 300000);
	sel = json_object_get(b->root, "selectors");
	t = json_object_get(b->root, "timeouts");
	b->sel = (struct waweb_selectors){
		str(sel, "qr"), str(sel, "app"), str(sel, "popup_close"), str(sel, "search"), str(sel, "chat"),
		str(sel, "chat_title"), str(sel, "attach"), str(sel, "document_input"), str(sel, "caption"),
		str(sel, "send"), str(sel, "message_out"), str(sel, "sent"), str(sel, "failed"),
	};
	/* NULL (a task that sends none): no button is pressed, the close control and Escape still are. */
	b->dismiss_buttons = str(sel, "dismiss_buttons");
	b->t = (struct waweb_timeouts){ ms(t, "load_ms", 90000), ms(t, "step_ms", 20000), ms(t, "send_ms", 180000) };
	b->sends = json_object_get(b->root, "sends");
	b->check_chat = str(b->root, "chat");
	if (b->mode == NULL || (strcmp(b->mode, "send") != 0 && strcmp(b->mode, "login") != 0 &&
	    strcmp(b->mode, "check") != 0))
		return util_fail(cause, -EINVAL, "batch: mode must be \"send\", \"login\" or \"check\"");
	if (b->url == NULL || b->chromedriver == NULL || b->profile == NULL || b->diagnostics == NULL || b->qr == NULL)
		return util_fail(cause, -EINVAL, "batch: url, chromedriver, profile, diagnostics and qr are required");
	const char *const *s = (const char *const *)&b->sel;
	for (size_t i = 0; i < sizeof b->sel / sizeof *s; i++)
		if (s[i] == NULL)
			return util_fail(cause, -EINVAL, "batch: selectors: %zu of %zu missing", i,
			    sizeof b->sel / sizeof *s);
	if (strcmp(b->mode, "send") == 0) {
		size_t i;
		json_t *one;

		if (!json_is_array(b->sends))
			return util_fail(cause, -EINVAL, "batch: sends must be an array");
		json_array_foreach(b->sends, i, one) {
			const char *file = str(one, "file");

			if (str(one, "key") == NULL || str(one, "chat") == NULL || file == NULL || str(one, "caption") == NULL)
				return util_fail(cause, -EINVAL, "batch: send %zu needs key, chat, file and caption", i);
			if (file[0] != '/')
				return util_fail(cause, -EINVAL, "batch: send %zu: file must be an absolute path", i);
		}
	}
	return 0;
}

/* waweb's notes (the strategy that found an element, a dialog closed) go to the task's log as progress events. */
static void
note(void *arg, int priority, const char *message)
{
	(void)arg;
	emit("progress", "message", message, "level", priority == LOG_DEBUG ? "debug" : "info", NULL);
}

/*
 * Save what the page looked like when step failed: a screenshot and the page
 * source, numbered in the run's diagnostics directory. The paths go into the
 * failure event (NULL when the browser could not give them).
 */
static void
diagnose(const struct batch *b, struct waweb *w, unsigned *seq, char **png, char **html)
{
	char *c = NULL;

	*png = *html = NULL;
	if (w->wd == NULL || util_mkdirs(b->diagnostics, 0700, &c) < 0) {
		free(c);
		return;
	}
	++*seq;
	*png = util_printf("%s/%02u-%s.png", b->diagnostics, *seq, waweb_step(w));
	*html = util_printf("%s/%02u-%s.html", b->diagnostics, *seq, waweb_step(w));
	if (*png != NULL && webdriver_screenshot(w->wd, *png, NULL) < 0) {
		free(*png);
		*png = NULL;
	}
	if (*html != NULL && webdriver_source(w->wd, *html, NULL) < 0) {
		free(*html);
		*html = NULL;
	}
}

/*
 * The parent closing our input means it is gone or gave up on this batch
 * (a time-out): the browser goes at once, whatever step is running. As the
 * leader of the group the parent made for us, the group goes with one kill;
 * started by hand, chromedriver's own group does.
 */
static void *
watch_parent(void *arg)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLRDHUP };

	(void)arg;
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
			break;
		/* A line for the main thread to read: not a hang-up. */
		usleep(100000);
	}
	if (getpgrp() == getpid())
		kill(0, SIGKILL);
	if (driver_group > 0)
		kill(-driver_group, SIGKILL);
	_exit(WHATSAPP_EXIT_BROWSER);
}

/* The parent's answer to "ready": 1 go, 0 skip, -1 the parent is gone. */
static int
await_go(const char *key)
{
	char *line = NULL;
	size_t cap = 0;
	int r = -1;

	ssize_t n;

	while (!stopping && (n = getline(&line, &cap, stdin)) > 0) {
		char *got = NULL;
		bool go = false;

		/* Only an answer for this key counts (deliver/waproto.h); anything else is passed over. */
		if (waproto_parse_reply(line, (size_t)n, &go, &got, NULL) == 0 && strcmp(got, key) == 0)
			r = go ? 1 : 0;
		free(got);
		if (r >= 0)
			break;
	}
	free(line);
	return r;
}

/* A person's pause between two sends: uniform in [min, max], cut short by a stop. */
static void
pause_between(const struct batch *b)
{
	unsigned long span = b->pause_max_ms > b->pause_min_ms ? b->pause_max_ms - b->pause_min_ms : 0, wait;
	unsigned int rnd = 0;

	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
		rnd = (unsigned int)getpid();
	wait = b->pause_min_ms + (span ? rnd % (span + 1) : 0);
	for (unsigned long slept = 0; slept < wait && !stopping; slept += 100)
		usleep(100000);
}

/* The browser itself failed (not answering, gone), as opposed to a step the page did not allow. */
static bool
browser_failed(int e)
{
	return e == -ETIMEDOUT || e == -ECONNRESET || e == -ECONNREFUSED || e == -EPIPE;
}

static int
run_sends(const struct batch *b, struct waweb *w, unsigned *seq)
{
	size_t i, failed = 0;
	json_t *one;

	json_array_foreach(b->sends, i, one) {
		const char *key = str(one, "key"), *chat = str(one, "chat"), *file = str(one, "file");
		char *cause = NULL, *evidence = NULL, *png = NULL, *html = NULL;
		bool pressed = false;   /* Send may have been pressed: a failure from here on is "unsure" */
		int e, go;

		if (stopping)
			return WHATSAPP_EXIT_BROWSER;
		if (i > 0)
			pause_between(b);
		emit("progress", "message", "sending", "key", key, "chat", chat, NULL);
		if (access(file, R_OK) < 0) {
			e = util_fail(&cause, -errno, "%s: %s", file, strerror(errno));
			w->step = "file";
		} else if ((e = waweb_open_chat(w, chat, &cause)) == 0 &&
		    (e = waweb_prepare(w, file, str(one, "caption"), &cause)) == 0) {
			emit("ready", "key", key, NULL);
			if ((go = await_go(key)) < 0) {
				waweb_cancel(w);
				emit("failed", "key", key, "chat", chat, "step", "ready", "reason", stopping ?
				    "stopped before the go; nothing sent" :
				    "the parent went away before it said go; nothing sent", NULL);
				return WHATSAPP_EXIT_BROWSER;
			}
			if (go == 0) {
				waweb_cancel(w);
				emit("skipped", "key", key, "chat", chat, NULL);
				continue;
			}
			if ((e = waweb_send(w, file, &evidence, &cause)) == 0) {
				emit("sent", "key", key, "chat", chat, "evidence", evidence, NULL);
				free(evidence);
				continue;
			}
			/*
			 * Not sent for sure only when the click on Send itself
			 * failed, or WhatsApp marks the message as failed; any other
			 * failure after the click (the browser gone, no tick in
			 * time) may hide a message that went.
			 */
			pressed = !(strcmp(waweb_step(w), "send") == 0 && (e == -ETIME || e == -EBUSY)) &&
			    e != -EBADMSG;
		}
		/* A browser that stopped answering cannot take a screenshot either: it would only wait again. */
		if (!browser_failed(e))
			diagnose(b, w, seq, &png, &html);
		emit(pressed ? "unsure" : "failed", "key", key, "chat", chat, "step", waweb_step(w),
		    "reason", cause ? cause : strerror(-e), "screenshot", png, "source", html, NULL);
		free(png);
		free(html);
		free(cause);
		failed++;
		/* A browser that stopped answering will not send the rest either. */
		if (browser_failed(e))
			return WHATSAPP_EXIT_BROWSER;
		/* The next chat starts from a fresh page, whatever the failed step left open. */
		if (i + 1 < json_array_size(b->sends)) {
			enum waweb_screen screen;
			char *c = NULL;

			if ((e = waweb_open(w, b->url, &screen, &c)) < 0) {
				emit("error", "step", waweb_step(w), "reason", c, NULL);
				free(c);
				return WHATSAPP_EXIT_BROWSER;
			}
			if (screen == WAWEB_SCREEN_QR) {
				/* Logged out in the middle of the batch. */
				if (waweb_save_qr(w, b->qr, &c) == 0)
					emit("needs-login", "qr", b->qr, NULL);
				else
					emit("error", "step", "qr", "reason", c, NULL);
				free(c);
				return WHATSAPP_EXIT_LOGIN;
			}
		}
	}
	return failed ? WHATSAPP_EXIT_FAILED : WHATSAPP_EXIT_SENT;
}

/* Say which strategy found element x (w->matched), or that it was not looked for and why. */
static void
check_line(struct waweb *w, enum waweb_element x, const char *spec, const char *unchecked)
{
	size_t n = 0;
	char **v = wafind_split(spec, &n), *msg;
	int i = w->matched[x] - 1;

	if (unchecked != NULL)
		msg = util_printf("selector_%s: not checked (%s)", waweb_element_name(x), unchecked);
	else if (v != NULL && i >= 0 && (size_t)i < n)
		msg = util_printf("selector_%s: found by strategy %d of %zu: %s%s", waweb_element_name(x), i + 1, n,
		    v[i], i > 0 ? " (the ones before it match nothing)" : "");
	else
		msg = util_printf("selector_%s: not found", waweb_element_name(x));
	if (msg != NULL)
		emit("progress", "message", msg, "level", "info", NULL);
	free(msg);
	util_strv_free(v);
}

/*
 * whatsapp-check, once the app shows: find every element that can be found
 * without sending (with a chat: open it, and the attach menu), say which
 * strategy found each. Exit 0 when all were found, 3 naming the one that
 * was not (the step and its reason in an error event, with diagnostics).
 */
static int
run_check(const struct batch *b, struct waweb *w, unsigned *seq)
{
	const char *nochat = "give a chat to open: salesd whatsapp-check CHAT";
	const char *nosend = "it shows only with a file chosen; the check sends nothing";
	char *cause = NULL, *png = NULL, *html = NULL;
	int index, e;

	check_line(w, WAWEB_APP, w->sel.app, NULL);
	w->step = "search";
	if ((e = waweb_probe(w, WAWEB_SEARCH, NULL, &index, &cause)) == 0 && b->check_chat != NULL)
		e = waweb_open_chat(w, b->check_chat, &cause);
	if (e == 0 && b->check_chat != NULL)
		e = waweb_open_attach(w, &cause);
	check_line(w, WAWEB_SEARCH, w->sel.search, NULL);
	check_line(w, WAWEB_CHAT, w->sel.chat, b->check_chat ? NULL : nochat);
	check_line(w, WAWEB_CHAT_TITLE, w->sel.chat_title, b->check_chat ? NULL : nochat);
	check_line(w, WAWEB_ATTACH, w->sel.attach, b->check_chat ? NULL : nochat);
	check_line(w, WAWEB_DOCUMENT_INPUT, w->sel.document_input, b->check_chat ? NULL : nochat);
	check_line(w, WAWEB_CAPTION, w->sel.caption, nosend);
	check_line(w, WAWEB_SEND, w->sel.send, nosend);
	check_line(w, WAWEB_MESSAGE_OUT, w->sel.message_out, nosend);
	check_line(w, WAWEB_SENT, w->sel.sent, nosend);
	check_line(w, WAWEB_FAILED, w->sel.failed, nosend);
	if (e == 0) {
		free(cause);
		return WHATSAPP_EXIT_SENT;
	}
	if (!browser_failed(e))
		diagnose(b, w, seq, &png, &html);
	emit("error", "step", waweb_step(w), "reason", cause ? cause : strerror(-e), "screenshot", png,
	    "source", html, NULL);
	free(png);
	free(html);
	free(cause);
	return browser_failed(e) ? WHATSAPP_EXIT_BROWSER : WHATSAPP_EXIT_FAILED;
}

static int
run(int argc, char **argv)
{
	struct webdriver_options wo = { 0 };
	struct webdriver *wd = NULL;
	struct waweb w = { 0 };
	struct batch b;
	struct sigaction sa = { 0 };
	enum waweb_screen screen;
	char *line = NULL, *cause = NULL, *png = NULL, *html = NULL;
	size_t cap = 0;
	unsigned seq = 0;
	pid_t parent = getppid();
	int code, e;
	ssize_t n;

	if (argc > 1) {
		fprintf(stderr, "usage: %s < batch.json  (run by salesd; see docs/whatsapp.md)\n", argv[0]);
		return WHATSAPP_EXIT_USAGE;
	}
	/* Gone with the parent (a task killed outright), and stopped cleanly by it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return WHATSAPP_EXIT_BROWSER;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((n = getline(&line, &cap, stdin)) <= 0 || n > MAX_BATCH) {
		fprintf(stderr, "salesd-whatsapp: no batch on standard input\n");
		free(line);
		return WHATSAPP_EXIT_USAGE;
	}
	if (batch_parse(line, &b, &cause) < 0) {
		emit("error", "step", "batch", "reason", cause, NULL);
		free(cause);
		free(line);
		json_decref(b.root);
		return WHATSAPP_EXIT_USAGE;
	}
	free(line);
	{
		pthread_t t;

		if (pthread_create(&t, NULL, watch_parent, NULL) == 0)
			pthread_detach(t);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	wo.chromedriver = b.chromedriver;
	wo.chromium = b.chromium;
	wo.profile_dir = b.profile;
	wo.headless = b.headless;
	wo.no_sandbox = geteuid() == 0;
	/* Started by salesd we lead a process group the parent sweeps; by hand, chromedriver gets its own. */
	wo.own_group = getpgrp() != getpid();
	wo.start_timeout_ms = 60000;
	wo.command_timeout_ms = b.t.step_ms + 10000;
	wo.page_load_timeout_ms = b.t.load_ms;
	if ((e = util_mkdirs(b.profile, 0700, &cause)) < 0 || (e = webdriver_start(&wo, &wd, &cause)) < 0) {
		emit("error", "step", "start", "reason", cause, NULL);
		code = WHATSAPP_EXIT_BROWSER;
		goto out;
	}
	if (wo.own_group)
		driver_group = webdriver_pgid(wd);
	w.wd = wd;
	w.sel = b.sel;
	w.t = b.t;
	w.dismiss_buttons = b.dismiss_buttons;
	w.note = note;
	{
		char pid[32];

		snprintf(pid, sizeof pid, "%d", (int)getpid());
		emit("started", "browser", webdriver_browser_version(wd), "pid", pid,
		    "sandbox", wo.no_sandbox ? "off: running as root" : "on", NULL);
	}
	if ((e = waweb_open(&w, b.url, &screen, &cause)) < 0) {
		if (!browser_failed(e))
			diagnose(&b, &w, &seq, &png, &html);
		emit("error", "step", waweb_step(&w), "reason", cause, "screenshot", png, "source", html, NULL);
		code = WHATSAPP_EXIT_BROWSER;
		goto out;
	}
	if (screen == WAWEB_SCREEN_QR) {
		if ((e = waweb_save_qr(&w, b.qr, &cause)) < 0) {
			if (!browser_failed(e))
				diagnose(&b, &w, &seq, &png, &html);
			emit("error", "step", "qr", "reason", cause, "screenshot", png, "source", html, NULL);
			code = WHATSAPP_EXIT_BROWSER;
			goto out;
		}
		emit("needs-login", "qr", b.qr, NULL);
		if (strcmp(b.mode, "login") != 0) {
			code = WHATSAPP_EXIT_LOGIN;
			goto out;
		}
		if ((e = waweb_wait_login(&w, b.login_ms, b.qr, &cause)) < 0) {
			emit("error", "step", "login", "reason", cause, NULL);
			code = e == -ETIME ? WHATSAPP_EXIT_LOGIN : WHATSAPP_EXIT_BROWSER;
			goto out;
		}
		unlink(b.qr);
	}
	emit("logged-in", NULL);
	if (strcmp(b.mode, "login") == 0)
		code = WHATSAPP_EXIT_SENT;
	else if (strcmp(b.mode, "check") == 0)
		code = run_check(&b, &w, &seq);
	else
		code = run_sends(&b, &w, &seq);
out:
	/* Ending the session cleanly is what writes the login to the profile (FIELD-NOTES). */
	webdriver_quit(wd);
	waweb_done(&w);
	free(png);
	free(html);
	free(cause);
	json_decref(b.root);
	curl_global_cleanup();
	return code;
}

int
main(int argc, char **argv)
{
	int code = run(argc, argv);
	json_t *o = json_pack("{s:s, s:i}", "event", "exit", "status", code);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	/* Over a socket (salesd-whatsapp.socket) the parent cannot see the exit status: say it. */
	if (text != NULL) {
		printf("%s\n", text);
		fflush(stdout);
	}
	free(text);
	json_decref(o);
	return code;
}
