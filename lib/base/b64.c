/*
 * b64: streaming base64 decoding (see b64.h).
 */
#include <errno.h>
#include <string.h>

#include "base/b64.h"
#include "base/util.h"

/* -1: not base64; -2: white space; -3: '='. */
static signed char
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (signed char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (signed char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (signed char)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return -2;
	if (c == '=')
		return -3;
	return -1;
}

void
b64_init(struct b64 *d)
{
	memset(d, 0, sizeof *d);
}

size_t
b64_decoded_max(size_t len)
{
	return (len / 4 + 1) * 3;
}

long
b64_decode(struct b64 *d, const char *in, size_t len, unsigned char *out, char **cause)
{
	unsigned char *o = out;

	for (size_t i = 0; i < len; i++, d->offset++) {
		unsigned char c = (unsigned char)in[i];
		signed char v = b64_value(c);

		if (v == -2)
			continue;
		if (v == -1)
			return util_fail(cause, -EBADMSG, "base64 body: byte %llu: unexpected character %s%c%s"
			    "(0x%02x)", (unsigned long long)d->offset, c >= 0x20 && c < 0x7f ? "'" : "",
			    c >= 0x20 && c < 0x7f ? c : ' ', c >= 0x20 && c < 0x7f ? "' " : "", c);
		if (v == -3) {
			/* Padding: only in the last two places of a quantum. */
			if (d->pad == 4 || d->nacc < 2 || d->nacc + d->pad >= 4)
				return util_fail(cause, -EBADMSG, "base64 body: byte %llu: '=' out of place",
				    (unsigned long long)d->offset);
			d->pad++;
			if (d->nacc + d->pad == 4) {
				/* A quantum with padding: 1 or 2 bytes. */
				*o++ = (unsigned char)(d->acc >> (d->nacc == 2 ? 4 : 10));
				if (d->nacc == 3)
					*o++ = (unsigned char)(d->acc >> 2);
				d->nacc = 0;
				d->pad = 4;     /* complete: nothing but white space may follow */
			}
			continue;
		}
		if (d->pad > 0)
			return util_fail(cause, -EBADMSG, "base64 body: byte %llu: data after the padding",
			    (unsigned long long)d->offset);
		d->acc = d->acc << 6 | (uint32_t)v;
		if (++d->nacc == 4) {
			*o++ = (unsigned char)(d->acc >> 16);
			*o++ = (unsigned char)(d->acc >> 8);
			*o++ = (unsigned char)d->acc;
			d->acc = 0;
			d->nacc = 0;
		}
	}
	return (long)(o - out);
}

int
b64_finish(struct b64 *d, char **cause)
{
	if (d->nacc != 0 || (d->pad != 0 && d->pad != 4))
		return util_fail(cause, -EBADMSG, "base64 body: ends inside a group of 4 characters "
		    "(the body was cut off)");
	return 0;
}

bool
b64_looks_encoded(const char *buf, size_t len)
{
	size_t data = 0;

	for (size_t i = 0; i < len; i++) {
		signed char v = b64_value((unsigned char)buf[i]);

		if (v == -1)
			return false;   /* a comma, quote, BOM byte, ...: CSV */
		if (v >= 0)
			data++;
	}
	/* A CSV header has commas; one without any is no export we know. */
	return data > 0;
}
