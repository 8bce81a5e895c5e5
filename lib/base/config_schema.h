/*
 * config_schema: the schema of salesd's configuration, private to base/config
 * (config.c includes this header; nothing else does). One table holds every
 * key salesd knows (config_keys: its section, type, default, flags, range,
 * check and the field of struct config that holds its value), with the
 * validators its rows name and the parsers of typed values: a duration, a
 * boolean, a time zone (a zone file must exist), a URL. config.c reads the
 * files and checks each value against this table as it reads it.
 */
#ifndef SALESD_CONFIG_SCHEMA_H
#define SALESD_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_LIST,
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_DURATION,
	CONFIG_TIMEZONE,
	CONFIG_PATH,
	CONFIG_URL,
	CONFIG_ENUM,
};

#define CONFIG_SECRET   0x01 /* never shown; also KEY_file and credentials */
#define CONFIG_REQUIRED 0x02 /* must be set (in every instance of the section) */
#define CONFIG_EXISTS   0x04 /* a path that must be readable when set */

/* How a field stores its value (text covers strings, paths, URLs, enums, zones). */
enum config_store_kind {
	CONFIG_STORE_TEXT,
	CONFIG_STORE_LIST,
	CONFIG_STORE_BOOL,
	CONFIG_STORE_INT,
	CONFIG_STORE_MS,
};

/* A key's field in struct config: its section's struct, offset and kind. */
struct config_field {
	const char *section;
	size_t offset;
	enum config_store_kind kind;
};

struct config_key {
	const char *section;   /* "job" stands for every [job NAME] */
	const char *name;
	enum config_type type;
	const char *def;       /* default as text, or NULL */
	unsigned flags;
	const char *choices;   /* ENUM values / URL schemes, "|"-separated */
	long long min, max;    /* INT range; DURATION range in ms (max 0: none) */
	int (*check)(const char *value, char **why);
	struct config_field field;
};

#define CONFIG_COUNT_FIELD(type, field) + 1

/* The number of keys: one per field of struct config and struct config_job (config.h). */
#define CONFIG_NKEYS (0 \
    CONFIG_SALESD_FIELDS(CONFIG_COUNT_FIELD) CONFIG_DATABASE_FIELDS(CONFIG_COUNT_FIELD) \
    CONFIG_SOURCE_FIELDS(CONFIG_COUNT_FIELD) CONFIG_SMTP_FIELDS(CONFIG_COUNT_FIELD) \
    CONFIG_WHATSAPP_FIELDS(CONFIG_COUNT_FIELD) CONFIG_RECIPIENTS_FIELDS(CONFIG_COUNT_FIELD) \
    CONFIG_REPORT_FIELDS(CONFIG_COUNT_FIELD) CONFIG_JOB_FIELDS(CONFIG_COUNT_FIELD))

/* Longest job name, in bytes. */
#define CONFIG_MAX_JOB_NAME 40

/* The schema: CONFIG_NKEYS rows, "job" standing for every [job NAME]. */
extern const struct config_key config_keys[];
/* The section names, "job" last, NULL-terminated. */
extern const char *const config_sections[];

/* The row of key name in schema section schema_section, or NULL. */
const struct config_key *config_schema_find(const char *schema_section, const char *name);
/*
 * The schema section of a section name: "job" for "job NAME", the name
 * itself when known, else NULL.
 */
const char *config_schema_section(const char *section);
/*
 * Whether NAME of [job NAME] is 1-CONFIG_MAX_JOB_NAME lower-case letters,
 * digits, "-" or "_", starting with a letter or a digit.
 */
bool config_job_name_valid(const char *name);

/* "yes", "true", "on", "1" or their opposites, any case; 0 or -EINVAL. */
int config_parse_bool(const char *v, bool *out);
/* Whether value is one of the "|"-separated choices. */
bool config_choices_has(const char *choices, const char *value);
/* "a|b|c" as "a, b or c" (caller frees), or NULL when out of memory. */
char *config_choices_text(const char *choices);
/* name is a TZif file below the zoneinfo directory dir; 0 or an error with *why. */
int config_check_timezone(const char *name, const char *dir, char **why);
/* v is a URL of one of the "|"-separated schemes, with a host and no credentials. */
int config_check_url(const char *v, const char *schemes, char **why);

#endif
