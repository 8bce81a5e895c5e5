/*
 * webdriver: a W3C WebDriver client for Chromium (see webdriver.h): the
 * session, its commands over HTTP and their answers, elements and scripts.
 * chromedriver and the browser as processes are browser.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/b64.h"
#include "base/util.h"
#include "deliver/browser.h"
#include "deliver/webdriver.h"

#define DEFAULT_START_MS 60000UL
#define DEFAULT_COMMAND_MS 30000UL
#define DEFAULT_PAGE_LOAD_MS 60000UL
/* The largest answer taken (a screenshot or page source of a big page is a few MB). */
#define REPLY_MAX (64UL * 1024 * 1024)
/* Of a WebDriver error message, this many bytes of the first line go into a cause. */
#define MESSAGE_MAX 200

struct webdriver {
	struct browser *browser;        /* chromedriver and the browser; NULL before they run */
	char *session;                  /* the session id; NULL without one */
	char *version;                  /* browserVersion */
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

	if (browser_driver_exited(wd->browser, &status))
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
		url = util_printf("http://127.0.0.1:%d%s", browser_port(wd->browser), path);
	else
		url = util_printf("http://127.0.0.1:%d/session/%s%s%s", browser_port(wd->browser),
		    wd->session ? wd->session : "",
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

/* The new-session request: Chromium's options (browser.c) and the session's timeouts. */
static json_t *
capabilities(const struct webdriver *wd, json_t *chrome)
{
	return json_pack("{s:{s:{s:s, s:s, s:O, s:{s:I, s:I, s:i}}}}", "capabilities", "alwaysMatch",
	    "browserName", "chrome", "pageLoadStrategy", "normal", "goog:chromeOptions", chrome,
	    "timeouts", "pageLoad", (json_int_t)wd->page_load_ms, "script", (json_int_t)(wd->command_ms / 4 * 3),
	    "implicit", 0);
}

/* Open the session; the flags and timeouts of o. */
static int
open_session(struct webdriver *wd, const struct webdriver_options *o, unsigned long long deadline,
    char **cause)
{
	unsigned long long now = util_now_monotonic_usec();
	unsigned long left = now < deadline ? (unsigned long)((deadline - now) / 1000) : 1;
	json_t *chrome = NULL, *caps = NULL, *v = NULL, *got;
	char link[256];
	const char *id, *version;
	ssize_t n;
	int e;

	if ((e = browser_chrome_options(o, &chrome, cause)) < 0)
		goto out;
	if ((caps = capabilities(wd, chrome)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
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
	browser_watch(wd->browser, json_integer_value(json_object_get(got, "goog:processID")));
out:
	json_decref(chrome);
	json_decref(caps);
	json_decref(v);
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
	wd->command_ms = o->command_timeout_ms ? o->command_timeout_ms : DEFAULT_COMMAND_MS;
	wd->page_load_ms = o->page_load_timeout_ms ? o->page_load_timeout_ms : DEFAULT_PAGE_LOAD_MS;
	if ((wd->curl = curl_easy_init()) == NULL ||
	    (wd->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8")) == NULL ||
	    /* No "Expect: 100-continue" pause before a large body (a long text to type). */
	    curl_slist_append(wd->headers, "Expect:") == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((e = browser_new(o, deadline, start_ms, &wd->browser, cause)) < 0)
		goto fail;
	if ((e = open_session(wd, o, deadline, cause)) < 0)
		goto fail;
	*out = wd;
	return 0;
fail:
	webdriver_quit(wd);
	return e;
}

void
webdriver_quit(struct webdriver *wd)
{
	if (wd == NULL)
		return;
	/* A clean end first: the profile's web storage reaches the disk only then (FIELD-NOTES). */
	if (wd->session != NULL && wd->browser != NULL)
		session_command(wd, "end the session", "DELETE", "", NULL, NULL, NULL);
	browser_free(wd->browser);
	if (wd->curl != NULL)
		curl_easy_cleanup(wd->curl);
	curl_slist_free_all(wd->headers);
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
	return browser_pgid(wd->browser);
}

int
webdriver_driver_pid(const struct webdriver *wd)
{
	return browser_driver_pid(wd->browser);
}

int
webdriver_browser_pid(const struct webdriver *wd)
{
	return browser_main_pid(wd->browser);
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

/* Write len bytes to path the one atomic way (util_write_atomic), the message naming what it is. */
static int
write_atomic(const char *what, const char *path, const void *data, size_t len, char **cause)
{
	char *why = NULL;
	int e;

	if ((e = util_write_atomic(path, data, len, 0600, &why)) < 0) {
		e = util_fail(cause, e, "%s: %s", what, why ? why : strerror(-e));
		free(why);
	}
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
