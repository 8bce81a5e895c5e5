/*
 * config_schema: every key of the configuration, and how its values are
 * checked (see config_schema.h). The table's rows name their field of struct
 * config (config.h) with FIELD or JOB_FIELD, so a key without a field does
 * not build, the count of rows and fields is checked at build time, and
 * config_schema_check compares each row's type with its field's.
 *
 * tests/test_manpages.sh reads the rows of config_keys from this file (one
 * per line starting with a tab and "{"), to check that the man page and the
 * example file document every key: keep that layout.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/addr.h"
#include "base/config.h"
#include "base/config_schema.h"
#include "base/util.h"

#define CONFIG_STORE_OF(lvalue) _Generic((lvalue), \
	const char *: CONFIG_STORE_TEXT, \
	struct config_strv: CONFIG_STORE_LIST, \
	bool: CONFIG_STORE_BOOL, \
	long long: CONFIG_STORE_INT, \
	unsigned long long: CONFIG_STORE_MS)

/*
 * A schema row's field: naming a field that struct config does not have
 * fails to build; the kind is checked against the row by config_schema_check.
 */
#define FIELD(sec, f) { #sec, offsetof(struct config_##sec##_section, f), \
	CONFIG_STORE_OF(((struct config_##sec##_section *)0)->f) }
#define JOB_FIELD(f) { "job", offsetof(struct config_job, f), \
	CONFIG_STORE_OF(((struct config_job *)0)->f) }

static int check_identifier(const char *, char **);
static int check_address(const char *, char **);
static int check_address_list(const char *, char **);
static int check_program(const char *, char **);
static int check_nonempty(const char *, char **);
static int check_percent(const char *, char **);
static int check_clock(const char *, char **);
static int check_clock_or_empty(const char *, char **);

#define MS(s) ((long long)(s) * 1000LL)

/*
 * The schema: every key salesd knows. Document each in docs/salesd.conf.5 and
 * etc/salesd.conf when you add it here.
 */
const struct config_key config_keys[] = {
	{ "salesd", "timezone", CONFIG_TIMEZONE, "UTC", 0, NULL, 0, 0, NULL,
	    FIELD(salesd, timezone) },
	{ "salesd", "state_dir", CONFIG_PATH, "/var/lib/salesd", 0, NULL, 0, 0, NULL,
	    FIELD(salesd, state_dir) },
	{ "salesd", "exclude_stores", CONFIG_LIST, "", 0, NULL, 0, 0, NULL,
	    FIELD(salesd, exclude_stores) },
	{ "salesd", "closed_stores", CONFIG_LIST, "", 0, NULL, 0, 0, NULL,
	    FIELD(salesd, closed_stores) },
	{ "salesd", "log_level", CONFIG_ENUM, "info", 0, "err|warning|notice|info|debug", 0, 0, NULL,
	    FIELD(salesd, log_level) },
	{ "salesd", "stop_timeout", CONFIG_DURATION, "30s", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(salesd, stop_timeout_ms) },
	{ "salesd", "max_parallel", CONFIG_INT, "2", 0, NULL, 1, 64, NULL,
	    FIELD(salesd, max_parallel) },
	{ "salesd", "kill_grace", CONFIG_DURATION, "10s", 0, NULL, 100, MS(600), NULL,
	    FIELD(salesd, kill_grace_ms) },

	{ "database", "conninfo", CONFIG_STRING, "dbname=salesd", CONFIG_SECRET, NULL, 0, 0, NULL,
	    FIELD(database, conninfo) },
	{ "database", "schema", CONFIG_STRING, "salesd", 0, NULL, 0, 0, check_identifier,
	    FIELD(database, schema) },

	{ "source", "base_url", CONFIG_URL, NULL, 0, "http|https", 0, 0, NULL,
	    FIELD(source, base_url) },
	{ "source", "username", CONFIG_STRING, NULL, 0, NULL, 0, 0, NULL,
	    FIELD(source, username) },
	{ "source", "password", CONFIG_STRING, NULL, CONFIG_SECRET, NULL, 0, 0, NULL,
	    FIELD(source, password) },
	{ "source", "order_types", CONFIG_LIST, NULL, 0, NULL, 0, 0, NULL,
	    FIELD(source, order_types) },
	{ "source", "date_format", CONFIG_ENUM, "auto", 0, "auto|ymd|dmy|dmy-slash|mdy-slash|ymd-slash", 0, 0, NULL,
	    FIELD(source, date_format) },
	{ "source", "ca_file", CONFIG_PATH, NULL, CONFIG_EXISTS, NULL, 0, 0, NULL,
	    FIELD(source, ca_file) },
	{ "source", "connect_timeout", CONFIG_DURATION, "15s", 0, NULL, MS(1), MS(600), NULL,
	    FIELD(source, connect_timeout_ms) },
	{ "source", "stall_timeout", CONFIG_DURATION, "60s", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(source, stall_timeout_ms) },
	{ "source", "request_retries", CONFIG_INT, "3", 0, NULL, 0, 20, NULL,
	    FIELD(source, request_retries) },
	{ "source", "request_retry_delay", CONFIG_DURATION, "2s", 0, NULL, 10, MS(600), NULL,
	    FIELD(source, request_retry_delay_ms) },
	{ "source", "reject_threshold", CONFIG_STRING, "1%", 0, NULL, 0, 0, check_percent,
	    FIELD(source, reject_threshold) },
	{ "source", "aliases", CONFIG_PATH, NULL, CONFIG_EXISTS, NULL, 0, 0, NULL,
	    FIELD(source, aliases) },
	{ "source", "customer_data", CONFIG_ENUM, "drop", 0, "drop|keep|hash", 0, 0, NULL,
	    FIELD(source, customer_data) },
	{ "source", "customer_hash_key", CONFIG_STRING, NULL, CONFIG_SECRET, NULL, 0, 0, NULL,
	    FIELD(source, customer_hash_key) },
	{ "source", "settle_until", CONFIG_STRING, "10:00", 0, NULL, 0, 0, check_clock,
	    FIELD(source, settle_until) },
	{ "source", "incomplete", CONFIG_ENUM, "withhold", 0, "withhold|deliver-with-warning", 0, 0, NULL,
	    FIELD(source, incomplete) },
	{ "source", "short_store", CONFIG_STRING, "20%", 0, NULL, 0, 0, check_percent,
	    FIELD(source, short_store) },
	{ "source", "short_day", CONFIG_STRING, "50%", 0, NULL, 0, 0, check_percent,
	    FIELD(source, short_day) },
	{ "source", "recheck_days", CONFIG_INT, "3", 0, NULL, 0, 31, NULL,
	    FIELD(source, recheck_days) },

	{ "smtp", "url", CONFIG_URL, NULL, 0, "smtp|smtps", 0, 0, NULL,
	    FIELD(smtp, url) },
	{ "smtp", "username", CONFIG_STRING, NULL, 0, NULL, 0, 0, NULL,
	    FIELD(smtp, username) },
	{ "smtp", "password", CONFIG_STRING, NULL, CONFIG_SECRET, NULL, 0, 0, NULL,
	    FIELD(smtp, password) },
	{ "smtp", "from", CONFIG_STRING, NULL, 0, NULL, 0, 0, check_address,
	    FIELD(smtp, from) },
	{ "smtp", "ca_file", CONFIG_PATH, NULL, CONFIG_EXISTS, NULL, 0, 0, NULL,
	    FIELD(smtp, ca_file) },
	{ "smtp", "cc", CONFIG_LIST, "", 0, NULL, 0, 0, check_address_list,
	    FIELD(smtp, cc) },
	{ "smtp", "bcc", CONFIG_LIST, "", 0, NULL, 0, 0, check_address_list,
	    FIELD(smtp, bcc) },
	{ "smtp", "allow_plain", CONFIG_BOOL, "no", 0, NULL, 0, 0, NULL,
	    FIELD(smtp, allow_plain) },
	{ "smtp", "connect_timeout", CONFIG_DURATION, "15s", 0, NULL, MS(1), MS(600), NULL,
	    FIELD(smtp, connect_timeout_ms) },
	{ "smtp", "timeout", CONFIG_DURATION, "2m", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(smtp, timeout_ms) },
	{ "smtp", "attach_xlsx", CONFIG_BOOL, "yes", 0, NULL, 0, 0, NULL,
	    FIELD(smtp, attach_xlsx) },
	{ "smtp", "subject", CONFIG_STRING, "{company}: {report} report {period}, {store}", 0, NULL, 0, 0, NULL,
	    FIELD(smtp, subject) },
	{ "smtp", "body", CONFIG_STRING, "Hello,\\n\\nthe {report} report of {store} for {period} is attached "
	    "(PDF and Excel).", 0, NULL, 0, 0, NULL,
	    FIELD(smtp, body) },

	{ "whatsapp", "url", CONFIG_URL, "https://web.whatsapp.com/", 0, "http|https", 0, 0, NULL,
	    FIELD(whatsapp, url) },
	{ "whatsapp", "chromium", CONFIG_STRING, "chromium", 0, NULL, 0, 0, check_program,
	    FIELD(whatsapp, chromium) },
	{ "whatsapp", "chromedriver", CONFIG_STRING, "chromedriver", 0, NULL, 0, 0, check_program,
	    FIELD(whatsapp, chromedriver) },
	{ "whatsapp", "headless", CONFIG_BOOL, "yes", 0, NULL, 0, 0, NULL,
	    FIELD(whatsapp, headless) },
	{ "whatsapp", "socket", CONFIG_STRING, "", 0, NULL, 0, 0, NULL,
	    FIELD(whatsapp, socket) },
	{ "whatsapp", "caption", CONFIG_STRING, "{company}: {report} sales {period}\\n"
	    "Sales {sales} ({growth} vs {baseline})\\nBest: {best}\\nWorst: {worst}", 0, NULL, 0, 0, NULL,
	    FIELD(whatsapp, caption) },
	{ "whatsapp", "pause_min", CONFIG_DURATION, "5s", 0, NULL, 0, MS(3600), NULL,
	    FIELD(whatsapp, pause_min_ms) },
	{ "whatsapp", "pause_max", CONFIG_DURATION, "20s", 0, NULL, 0, MS(3600), NULL,
	    FIELD(whatsapp, pause_max_ms) },
	{ "whatsapp", "daily_cap", CONFIG_INT, "50", 0, NULL, 1, 10000, NULL,
	    FIELD(whatsapp, daily_cap) },
	{ "whatsapp", "load_timeout", CONFIG_DURATION, "90s", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(whatsapp, load_timeout_ms) },
	{ "whatsapp", "step_timeout", CONFIG_DURATION, "20s", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(whatsapp, step_timeout_ms) },
	{ "whatsapp", "send_timeout", CONFIG_DURATION, "3m", 0, NULL, MS(1), MS(3600), NULL,
	    FIELD(whatsapp, send_timeout_ms) },
	{ "whatsapp", "batch_timeout", CONFIG_DURATION, "30m", 0, NULL, MS(1), MS(86400), NULL,
	    FIELD(whatsapp, batch_timeout_ms) },
	{ "whatsapp", "login_timeout", CONFIG_DURATION, "5m", 0, NULL, MS(1), MS(86400), NULL,
	    FIELD(whatsapp, login_timeout_ms) },
	{ "whatsapp", "fallback_email", CONFIG_LIST, "", 0, NULL, 0, 0, check_address_list,
	    FIELD(whatsapp, fallback_email) },
	{ "whatsapp", "deadline", CONFIG_STRING, "", 0, NULL, 0, 0, check_clock_or_empty,
	    FIELD(whatsapp, deadline) },
	/*
	 * Today's WhatsApp Web, as strategy lists (deliver/wafind.h): ARIA role
	 * and label first, then title, data-icon / data-testid, visible text (and
	 * the Hindi labels), ids and class names last, so that a restyle keeping
	 * the labels, roles, titles and icons finds every element.
	 */
	{ "whatsapp", "selector_qr", CONFIG_STRING, "canvas[aria-label=\"Scan this QR code to link a device!\"] | "
	    "canvas[aria-label*=\"QR\"] | [data-testid=\"qrcode\"] canvas | [data-ref] canvas",
	    0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_qr) },
	{ "whatsapp", "selector_app", CONFIG_STRING, "[role=\"grid\"][aria-label=\"Chat list\"] | "
	    "[aria-label=\"Chat list\"] | [aria-label=\"चैट सूची\"] | [data-testid=\"chat-list\"] | #pane-side",
	    0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_app) },
	{ "whatsapp", "selector_popup_close", CONFIG_STRING, "[role=\"button\"][aria-label=\"Close\"] | "
	    "button[aria-label=\"Close\"] | [aria-label=\"बंद करें\"] | [title=\"Close\"] | [data-icon=\"x\"] | "
	    "[data-icon=\"close\"] | [data-testid=\"popup-controls-close\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_popup_close) },
	{ "whatsapp", "selector_search", CONFIG_STRING, "[role=\"textbox\"][contenteditable=\"true\"]"
	    "[aria-label=\"Search input textbox\"] | [contenteditable=\"true\"][aria-label*=\"Search\"] | "
	    "input[aria-label*=\"Search\"] | [contenteditable=\"true\"][aria-label*=\"खोज\"] | "
	    "[contenteditable=\"true\"][title*=\"Search\"] | [data-testid=\"chat-list-search\"] | "
	    "#side div[role=\"textbox\"][contenteditable=\"true\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_search) },
	{ "whatsapp", "selector_chat", CONFIG_STRING, "[role=\"grid\"][aria-label=\"Chat list\"] [title={chat}] | "
	    "[aria-label=\"Chat list\"] [title={chat}] | [role=\"gridcell\"] span[title={chat}] | "
	    "#pane-side span[title={chat}]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_chat) },
	{ "whatsapp", "selector_chat_title", CONFIG_STRING, "header span[dir=\"auto\"][title] | "
	    "[data-testid=\"conversation-info-header-chat-title\"] | header [title] | #main header span[title]",
	    0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_chat_title) },
	{ "whatsapp", "selector_attach", CONFIG_STRING, "[role=\"button\"][aria-label=\"Attach\"] | "
	    "[aria-label=\"अटैच करें\"] | [title=\"Attach\"] | [data-icon=\"plus\"] | [data-icon=\"attach-menu-plus\"] | "
	    "[data-icon=\"clip\"] | #main [title=\"Attach\"], #main [aria-label=\"Attach\"]",
	    0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_attach) },
	{ "whatsapp", "selector_document_input", CONFIG_STRING, "[role=\"menuitem\"] input[type=\"file\"][accept=\"*\"] | "
	    "input[type=\"file\"][accept=\"*\"] | input[type=\"file\"]:not([accept*=\"image\"])",
	    0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_document_input) },
	{ "whatsapp", "selector_caption", CONFIG_STRING, "[role=\"textbox\"][contenteditable=\"true\"]"
	    "[aria-label=\"Add a caption\"] | [contenteditable=\"true\"][aria-label=\"कैप्शन जोड़ें\"] | "
	    "[contenteditable=\"true\"][title=\"Add a caption\"] | [contenteditable=\"true\"]"
	    "[data-placeholder=\"Add a caption\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_caption) },
	{ "whatsapp", "selector_send", CONFIG_STRING, "[role=\"button\"][aria-label=\"Send\"] | "
	    "button[aria-label=\"Send\"] | [aria-label=\"भेजें\"] | [title=\"Send\"] | [data-icon=\"send\"] | "
	    "[data-testid=\"send\"] | text:Send | text:भेजें", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_send) },
	{ "whatsapp", "selector_message_out", CONFIG_STRING, "[role=\"row\"] [data-id^=\"true_\"] | "
	    "[data-id^=\"true_\"] | .message-out | #main [data-id^=\"true_\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_message_out) },
	{ "whatsapp", "selector_sent", CONFIG_STRING, "[aria-label=\" Sent \"], [aria-label=\" Delivered \"], "
	    "[aria-label=\" Read \"] | [data-icon=\"msg-check\"], [data-icon=\"msg-dblcheck\"] | "
	    "[data-testid=\"msg-check\"], [data-testid=\"msg-dblcheck\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_sent) },
	{ "whatsapp", "selector_failed", CONFIG_STRING, "[aria-label=\" Failed \"] | [data-icon=\"msg-error\"] | "
	    "[data-testid=\"msg-error\"]", 0, NULL, 0, 0, check_nonempty,
	    FIELD(whatsapp, selector_failed) },
	/* Texts of buttons that close a dialog (deliver/waweb.h), "|"-separated, the preferred first; English, Hindi. */
	{ "whatsapp", "dismiss_buttons", CONFIG_STRING, "OK | Got it | Continue | Not now | Close | ठीक है | "
	    "समझ गया | जारी रखें | अभी नहीं | बंद करें", 0, NULL, 0, 0, NULL,
	    FIELD(whatsapp, dismiss_buttons) },

	{ "recipients", "file", CONFIG_PATH, "recipients.csv", CONFIG_EXISTS, NULL, 0, 0, NULL,
	    FIELD(recipients, file) },

	{ "report", "company", CONFIG_STRING, NULL, 0, NULL, 0, 0, check_nonempty,
	    FIELD(report, company) },
	{ "report", "currency", CONFIG_STRING, "\xe2\x82\xb9", 0, NULL, 0, 0, NULL,
	    FIELD(report, currency) },
	{ "report", "digit_grouping", CONFIG_ENUM, "indian", 0, "indian|western", 0, 0, NULL,
	    FIELD(report, digit_grouping) },
	{ "report", "correction_threshold", CONFIG_STRING, "0.5%", 0, NULL, 0, 0, check_percent,
	    FIELD(report, correction_threshold) },

	{ "job", "kind", CONFIG_ENUM, NULL, CONFIG_REQUIRED, "etl|report|email|whatsapp|whatsapp-check|selftest", 0, 0, NULL,
	    JOB_FIELD(kind) },
	{ "job", "after", CONFIG_LIST, "", 0, NULL, 0, 0, NULL,
	    JOB_FIELD(after) },
	{ "job", "schedule", CONFIG_STRING, NULL, 0, NULL, 0, 0, check_nonempty,
	    JOB_FIELD(schedule) },
	{ "job", "period", CONFIG_ENUM, "day", 0, "day|week|month", 0, 0, NULL,
	    JOB_FIELD(period) },
	{ "job", "retries", CONFIG_INT, "3", 0, NULL, 0, 100, NULL,
	    JOB_FIELD(retries) },
	{ "job", "retry_delay", CONFIG_DURATION, "1m", 0, NULL, 10, MS(86400), NULL,
	    JOB_FIELD(retry_delay_ms) },
	{ "job", "timeout", CONFIG_DURATION, "1h", 0, NULL, MS(1), MS(7 * 86400), NULL,
	    JOB_FIELD(timeout_ms) },
	{ "job", "retry_max_delay", CONFIG_DURATION, "1h", 0, NULL, 10, MS(7 * 86400), NULL,
	    JOB_FIELD(retry_max_delay_ms) },
	{ "job", "catchup", CONFIG_DURATION, "3d", 0, NULL, 0, MS(366 * 86400), NULL,
	    JOB_FIELD(catchup_ms) },
	{ "job", "scope", CONFIG_ENUM, "company", 0, "company|stores|both", 0, 0, NULL,
	    JOB_FIELD(scope) },
	{ "job", "action", CONFIG_STRING, "succeed", 0, NULL, 0, 0, check_nonempty,
	    JOB_FIELD(action) },
	{ "job", "stores", CONFIG_LIST, "", 0, NULL, 0, 0, NULL,
	    JOB_FIELD(stores) },
};

/* A field without a key (or a key too many) is a build error, not a silent zero. */
_Static_assert(UTIL_NELEM(config_keys) == CONFIG_NKEYS,
    "every key of the schema needs its field in config.h, and every field its key");

const char *const config_sections[] = {
	"salesd", "database", "source", "smtp", "whatsapp", "recipients", "report", "job", NULL,
};

const struct config_key *
config_schema_find(const char *schema_section, const char *name)
{
	for (size_t i = 0; i < UTIL_NELEM(config_keys); i++)
		if (strcmp(config_keys[i].section, schema_section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/*
 * The schema section of a section name: "job" for "job NAME", the name
 * itself when known, else NULL.
 */
const char *
config_schema_section(const char *section)
{
	if (strncmp(section, "job ", 4) == 0)
		return "job";
	for (const char *const *s = config_sections; *s != NULL; s++)
		if (strcmp(*s, section) == 0 && strcmp(*s, "job") != 0)
			return *s;
	return NULL;
}

bool
config_job_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONFIG_MAX_JOB_NAME)
		return false;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '-' && *p != '_')
			return false;
	return true;
}

static int
check_identifier(const char *v, char **why)
{
	size_t len = strlen(v);

	if (len == 0 || len > 63 || !(islower((unsigned char)v[0]) || v[0] == '_'))
		goto bad;
	for (const char *p = v; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			goto bad;
	return 0;
bad:
	return util_fail(why, -EINVAL, "\"%s\" is not a plain SQL name "
	    "(1-63 lower-case letters, digits or \"_\", not starting with a digit)", v);
}

/* Addresses separated by commas, each by the one rule; an empty list is none. */
static int
check_address_list(const char *v, char **why)
{
	char **items;
	size_t n;
	int r = 0;

	if ((items = util_split(v, ',', &n)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		r = addr_check(items[i], why);
	util_strv_free(items);
	return r;
}

static int
check_address(const char *v, char **why)
{
	char name[256], addr[ADDR_MAX + 1];

	/* "Name <local@domain>" or a bare "local@domain", by the one rule (base/addr.h). */
	return addr_split(v, name, sizeof name, addr, sizeof addr, why);
}

static int
check_program(const char *v, char **why)
{
	if (*v == '\0')
		return util_fail(why, -EINVAL, "empty program name");
	if (strchr(v, '/') != NULL && v[0] != '/')
		return util_fail(why, -EINVAL, "\"%s\": give an absolute path or a bare name to look up in PATH", v);
	for (const char *p = v; *p != '\0'; p++)
		if (isspace((unsigned char)*p))
			return util_fail(why, -EINVAL, "\"%s\": a program, not a command line (no spaces)", v);
	return 0;
}

/* A percentage from 0% to 100%, e.g. "1%" or "0.5%". */
static int
check_percent(const char *v, char **why)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || strcmp(end, "%") != 0 || !(d >= 0 && d <= 100))
		return util_fail(why, -EINVAL, "\"%s\" is not a percentage from 0%% to 100%% (e.g. \"1%%\")", v);
	return 0;
}

/* "HH:MM", a time of day on a 24-hour clock. */
static int
check_clock(const char *v, char **why)
{
	int h, m, n = 0;

	if (sscanf(v, "%2d:%2d%n", &h, &m, &n) != 2 || v[n] != '\0' || strlen(v) != 5 ||
	    h < 0 || h > 23 || m < 0 || m > 59)
		return util_fail(why, -EINVAL, "\"%s\" is not a time of day as HH:MM (e.g. \"10:00\")", v);
	return 0;
}

/* A time of day, or empty for none ([whatsapp] deadline). */
static int
check_clock_or_empty(const char *v, char **why)
{
	return *v == '\0' ? 0 : check_clock(v, why);
}

static int
check_nonempty(const char *v, char **why)
{
	return *v == '\0' ? util_fail(why, -EINVAL, "must not be empty") : 0;
}

/* "a|b|c" as "a, b or c". */
char *
config_choices_text(const char *choices)
{
	char *out = NULL, *tmp, **v;
	size_t n;

	if ((v = util_split(choices, '|', &n)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		tmp = out == NULL ? util_printf("%s", v[i]) :
		    util_printf("%s%s%s", out, i + 1 == n ? " or " : ", ", v[i]);
		free(out);
		if ((out = tmp) == NULL)
			break;
	}
	util_strv_free(v);
	return out;
}

bool
config_choices_has(const char *choices, const char *value)
{
	size_t len = strlen(value);

	for (const char *p = choices; *p != '\0';) {
		const char *end = strchr(p, '|');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && strncmp(p, value, n) == 0)
			return true;
		p += n + (end ? 1 : 0);
	}
	return false;
}

int
config_parse_duration(const char *s, unsigned long long *ms, char **cause)
{
	static const struct { const char *unit; unsigned long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "sec", 1000 }, { "m", 60000 },
		{ "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	unsigned long long total = 0, n, mult;
	const char *p = s;
	char unit[8];
	size_t ulen;

	if (*p == '\0')
		return util_fail(cause, -EINVAL, "empty duration (e.g. \"90s\", \"5m\", \"2h\")");
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return util_fail(cause, -EINVAL, "\"%s\" is not a duration (e.g. \"90s\", \"5m\", \"1h30m\")", s);
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > (ULLONG_MAX - 9) / 10)
				return util_fail(cause, -ERANGE, "\"%s\": duration too large", s);
			n = n * 10 + (unsigned long long)(*p - '0');
		}
		for (ulen = 0; isalpha((unsigned char)*p); p++)
			if (ulen < sizeof unit - 1)
				unit[ulen++] = (char)tolower((unsigned char)*p);
		unit[ulen] = '\0';
		if (ulen == 0 && *p == '\0')
			return util_fail(cause, -EINVAL, "\"%s\" has no unit (use ms, s, m, h or d, e.g. \"%llus\")", s, n);
		if (ulen == 0)
			return util_fail(cause, -EINVAL, "\"%s\" is not a duration (e.g. \"90s\", \"5m\", \"1h30m\")", s);
		mult = 0;
		for (size_t i = 0; i < UTIL_NELEM(units); i++)
			if (strcmp(units[i].unit, unit) == 0)
				mult = units[i].ms;
		if (mult == 0)
			return util_fail(cause, -EINVAL, "\"%s\": unknown unit \"%s\" (use ms, s, m, h or d)", s, unit);
		if (n > (ULLONG_MAX - total) / mult)
			return util_fail(cause, -ERANGE, "\"%s\": duration too large", s);
		total += n * mult;
	}
	*ms = total;
	return 0;
}

int
config_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < UTIL_NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A time zone is a TZif file below the zoneinfo directory. */
int
config_check_timezone(const char *name, const char *dir, char **why)
{
	char *path, *buf = NULL;
	size_t len;
	int r;

	if (*name == '\0' || name[0] == '/' || strstr(name, "..") != NULL || strlen(name) > 128)
		goto bad;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			goto bad;
	if ((path = util_printf("%s/%s", dir, name)) == NULL)
		return -ENOMEM;
	r = util_read_file(path, 1 << 20, &buf, &len);
	free(path);
	if (r == -ENOENT || r == -EISDIR || r == -ENOTDIR)
		return util_fail(why, -EINVAL, "unknown time zone \"%s\" (no such zone in %s; "
		    "use an IANA name such as Asia/Kolkata or Europe/Berlin)", name, dir);
	if (r < 0)
		return util_fail(why, r, "time zone \"%s\": cannot read %s/%s: %s", name, dir, name, strerror(-r));
	r = len >= 4 && memcmp(buf, "TZif", 4) == 0 ? 0 :
	    util_fail(why, -EINVAL, "time zone \"%s\": %s/%s is not a zone file", name, dir, name);
	free(buf);
	return r;
bad:
	return util_fail(why, -EINVAL, "\"%s\" is not a time zone name (use an IANA name such as Asia/Kolkata)", name);
}

int
config_check_url(const char *v, const char *schemes, char **why)
{
	char *scheme = NULL, *host = NULL, *user = NULL, *list = NULL;
	CURLU *u;
	CURLUcode rc;
	int r = 0;

	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	rc = curl_url_set(u, CURLUPART_URL, v, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK) {
		list = config_choices_text(schemes);
		r = util_fail(why, -EINVAL, "\"%s\" is not a URL (%s; expected e.g. %s://host:port)",
		    v, curl_url_strerror(rc), list ? list : schemes);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (scheme == NULL || !config_choices_has(schemes, scheme)) {
		list = config_choices_text(schemes);
		r = util_fail(why, -EINVAL, "unsupported scheme \"%s\" (expected %s)",
		    scheme ? scheme : "", list ? list : schemes);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || *host == '\0') {
		r = util_fail(why, -EINVAL, "\"%s\" has no host", v);
		goto out;
	}
	/* Credentials inside a URL would be logged with it; they have keys of their own. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user != NULL)
		r = util_fail(why, -EINVAL, "credentials in the URL are not allowed; "
		    "use the username and password keys");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	free(list);
	return r;
}

int
config_schema_check(char **cause)
{
	for (size_t i = 0; i < UTIL_NELEM(config_keys); i++) {
		const struct config_key *k = &config_keys[i];
		enum config_store_kind want;

		switch (k->type) {
		case CONFIG_LIST:
			want = CONFIG_STORE_LIST;
			break;
		case CONFIG_BOOL:
			want = CONFIG_STORE_BOOL;
			break;
		case CONFIG_INT:
			want = CONFIG_STORE_INT;
			break;
		case CONFIG_DURATION:
			want = CONFIG_STORE_MS;
			break;
		default:
			want = CONFIG_STORE_TEXT;
			break;
		}
		if (strcmp(k->field.section, k->section) != 0)
			return util_fail(cause, -EINVAL, "[%s] %s: its field is in section %s",
			    k->section, k->name, k->field.section);
		if (k->field.kind != want)
			return util_fail(cause, -EINVAL, "[%s] %s: its field's type does not hold its values",
			    k->section, k->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(config_keys[j].section, k->section) == 0 &&
			    config_keys[j].field.offset == k->field.offset)
				return util_fail(cause, -EINVAL, "[%s] %s and %s: one field for two keys",
				    k->section, config_keys[j].name, k->name);
	}
	return 0;
}
