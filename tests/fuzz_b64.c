/*
 * fuzz_b64: libFuzzer harness for the streaming base64 decoder. Each input
 * is decoded whole and in small pieces; both must agree, byte for byte and
 * in their outcome, and a successful decode must re-encode (a tiny encoder
 * here) to the input's base64 characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
decode(const uint8_t *data, size_t size, size_t step, unsigned char *out, size_t *outlen)
{
	struct b64 d;
	char *cause = NULL;
	long n;

	b64_init(&d);
	*outlen = 0;
	for (size_t off = 0; off < size; off += step) {
		size_t len = size - off < step ? size - off : step;

		if ((n = b64_decode(&d, (const char *)data + off, len, out + *outlen, &cause)) < 0) {
			free(cause);
			return -1;
		}
		*outlen += (size_t)n;
	}
	if (b64_finish(&d, &cause) < 0) {
		free(cause);
		return -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *a = malloc(b64_decoded_max(size) + 3), *b = malloc(b64_decoded_max(size) + 3);
	size_t alen, blen, k = 0;
	int e1, e2;

	if (a == NULL || b == NULL)
		abort();
	e1 = decode(data, size, size ? size : 1, a, &alen);
	e2 = decode(data, size, 3, b, &blen);
	if (e1 != e2 || (e1 == 0 && (alen != blen || memcmp(a, b, alen) != 0)))
		abort();
	if (e1 == 0) {
		/* Re-encode and compare with the input's data characters (padding aside). */
		for (size_t i = 0; i < alen; i += 3) {
			uint32_t v = (uint32_t)a[i] << 16 | (i + 1 < alen ? (uint32_t)a[i + 1] << 8 : 0) |
			    (i + 2 < alen ? a[i + 2] : 0);
			size_t chars = i + 2 < alen ? 4 : i + 1 < alen ? 3 : 2;

			for (size_t c = 0; c < chars; c++) {
				char want = alphabet[(v >> (18 - 6 * c)) & 63];

				while (k < size && strchr(" \t\r\n=", data[k]) != NULL)
					k++;
				/* Unused low bits of a final character may differ; compare the rest. */
				if (k >= size || (c < chars - 1 || chars == 4 ? data[k] != (uint8_t)want : 0))
					abort();
				k++;
			}
		}
	}
	free(a);
	free(b);
	return 0;
}
