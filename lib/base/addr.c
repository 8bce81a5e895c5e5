/*
 * addr: the one rule for an e-mail address (see addr.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/addr.h"
#include "base/util.h"

int
addr_check(const char *a, char **cause)
{
	const char *at;
	size_t n;

	if (a == NULL || *a == '\0')
		return util_fail(cause, -EINVAL, "the address is empty");
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return util_fail(cause, -EINVAL, "an address contains a control character");
		if (*p >= 0x80)
			return util_fail(cause, -EINVAL, "\"%s\" is not ASCII; only ASCII addresses (local@domain) are "
			    "supported", a);
		if (*p == ' ')
			return util_fail(cause, -EINVAL, "\"%s\" contains a space; an address is local@domain", a);
		if (strchr("<>()[]\\,;:\"", *p) != NULL)
			return util_fail(cause, -EINVAL, "\"%s\" contains '%c'; an address is local@domain alone "
			    "(several go in a list; a display name goes apart)", a, *p);
	}
	if ((n = strlen(a)) > ADDR_MAX)
		return util_fail(cause, -EINVAL, "\"%.40s...\" is longer than %d bytes", a, ADDR_MAX);
	at = strchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return util_fail(cause, -EINVAL, "\"%s\" is not an e-mail address (local@domain)", a);
	if (strchr(at + 1, '.') == NULL || at[1] == '.' || a[n - 1] == '.')
		return util_fail(cause, -EINVAL, "\"%s\": the domain \"%s\" is not a full domain name "
		    "(example.com)", a, at + 1);
	return 0;
}

int
addr_split(const char *s, char *name, size_t nlen, char *addr, size_t alen, char **cause)
{
	const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt == NULL) {
		util_utf8_snprintf(name, nlen, "%s", "");
		if ((size_t)util_utf8_snprintf(addr, alen, "%s", s) >= alen)
			return util_fail(cause, -EINVAL, "\"%.40s...\" is too long for an address", s);
	} else {
		if (gt == NULL || gt[1] != '\0')
			return util_fail(cause, -EINVAL, "\"%s\": unbalanced <...>", s);
		util_utf8_snprintf(name, nlen, "%.*s", (int)(lt - s), s);
		util_trim(name);
		if ((size_t)util_utf8_snprintf(addr, alen, "%.*s", (int)(gt - lt - 1), lt + 1) >= alen)
			return util_fail(cause, -EINVAL, "\"%.40s...\" is too long for an address", s);
	}
	return addr_check(addr, cause);
}
