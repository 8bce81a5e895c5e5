/*
 * webdriver: a W3C WebDriver client for Chromium (see webdriver.h).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/b64.h"
#include "base/util.h"
#include "deliver/webdriver.h"

extern char **environ;

#define DEFAULT_START_MS 60000UL
#define DEFAULT_COMMAND_MS 30000UL
#define DEFAULT_PAGE_LOAD_MS 60000UL
/* Between SIGTERM and SIGKILL at the end. */
#define GRACE_MS 1000ULL
/* After SIGKILL, how long quit waits to see the browser's main process gone. */
#define KILL_WAIT_MS 2000
/* The largest answer taken (a screenshot or page source of a big page is a few MB). */
#define REPLY_MAX (64UL * 1024 * 1024)
/* Of a WebDriver error message, this many bytes of the first line go into a cause. */
#define MESSAGE_MAX 200
/* chromedriver's line once it listens: "ChromeDriver was started successfully on port 36555." */
#define PORT_LINE "started successfully on port "

struct webdriver {
	pid_t pid;                      /* chromedriver; -1 before it runs */
	bool own_group;                 /* chromedriver leads a process group of its own */
	pid_t caller_pgid;              /* the caller's group (own_group false) */
	int log;                        /* chromedriver's output: a memory file, or -1 */
	int port;
	char *session;                  /* the session id; NULL without one */
	char *version;                  /* browserVersion */
	pid_t browser_pid;              /* goog:processID, 0 if unknown */
	int browser_fd;                 /* pidfd of the browser's main process, or -1 */
	unsigned long command_ms;
	unsigned long page_load_ms;
	CURL *curl;                     /* kept across commands: one keep-alive connection */
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

/* An HTTP answer being received. */
struct reply {
	char *p;
	size_t len;
	bool too_big;
};

static size_t
reply_write(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char *p;

	if (len > REPLY_MAX - r->len) {
		r->too_big = true;
		return 0;
	}
	if ((p = realloc(r->p, r->len + len + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, len);
	r->p = p;
	r->len += len;
	r->p[r->len] = '\0';
	return len;
}

/* Has chromedriver exited? Leaves it unreaped (a zombie keeps its pid, and so its group id, ours). */
static bool
driver_exited(const struct webdriver *wd, int *status)
{
	siginfo_t si;

	if (wd->pid <= 0)
		return true;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)wd->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	if (si.si_pid != wd->pid)
		return false;
	if (status != NULL)
		*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return true;
}

/* Has the browser's main process exited (waiting up to ms)? True when we cannot tell. */
static bool
browser_exited(const struct webdriver *wd, int ms)
{
	struct pollfd p = { .fd = wd->browser_fd, .events = POLLIN };
	int r;

	if (wd->browser_fd < 0)
		return true;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		continue;
	return r != 0;
}

/* Copy the first line of a WebDriver message, without the error's name in front, cut short. */
static void
first_line(const char *error, const char *message, char *buf, size_t size)
{
	size_t n = strlen(error), len;

	if (strncmp(message, error, n) == 0 && message[n] == ':')
		message += n + 1;
	else if (strncmp(message, error, n) == 0 && (message[n] == '\0' || message[n] == '\n'))
		message += n;
	message += strspn(message, " ");
	len = strcspn(message, "\r\n");
	if (len > MESSAGE_MAX) {
		/* Not in the middle of a UTF-8 sequence. */
		len = util_utf8_prefix(message, MESSAGE_MAX);
	}
	if (len >= size)
		len = size - 1;
	memcpy(buf, message, len);
	buf[len] = '\0';
}

/* Does any line of message start with prefix? */
static bool
has_line(const char *message, const char *prefix)
{
	for (const char *p = message; p != NULL; p = strchr(p, '\n')) {
		p += *p == '\n';
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

/* The errno for a WebDriver error (webdriver.h). */
static int
classify(const char *error, const char *message)
{
	if (strcmp(error, "no such element") == 0)
		return -ENOENT;
	if (strcmp(error, "stale element reference") == 0)
		return -ESTALE;
	if (strcmp(error, "element click intercepted") == 0 || strcmp(error, "element not interactable") == 0)
		return -EBUSY;
	/*
	 * chromedriver's own limits ("timeout": a page load past pageLoad;
	 * "script timeout") are answers: the session goes on, unlike after our
	 * own limit. They stay -EIO, with the error named in the cause.
	 */
	if (strcmp(error, "javascript error") == 0 || strcmp(error, "timeout") == 0 ||
	    strcmp(error, "script timeout") == 0)
		return -EIO;
	/*
	 * The browser gone: "invalid session id: session deleted as the browser
	 * has closed the connection\nfrom disconnected: not connected to
	 * DevTools", "unknown error: chrome not reachable", "disconnected: ...".
	 */
	if (strcmp(error, "invalid session id") == 0 || strcmp(error, "disconnected") == 0 ||
	    strstr(message, "chrome not reachable") != NULL || has_line(message, "disconnected:") ||
	    has_line(message, "from disconnected:") || has_line(message, "from tab crashed"))
		return -ECONNRESET;
	return -EIO;
}

/* Why the connection failed, with chromedriver's exit status when it has exited. */
static int
connection_failed(struct webdriver *wd, const char *what, CURLcode rc, char **cause)
{
	const char *why = wd->errbuf[0] != '\0' ? wd->errbuf : curl_easy_strerror(rc);
	int status;

	if (driver_exited(wd, &status))
		return util_fail(cause, -ECONNRESET, "%s: chromedriver is gone (%s %d): %s", what,
		    status > 128 ? "killed by signal" : "exit status", status > 128 ? status - 128 : status, why);
	return util_fail(cause, -ECONNRESET, "%s: chromedriver is not answering: %s", what, why);
}

/*
 * One command: METHOD on /session/ID/path (path relative), or on path
 * itself when it starts with '/'; in is the JSON body of a POST (NULL: {}).
 * On success *value (when not NULL) gets the answer's "value" (caller
 * decrefs). what names the command in *cause.
 */
static int
command(struct webdriver *wd, const char *what, const char *method, const char *path, json_t *in,
    unsigned long timeout_ms, json_t **value, char **cause)
{
	struct reply r = { NULL, 0, false };
	char *url = NULL, *body = NULL;
	json_t *answer = NULL, *v, *err;
	json_error_t jerr;
	CURLcode rc;
	long code = 0;
	int e = 0;

	if (value != NULL)
		*value = NULL;
	if (path[0] == '/')
		url = util_printf("http://127.0.0.1:%d%s", wd->port, path);
	else
		url = util_printf("http://127.0.0.1:%d/session/%s%s%s", wd->port, wd->session ? wd->session : "",
		    path[0] != '\0' ? "/" : "", path);
	if (url == NULL || (strcmp(method, "POST") == 0 &&
	    (body = in != NULL ? json_dumps(in, JSON_COMPACT) : strdup("{}")) == NULL)) {
		e = util_fail(cause, -ENOMEM, "%s: out of memory", what);
		goto out;
	}
	/*
	 * reset drops every option (the last command's body and method too)
	 * but keeps the open connection, which chromedriver keeps alive.
	 */
	curl_easy_reset(wd->curl);
	wd->errbuf[0] = '\0';
	curl_easy_setopt(wd->curl, CURLOPT_URL, url);
	curl_easy_setopt(wd->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(wd->curl, CURLOPT_NOPROXY, "*");       /* never an http_proxy for 127.0.0.1 */
	curl_easy_setopt(wd->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(wd->curl, CURLOPT_TIMEOUT_MS, timeout_ms > LONG_MAX ? LONG_MAX : (long)timeout_ms);
	curl_easy_setopt(wd->curl, CURLOPT_ERRORBUFFER, wd->errbuf);
	curl_easy_setopt(wd->curl, CURLOPT_HTTPHEADER, wd->headers);
	curl_easy_setopt(wd->curl, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(wd->curl, CURLOPT_WRITEDATA, &r);
	if (body != NULL) {
		/* Every POST carries a JSON body, {} at least: W3C requires one. */
		curl_easy_setopt(wd->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(wd->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(wd->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(wd->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(wd->curl);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		e = util_fail(cause, -ETIMEDOUT, "%s: no answer from chromedriver within %lu ms", what, timeout_ms);
		goto out;
	}
	if (rc == CURLE_WRITE_ERROR && r.too_big) {
		e = util_fail(cause, -EFBIG, "%s: the answer is larger than %lu bytes", what, REPLY_MAX);
		goto out;
	}
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR ||
	    rc == CURLE_RECV_ERROR || rc == CURLE_PARTIAL_FILE) {
		e = connection_failed(wd, what, rc, cause);
		goto out;
	}
	if (rc != CURLE_OK) {
		e = util_fail(cause, rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO, "%s: %s", what,
		    wd->errbuf[0] != '\0' ? wd->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(wd->curl, CURLINFO_RESPONSE_CODE, &code);
	if (r.p == NULL || (answer = json_loadb(r.p, r.len, 0, &jerr)) == NULL ||
	    (v = json_object_get(answer, "value")) == NULL) {
		size_t shown = r.p != NULL ? strcspn(r.p, "\r\n") : 0;

		e = util_fail(cause, -EIO, "%s: HTTP %ld without a WebDriver answer: %.*s", what, code,
		    (int)util_utf8_prefix(r.p != NULL ? r.p : "", shown < 100 ? shown : 100), r.p != NULL ? r.p : "");
		goto out;
	}
	if (code != 200 || ((err = json_object_get(v, "error")) != NULL && json_is_string(err))) {
		const char *error = json_string_value(json_object_get(v, "error"));
		const char *message = json_string_value(json_object_get(v, "message"));
		char line[MESSAGE_MAX + 8];

		if (error == NULL) {
			e = util_fail(cause, -EIO, "%s: HTTP %ld: %.*s", what, code, (int)util_utf8_prefix(r.p, 100), r.p);
			goto out;
		}
		first_line(error, message != NULL ? message : "", line, sizeof line);
		e = util_fail(cause, classify(error, message != NULL ? message : ""), "%s: %s%s%s", what, error,
		    line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	if (value != NULL)
		*value = json_incref(v);
out:
	json_decref(answer);
	free(body);
	free(url);
	free(r.p);
	return e;
}

/* A command of the session with the command time limit. */
static int
session_command(struct webdriver *wd, const char *what, const char *method, const char *path, json_t *in,
    json_t **value, char **cause)
{
	return command(wd, what, method, path, in, wd->command_ms, value, cause);
}

/*
 * Wait until chromedriver's output names its port. The output goes to a
 * memory file, not a pipe: chromedriver (and the browser, which inherits it)
 * died of SIGPIPE when a pipe's reader went away, and blocked when nobody
 * drained it; nor may it reach the caller's own stdout (for salesd-whatsapp,
 * the protocol to its parent).
 */
static int
wait_port(struct webdriver *wd, unsigned long long deadline, unsigned long start_ms, char **cause)
{
	char buf[4096];

	for (;;) {
		ssize_t n = pread(wd->log, buf, sizeof buf - 1, 0);
		const char *at, *end;
		char *stop;
		long port;
		int status;

		buf[n > 0 ? n : 0] = '\0';
		if ((at = strstr(buf, PORT_LINE)) != NULL) {
			at += strlen(PORT_LINE);
			end = at + strspn(at, "0123456789");
			/* The whole number is there once something follows it. */
			if (*end != '\0') {
				port = strtol(at, &stop, 10);
				if (stop == at || port <= 0 || port > 65535)
					return util_fail(cause, -EIO, "chromedriver: no port in \"%.*s\"",
					    (int)util_utf8_prefix(buf, 200), buf);
				wd->port = (int)port;
				return 0;
			}
		}
		if (driver_exited(wd, &status)) {
			char *last = buf + strlen(buf);

			while (last > buf && (last[-1] == '\n' || last[-1] == '\r'))
				*--last = '\0';
			last = strrchr(buf, '\n') != NULL ? strrchr(buf, '\n') + 1 : buf;
			return util_fail(cause, -ECONNRESET, "chromedriver exited (%s %d) before it listened%s%.*s",
			    status > 128 ? "signal" : "status", status > 128 ? status - 128 : status,
			    last[0] ? ": " : "", (int)util_utf8_prefix(last, 200), last);
		}
		if (util_now_monotonic_usec() >= deadline)
			return util_fail(cause, -ETIMEDOUT, "chromedriver did not listen within %lu ms", start_ms);
		usleep(5000);
	}
}

/* Start chromedriver --port=0 with its output in wd->log. */
static int
spawn_driver(struct webdriver *wd, const struct webdriver_options *o, char **cause)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *argv[] = { (char *)(uintptr_t)o->chromedriver, (char *)(uintptr_t)"--port=0", NULL };
	int e;

	if ((wd->log = memfd_create("chromedriver-output", MFD_CLOEXEC)) < 0)
		return util_fail(cause, -errno, "memfd_create: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wd->log, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, wd->log, STDERR_FILENO);
	/* None of the caller's descriptors (a lock, a socket) may live on in a browser. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/*
	 * Nothing blocked, and the stop signals at their defaults, whatever the
	 * calling thread has: quit's SIGTERM must work.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	if (o->own_group) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
	} else {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	}
	e = posix_spawnp(&wd->pid, o->chromedriver, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		wd->pid = -1;
		return util_fail(cause, -e, "%s: %s", o->chromedriver, strerror(e));
	}
	return 0;
}

/* name when it holds a '/', else its first executable in PATH, else NULL. Caller frees. */
static char *
find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/') != NULL)
		return strdup(name);
	for (p = path != NULL ? path : "/usr/bin:/bin"; ; p = end + 1) {
		char *full;

		end = p + strcspn(p, ":");
		/* An empty entry is the current directory. */
		full = end > p ? util_printf("%.*s/%s", (int)(end - p), p, name) : util_printf("./%s", name);
		if (full == NULL)
			return NULL;
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		if (*end == '\0')
			return NULL;
	}
}

/* The new-session request: the browser's flags and binary, and the session's timeouts. */
static json_t *
capabilities(const struct webdriver *wd, const struct webdriver_options *o, const char *binary)
{
	static const char *const fixed[] = {
		"--disable-gpu", "--no-first-run", "--no-default-browser-check",
		/* Without these Chromium keeps trying to reach Google's services (FIELD-NOTES). */
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--password-store=basic",
	};
	json_t *args = json_array(), *chrome = NULL, *caps = NULL;
	char *profile = util_printf("--user-data-dir=%s", o->profile_dir);
	bool ok = args != NULL && profile != NULL;

	if (o->headless)
		ok = ok && json_array_append_new(args, json_string("--headless=new")) == 0;
	if (o->no_sandbox)
		ok = ok && json_array_append_new(args, json_string("--no-sandbox")) == 0;
	for (size_t i = 0; ok && i < UTIL_NELEM(fixed); i++)
		ok = json_array_append_new(args, json_string(fixed[i])) == 0;
	/* json_string: NULL for a profile path that is not UTF-8, caught here. */
	ok = ok && json_array_append_new(args, json_string(profile)) == 0;
	free(profile);
	if (!ok || (chrome = json_pack("{s:O}", "args", args)) == NULL)
		goto fail;
	if (binary != NULL && json_object_set_new(chrome, "binary", json_string(binary)) < 0)
		goto fail;
	caps = json_pack("{s:{s:{s:s, s:s, s:O, s:{s:I, s:I, s:i}}}}", "capabilities", "alwaysMatch",
	    "browserName", "chrome", "pageLoadStrategy", "normal", "goog:chromeOptions", chrome,
	    "timeouts", "pageLoad", (json_int_t)wd->page_load_ms, "script", (json_int_t)(wd->command_ms / 4 * 3),
	    "implicit", 0);
fail:
	json_decref(args);
	json_decref(chrome);
	return caps;
}

/* The parent pid of pid, from /proc, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything, so from the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0' || p[2] == '\0')
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

/*
 * Keep a handle on the browser's main process: a pidfd, which names that
 * process and no other even after it is gone and its pid reused. Only a
 * child of our chromedriver is taken.
 */
static void
watch_browser(struct webdriver *wd, json_int_t pid)
{
	if (pid <= 0 || pid > INT_MAX)
		return;
	wd->browser_pid = (pid_t)pid;
	if ((wd->browser_fd = pidfd_open(wd->browser_pid, 0)) < 0)
		return;
	if (parent_of(wd->browser_pid) != wd->pid) {
		close(wd->browser_fd);
		wd->browser_fd = -1;
	}
}

/* Open the session; the flags and timeouts of o. */
static int
open_session(struct webdriver *wd, const struct webdriver_options *o, unsigned long long deadline,
    char **cause)
{
	unsigned long long now = util_now_monotonic_usec();
	unsigned long left = now < deadline ? (unsigned long)((deadline - now) / 1000) : 1;
	json_t *caps = NULL, *v = NULL, *got;
	char *binary = NULL, link[256];
	const char *id, *version;
	ssize_t n;
	int e;

	if (o->chromium != NULL && (binary = find_program(o->chromium)) == NULL) {
		e = util_fail(cause, -ENOENT, "%s: not found in PATH", o->chromium);
		goto out;
	}
	if ((caps = capabilities(wd, o, binary)) == NULL) {
		e = util_fail(cause, -EINVAL, "new session: the options do not make a request "
		    "(a path that is not UTF-8?)");
		goto out;
	}
	if ((e = command(wd, "new session", "POST", "/session", caps, left, &v, cause)) < 0) {
		/*
		 * "Chrome instance exited" is all chromedriver says; the usual
		 * reason is another browser holding the profile, whose lock
		 * names it (host-pid).
		 */
		if (cause != NULL && *cause != NULL && strstr(*cause, "Chrome instance exited") != NULL) {
			char *lock = util_printf("%s/SingletonLock", o->profile_dir), *more;

			if (lock != NULL && (n = readlink(lock, link, sizeof link - 1)) > 0) {
				link[n] = '\0';
				if ((more = util_printf("%s (%s names %s: another browser using the profile?)",
				    *cause, lock, link)) != NULL) {
					free(*cause);
					*cause = more;
				}
			}
			free(lock);
		}
		goto out;
	}
	got = json_object_get(v, "capabilities");
	if ((id = json_string_value(json_object_get(v, "sessionId"))) == NULL ||
	    (wd->session = strdup(id)) == NULL) {
		e = util_fail(cause, -EIO, "new session: no session id in chromedriver's answer");
		goto out;
	}
	version = json_string_value(json_object_get(got, "browserVersion"));
	if ((wd->version = strdup(version != NULL ? version : "")) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	watch_browser(wd, json_integer_value(json_object_get(got, "goog:processID")));
out:
	json_decref(caps);
	json_decref(v);
	free(binary);
	return e;
}

int
webdriver_start(const struct webdriver_options *o, struct webdriver **out, char **cause)
{
	unsigned long start_ms = o->start_timeout_ms ? o->start_timeout_ms : DEFAULT_START_MS;
	unsigned long long deadline = util_now_monotonic_usec() + (unsigned long long)start_ms * 1000;
	struct webdriver *wd;
	int e;

	*out = NULL;
	if (o->chromedriver == NULL || o->chromedriver[0] == '\0' || o->profile_dir == NULL ||
	    o->profile_dir[0] == '\0')
		return util_fail(cause, -EINVAL, "webdriver: chromedriver and profile_dir are required");
	if ((wd = calloc(1, sizeof *wd)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	wd->pid = -1;
	wd->log = -1;
	wd->browser_fd = -1;
	wd->own_group = o->own_group;
	wd->caller_pgid = getpgrp();
	wd->command_ms = o->command_timeout_ms ? o->command_timeout_ms : DEFAULT_COMMAND_MS;
	wd->page_load_ms = o->page_load_timeout_ms ? o->page_load_timeout_ms : DEFAULT_PAGE_LOAD_MS;
	if ((wd->curl = curl_easy_init()) == NULL ||
	    (wd->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8")) == NULL ||
	    /* No "Expect: 100-continue" pause before a large body (a long text to type). */
	    curl_slist_append(wd->headers, "Expect:") == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	for (int tries = 1;; tries++) {
		if ((e = spawn_driver(wd, o, cause)) < 0)
			goto fail;
		if ((e = wait_port(wd, deadline, start_ms, cause)) == 0)
			break;
		/*
		 * --port=0: chromedriver picks a port free for one address family
		 * and then binds the other; when another process got that port in
		 * between it exits with "port not available". A new one picks anew.
		 */
		if (tries >= 3 || cause == NULL || *cause == NULL || strstr(*cause, "port not available") == NULL)
			goto fail;
		waitpid(wd->pid, NULL, 0);
		wd->pid = -1;
		close(wd->log);
		wd->log = -1;
		free(*cause);
		*cause = NULL;
	}
	if ((e = open_session(wd, o, deadline, cause)) < 0)
		goto fail;
	*out = wd;
	return 0;
fail:
	webdriver_quit(wd);
	return e;
}

/*
 * pidfds of chromedriver's children (the browsers it started) into fds, up
 * to max; how many. This finds a browser the session never named: one
 * still starting when the new-session request ran out of time.
 */
static size_t
driver_children(const struct webdriver *wd, int *fds, size_t max)
{
	char path[96], buf[1024], *p, *next;
	struct dirent *de;
	size_t n = 0;
	ssize_t len;
	DIR *d;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/task", (int)wd->pid);
	if (wd->pid <= 0 || (d = opendir(path)) == NULL)
		return 0;
	/* Each thread lists the children it forked. */
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", (int)wd->pid, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[len > 0 ? len : 0] = '\0';
		for (p = buf; n < max; p = next) {
			long pid = strtol(p, &next, 10);

			if (next == p)
				break;
			if (pid <= 0 || pid > INT_MAX || (fd = pidfd_open((pid_t)pid, 0)) < 0)
				continue;
			/* Still ours once pinned by the pidfd: not a pid reused meanwhile. */
			if (parent_of((pid_t)pid) == wd->pid)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	closedir(d);
	return n;
}

/*
 * Send sig to chromedriver (its whole group with own_group), the browser's
 * main process and chromedriver's other children.
 */
static void
signal_all(struct webdriver *wd, const int *kids, size_t nkids, int sig)
{
	/* Only while chromedriver is unreaped: until then its pid, and group id, cannot be reused. */
	if (wd->pid > 0)
		kill(wd->own_group ? -wd->pid : wd->pid, sig);
	if (wd->browser_fd >= 0)
		pidfd_send_signal(wd->browser_fd, sig, NULL, 0);
	for (size_t i = 0; i < nkids; i++)
		pidfd_send_signal(kids[i], sig, NULL, 0);
}

/* Have all of these processes exited (waiting up to ms for each)? */
static bool
all_exited(const int *fds, size_t n, int ms)
{
	for (size_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return false;
	}
	return true;
}

/*
 * Stop chromedriver and the browser: SIGTERM, a grace period, SIGKILL;
 * reap chromedriver; wait for the browser's main process to be gone.
 */
static void
stop(struct webdriver *wd)
{
	unsigned long long end = util_now_monotonic_usec() + GRACE_MS * 1000;
	int kids[8];
	size_t nkids;

	if (wd->pid <= 0 && wd->browser_fd < 0)
		return;
	nkids = driver_children(wd, kids, UTIL_NELEM(kids));
	signal_all(wd, kids, nkids, SIGTERM);
	while (!driver_exited(wd, NULL) || !browser_exited(wd, 0) || !all_exited(kids, nkids, 0)) {
		if (util_now_monotonic_usec() >= end)
			break;
		usleep(5000);
	}
	/*
	 * Even when all have gone: with own_group this also ends what is left
	 * of the group (a renderer a moment behind its browser).
	 */
	signal_all(wd, kids, nkids, SIGKILL);
	if (wd->pid > 0)
		while (waitpid(wd->pid, NULL, 0) < 0 && errno == EINTR)
			continue;
	wd->pid = -1;
	browser_exited(wd, KILL_WAIT_MS);
	all_exited(kids, nkids, KILL_WAIT_MS);
	for (size_t i = 0; i < nkids; i++)
		close(kids[i]);
}

void
webdriver_quit(struct webdriver *wd)
{
	if (wd == NULL)
		return;
	/* A clean end first: the profile's web storage reaches the disk only then (FIELD-NOTES). */
	if (wd->session != NULL && wd->pid > 0)
		session_command(wd, "end the session", "DELETE", "", NULL, NULL, NULL);
	stop(wd);
	if (wd->curl != NULL)
		curl_easy_cleanup(wd->curl);
	curl_slist_free_all(wd->headers);
	if (wd->browser_fd >= 0)
		close(wd->browser_fd);
	if (wd->log >= 0)
		close(wd->log);
	free(wd->session);
	free(wd->version);
	free(wd);
}

const char *
webdriver_browser_version(const struct webdriver *wd)
{
	return wd->version;
}

int
webdriver_pgid(const struct webdriver *wd)
{
	return wd->own_group ? (int)wd->pid : (int)wd->caller_pgid;
}

int
webdriver_driver_pid(const struct webdriver *wd)
{
	return (int)wd->pid;
}

int
webdriver_browser_pid(const struct webdriver *wd)
{
	return (int)wd->browser_pid;
}

int
webdriver_navigate(struct webdriver *wd, const char *url, char **cause)
{
	json_t *in = json_pack("{s:s}", "url", url);
	char *what = util_printf("navigate to %.*s", (int)util_utf8_prefix(url, 200), url);
	int e;

	if (in == NULL || what == NULL)
		e = util_fail(cause, -EINVAL, "navigate: not a URL in UTF-8 (or out of memory)");
	else
		/* The page may take its whole pageLoad time; chromedriver answers after that. */
		e = command(wd, what, "POST", "url", in, wd->page_load_ms + wd->command_ms, NULL, cause);
	json_decref(in);
	free(what);
	return e;
}

/* A string answer into *out (caller frees); a null answer is NULL when null_ok. */
static int
string_value(const char *what, json_t *v, bool null_ok, char **out, char **cause)
{
	if (json_is_null(v) && null_ok)
		return 0;
	if (!json_is_string(v))
		return util_fail(cause, -EIO, "%s: the answer is not a string", what);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	return 0;
}

/* GET path of the session; its string value into *out (caller frees). */
static int
get_string(struct webdriver *wd, const char *what, const char *path, bool null_ok, char **out, char **cause)
{
	json_t *v = NULL;
	int e;

	*out = NULL;
	if ((e = session_command(wd, what, "GET", path, NULL, &v, cause)) == 0)
		e = string_value(what, v, null_ok, out, cause);
	json_decref(v);
	return e;
}

int
webdriver_title(struct webdriver *wd, char **title, char **cause)
{
	return get_string(wd, "title", "title", false, title, cause);
}

int
webdriver_url(struct webdriver *wd, char **url, char **cause)
{
	return get_string(wd, "current URL", "url", false, url, cause);
}

/*
 * Element references go into URL paths: chromedriver's look like
 * "f.6DFF...112F.d.E030...EC99.e.2"; anything else is refused.
 */
static int
check_element(const char *what, const char *element, char **cause)
{
	if (element == NULL || element[0] == '\0' ||
	    strspn(element, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(element))
		return util_fail(cause, -EINVAL, "%s: \"%.*s\" is not an element reference", what,
		    (int)util_utf8_prefix(element ? element : "(null)", 80), element ? element : "(null)");
	return 0;
}

/* The reference in an element object of an answer, into *out (caller frees). */
static int
element_value(const char *what, json_t *v, char **out, char **cause)
{
	const char *id = json_string_value(json_object_get(v, WEBDRIVER_ELEMENT_KEY));

	if (id == NULL)
		return util_fail(cause, -EIO, "%s: no element reference in the answer", what);
	if ((*out = strdup(id)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	return 0;
}

/* POST {css selector} to path (element or elements, of the session or below an element). */
static int
find(struct webdriver *wd, const char *what, const char *path, const char *css, json_t **v, char **cause)
{
	json_t *in = json_pack("{s:s, s:s}", "using", "css selector", "value", css);
	int e;

	if (in == NULL)
		return util_fail(cause, -EINVAL, "%s: the selector is not UTF-8", what);
	e = session_command(wd, what, "POST", path, in, v, cause);
	json_decref(in);
	return e;
}

int
webdriver_find(struct webdriver *wd, const char *css, char **element, char **cause)
{
	char *what = util_printf("find \"%.*s\"", (int)util_utf8_prefix(css, 100), css);
	json_t *v = NULL;
	int e;

	*element = NULL;
	if (what == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = find(wd, what, "element", css, &v, cause)) == 0)
		e = element_value(what, v, element, cause);
	json_decref(v);
	free(what);
	return e;
}

int
webdriver_find_in(struct webdriver *wd, const char *element, const char *css, char **child, char **cause)
{
	char *what = util_printf("find \"%.*s\" in an element", (int)util_utf8_prefix(css, 100), css), *path = NULL;
	json_t *v = NULL;
	int e;

	*child = NULL;
	if (what == NULL || (path = util_printf("element/%s/element", element ? element : "")) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = check_element(what, element, cause)) == 0 && (e = find(wd, what, path, css, &v, cause)) == 0)
		e = element_value(what, v, child, cause);
out:
	json_decref(v);
	free(path);
	free(what);
	return e;
}

int
webdriver_find_all(struct webdriver *wd, const char *css, char ***elements, size_t *n, char **cause)
{
	char *what = util_printf("find all \"%.*s\"", (int)util_utf8_prefix(css, 100), css), **vec = NULL;
	json_t *v = NULL;
	size_t count = 0, i;
	int e;

	*elements = NULL;
	*n = 0;
	if (what == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = find(wd, what, "elements", css, &v, cause)) < 0)
		goto out;
	if (!json_is_array(v)) {
		e = util_fail(cause, -EIO, "%s: the answer is not a list", what);
		goto out;
	}
	count = json_array_size(v);
	if ((vec = calloc(count + 1, sizeof *vec)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++)
		if ((e = element_value(what, json_array_get(v, i), &vec[i], cause)) < 0)
			goto out;
	*elements = vec;
	*n = count;
	vec = NULL;
out:
	util_strv_free(vec);
	json_decref(v);
	free(what);
	return e;
}

/* METHOD element/ID/action with body in (POST) or for *v (GET). */
static int
element_command(struct webdriver *wd, const char *what, const char *element, const char *method,
    const char *action, json_t *in, json_t **v, char **cause)
{
	char *path;
	int e;

	if (v != NULL)
		*v = NULL;
	if ((e = check_element(what, element, cause)) < 0)
		return e;
	if ((path = util_printf("element/%s/%s", element, action)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	e = session_command(wd, what, method, path, in, v, cause);
	free(path);
	return e;
}

int
webdriver_click(struct webdriver *wd, const char *element, char **cause)
{
	return element_command(wd, "click", element, "POST", "click", NULL, NULL, cause);
}

int
webdriver_clear(struct webdriver *wd, const char *element, char **cause)
{
	return element_command(wd, "clear", element, "POST", "clear", NULL, NULL, cause);
}

int
webdriver_send_keys(struct webdriver *wd, const char *element, const char *text, char **cause)
{
	json_t *in = json_pack("{s:s}", "text", text);
	int e;

	if (in == NULL)
		return util_fail(cause, -EINVAL, "send keys: the text is not UTF-8");
	e = element_command(wd, "send keys", element, "POST", "value", in, NULL, cause);
	json_decref(in);
	return e;
}

int
webdriver_text(struct webdriver *wd, const char *element, char **text, char **cause)
{
	json_t *v = NULL;
	int e;

	*text = NULL;
	if ((e = element_command(wd, "element text", element, "GET", "text", NULL, &v, cause)) == 0)
		e = string_value("element text", v, false, text, cause);
	json_decref(v);
	return e;
}

int
webdriver_attribute(struct webdriver *wd, const char *element, const char *name, char **value, char **cause)
{
	char *what = util_printf("attribute \"%.*s\"", (int)util_utf8_prefix(name, 60), name), *escaped = NULL, *action = NULL;
	json_t *v = NULL;
	int e;

	*value = NULL;
	if (what == NULL || (escaped = curl_easy_escape(wd->curl, name, 0)) == NULL ||
	    (action = util_printf("attribute/%s", escaped)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = element_command(wd, what, element, "GET", action, NULL, &v, cause)) == 0)
		e = string_value(what, v, true, value, cause);
out:
	json_decref(v);
	free(action);
	curl_free(escaped);
	free(what);
	return e;
}

int
webdriver_displayed(struct webdriver *wd, const char *element, bool *displayed, char **cause)
{
	json_t *v = NULL;
	int e;

	if ((e = element_command(wd, "displayed", element, "GET", "displayed", NULL, &v, cause)) == 0) {
		if (json_is_boolean(v))
			*displayed = json_is_true(v);
		else
			e = util_fail(cause, -EIO, "displayed: the answer is not true or false");
	}
	json_decref(v);
	return e;
}

int
webdriver_execute(struct webdriver *wd, const char *script, const char *args_json, char **result_json,
    char **cause)
{
	json_t *args = NULL, *in = NULL, *v = NULL;
	json_error_t jerr;
	int e;

	*result_json = NULL;
	if (args_json != NULL && ((args = json_loads(args_json, 0, &jerr)) == NULL || !json_is_array(args))) {
		e = util_fail(cause, -EINVAL, "execute script: the arguments are not a JSON array%s%s",
		    args == NULL ? ": " : "", args == NULL ? jerr.text : "");
		goto out;
	}
	if (args == NULL && (args = json_array()) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((in = json_pack("{s:s, s:O}", "script", script, "args", args)) == NULL) {
		e = util_fail(cause, -EINVAL, "execute script: the script is not UTF-8");
		goto out;
	}
	if ((e = session_command(wd, "execute script", "POST", "execute/sync", in, &v, cause)) < 0)
		goto out;
	if ((*result_json = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
out:
	json_decref(v);
	json_decref(in);
	json_decref(args);
	return e;
}

/* Write len bytes to path: a temporary file beside it, synced and renamed over it. */
static int
write_atomic(const char *what, const char *path, const void *data, size_t len, char **cause)
{
	char *tmp = util_printf("%s.XXXXXX", path);
	const char *p = data;
	bool created = false;
	int fd = -1, e = 0;

	if (tmp == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		e = util_fail(cause, -errno, "%s: %s: %s", what, path, strerror(errno));
		goto out;
	}
	created = true;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = util_fail(cause, -errno, "%s: %s: %s", what, tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		e = util_fail(cause, -errno, "%s: %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	e = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (e < 0 || rename(tmp, path) < 0) {
		e = util_fail(cause, e < 0 ? e : -errno, "%s: %s: %s", what, path, strerror(e < 0 ? -e : errno));
		goto out;
	}
	created = false;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	return e;
}

/* A base64 PNG answer of GET path, decoded and written to file. */
static int
save_png(struct webdriver *wd, const char *what, const char *path, const char *file, char **cause)
{
	char *b64 = NULL;
	unsigned char *png = NULL;
	struct b64 d;
	long n = 0;
	int e;

	if ((e = get_string(wd, what, path, false, &b64, cause)) < 0)
		goto out;
	b64_init(&d);
	if ((png = malloc(b64_decoded_max(strlen(b64)))) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((n = b64_decode(&d, b64, strlen(b64), png, cause)) < 0 || (e = b64_finish(&d, cause)) < 0) {
		e = util_fail(cause, -EIO, "%s: the answer is not base64", what);
		goto out;
	}
	if (n < 8 || memcmp(png, "\x89PNG\r\n\x1a\n", 8) != 0) {
		e = util_fail(cause, -EIO, "%s: the answer is not a PNG", what);
		goto out;
	}
	e = write_atomic(what, file, png, (size_t)n, cause);
out:
	free(png);
	free(b64);
	return e;
}

int
webdriver_screenshot(struct webdriver *wd, const char *path, char **cause)
{
	return save_png(wd, "screenshot", "screenshot", path, cause);
}

int
webdriver_element_screenshot(struct webdriver *wd, const char *element, const char *path, char **cause)
{
	char *action;
	int e;

	if ((e = check_element("element screenshot", element, cause)) < 0)
		return e;
	if ((action = util_printf("element/%s/screenshot", element)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	e = save_png(wd, "element screenshot", action, path, cause);
	free(action);
	return e;
}

int
webdriver_source(struct webdriver *wd, const char *path, char **cause)
{
	char *src = NULL;
	int e;

	if ((e = get_string(wd, "page source", "source", false, &src, cause)) == 0)
		e = write_atomic("page source", path, src, strlen(src), cause);
	free(src);
	return e;
}
