/*
 * fuzz_recipients: libFuzzer harness for the recipients file parser
 * (recipients_parse, what recipients_load reads a file with). Beyond "no
 * crash, no leak", every outcome must keep the module's promises:
 *
 * - a refusal comes with a message and leaves *out and *problems NULL;
 * - every address that loads passes addr_check, every store
 *   and chat is non-empty and trimmed, no store or address comes twice, and
 *   the counts match the NULL-terminated vectors;
 * - every problem names the file and a line that exists ("NAME:LINE: ...",
 *   or "NAME: line LINE: ..." from the CSV parser), except the one summary
 *   of the rows beyond the cap, which comes last;
 * - when the input is UTF-8, so is every message (they quote the input, cut
 *   to a length).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "deliver/recipients.h"
#include "base/util.h"

#define NAME "fuzz.csv"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
valid_utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	json_decref(j);
	return j != NULL;
}

static void
check(bool ok, const char *what, const char *detail)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_recipients: %s: %s\n", what, detail ? detail : "");
	abort();
}

static bool
trimmed(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strchr(" \t\r\n\v\f", s[0]) == NULL && strchr(" \t\r\n\v\f", s[n - 1]) == NULL;
}

/* The NULL-terminated vector v of n distinct, trimmed items, addresses when address. */
static void
check_vector(char *const *v, size_t n, bool address)
{
	check((v == NULL) == (n == 0), "a vector NULL exactly when empty", NULL);
	for (size_t i = 0; i < n; i++) {
		check(v[i] != NULL, "vector shorter than its count", NULL);
		check(trimmed(v[i]), "item not trimmed or empty", v[i]);
		if (address)
			check(addr_check(v[i], NULL) == 0, "an address that does not pass the check", v[i]);
		for (size_t k = 0; k < i; k++)
			check(strcmp(v[k], v[i]) != 0, "an item twice", v[i]);
	}
	check(v == NULL || v[n] == NULL, "vector longer than its count", NULL);
}

/* A problem names the file and a line of the input (1..lines), or is the last one's summary. */
static void
check_problem(const char *p, bool last, unsigned long long lines, bool utf8)
{
	unsigned long long line = 0;
	int at = 0;

	check(strncmp(p, NAME ":", strlen(NAME ":")) == 0, "a problem without the file name", p);
	p += strlen(NAME ":");
	if (sscanf(p, "%llu: %n", &line, &at) == 1 && at > 0)
		check(line >= 1 && line <= lines, "a problem on a line the input does not have", p);
	else if (sscanf(p, " line %llu: %n", &line, &at) == 1 && at > 0)
		check(line >= 1 && line <= lines, "a CSV problem on a line the input does not have", p);
	else
		check(last && strstr(p, " more rows with problems left out") != NULL, "a problem without a line", p);
	check(!utf8 || valid_utf8(p, strlen(p)), "a problem that is not UTF-8 from UTF-8 input", p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipients *r = (struct recipients *)1;
	char **problems = (char **)1, *cause = NULL;
	unsigned long long lines = 1;
	bool utf8 = valid_utf8((const char *)data, size);
	const char *store;
	size_t np, i;
	int e;

	/* Lines end in LF, CRLF or (old Mac files) a lone CR: at most one line per CR or LF. */
	for (size_t k = 0; k < size; k++)
		lines += data[k] == '\n' || data[k] == '\r';
	e = recipients_parse(NAME, (const char *)data, size, &r, &problems, &cause);
	if (e < 0) {
		check(r == NULL && problems == NULL, "a refusal that leaves results", NULL);
		check(e == -ENOMEM || (cause != NULL && strncmp(cause, NAME ":", strlen(NAME ":")) == 0),
		    "a refusal without a message naming the file", cause);
		check(!utf8 || cause == NULL || valid_utf8(cause, strlen(cause)), "a message that is not UTF-8", cause);
		free(cause);
		return 0;
	}
	check(e == 0 && r != NULL && cause == NULL, "success with a message or without results", cause);
	np = util_strv_len(problems);
	check(np <= 100, "more problems than the cap", NULL);
	for (i = 0; i < np; i++)
		check_problem(problems[i], i + 1 == np, lines, utf8);
	for (i = 0; (store = recipients_store(r, i)) != NULL; i++) {
		char *const *v;
		size_t n;

		check(trimmed(store), "store not trimmed or empty", store);
		for (size_t k = 0; k < i; k++)
			check(strcmp(recipients_store(r, k), store) != 0, "a store twice", store);
		v = recipients_email(r, store, &n);
		check_vector(v, n, true);
		check_vector(recipients_whatsapp(r, store, &n), n, false);
		check(v != NULL || n > 0, "a store with neither an address nor a chat", store);
	}
	util_strv_free(problems);
	recipients_free(r);
	return 0;
}
