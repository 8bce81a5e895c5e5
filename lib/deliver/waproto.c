/*
 * waproto: the task <-> salesd-whatsapp protocol (see waproto.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"
#include "deliver/waproto.h"

static const char *const names[] = {
	[WAPROTO_STARTED] = "started", [WAPROTO_NEEDS_LOGIN] = "needs-login", [WAPROTO_LOGGED_IN] = "logged-in",
	[WAPROTO_PROGRESS] = "progress", [WAPROTO_READY] = "ready", [WAPROTO_SENT] = "sent",
	[WAPROTO_FAILED] = "failed", [WAPROTO_UNSURE] = "unsure", [WAPROTO_SKIPPED] = "skipped",
	[WAPROTO_ERROR] = "error", [WAPROTO_EXIT] = "exit",
};

const char *
waproto_strevent(enum waproto_event_type t)
{
	return (size_t)t < UTIL_NELEM(names) && names[t] != NULL ? names[t] : "?";
}

/* Events about one chat's send carry its delivery key. */
static bool
per_send(enum waproto_event_type t)
{
	return t == WAPROTO_READY || t == WAPROTO_SENT || t == WAPROTO_FAILED || t == WAPROTO_UNSURE ||
	    t == WAPROTO_SKIPPED;
}

void
waproto_event_done(struct waproto_event *ev)
{
	char **fields[] = { &ev->key, &ev->chat, &ev->step, &ev->reason, &ev->evidence, &ev->screenshot,
	    &ev->source, &ev->qr, &ev->message, &ev->browser, &ev->sandbox, &ev->level };

	for (size_t i = 0; i < UTIL_NELEM(fields); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

int
waproto_parse_event(const char *line, size_t len, struct waproto_event *ev, char **cause)
{
	static const char *const keys[] = { "key", "chat", "step", "reason", "evidence", "screenshot", "source",
	    "qr", "message", "browser", "sandbox", "level" };
	char **fields[] = { &ev->key, &ev->chat, &ev->step, &ev->reason, &ev->evidence, &ev->screenshot,
	    &ev->source, &ev->qr, &ev->message, &ev->browser, &ev->sandbox, &ev->level };
	json_error_t jerr;
	json_t *o = NULL, *v;
	const char *event, *k;
	size_t t;
	int e = 0;

	memset(ev, 0, sizeof *ev);
	if (len > WAPROTO_LINE_MAX)
		return util_fail(cause, -EBADMSG, "a line of %zu bytes (at most %d)", len, WAPROTO_LINE_MAX);
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return util_fail(cause, -EBADMSG, "not JSON: %s", jerr.text);
	if (!json_is_object(o)) {
		e = util_fail(cause, -EBADMSG, "not a JSON object");
		goto out;
	}
	if ((event = json_string_value(json_object_get(o, "event"))) == NULL) {
		e = util_fail(cause, -EBADMSG, "no \"event\"");
		goto out;
	}
	for (t = 0; t < UTIL_NELEM(names); t++)
		if (names[t] != NULL && strcmp(names[t], event) == 0)
			break;
	if (t == UTIL_NELEM(names)) {
		e = util_fail(cause, -EBADMSG, "unknown event \"%.*s\"", (int)util_utf8_prefix(event, 40), event);
		goto out;
	}
	ev->type = (enum waproto_event_type)t;
	json_object_foreach(o, k, v) {
		size_t i;

		if (strcmp(k, "event") == 0)
			continue;
		if (strcmp(k, "status") == 0 || strcmp(k, "pid") == 0) {
			if (!json_is_integer(v) && !json_is_string(v)) {
				e = util_fail(cause, -EBADMSG, "%s: \"%s\" is not a number", event, k);
				goto out;
			}
			if (strcmp(k, "status") == 0) {
				if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255) {
					e = util_fail(cause, -EBADMSG, "%s: \"status\" is not an exit status", event);
					goto out;
				}
				ev->status = (int)json_integer_value(v);
			}
			continue;
		}
		for (i = 0; i < UTIL_NELEM(keys); i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		/* A field of a newer child is passed over; a known one must be text. */
		if (i == UTIL_NELEM(keys))
			continue;
		if (!json_is_string(v)) {
			e = util_fail(cause, -EBADMSG, "%s: \"%s\" is not a string", event, k);
			goto out;
		}
		if ((*fields[i] = util_strdup(json_string_value(v))) == NULL) {
			e = util_fail(cause, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (per_send(ev->type) && (ev->key == NULL || ev->key[0] == '\0')) {
		e = util_fail(cause, -EBADMSG, "%s without the delivery key", event);
		goto out;
	}
	if (ev->type == WAPROTO_EXIT && !json_is_integer(json_object_get(o, "status"))) {
		e = util_fail(cause, -EBADMSG, "exit without its status");
		goto out;
	}
out:
	if (e < 0)
		waproto_event_done(ev);
	json_decref(o);
	return e;
}

char *
waproto_reply(bool go, const char *key)
{
	json_t *o = json_pack("{s:s}", go ? "go" : "skip", key);
	char *line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return line;
}

int
waproto_parse_reply(const char *line, size_t len, bool *go, char **key, char **cause)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	const char *g = json_string_value(json_object_get(o, "go")), *s = json_string_value(json_object_get(o, "skip"));
	int e = 0;

	*key = NULL;
	if (!json_is_object(o) || (g == NULL) == (s == NULL) || json_object_size(o) != 1)
		e = util_fail(cause, -EBADMSG, "not a reply: {\"go\": KEY} or {\"skip\": KEY}");
	else if ((*key = util_strdup(g ? g : s)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	else
		*go = g != NULL;
	json_decref(o);
	return e;
}
