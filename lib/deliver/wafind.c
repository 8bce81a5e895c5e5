/*
 * wafind: strategy lists and covering dialogs of WhatsApp Web (see wafind.h).
 *
 * The work happens in the page: each function below is one "Execute Script"
 * whose body is PRELUDE (the helpers every script shares) and a few lines of
 * its own. Strategies travel as a JSON array of strings, so nothing of the
 * configuration is pasted into script text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"
#include "deliver/waweb.h"
#include "deliver/wafind.h"

/*
 * norm: text as compared (white space collapsed, lower case). shown: rendered
 * and not hidden; a file input counts as shown, since pages hide it behind a
 * menu item and WebDriver types into it all the same. byText: the elements
 * whose whole text is a phrase, each widened to the button-like element
 * around it. match: one strategy's visible matches below root, or null when
 * the strategy is not valid CSS.
 */
#define PRELUDE \
	"const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim().toLowerCase();\n" \
	"const shown = (e) => (e instanceof HTMLInputElement && e.type === 'file') ||\n" \
	"  (e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');\n" \
	"const BUTTONS = 'button, [role=\"button\"], a, [role=\"link\"], [role=\"menuitem\"], [role=\"option\"]';\n" \
	"function byText(root, phrase) {\n" \
	"  const want = norm(phrase), out = [];\n" \
	"  if (!want) return out;\n" \
	"  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);\n" \
	"  for (let t = walk.nextNode(); t; t = walk.nextNode()) {\n" \
	"    let e = t.parentElement;\n" \
	"    if (!e || !norm(t.data).includes(want) || norm(e.textContent) !== want) continue;\n" \
	"    const b = e.closest(BUTTONS);\n" \
	"    if (b && root.contains(b)) e = b;\n" \
	"    if (!out.includes(e)) out.push(e);\n" \
	"  }\n" \
	"  return out;\n" \
	"}\n" \
	"function match(root, s) {\n" \
	"  let found;\n" \
	"  if (s.startsWith('text:')) found = byText(root, s.slice(5));\n" \
	"  else try { found = Array.from(root.querySelectorAll(s)); } catch (err) { return null; }\n" \
	"  return found.filter(shown);\n" \
	"}\n"

/* arguments: strategies, scope, all, only. Returns [index, element or elements, bad strategies]. */
static const char FIND_JS[] = PRELUDE
	"const [list, scope, all, only] = arguments;\n"
	"const root = scope || document, bad = [];\n"
	"for (let i = 0; i < list.length; i++) {\n"
	"  if (only >= 0 && i !== only) continue;\n"
	"  const m = match(root, list[i]);\n"
	"  if (m === null) bad.push(i);\n"
	"  else if (m.length > 0) return [i, all ? m : m[0], bad];\n"
	"}\n"
	"return [-1, all ? [] : null, bad];\n";

/* arguments: ours (strategies), target. Returns [dialog, text] or null. */
static const char DIALOG_JS[] = PRELUDE
	"const [ours, target] = arguments;\n"
	"let found = null;\n"
	"if (target && target.isConnected) {\n"
	"  const r = target.getBoundingClientRect();\n"
	"  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);\n"
	"  if (top && top !== target && !target.contains(top) && !top.contains(target)) {\n"
	"    found = top;\n"
	"    while (found.parentElement && !found.parentElement.contains(target)) found = found.parentElement;\n"
	"  }\n"
	"}\n"
	"if (!found) {\n"
	"  for (const d of document.querySelectorAll('[role=\"dialog\"], [role=\"alertdialog\"], [aria-modal=\"true\"]')) {\n"
	"    if (!shown(d) || ours.some((s) => { const m = match(d, s); return m && m.length > 0; })) continue;\n"
	"    found = d;\n"
	"    break;\n"
	"  }\n"
	"}\n"
	"return found ? [found, (found.innerText || found.getAttribute('aria-label') || '').replace(/\\s+/g, ' ').trim()] : null;\n";

static const char SHOWING_JS[] = PRELUDE
	"return arguments[0].isConnected && shown(arguments[0]);\n";

/* arguments: dialog, phrases. Returns [button, phrase] or null. */
static const char BUTTON_JS[] = PRELUDE
	"const [dialog, phrases] = arguments;\n"
	"for (const p of phrases) {\n"
	"  const m = byText(dialog, p).filter(shown);\n"
	"  if (m.length === 1) return [m[0], p];\n"
	"}\n"
	"return null;\n";

/* Focus the dialog (made focusable if it is not), so that the keys go to it. */
static const char FOCUS_JS[] =
	"const d = arguments[0];\n"
	"if (!d.hasAttribute('tabindex')) d.setAttribute('tabindex', '-1');\n"
	"d.focus();\n";

/* A synthetic Escape, for a dialog that WebDriver would not type into. */
static const char ESCAPE_JS[] =
	"const d = arguments[0];\n"
	"for (const type of ['keydown', 'keyup'])\n"
	"  d.dispatchEvent(new KeyboardEvent(type, {key: 'Escape', code: 'Escape', keyCode: 27, bubbles: true}));\n";

char **
wafind_split(const char *list, size_t *n)
{
	char **v = calloc(strlen(list) / 2 + 2, sizeof *v);
	const char *start = list;
	int depth = 0;
	char quote = 0;

	*n = 0;
	if (v == NULL)
		return NULL;
	for (const char *p = list;; p++) {
		if (quote != 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == quote)
				quote = 0;
			if (*p != '\0')
				continue;
		}
		/* Quotes count inside brackets only (CSS strings): a phrase may hold an apostrophe ("Don't allow"). */
		if ((*p == '"' || *p == '\'') && depth > 0)
			quote = *p;
		else if (*p == '[' || *p == '(')
			depth++;
		else if ((*p == ']' || *p == ')') && depth > 0)
			depth--;
		else if ((*p == '|' && depth == 0) || *p == '\0') {
			const char *a = start, *b = p;

			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if (b > a && (v[(*n)++] = strndup(a, (size_t)(b - a))) == NULL) {
				util_strv_free(v);
				return NULL;
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return v;
}

/* A text strategy's {chat}: the name itself, not a CSS string. */
static char *
fill_chat(const char *s, const char *chat)
{
	const char *at = strstr(s, "{chat}");

	if (at == NULL)
		return util_strdup(s);
	return util_printf("%.*s%s%s", (int)(at - s), s, chat, at + strlen("{chat}"));
}

/* The strategies as a JSON array, {chat} filled in. */
static json_t *
strategies(const char *list, const char *chat)
{
	size_t n = 0;
	char **v = wafind_split(list, &n);
	json_t *a = v ? json_array() : NULL;

	for (size_t i = 0; a != NULL && i < n; i++) {
		bool text = strncmp(v[i], "text:", 5) == 0;
		char *s = chat == NULL ? util_strdup(v[i]) : text ? fill_chat(v[i], chat) :
		    waweb_chat_selector(v[i], chat);

		if (s == NULL || json_array_append_new(a, json_string(s)) < 0) {
			json_decref(a);
			a = NULL;
		}
		free(s);
	}
	util_strv_free(v);
	return a;
}

static json_t *
element(const char *ref)
{
	return ref ? json_pack("{s:s}", WEBDRIVER_ELEMENT_KEY, ref) : json_null();
}

static char *
ref_of(json_t *v)
{
	const char *s = json_string_value(json_object_get(v, WEBDRIVER_ELEMENT_KEY));

	return s ? util_strdup(s) : NULL;
}

/* Run script with args (stolen); its answer parsed into *out (caller decrefs). */
static int
run(struct webdriver *wd, const char *what, const char *script, json_t *args, json_t **out, char **cause)
{
	char *in = args ? json_dumps(args, JSON_COMPACT) : NULL, *res = NULL;
	json_error_t jerr;
	int e;

	*out = NULL;
	if (in == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	else if ((e = webdriver_execute(wd, script, in, &res, cause)) == 0 &&
	    (*out = json_loads(res, JSON_DECODE_ANY, &jerr)) == NULL)
		e = util_fail(cause, -EIO, "%s: the page's answer is not JSON: %s", what, jerr.text);
	free(res);
	free(in);
	json_decref(args);
	return e;
}

/* A strategy that is not valid CSS is a mistake in the configuration: say which, when nothing matched. */
static int
not_found(json_t *res, const char *list, char **cause)
{
	json_t *bad = json_array_get(res, 2);

	if (json_array_size(bad) > 0)
		return util_fail(cause, -ENOENT, "no strategy of \"%s\" matches, and strategy %d is not valid CSS",
		    list, (int)json_integer_value(json_array_get(bad, 0)) + 1);
	return util_fail(cause, -ENOENT, "no strategy of \"%s\" matches", list);
}

int
wafind_first(struct webdriver *wd, const char *list, const char *chat, const char *scope, char **el,
    int *index, char **cause)
{
	json_t *s = strategies(list, chat), *res = NULL;
	int e;

	*el = NULL;
	*index = -1;
	if (s == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = run(wd, "find", FIND_JS, json_pack("[o, o, b, i]", s, element(scope), 0, -1), &res, cause)) < 0)
		goto out;
	if (json_integer_value(json_array_get(res, 0)) < 0) {
		e = not_found(res, list, cause);
		goto out;
	}
	if ((*el = ref_of(json_array_get(res, 1))) == NULL) {
		e = util_fail(cause, -EIO, "find: the page's answer holds no element");
		goto out;
	}
	*index = (int)json_integer_value(json_array_get(res, 0));
out:
	json_decref(res);
	return e;
}

int
wafind_all(struct webdriver *wd, const char *list, int only, char ***els, size_t *n, int *index, char **cause)
{
	json_t *s = strategies(list, NULL), *res = NULL, *one;
	size_t i;
	int e;

	*els = NULL;
	*n = 0;
	*index = -1;
	if (s == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = run(wd, "find", FIND_JS, json_pack("[o, n, b, i]", s, 1, only), &res, cause)) < 0)
		return e;
	if ((*els = calloc(json_array_size(json_array_get(res, 1)) + 1, sizeof **els)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_array_get(res, 1), i, one) {
		if (((*els)[*n] = ref_of(one)) == NULL) {
			e = util_fail(cause, -EIO, "find: the page's answer holds no element");
			util_strv_free(*els);
			*els = NULL;
			*n = 0;
			goto out;
		}
		++*n;
	}
	*index = (int)json_integer_value(json_array_get(res, 0));
out:
	json_decref(res);
	return e;
}

int
wafind_dialog(struct webdriver *wd, const char *ours, const char *target, char **dialog, char **text,
    char **cause)
{
	json_t *s = strategies(ours ? ours : "", NULL), *res = NULL;
	const char *t;
	int e;

	*dialog = *text = NULL;
	if (s == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = run(wd, "dialog", DIALOG_JS, json_pack("[o, o]", s, element(target)), &res, cause)) < 0 ||
	    json_is_null(res))
		goto out;
	if ((*dialog = ref_of(json_array_get(res, 0))) == NULL) {
		e = util_fail(cause, -EIO, "dialog: the page's answer holds no element");
		goto out;
	}
	t = json_string_value(json_array_get(res, 1));
	/* The dialog's text goes into the log and a failure's reason: cut between characters. */
	*text = util_printf("%.*s%s", (int)util_utf8_prefix(t ? t : "", 160), t ? t : "",
	    t && strlen(t) > 160 ? "..." : "");
out:
	json_decref(res);
	return e;
}

int
wafind_showing(struct webdriver *wd, const char *dialog, bool *showing, char **cause)
{
	json_t *res = NULL;
	char *c = NULL;
	int e;

	*showing = false;
	e = run(wd, "dialog", SHOWING_JS, json_pack("[o]", element(dialog)), &res, &c);
	*showing = e == 0 && json_is_true(res);
	json_decref(res);
	/* A dialog taken out of the page leaves its reference stale: it went away. */
	if (e == -ESTALE)
		e = 0;
	else if (e < 0 && cause != NULL) {
		free(*cause);
		*cause = c;
		c = NULL;
	}
	free(c);
	return e;
}

int
wafind_button(struct webdriver *wd, const char *dialog, const char *phrases, char **button, char **phrase,
    char **cause)
{
	json_t *s = strategies(phrases, NULL), *res = NULL;
	const char *p;
	int e;

	*button = *phrase = NULL;
	if (s == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = run(wd, "dialog", BUTTON_JS, json_pack("[o, o]", element(dialog), s), &res, cause)) < 0)
		goto out;
	if (json_is_null(res)) {
		e = -ENOENT;
		goto out;
	}
	p = json_string_value(json_array_get(res, 1));
	if ((*button = ref_of(json_array_get(res, 0))) == NULL || (*phrase = util_strdup(p ? p : "")) == NULL) {
		free(*button);
		*button = NULL;
		e = util_fail(cause, -EIO, "dialog: the page's answer holds no button");
	}
out:
	json_decref(res);
	return e;
}

int
wafind_escape(struct webdriver *wd, const char *dialog, char **cause)
{
	json_t *res = NULL;
	char *c = NULL;
	int e;

	if ((e = run(wd, "escape", FOCUS_JS, json_pack("[o]", element(dialog)), &res, cause)) < 0)
		return e;
	json_decref(res);
	if ((e = webdriver_send_keys(wd, dialog, WEBDRIVER_KEY_ESCAPE, &c)) == -EBUSY || e == -EIO) {
		/* Not a thing WebDriver types into: the page's own key listeners get a synthetic Escape. */
		free(c);
		if ((e = run(wd, "escape", ESCAPE_JS, json_pack("[o]", element(dialog)), &res, cause)) == 0)
			json_decref(res);
		return e;
	}
	if (e < 0)
		*cause = c;
	return e;
}
