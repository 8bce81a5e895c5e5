/*
 * check_webdriver: the WebDriver client against a real chromedriver and a
 * real headless Chromium (Debian's), on pages written to temporary files
 * (file:// URLs) and data: URLs. One browser, started before the "page"
 * cases and quit after them, serves the cases that cannot harm it: title and
 * navigation, find / -ENOENT / find_all / find_in, a click that changes the
 * page, Shift+Enter in a contenteditable box, a file input taking a path,
 * -ESTALE after a re-render, -EBUSY for a covered or hidden element, script
 * execution, screenshots. The "process" cases start browsers of their own:
 * the process groups of both modes, a page in an endless script (-ETIMEDOUT
 * within the command's limit, and quit still ends everything), a page that
 * never finishes loading (chromedriver's "timeout", -EIO, the session goes
 * on), a browser or chromedriver killed under the session (-ECONNRESET), a
 * start that runs out of time while the browser is still starting.
 *
 * After every quit no process whose command line names the test's profile,
 * nor any carrying the test's mark in its environment (chromedriver and
 * crashpad too), may remain. Leftovers of a failed test never outlive the
 * run. A failed test's process ends without its teardown and without atexit
 * handlers (Check 0.15 in fork mode), but Check then kills the test's process
 * group, which ends the browsers that stay in the caller's group; each
 * TCase's unchecked teardown (in the runner, run whatever the tests did)
 * kills whatever still carries this run's mark (SALESD_WD_RUN), which catches
 * browsers in groups of their own and those of a test killed for its time,
 * and main() does it once more at the end.
 * Skipped (77) only when chromedriver is not installed.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "testutil.h"
#include "base/util.h"
#include "deliver/webdriver.h"

/* Environment marks: this run (every browser), and one test's browser. */
#define MARK_RUN "SALESD_WD_RUN"
#define MARK_TEST "SALESD_WD_TEST"
/* How long quit's leftovers may take to vanish (they are already signalled). */
#define SETTLE_MS 3000

static const char page[] =
    "<!DOCTYPE html><html><head><meta charset=utf-8><title>Chats \xe2\x80\x94 fixture</title>\n"
    "<style>body{margin:0;font:16px sans-serif} #main{margin-top:80px}\n"
    " #cover{position:fixed;left:0;top:0;width:100%;height:60px;background:rgba(0,0,0,.2);z-index:9}\n"
    " #under{position:absolute;left:10px;top:10px}</style></head><body>\n"
    "<div id=main>\n"
    "<input id=search aria-label=\"Search\" oninput=\"document.getElementById('echo').textContent=this.value\">\n"
    "<div id=echo></div>\n"
    "<button id=go onclick=\"document.getElementById('out').textContent='clicked'\">Go</button>\n"
    "<div id=out></div>\n"
    "<ul id=list><li class=item title=\"first one\">a</li><li class=item>b</li><li class=item>c</li></ul>\n"
    "<div id=empty></div>\n"
    "<button id=rerender onclick=\"document.getElementById('list').innerHTML='<li class=item>a2</li>'\">Re-render</button>\n"
    "<div id=caption contenteditable=true role=textbox style=\"min-height:40px;border:1px solid\"\n"
    " onkeydown=\"if(event.key==='Enter'&&!event.shiftKey){event.preventDefault();document.body.dataset.sent=this.innerText}\"></div>\n"
    "<input id=file type=file>\n"
    "<input id=hidden style=\"display:none\">\n"
    "<canvas id=qr width=120 height=100></canvas>\n"
    "</div>\n"
    "<button id=under>Under</button><div id=cover></div>\n"
    "<script>var c=document.getElementById('qr').getContext('2d');c.fillStyle='#000';"
    "c.fillRect(10,10,40,40);c.fillRect(70,50,40,40);</script>\n"
    "</body></html>\n";

/* A button whose handler never returns. */
static const char loop_page[] =
    "<!DOCTYPE html><html><head><title>Loop</title></head><body>\n"
    "<button id=spin onclick=\"for(;;){}\">Spin</button></body></html>\n";

static char *root;                      /* this run's directory: pages, the shared profile */
static char *page_url, *loop_url;

/* The browser shared by the "page" cases, started and quit in the runner process. */
static struct webdriver *shared;
static char *shared_dir, *shared_cause;

static long settle_max_ms;              /* the longest any leftover took to vanish */

/* A process found in /proc. */
struct proc {
	pid_t pid, pgrp, sid;
	bool crashpad;
};

/* A /proc/PID file (NUL-separated) into buf; its length. */
static size_t
read_proc(const char *pid, const char *name, char *buf, size_t size)
{
	char path[128];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%s/%s", pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/*
 * Live processes (no zombies, not us) whose environment holds the entry
 * mark ("NAME=value") or whose command line holds path (either may be
 * NULL). Up to max into out (may be NULL); returns how many there are.
 */
static size_t
scan(const char *mark, const char *path, struct proc *out, size_t max)
{
	static char buf[256 * 1024];
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t count = 0;

	/* No ck_assert here: main() scans too, after the runner has finished. */
	while (d != NULL && (de = readdir(d)) != NULL) {
		struct proc p = { 0 };
		const char *at;
		size_t len;
		bool hit = false;
		char state;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi(de->d_name) == getpid())
			continue;
		len = read_proc(de->d_name, "stat", buf, sizeof buf);
		if (len == 0 || (at = strrchr(buf, ')')) == NULL ||
		    sscanf(at + 1, " %c %*d %d %d", &state, &p.pgrp, &p.sid) != 3 || state == 'Z')
			continue;
		p.pid = atoi(de->d_name);
		/* The mark with its terminating NUL: a whole entry, not the start of a longer one. */
		if (mark != NULL && (len = read_proc(de->d_name, "environ", buf, sizeof buf)) > 0)
			hit = memmem(buf, len, mark, strlen(mark) + 1) != NULL;
		len = read_proc(de->d_name, "cmdline", buf, sizeof buf);
		if (!hit && path != NULL && len > 0)
			hit = memmem(buf, len, path, strlen(path)) != NULL;
		if (!hit)
			continue;
		p.crashpad = memmem(buf, len, "chrome_crashpad_handler", 23) != NULL;
		if (out != NULL && count < max)
			out[count] = p;
		count++;
	}
	if (d != NULL)
		closedir(d);
	return count;
}

/*
 * Wait up to ms for every process of mark / path to be gone; kill (SIGKILL)
 * what is left then. Returns how many were left.
 */
static size_t
settle(const char *mark, const char *path, long ms)
{
	unsigned long long start = util_now_monotonic_usec();
	struct proc left[64];
	size_t n;
	long waited;

	while ((n = scan(mark, path, left, UTIL_NELEM(left))) > 0 &&
	    util_now_monotonic_usec() - start < (unsigned long long)ms * 1000)
		usleep(20000);
	waited = (long)((util_now_monotonic_usec() - start) / 1000);
	if (n == 0 && waited > settle_max_ms)
		settle_max_ms = waited;
	for (size_t i = 0; i < n && i < UTIL_NELEM(left); i++) {
		fprintf(stderr, "check_webdriver: killing leftover pid %d (group %d)\n", (int)left[i].pid,
		    (int)left[i].pgrp);
		kill(left[i].pid, SIGKILL);
	}
	return n;
}

/* The options every browser here gets; the caller sets profile_dir. */
static struct webdriver_options
options(bool own_group, unsigned long command_ms)
{
	struct webdriver_options o = {
		.chromedriver = "chromedriver", .headless = true, .no_sandbox = geteuid() == 0,
		.own_group = own_group, .start_timeout_ms = 30000, .command_timeout_ms = command_ms,
		.page_load_timeout_ms = 10000,
	};

	return o;
}

/*
 * Start a browser of this test's own, profile dir/profile, with this test's
 * mark in its environment.
 */
static struct webdriver *
start_own(const char *dir, bool own_group, unsigned long command_ms, unsigned long page_load_ms)
{
	struct webdriver_options o = options(own_group, command_ms);
	struct webdriver *wd = NULL;
	char *profile = util_printf("%s/profile", dir), *cause = NULL;
	int e;

	ck_assert_int_eq(setenv(MARK_TEST, dir, 1), 0);
	o.profile_dir = profile;
	o.page_load_timeout_ms = page_load_ms;
	e = webdriver_start(&o, &wd, &cause);
	ck_assert_msg(e == 0, "webdriver_start: %d %s", e, cause ? cause : "");
	ck_assert_ptr_nonnull(wd);
	free(profile);
	return wd;
}

/* Nothing of dir's browser is left: no process naming its profile, none with its mark. */
static void
assert_gone(const char *dir)
{
	char *mark = util_printf("%s=%s", MARK_TEST, dir);
	size_t n = settle(mark, dir, SETTLE_MS);

	ck_assert_msg(n == 0, "%zu processes of %s outlived webdriver_quit by %d ms", n, dir, SETTLE_MS);
	free(mark);
}

/* Quit a browser of this test's own and check it left nothing. */
static void
quit_own(struct webdriver *wd, const char *dir)
{
	webdriver_quit(wd);
	assert_gone(dir);
}

/* The shared browser, for a "page" case, on a freshly loaded fixture page. */
static struct webdriver *
page_browser(void)
{
	char *cause = NULL;

	ck_assert_msg(shared != NULL, "the shared browser did not start: %s", shared_cause ? shared_cause : "");
	ck_assert_msg(webdriver_navigate(shared, page_url, &cause) == 0, "%s", cause);
	return shared;
}

/* The text of the first element matching css (caller frees). */
static char *
text_of(struct webdriver *wd, const char *css)
{
	char *el = NULL, *text = NULL, *cause = NULL;

	ck_assert_msg(webdriver_find(wd, css, &el, &cause) == 0, "%s", cause);
	ck_assert_msg(webdriver_text(wd, el, &text, &cause) == 0, "%s", cause);
	free(el);
	return text;
}

/* Run a script without arguments; its JSON result (caller frees). */
static char *
run(struct webdriver *wd, const char *script)
{
	char *result = NULL, *cause = NULL;

	ck_assert_msg(webdriver_execute(wd, script, NULL, &result, &cause) == 0, "%s: %s", script, cause);
	return result;
}

/* Size of a PNG file; its IHDR width and height. 0 when it is no PNG. */
static long
png_size(const char *path, unsigned *w, unsigned *h)
{
	unsigned char head[24];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return 0;
	ok = read(fd, head, sizeof head) == (ssize_t)sizeof head && fstat(fd, &st) == 0;
	close(fd);
	if (!ok || memcmp(head, "\x89PNG\r\n\x1a\n", 8) != 0)
		return 0;
	*w = (unsigned)head[16] << 24 | (unsigned)head[17] << 16 | (unsigned)head[18] << 8 | head[19];
	*h = (unsigned)head[20] << 24 | (unsigned)head[21] << 16 | (unsigned)head[22] << 8 | head[23];
	return (long)st.st_size;
}

/* Entries of a directory (without . and ..). */
static size_t
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/*
 * A directory for the runner process, removed at the end of main(). (Not
 * tu_tmpdir: a test process that calls tu_tmpdir starts its own list over
 * the inherited one, and LeakSanitizer would count the runner's entries.)
 */
static char *
runner_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *path = util_printf("%s/salesd-test.XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");

	/* Called from main() too, outside any test: no ck_assert. */
	if (path == NULL || mkdtemp(path) == NULL)
		abort();
	return path;
}

/* "page" fixture, in the runner process: the shared browser (its own process group). */
static void
shared_start(void)
{
	struct webdriver_options o = options(true, 20000);
	char *profile;

	shared_dir = runner_dir();
	profile = util_printf("%s/profile", shared_dir);
	o.profile_dir = profile;
	setenv(MARK_TEST, shared_dir, 1);
	webdriver_start(&o, &shared, &shared_cause);
	unsetenv(MARK_TEST);
	free(profile);
}

/* Any TCase's end: whatever of this run is still there (a failed test's browser) goes. */
static void
sweep(void)
{
	char *mark = util_printf("%s=%s", MARK_RUN, root);

	/* A moment for what is already dying (crashpad follows its browser). */
	settle(mark, NULL, 1000);
	free(mark);
}

/* The "page" cases' end: quit the shared browser; it must leave nothing. Then the sweep. */
static void
shared_quit(void)
{
	char *mark = util_printf("%s=%s", MARK_TEST, shared_dir);
	size_t n;

	webdriver_quit(shared);
	shared = NULL;
	n = settle(mark, shared_dir, SETTLE_MS);
	free(mark);
	sweep();
	ck_assert_msg(n == 0, "%zu processes of the shared browser outlived webdriver_quit", n);
}

START_TEST(test_title_navigate)
{
	struct webdriver *wd = page_browser();
	char *s = NULL, *cause = NULL;

	ck_assert_msg(webdriver_browser_version(wd)[0] >= '1' && webdriver_browser_version(wd)[0] <= '9', "%s",
	    webdriver_browser_version(wd));
	ck_assert_msg(webdriver_title(wd, &s, &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, "Chats \xe2\x80\x94 fixture");
	free(s);
	ck_assert_msg(webdriver_url(wd, &s, &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, page_url);
	free(s);
	/* A data: URL, no file behind it. */
	ck_assert_msg(webdriver_navigate(wd, "data:text/html;charset=utf-8,<title>Second</title><p id=p>two</p>",
	    &cause) == 0, "%s", cause);
	ck_assert_int_eq(webdriver_title(wd, &s, &cause), 0);
	ck_assert_str_eq(s, "Second");
	free(s);
	s = text_of(wd, "#p");
	ck_assert_str_eq(s, "two");
	free(s);
}
END_TEST

START_TEST(test_find)
{
	struct webdriver *wd = page_browser();
	char *el = NULL, *list = NULL, *child = NULL, *s = NULL, *cause = NULL, **els = NULL;
	size_t n = 99;
	bool shown = false;

	ck_assert_msg(webdriver_find(wd, "input[aria-label='Search']", &el, &cause) == 0, "%s", cause);
	ck_assert(el != NULL && el[0] != '\0');
	free(el);
	/* Nothing matches: -ENOENT naming the command and the selector; the session goes on. */
	ck_assert_int_eq(webdriver_find(wd, "[data-icon='send']", &el, &cause), -ENOENT);
	ck_assert_ptr_null(el);
	ck_assert_msg(strstr(cause, "find \"[data-icon='send']\": no such element") != NULL, "%s", cause);
	ck_assert_msg(strchr(cause, '\n') == NULL, "%s", cause);
	/* All of them, in document order; none is an empty list. */
	ck_assert_msg(webdriver_find_all(wd, "#list .item", &els, &n, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(util_strv_len(els), 3);
	ck_assert_msg(webdriver_text(wd, els[2], &s, &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, "c");
	free(s);
	/* Attributes: present, absent (NULL). */
	ck_assert_msg(webdriver_attribute(wd, els[0], "title", &s, &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, "first one");
	free(s);
	s = (char *)(uintptr_t)"unset";
	ck_assert_msg(webdriver_attribute(wd, els[1], "title", &s, &cause) == 0, "%s", cause);
	ck_assert_ptr_null(s);
	util_strv_free(els);
	ck_assert_int_eq(webdriver_find_all(wd, ".nothing", &els, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(els != NULL && els[0] == NULL);
	util_strv_free(els);
	/* Below an element only. */
	ck_assert_int_eq(webdriver_find(wd, "#list", &list, &cause), 0);
	ck_assert_msg(webdriver_find_in(wd, list, "li:nth-child(2)", &child, &cause) == 0, "%s", cause);
	ck_assert_msg(webdriver_text(wd, child, &s, &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, "b");
	free(s);
	free(child);
	free(list);
	ck_assert_int_eq(webdriver_find(wd, "#main", &list, &cause), 0);
	ck_assert_msg(webdriver_displayed(wd, list, &shown, &cause) == 0, "%s", cause);
	ck_assert(shown);
	free(list);
	ck_assert_int_eq(webdriver_find(wd, "#empty", &list, &cause), 0);
	ck_assert_int_eq(webdriver_find_in(wd, list, ".item", &child, &cause), -ENOENT);
	ck_assert_ptr_null(child);
	free(list);
	ck_assert_int_eq(webdriver_find(wd, "#hidden", &el, &cause), 0);
	ck_assert_msg(webdriver_displayed(wd, el, &shown, &cause) == 0, "%s", cause);
	ck_assert(!shown);
	free(el);
	/* A reference that is none is refused before anything is sent. */
	ck_assert_int_eq(webdriver_click(wd, "../../status", &cause), -EINVAL);
	free(cause);
}
END_TEST

START_TEST(test_click_type)
{
	struct webdriver *wd = page_browser();
	char *el = NULL, *s, *cause = NULL;

	ck_assert_int_eq(webdriver_find(wd, "#go", &el, &cause), 0);
	ck_assert_msg(webdriver_click(wd, el, &cause) == 0, "%s", cause);
	free(el);
	s = text_of(wd, "#out");
	ck_assert_str_eq(s, "clicked");
	free(s);
	/* Typing (Devanagari too), then clearing. */
	ck_assert_int_eq(webdriver_find(wd, "#search", &el, &cause), 0);
	ck_assert_msg(webdriver_send_keys(wd, el, "Managers \xe0\xa4\xb9", &cause) == 0, "%s", cause);
	s = text_of(wd, "#echo");
	ck_assert_str_eq(s, "Managers \xe0\xa4\xb9");
	free(s);
	ck_assert_msg(webdriver_clear(wd, el, &cause) == 0, "%s", cause);
	s = run(wd, "return document.getElementById('search').value");
	ck_assert_str_eq(s, "\"\"");
	free(s);
	free(el);
}
END_TEST

START_TEST(test_shift_enter)
{
	struct webdriver *wd = page_browser();
	char *el = NULL, *s, *cause = NULL;

	ck_assert_int_eq(webdriver_find(wd, "#caption", &el, &cause), 0);
	ck_assert_msg(webdriver_click(wd, el, &cause) == 0, "%s", cause);
	/* Shift held for the Enter only: a line break, not a send (WhatsApp: Enter sends). */
	ck_assert_msg(webdriver_send_keys(wd, el, "line one" WEBDRIVER_KEY_SHIFT WEBDRIVER_KEY_ENTER WEBDRIVER_KEY_NULL
	    "line two", &cause) == 0, "%s", cause);
	s = run(wd, "return document.getElementById('caption').innerText");
	ck_assert_str_eq(s, "\"line one\\nline two\"");
	free(s);
	s = run(wd, "return document.body.dataset.sent === undefined");
	ck_assert_str_eq(s, "true");
	free(s);
	/* A plain Enter is what sends. */
	ck_assert_msg(webdriver_send_keys(wd, el, WEBDRIVER_KEY_ENTER, &cause) == 0, "%s", cause);
	s = run(wd, "return document.body.dataset.sent");
	ck_assert_str_eq(s, "\"line one\\nline two\"");
	free(s);
	free(el);
}
END_TEST

START_TEST(test_file_input)
{
	struct webdriver *wd = page_browser();
	char *dir = tu_tmpdir(), *upload = tu_write(dir, "report-2026-11-22.pdf", "%PDF-1.4 fixture\n");
	char *el = NULL, *s, *cause = NULL;

	ck_assert_int_eq(webdriver_find(wd, "input[type=file]", &el, &cause), 0);
	ck_assert_msg(webdriver_send_keys(wd, el, upload, &cause) == 0, "%s", cause);
	s = run(wd, "var f = document.getElementById('file').files; return [f.length, f[0].name, f[0].size]");
	ck_assert_str_eq(s, "[1,\"report-2026-11-22.pdf\",17]");
	free(s);
	free(el);
	free(upload);
	free(dir);
}
END_TEST

START_TEST(test_stale)
{
	struct webdriver *wd = page_browser();
	char *item = NULL, *button = NULL, *s = NULL, *cause = NULL;

	ck_assert_int_eq(webdriver_find(wd, ".item", &item, &cause), 0);
	ck_assert_int_eq(webdriver_find(wd, "#rerender", &button, &cause), 0);
	ck_assert_msg(webdriver_click(wd, button, &cause) == 0, "%s", cause);
	ck_assert_int_eq(webdriver_text(wd, item, &s, &cause), -ESTALE);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(cause, "element text: stale element reference") != NULL, "%s", cause);
	ck_assert_int_eq(webdriver_click(wd, item, &cause), -ESTALE);
	free(item);
	/* Found again, it is the new one. */
	s = text_of(wd, ".item");
	ck_assert_str_eq(s, "a2");
	free(s);
	free(button);
	free(cause);
}
END_TEST

START_TEST(test_busy)
{
	struct webdriver *wd = page_browser();
	char *el = NULL, *cause = NULL, *s;

	/* Under a fixed overlay: the click would land on the overlay. */
	ck_assert_int_eq(webdriver_find(wd, "#under", &el, &cause), 0);
	ck_assert_int_eq(webdriver_click(wd, el, &cause), -EBUSY);
	ck_assert_msg(strncmp(cause, "click: element click intercepted: ", 34) == 0, "%s", cause);
	ck_assert_msg(strstr(cause, "cover") != NULL && strchr(cause, '\n') == NULL, "%s", cause);
	free(el);
	/* Not rendered at all. */
	ck_assert_int_eq(webdriver_find(wd, "#hidden", &el, &cause), 0);
	ck_assert_int_eq(webdriver_send_keys(wd, el, "x", &cause), -EBUSY);
	ck_assert_msg(strcmp(cause, "send keys: element not interactable") == 0, "%s", cause);
	free(el);
	/* Once the overlay goes, the same click works. */
	s = run(wd, "document.getElementById('cover').remove()");
	ck_assert_str_eq(s, "null");
	free(s);
	ck_assert_int_eq(webdriver_find(wd, "#under", &el, &cause), 0);
	ck_assert_msg(webdriver_click(wd, el, &cause) == 0, "%s", cause);
	free(el);
	free(cause);
}
END_TEST

START_TEST(test_execute)
{
	struct webdriver *wd = page_browser();
	char *el = NULL, *args, *s = NULL, *cause = NULL;

	ck_assert_int_eq(webdriver_find(wd, "#list", &el, &cause), 0);
	args = util_printf("[{\"" WEBDRIVER_ELEMENT_KEY "\": \"%s\"}, 2]", el);
	ck_assert_msg(webdriver_execute(wd, "return [arguments[0].id, arguments[1] * 21, null, {a: 'x'}]", args, &s,
	    &cause) == 0, "%s", cause);
	ck_assert_str_eq(s, "[\"list\",42,null,{\"a\":\"x\"}]");
	free(s);
	free(args);
	free(el);
	/* An element comes back as a reference. */
	s = run(wd, "return document.getElementById('go')");
	ck_assert_msg(strstr(s, WEBDRIVER_ELEMENT_KEY) != NULL, "%s", s);
	free(s);
	ck_assert_int_eq(webdriver_execute(wd, "throw new Error('boom\\nsecond line')", NULL, &s, &cause), -EIO);
	ck_assert_ptr_null(s);
	ck_assert_msg(strcmp(cause, "execute script: javascript error: boom") == 0, "%s", cause);
	ck_assert_int_eq(webdriver_execute(wd, "return 1", "{\"not\": \"a list\"}", &s, &cause), -EINVAL);
	free(cause);
}
END_TEST

START_TEST(test_screenshots)
{
	struct webdriver *wd = page_browser();
	char *dir = tu_tmpdir(), *shot = util_printf("%s/shot.png", dir), *qr = util_printf("%s/qr.png", dir);
	char *src = util_printf("%s/page-source.html", dir), *el = NULL, *cause = NULL, *data;
	unsigned w = 0, h = 0;

	ck_assert_msg(webdriver_screenshot(wd, shot, &cause) == 0, "%s", cause);
	ck_assert_msg(png_size(shot, &w, &h) > 0, "%s is not a PNG", shot);
	ck_assert(w > 200 && h > 200);
	/* The QR canvas alone: 120 x 100 CSS pixels. */
	ck_assert_int_eq(webdriver_find(wd, "canvas#qr", &el, &cause), 0);
	ck_assert_msg(webdriver_element_screenshot(wd, el, qr, &cause) == 0, "%s", cause);
	ck_assert_msg(png_size(qr, &w, &h) > 0, "%s is not a PNG", qr);
	ck_assert_msg(w == 120 && h == 100, "%ux%u", w, h);
	free(el);
	ck_assert_msg(webdriver_source(wd, src, &cause) == 0, "%s", cause);
	data = tu_read(src);
	ck_assert(data != NULL && strstr(data, "id=\"search\"") != NULL);
	free(data);
	/* Written aside and renamed: no temporary file is left. */
	ck_assert_uint_eq(entries(dir), 3);
	/* Into a directory that is not there: the path in the cause, no file. */
	free(shot);
	shot = util_printf("%s/missing/shot.png", dir);
	ck_assert_int_eq(webdriver_screenshot(wd, shot, &cause), -ENOENT);
	ck_assert_msg(strstr(cause, shot) != NULL, "%s", cause);
	free(cause);
	free(src);
	free(qr);
	free(shot);
	free(dir);
}
END_TEST

/* A second browser on the shared profile: Chromium refuses it, and the cause says why. */
START_TEST(test_profile_in_use)
{
	struct webdriver_options o = options(false, 20000);
	struct webdriver *wd = NULL;
	char *profile = util_printf("%s/profile", shared_dir), *cause = NULL;

	ck_assert_msg(shared != NULL, "the shared browser did not start: %s", shared_cause ? shared_cause : "");
	o.profile_dir = profile;
	ck_assert_int_eq(webdriver_start(&o, &wd, &cause), -EIO);
	ck_assert_ptr_null(wd);
	ck_assert_msg(strstr(cause, "new session: session not created") != NULL &&
	    strstr(cause, "another browser using the profile?") != NULL, "%s", cause);
	free(cause);
	free(profile);
}
END_TEST

/*
 * own_group: chromedriver leads a new group; every browser process is in
 * it but crashpad's handler, which has a session of its own.
 */
START_TEST(test_group_own)
{
	char *dir = tu_tmpdir(), *mark = util_printf("%s=%s", MARK_TEST, dir);
	struct webdriver *wd = start_own(dir, true, 20000, 10000);
	struct proc ps[64];
	size_t n, browsers = 0;
	int pgid = webdriver_pgid(wd);

	ck_assert_int_eq(pgid, webdriver_driver_pid(wd));
	ck_assert_int_ne(pgid, getpgrp());
	ck_assert_int_gt(webdriver_browser_pid(wd), 0);
	n = scan(mark, NULL, ps, UTIL_NELEM(ps));
	ck_assert_uint_ge(n, 3);
	for (size_t i = 0; i < n && i < UTIL_NELEM(ps); i++) {
		if (ps[i].crashpad) {
			ck_assert_int_eq(ps[i].pgrp, ps[i].sid);
			continue;
		}
		ck_assert_msg(ps[i].pgrp == pgid, "pid %d is in group %d, not %d", ps[i].pid, ps[i].pgrp, pgid);
		browsers += ps[i].pid == webdriver_browser_pid(wd);
	}
	ck_assert_uint_eq(browsers, 1);
	quit_own(wd, dir);
	/* The group is empty, or holds zombies only until init reaps them. */
	ck_assert_uint_eq(scan(mark, NULL, NULL, 0), 0);
	free(mark);
	free(dir);
}
END_TEST

/* own_group false: chromedriver and the browser in the caller's group (Check made one per test). */
START_TEST(test_group_caller)
{
	char *dir = tu_tmpdir(), *mark = util_printf("%s=%s", MARK_TEST, dir);
	struct webdriver *wd = start_own(dir, false, 20000, 10000);
	struct proc ps[64];
	size_t n;

	ck_assert_int_eq(webdriver_pgid(wd), getpgrp());
	n = scan(mark, NULL, ps, UTIL_NELEM(ps));
	ck_assert_uint_ge(n, 3);
	for (size_t i = 0; i < n && i < UTIL_NELEM(ps); i++)
		ck_assert_msg(ps[i].crashpad || ps[i].pgrp == getpgrp(), "pid %d is in group %d", ps[i].pid, ps[i].pgrp);
	quit_own(wd, dir);
	free(mark);
	free(dir);
}
END_TEST

/*
 * A page stuck in an endless script: the click does not come back, the
 * command gives up at its limit with -ETIMEDOUT, the session is wedged
 * (chromedriver keeps waiting on the click), and quit still ends it all in
 * bounded time, in either group mode.
 */
static void
endless(bool own_group)
{
	const unsigned long limit = 2000;
	char *dir = tu_tmpdir(), *el = NULL, *s = NULL, *cause = NULL;
	struct webdriver *wd = start_own(dir, own_group, limit, 10000);
	unsigned long long t0;
	long ms;

	ck_assert_msg(webdriver_navigate(wd, loop_url, &cause) == 0, "%s", cause);
	ck_assert_int_eq(webdriver_find(wd, "#spin", &el, &cause), 0);
	t0 = util_now_monotonic_usec();
	ck_assert_int_eq(webdriver_click(wd, el, &cause), -ETIMEDOUT);
	ms = (long)((util_now_monotonic_usec() - t0) / 1000);
	ck_assert_msg(ms >= (long)limit - 50 && ms < (long)limit + 1000, "click gave up after %ld ms", ms);
	ck_assert_msg(strcmp(cause, "click: no answer from chromedriver within 2000 ms") == 0, "%s", cause);
	/* Wedged: the next command waits behind the click (once is enough to show it). */
	if (own_group)
		ck_assert_int_eq(webdriver_title(wd, &s, &cause), -ETIMEDOUT);
	t0 = util_now_monotonic_usec();
	quit_own(wd, dir);
	ms = (long)((util_now_monotonic_usec() - t0) / 1000);
	/* DELETE's limit, the grace period, a little for the kill. */
	ck_assert_msg(ms < (long)limit + 1000 + 1500, "quit took %ld ms", ms);
	free(el);
	free(cause);
	free(dir);
}

START_TEST(test_endless_own)
{
	endless(true);
}
END_TEST

START_TEST(test_endless_caller)
{
	endless(false);
}
END_TEST

/*
 * A page that never finishes loading (an image from a socket that never
 * answers): chromedriver's own "timeout" after pageLoad, -EIO, and the
 * session goes on.
 */
START_TEST(test_page_load_timeout)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *dir = tu_tmpdir(), *html, *file, *url, *s = NULL, *cause = NULL;
	struct webdriver *wd;
	unsigned long long t0;
	long ms;

	/* Listening, never accepting: the kernel completes the connection, nobody answers. */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	html = util_printf("<!DOCTYPE html><title>Slow</title><p id=p>here</p>"
	    "<img src=\"http://127.0.0.1:%d/never.png\">", ntohs(sa.sin_port));
	file = tu_write(dir, "slow.html", html);
	url = util_printf("file://%s", file);
	wd = start_own(dir, false, 20000, 2000);
	/*
	 * A page of the same origin first: its renderer, started on a busy
	 * machine in more than the pageLoad time, then serves the slow page too,
	 * which commits at once. (Else chromedriver's timeout may come before the
	 * slow page commits, and the browser stays where it was.)
	 */
	ck_assert_msg(webdriver_navigate(wd, page_url, &cause) == 0, "%s", cause);
	t0 = util_now_monotonic_usec();
	ck_assert_int_eq(webdriver_navigate(wd, url, &cause), -EIO);
	ms = (long)((util_now_monotonic_usec() - t0) / 1000);
	ck_assert_msg(ms >= 1900 && ms < 6000, "navigate gave up after %ld ms", ms);
	ck_assert_msg(strstr(cause, "slow.html: timeout: ") != NULL, "%s", cause);
	/* It answers at once, and the page (committed a moment later on a busy machine) is there. */
	t0 = util_now_monotonic_usec();
	for (;;) {
		ck_assert_msg(webdriver_title(wd, &s, &cause) == 0, "%s", cause);
		if (strcmp(s, "Slow") == 0 || util_now_monotonic_usec() - t0 > 5000000)
			break;
		free(s);
		usleep(50000);
	}
	ck_assert_str_eq(s, "Slow");
	free(s);
	quit_own(wd, dir);
	close(fd);
	free(cause);
	free(url);
	free(file);
	free(html);
	free(dir);
}
END_TEST

/* The browser killed under the session, then chromedriver: -ECONNRESET both times. */
START_TEST(test_gone)
{
	char *dir = tu_tmpdir(), *s = NULL, *cause = NULL;
	struct webdriver *wd = start_own(dir, false, 20000, 10000);

	ck_assert_msg(webdriver_navigate(wd, page_url, &cause) == 0, "%s", cause);
	ck_assert_int_eq(kill(webdriver_browser_pid(wd), SIGKILL), 0);
	usleep(300000);
	ck_assert_int_eq(webdriver_title(wd, &s, &cause), -ECONNRESET);
	ck_assert_msg(strncmp(cause, "title: invalid session id", 25) == 0, "%s", cause);
	ck_assert_int_eq(kill(webdriver_driver_pid(wd), SIGKILL), 0);
	usleep(100000);
	ck_assert_int_eq(webdriver_title(wd, &s, &cause), -ECONNRESET);
	ck_assert_msg(strstr(cause, "title: chromedriver is gone (killed by signal 9)") != NULL, "%s", cause);
	ck_assert_ptr_null(s);
	quit_own(wd, dir);
	free(cause);
	free(dir);
}
END_TEST

/*
 * The start runs out of time while the browser is still starting (the
 * session never named it): what chromedriver started goes all the same.
 */
START_TEST(test_start_timeout)
{
	struct webdriver_options o = options(false, 20000);
	struct webdriver *wd = NULL;
	char *dir = tu_tmpdir(), *profile = util_printf("%s/profile", dir), *cause = NULL;
	int e;

	ck_assert_int_eq(setenv(MARK_TEST, dir, 1), 0);
	o.profile_dir = profile;
	o.start_timeout_ms = 250;
	e = webdriver_start(&o, &wd, &cause);
	/* A machine fast enough for a browser in 250 ms would pass here too. */
	ck_assert_msg(e == -ETIMEDOUT || e == 0, "%d %s", e, cause);
	if (e == 0)
		webdriver_quit(wd);
	else
		ck_assert_msg(strstr(cause, "within") != NULL, "%s", cause);
	assert_gone(dir);
	free(cause);
	free(profile);
	free(dir);
}
END_TEST

START_TEST(test_missing_driver)
{
	struct webdriver *wd = NULL;
	char *cause = NULL;
	struct webdriver_options o = options(true, 5000);

	o.chromedriver = "/nonexistent/chromedriver";
	o.profile_dir = "/nonexistent/profile";
	ck_assert_int_eq(webdriver_start(&o, &wd, &cause), -ENOENT);
	ck_assert_msg(strstr(cause, "/nonexistent/chromedriver") != NULL, "%s", cause);
	ck_assert_ptr_null(wd);
	free(cause);
	webdriver_quit(NULL);
}
END_TEST

/* chromedriver somewhere on PATH? */
static bool
have(const char *name)
{
	size_t n;
	char **dirs = util_split(getenv("PATH") ? getenv("PATH") : "/usr/bin", ':', &n);
	bool found = false;

	for (size_t k = 0; dirs != NULL && k < n && !found; k++) {
		char *p = util_printf("%s/%s", dirs[k], name);

		found = p != NULL && access(p, X_OK) == 0;
		free(p);
	}
	util_strv_free(dirs);
	return found;
}

int
main(void)
{
	Suite *s = suite_create("webdriver");
	TCase *pages = tcase_create("page");
	/* The cases with browsers of their own, by feature. */
	const struct {
		const char *name;
		const TTest *a, *b;
	} process_cases[] = {
		{ "process group", test_group_own, test_group_caller },
		{ "endless script", test_endless_own, test_endless_caller },
		{ "page load timeout", test_page_load_timeout, NULL },
		{ "gone", test_gone, NULL },
		{ "start", test_start_timeout, test_missing_driver },
	};
	SRunner *sr;
	char *html, *loop, *mark;
	size_t left;
	int failed;

	if (!have("chromedriver")) {
		fprintf(stderr, "check_webdriver: chromedriver is not installed (scripts/setup installs it)\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	root = runner_dir();
	setenv(MARK_RUN, root, 1);
	html = tu_write(root, "page.html", page);
	loop = tu_write(root, "loop.html", loop_page);
	page_url = util_printf("file://%s", html);
	loop_url = util_printf("file://%s", loop);

	tcase_set_timeout(pages, 60);
	tcase_add_unchecked_fixture(pages, shared_start, shared_quit);
	tcase_add_test(pages, test_title_navigate);
	tcase_add_test(pages, test_find);
	tcase_add_test(pages, test_click_type);
	tcase_add_test(pages, test_shift_enter);
	tcase_add_test(pages, test_file_input);
	tcase_add_test(pages, test_stale);
	tcase_add_test(pages, test_busy);
	tcase_add_test(pages, test_execute);
	tcase_add_test(pages, test_screenshots);
	tcase_add_test(pages, test_profile_in_use);
	suite_add_tcase(s, pages);

	/* A TCase per feature: a failed test's browser is swept right after its feature. */
	for (size_t i = 0; i < UTIL_NELEM(process_cases); i++) {
		TCase *tc = tcase_create(process_cases[i].name);

		tcase_set_timeout(tc, 60);
		tcase_add_unchecked_fixture(tc, NULL, sweep);
		tcase_add_test(tc, process_cases[i].a);
		if (process_cases[i].b != NULL)
			tcase_add_test(tc, process_cases[i].b);
		suite_add_tcase(s, tc);
	}

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	/* The last net: nothing started by this run may outlive it. */
	mark = util_printf("%s=%s", MARK_RUN, root);
	if ((left = settle(mark, NULL, SETTLE_MS)) > 0) {
		fprintf(stderr, "check_webdriver: %zu processes of this run were still running\n", left);
		failed++;
	}
	fprintf(stderr, "check_webdriver: leftovers of a quit vanished within %ld ms at most\n", settle_max_ms);
	free(mark);
	free(page_url);
	free(loop_url);
	free(html);
	free(loop);
	if (shared_dir != NULL)
		tu_rmrf(shared_dir);
	free(shared_dir);
	tu_rmrf(root);
	free(root);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
