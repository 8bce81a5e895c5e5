/*
 * check_b64: streaming base64: RFC 4648 vectors, white space anywhere, every
 * chunking, bad characters with their offset, misplaced padding, a body cut
 * inside a group, the CSV-or-base64 guess, and random data round trips.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/util.h"

/* Decode in chunks of step bytes; returns the error or the length. */
static long
decode(const char *in, size_t step, unsigned char *out, char **cause)
{
	struct b64 d;
	size_t len = strlen(in), n = 0;
	long r;

	b64_init(&d);
	for (size_t off = 0; off < len; off += step) {
		if ((r = b64_decode(&d, in + off, len - off < step ? len - off : step, out + n, cause)) < 0)
			return r;
		n += (size_t)r;
	}
	if ((r = b64_finish(&d, cause)) < 0)
		return r;
	return (long)n;
}

START_TEST(test_vectors)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" }, { "Zm9vYg==", "foob" },
		{ "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
		{ " Zm9v\r\nYmFy \n", "foobar" }, { "Z m 9 v\tY\r\nm\nF\ny", "foobar" }, { "Zg==\r\n", "f" },
	};
	unsigned char out[64];

	for (size_t i = 0; i < UTIL_NELEM(vec); i++)
		for (size_t step = 1; step <= strlen(vec[i][0]) + 1; step++) {
			long n = decode(vec[i][0], step, out, NULL);

			ck_assert_int_eq(n, (long)strlen(vec[i][1]));
			ck_assert(memcmp(out, vec[i][1], (size_t)n) == 0);
		}
}
END_TEST

START_TEST(test_errors)
{
	unsigned char out[64];
	char *cause = NULL;

	ck_assert_int_eq(decode("Zm9v,YmFy", 4, out, &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "byte 4: unexpected character ','") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(decode("Zm9vY", 2, out, &cause), -EBADMSG);
	ck_assert(strstr(cause, "cut off") != NULL);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(decode("Zg==Zm9v", 3, out, &cause), -EBADMSG);
	ck_assert(strstr(cause, "after the padding") != NULL);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(decode("Z===", 1, out, &cause), -EBADMSG);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(decode("Zg=", 1, out, &cause), -EBADMSG);
	free(cause);
}
END_TEST

START_TEST(test_looks_encoded)
{
	ck_assert(b64_looks_encoded("aW52b2ljZSxvcmRlckRhdGUK\r\nSU5W", 30));
	ck_assert(!b64_looks_encoded("invoice,orderDate\nINV-1,2026-11-23\n", 35));
	ck_assert(!b64_looks_encoded("\xef\xbb\xbfinvoice", 10));
	ck_assert(!b64_looks_encoded("   \r\n", 5));
}
END_TEST

START_TEST(test_random_roundtrip)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint64_t seed = 99;

	for (int round = 0; round < 300; round++) {
		size_t len = (seed = seed * 6364136223846793005ULL + 1) >> 55;
		unsigned char *data = malloc(len + 1), *out = malloc(len + 8);
		char *enc = malloc(len * 2 + 16);
		size_t e = 0;

		for (size_t i = 0; i < len; i++)
			data[i] = (unsigned char)((seed = seed * 6364136223846793005ULL + 1) >> 40);
		for (size_t i = 0; i < len; i += 3) {
			uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0) |
			    (i + 2 < len ? data[i + 2] : 0);

			enc[e++] = alphabet[v >> 18 & 63];
			enc[e++] = alphabet[v >> 12 & 63];
			enc[e++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
			enc[e++] = i + 2 < len ? alphabet[v & 63] : '=';
			if (i % 57 == 54)
				enc[e++] = '\n';
		}
		enc[e] = '\0';
		for (size_t step = 1; step < 9; step += 3) {
			ck_assert_int_eq(decode(enc, step, out, NULL), (long)len);
			ck_assert(len == 0 || memcmp(out, data, len) == 0);
		}
		free(data);
		free(out);
		free(enc);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("b64");
	TCase *tc = tcase_create("decode");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_looks_encoded);
	tcase_add_test(tc, test_random_roundtrip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
