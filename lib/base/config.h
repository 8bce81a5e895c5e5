/*
 * config: the salesd configuration. Reads the INI file (via inih), then every
 * FILE.d/\*.conf in lexical order, then --set overrides; validates every key
 * against one schema table when it is read, so a loaded configuration is
 * known to be well-typed; resolves secrets from KEY_file or systemd
 * credentials; and answers typed queries.
 *
 * A loaded struct config is immutable: the daemon swaps whole configurations
 * on reload, and work that started under an old one keeps it (reference it as
 * long as you need it; see config_ref()).
 */
#ifndef SALESD_CONFIG_H
#define SALESD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config;

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

/*
 * Typed queries. section is "salesd", "smtp", ... or "job NAME". Unset keys
 * without a default answer NULL / an empty list / false / 0. Asking for a key
 * the schema does not know, or with the wrong type, is a programming error
 * and answers the same.
 */
const char *config_string(const struct config *c, const char *section, const char *key);
char *const *config_list(const struct config *c, const char *section, const char *key, size_t *n);
bool config_bool(const struct config *c, const char *section, const char *key);
long long config_int(const struct config *c, const char *section, const char *key);
unsigned long long config_duration_ms(const struct config *c, const char *section, const char *key);
bool config_is_set(const struct config *c, const char *section, const char *key);

/*
 * Where a value (key != NULL) or a section header (key == NULL) came from:
 * *file is the file name ("--set" for overrides, "(built-in)" for defaults),
 * *line its line (0 when not from a file). Returns 0, or -ENOENT.
 */
int config_origin(const struct config *c, const char *section, const char *key,
    const char **file, int *line);

/* Jobs, in the order they were first defined. */
size_t config_njobs(const struct config *c);
const char *config_job(const struct config *c, size_t i);

/* The main configuration file this was loaded from. */
const char *config_path(const struct config *c);

/* Parse a duration such as "90s", "5m", "1h30m", "250ms" into milliseconds. */
int config_parse_duration(const char *s, unsigned long long *ms, char **cause);

#endif
