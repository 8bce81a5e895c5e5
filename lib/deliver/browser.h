/*
 * browser: the processes behind a WebDriver session (webdriver.h), for
 * webdriver.c alone: chromedriver started on --port=0 with its output in a
 * memory file (and started again when it loses its port to another
 * process), Chromium's flags, and the end of chromedriver and the browser's
 * processes when the session is over. The W3C protocol itself is
 * webdriver.c's.
 *
 * Processes (measured with chromedriver and Chromium 156, Debian 12):
 * chromedriver starts the browser with --remote-debugging-port, and Chromium
 * does not notice when chromedriver dies: a SIGKILLed or SIGTERMed
 * chromedriver leaves the whole browser running. Every browser process
 * (browser, zygotes, GPU, utilities, renderers) stays in chromedriver's
 * process group; only chrome_crashpad_handler leaves it (setsid and a double
 * fork, reparented to init), and it exits by itself within moments of the
 * browser's main process. Hence browser_free() stops the browser's main
 * process itself (through a pidfd of the pid the session reports, or of
 * chromedriver's children) besides chromedriver.
 *
 * Blocking, like webdriver.c; no global state.
 */
#ifndef SALESD_BROWSER_H
#define SALESD_BROWSER_H

#include <stdbool.h>

#include <jansson.h>

#include "deliver/webdriver.h"

struct browser;

/*
 * Start chromedriver as o says (o->chromedriver, o->own_group) and wait
 * until it listens, up to deadline (monotonic µs; start_ms is that limit,
 * for the message). 0 and *out (free with browser_free), or -errno with
 * *cause and *out NULL; nothing is left running then.
 */
int browser_new(const struct webdriver_options *o, unsigned long long deadline, unsigned long start_ms,
    struct browser **out, char **cause);
/*
 * Stop chromedriver, the browser's main process and any other child of
 * chromedriver (a browser still starting): SIGTERM, up to a second's grace,
 * SIGKILL; the whole group with own_group. Returns once chromedriver is
 * reaped and the browser's main process has exited (its helpers follow it
 * within milliseconds). Frees b; safe with NULL.
 */
void browser_free(struct browser *b);

/* The port chromedriver listens on, on 127.0.0.1. */
int browser_port(const struct browser *b);
/*
 * Has chromedriver exited? *status (when not NULL) gets its exit status, or
 * 128 + the signal that killed it. Leaves it unreaped.
 */
bool browser_driver_exited(const struct browser *b, int *status);

/*
 * goog:chromeOptions for a new session: Chromium's flags (o->headless,
 * o->no_sandbox, o->profile_dir, and those that keep it off Google's
 * services) and o->chromium looked up in PATH. 0 and *out (caller decrefs),
 * or -errno with *cause.
 */
int browser_chrome_options(const struct webdriver_options *o, json_t **out, char **cause);
/*
 * The browser's main process as the session names it (goog:processID):
 * held by a pidfd, so that browser_free() stops that process and no other.
 * Ignored unless it is a child of our chromedriver.
 */
void browser_watch(struct browser *b, long long pid);

/* The process group chromedriver and the browser run in: chromedriver's own, or the caller's. */
int browser_pgid(const struct browser *b);
/* chromedriver's pid, and the browser's main process (0 when the session did not say). */
int browser_driver_pid(const struct browser *b);
int browser_main_pid(const struct browser *b);

#endif
