/*
 * webdriver: a small W3C WebDriver client for driving Chromium through
 * chromedriver, for WhatsApp delivery (docs/whatsapp.md). webdriver_start()
 * spawns chromedriver (argv, no shell) on a free 127.0.0.1 port, opens one
 * browser session with a persistent profile and the flags that keep Chromium
 * off the network but for the pages it is sent to (FIELD-NOTES), and then
 * speaks JSON over HTTP to it (libcurl + jansson), one blocking command at a
 * time. webdriver_quit() ends the session cleanly (the profile's web storage
 * reaches the disk only then) and then stops chromedriver and the browser, so
 * none of them outlives it. How the processes are started and stopped, and
 * why quit stops the browser's main process itself: browser.h.
 *
 * Errors: 0 or a negative errno, with *cause (caller frees) naming the
 * command and quoting the WebDriver error and the first line of its message:
 *   -ENOENT      "no such element" (a find that matched nothing)
 *   -ESTALE      "stale element reference" (the page re-rendered: find again)
 *   -EBUSY       "element click intercepted", "element not interactable"
 *   -ETIMEDOUT   no answer within the command's time limit
 *   -ECONNRESET  chromedriver or the browser is gone ("invalid session id",
 *                "disconnected", "chrome not reachable", connection refused)
 *   -EIO         any other WebDriver error, or an answer that makes no sense;
 *                among them chromedriver's own "timeout" (a page still loading
 *                after pageLoad) and "script timeout", after which the
 *                session goes on
 * After -ETIMEDOUT or -ECONNRESET the session is as good as lost: chromedriver
 * runs one command at a time and keeps working on a command its client gave
 * up on (a page stuck in an endless script keeps it forever, whatever the
 * pageLoad and script timeouts say), so every later command waits behind it
 * and times out too. Call webdriver_quit().
 *
 * Elements are chromedriver's opaque reference strings (caller frees). No
 * global state; curl_global_init() is the caller's. Blocking: for the
 * WhatsApp child process only (never the daemon's loop).
 */
#ifndef SALESD_WEBDRIVER_H
#define SALESD_WEBDRIVER_H

#include <stdbool.h>
#include <stddef.h>

struct webdriver;

/* Special keys for webdriver_send_keys(), as UTF-8 (W3C WebDriver "Keys"). */
#define WEBDRIVER_KEY_NULL   "\xee\x80\x80"     /* U+E000: releases held modifiers */
#define WEBDRIVER_KEY_ENTER  "\xee\x80\x87"     /* U+E007 */
#define WEBDRIVER_KEY_SHIFT  "\xee\x80\x88"     /* U+E008: held until KEY_NULL or the end of the text */
#define WEBDRIVER_KEY_ESCAPE "\xee\x80\x8c"     /* U+E00C */

/* The JSON key of an element reference, for webdriver_execute() arguments and results. */
#define WEBDRIVER_ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"

struct webdriver_options {
	const char *chromedriver;       /* executable: a path, or a name looked up in PATH */
	const char *chromium;           /* browser: a path or a name in PATH; NULL: chromedriver's choice */
	const char *profile_dir;        /* --user-data-dir: the persistent profile */
	bool headless;                  /* --headless=new */
	bool no_sandbox;                /* --no-sandbox: the caller's decision (root only) */
	/*
	 * true: chromedriver (and so the browser) in a new process group of its
	 * own, which quit kills as a whole. false: they stay in the caller's
	 * group (a caller whose parent sweeps that group); quit then signals
	 * chromedriver and the browsers it started (their main processes) only.
	 */
	bool own_group;
	unsigned long start_timeout_ms;         /* chromedriver up and the session open; 0: 60 s */
	unsigned long command_timeout_ms;       /* one command; 0: 30 s */
	unsigned long page_load_timeout_ms;     /* the session's pageLoad; 0: 60 s */
};

/*
 * Start chromedriver and open a session: 0 and *out (free with
 * webdriver_quit), or -errno with *cause and *out NULL. Sets the session's
 * timeouts: pageLoad page_load_timeout_ms; script three quarters of
 * command_timeout_ms (a script waiting on a promise fails in the browser, and
 * the session goes on, before the request is cut); implicit 0 (a find
 * answers at once; waiting is the caller's loop).
 */
int webdriver_start(const struct webdriver_options *o, struct webdriver **out, char **cause);
/*
 * End the session (DELETE, bounded by the command time limit, so a page in
 * an endless script cannot hold it), then stop chromedriver, the browser's
 * main process and any other child of chromedriver (a browser still
 * starting): SIGTERM, up to a second's grace, SIGKILL; the whole group with
 * own_group. Returns once chromedriver is reaped and the browser's main
 * process has exited (its helpers follow it within milliseconds). Frees wd;
 * safe with NULL.
 */
void webdriver_quit(struct webdriver *wd);

/* The browser's version from the session's capabilities ("156.0.8078.79"); owned by wd. */
const char *webdriver_browser_version(const struct webdriver *wd);
/* The process group chromedriver and the browser run in: chromedriver's own, or the caller's. */
int webdriver_pgid(const struct webdriver *wd);
/* chromedriver's pid, and the browser's main process (0 when the session did not say). */
int webdriver_driver_pid(const struct webdriver *wd);
int webdriver_browser_pid(const struct webdriver *wd);

/* Load url and wait for it (up to the pageLoad time-out; the HTTP request gets that plus the command's). */
int webdriver_navigate(struct webdriver *wd, const char *url, char **cause);
/* The page's title and current URL (caller frees). */
int webdriver_title(struct webdriver *wd, char **title, char **cause);
int webdriver_url(struct webdriver *wd, char **url, char **cause);

/*
 * The first element matching a CSS selector, into *element (caller frees);
 * -ENOENT when none matches (the session goes on). webdriver_find_in()
 * searches below element only.
 */
int webdriver_find(struct webdriver *wd, const char *css, char **element, char **cause);
int webdriver_find_in(struct webdriver *wd, const char *element, const char *css, char **child, char **cause);
/*
 * Every element matching css, in document order: a NULL-terminated vector
 * into *elements (free with util_strv_free; empty, not NULL, when none
 * matches) and its length into *n.
 */
int webdriver_find_all(struct webdriver *wd, const char *css, char ***elements, size_t *n, char **cause);

int webdriver_click(struct webdriver *wd, const char *element, char **cause);
/* Empty an input, a textarea or a contenteditable element. */
int webdriver_clear(struct webdriver *wd, const char *element, char **cause);
/*
 * Type UTF-8 text into an element; WEBDRIVER_KEY_* may appear anywhere in it.
 * A file input takes a file's absolute path (several: one per line).
 */
int webdriver_send_keys(struct webdriver *wd, const char *element, const char *text, char **cause);
/* The element's rendered text (caller frees). */
int webdriver_text(struct webdriver *wd, const char *element, char **text, char **cause);
/* An attribute's value (caller frees), or NULL when the element has no such attribute. */
int webdriver_attribute(struct webdriver *wd, const char *element, const char *name, char **value,
    char **cause);
/* Is the element rendered visibly? */
int webdriver_displayed(struct webdriver *wd, const char *element, bool *displayed, char **cause);

/*
 * Run script as a function body in the page (W3C "Execute Script", sync):
 * args_json is a JSON array for its arguments (NULL: none; an element is
 * {"element-6066-11e4-a52e-4f735466cecf": REF}); its return value as JSON
 * text into *result_json (caller frees; "null" when it returns nothing).
 * A script that throws is -EIO ("javascript error").
 */
int webdriver_execute(struct webdriver *wd, const char *script, const char *args_json, char **result_json,
    char **cause);

/*
 * Diagnostics, each written to path atomically (a temporary file beside it,
 * renamed; mode 0600: screenshots, QR codes and page sources are private):
 * a PNG of the viewport, a PNG of one element (a QR canvas), the page source.
 */
int webdriver_screenshot(struct webdriver *wd, const char *path, char **cause);
int webdriver_element_screenshot(struct webdriver *wd, const char *element, const char *path, char **cause);
int webdriver_source(struct webdriver *wd, const char *path, char **cause);

#endif
