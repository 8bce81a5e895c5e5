/*
 * config: the salesd configuration. Reads the INI file (via inih), then every
 * FILE.d/\*.conf in lexical order, then --set overrides; validates every key
 * against one schema table when it is read, so a loaded configuration is
 * known to be well-typed; resolves secrets from KEY_file or systemd
 * credentials; and fills a struct of typed values (struct config below).
 *
 * A loaded struct config is immutable: the daemon swaps whole configurations
 * on reload, and work that started under an old one keeps it (reference it as
 * long as you need it; see config_ref()).
 */
#ifndef SALESD_CONFIG_H
#define SALESD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The typed configuration. Every key of the schema (the table in
 * config_schema.c) is one field below, filled once when the configuration is
 * loaded, so a module reads cfg->smtp.timeout_ms and a misspelt name fails to
 * build. The fields are listed once per section, X(TYPE, FIELD), and the
 * schema names each key's field: a key without a field does not build, and a
 * field without a key, or of the wrong type for its key, fails
 * config_schema_check (run by check_config).
 *
 * Types: text keys (strings, paths, URLs, enums, time zones) are const char *,
 * NULL when unset without a default; lists are struct config_strv; booleans
 * bool; integers long long; durations unsigned long long milliseconds, with
 * "_ms" after the key's name. Everything points into the configuration and
 * lives as long as it does.
 */

/* A list value: n strings, also NULL-terminated; never NULL itself. */
struct config_strv {
	char *const *v;
	size_t n;
};

#define CONFIG_SALESD_FIELDS(X) \
	X(const char *, timezone) \
	X(const char *, state_dir) \
	X(struct config_strv, exclude_stores) \
	X(struct config_strv, closed_stores) \
	X(const char *, log_level) \
	X(unsigned long long, stop_timeout_ms) \
	X(long long, max_parallel) \
	X(unsigned long long, kill_grace_ms)

#define CONFIG_DATABASE_FIELDS(X) \
	X(const char *, conninfo) \
	X(const char *, schema)

#define CONFIG_SOURCE_FIELDS(X) \
	X(const char *, base_url) \
	X(const char *, username) \
	X(const char *, password) \
	X(struct config_strv, order_types) \
	X(const char *, date_format) \
	X(const char *, ca_file) \
	X(unsigned long long, connect_timeout_ms) \
	X(unsigned long long, stall_timeout_ms) \
	X(long long, request_retries) \
	X(unsigned long long, request_retry_delay_ms) \
	X(const char *, reject_threshold) \
	X(const char *, aliases) \
	X(const char *, customer_data) \
	X(const char *, customer_hash_key) \
	X(const char *, settle_until) \
	X(const char *, incomplete) \
	X(const char *, short_store) \
	X(const char *, short_day) \
	X(long long, recheck_days)

#define CONFIG_SMTP_FIELDS(X) \
	X(const char *, url) \
	X(const char *, username) \
	X(const char *, password) \
	X(const char *, from) \
	X(const char *, ca_file) \
	X(struct config_strv, cc) \
	X(struct config_strv, bcc) \
	X(bool, allow_plain) \
	X(unsigned long long, connect_timeout_ms) \
	X(unsigned long long, timeout_ms) \
	X(bool, attach_xlsx) \
	X(const char *, subject) \
	X(const char *, body)

#define CONFIG_WHATSAPP_FIELDS(X) \
	X(const char *, url) \
	X(const char *, chromium) \
	X(const char *, chromedriver) \
	X(bool, headless) \
	X(const char *, socket) \
	X(const char *, caption) \
	X(unsigned long long, pause_min_ms) \
	X(unsigned long long, pause_max_ms) \
	X(long long, daily_cap) \
	X(unsigned long long, load_timeout_ms) \
	X(unsigned long long, step_timeout_ms) \
	X(unsigned long long, send_timeout_ms) \
	X(unsigned long long, batch_timeout_ms) \
	X(unsigned long long, login_timeout_ms) \
	X(struct config_strv, fallback_email) \
	X(const char *, deadline) \
	X(const char *, selector_qr) \
	X(const char *, selector_app) \
	X(const char *, selector_popup_close) \
	X(const char *, selector_search) \
	X(const char *, selector_chat) \
	X(const char *, selector_chat_title) \
	X(const char *, selector_attach) \
	X(const char *, selector_document_input) \
	X(const char *, selector_caption) \
	X(const char *, selector_send) \
	X(const char *, selector_message_out) \
	X(const char *, selector_sent) \
	X(const char *, selector_failed) \
	X(const char *, dismiss_buttons)

#define CONFIG_RECIPIENTS_FIELDS(X) \
	X(const char *, file)

#define CONFIG_REPORT_FIELDS(X) \
	X(const char *, company) \
	X(const char *, currency) \
	X(const char *, digit_grouping) \
	X(const char *, correction_threshold)

/* The keys of every [job NAME]. */
#define CONFIG_JOB_FIELDS(X) \
	X(const char *, kind) \
	X(struct config_strv, after) \
	X(const char *, schedule) \
	X(const char *, period) \
	X(long long, retries) \
	X(unsigned long long, retry_delay_ms) \
	X(unsigned long long, timeout_ms) \
	X(unsigned long long, retry_max_delay_ms) \
	X(unsigned long long, catchup_ms) \
	X(const char *, scope) \
	X(const char *, action) \
	X(struct config_strv, stores)

#define CONFIG_DECLARE_FIELD(type, field) type field;

struct config_salesd_section { CONFIG_SALESD_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_database_section { CONFIG_DATABASE_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_source_section { CONFIG_SOURCE_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_smtp_section { CONFIG_SMTP_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_whatsapp_section { CONFIG_WHATSAPP_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_recipients_section { CONFIG_RECIPIENTS_FIELDS(CONFIG_DECLARE_FIELD) };
struct config_report_section { CONFIG_REPORT_FIELDS(CONFIG_DECLARE_FIELD) };

/* One [job NAME]. */
struct config_job {
	const char *name;	/* NAME */
	CONFIG_JOB_FIELDS(CONFIG_DECLARE_FIELD)
};

/*
 * A loaded configuration: plain values, read-only for everyone but config.c
 * (which keeps its bookkeeping behind it; see config_ref()).
 */
struct config {
	struct config_salesd_section salesd;
	struct config_database_section database;
	struct config_source_section source;
	struct config_smtp_section smtp;
	struct config_whatsapp_section whatsapp;
	struct config_recipients_section recipients;
	struct config_report_section report;
	const struct config_job *jobs;	/* in the order they were first defined */
	size_t njobs;
};

/* Where a configuration comes from. Only path is required. */
struct config_source {
	const char *path;            /* main file; FILE.d/\*.conf follow it */
	const char *const *sets;     /* "SECTION.KEY=VALUE" overrides, NULL-terminated, or NULL */
	const char *credentials_dir; /* $CREDENTIALS_DIRECTORY, or NULL */
	const char *zoneinfo_dir;    /* NULL: /usr/share/zoneinfo */
};

/* Longest line the INI reader accepts, in bytes (inih's compiled limit). */
#define CONFIG_MAX_LINE 198

/*
 * Load and validate a configuration. On success *out holds it (free with
 * config_free). On failure returns -EINVAL (or -ENOMEM) and *cause holds
 * every problem found, one per line, each "FILE:LINE: [section] key: what is
 * wrong"; secret values never appear in it.
 */
int config_load(struct config **out, const struct config_source *src, char **cause);

/* Take another reference; config_free drops one. NULL is accepted by both. */
struct config *config_ref(struct config *c);
void config_free(struct config *c);

/* Where a value or a section header came from, for messages. */
struct config_origin {
	const char *section;	/* "smtp", "job etl" */
	const char *key;	/* "timeout"; NULL for a section header */
	const char *file;	/* file name, "--set", "(built-in)"; the main file if nowhere */
	int line;		/* 0 when not from a file */
};

/*
 * Where the value of a field came from. field is the address of a field of c
 * (&c->smtp.timeout_ms, &c->jobs[i].after), or of a job (&c->jobs[i]) for
 * its section header. A key that was never set and has no default answers
 * with its section header, or the main file when the section is absent too.
 * Returns 0, or -ENOENT when field is not one of c's.
 */
int config_origin(const struct config *c, const void *field, struct config_origin *o);

/* Whether a field's value was set in a file, a drop-in, --set or a credential, not defaulted. */
bool config_is_set(const struct config *c, const void *field);

/*
 * Check that the schema and the fields agree: every key has one field of its
 * type and section, and no two keys share one. For check_config; 0 or
 * -EINVAL with *cause naming the first disagreement.
 */
int config_schema_check(char **cause);

/* The main configuration file this was loaded from. */
const char *config_path(const struct config *c);

/* Parse a duration such as "90s", "5m", "1h30m", "250ms" into milliseconds. */
int config_parse_duration(const char *s, unsigned long long *ms, char **cause);

#endif
