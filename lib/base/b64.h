/*
 * b64: streaming base64 decoding (RFC 4648 standard alphabet), for POS API
 * deployments that send the CSV base64-encoded, with whitespace anywhere.
 *
 * b64_decode() takes any chunk of the encoded text and writes the bytes it
 * completes; up to three characters carry over to the next call. Whitespace
 * (space, tab, CR, LF) is skipped wherever it appears. Padding '=' may end the
 * text (one or two, only at the end of a quantum); after it only whitespace
 * may follow. Anything else is an error naming the byte offset.
 */
#ifndef SALESD_B64_H
#define SALESD_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct b64 {
	uint32_t acc;           /* bits carried over */
	int nacc;               /* characters in acc (0-3) */
	int pad;                /* '=' seen; 4 once the padded group is complete */
	uint64_t offset;        /* encoded bytes consumed */
};

void b64_init(struct b64 *d);
/*
 * Decode len encoded bytes from in into out, which must hold at least
 * b64_decoded_max(len) bytes. Returns the number of bytes written, or
 * -EBADMSG with *cause ("base64 body: byte 1234: unexpected character '%'").
 */
long b64_decode(struct b64 *d, const char *in, size_t len, unsigned char *out, char **cause);
/* End of input: -EBADMSG when a partial quantum is left (truncated body), else 0. */
int b64_finish(struct b64 *d, char **cause);
/* Room b64_decode may need for len encoded bytes. */
size_t b64_decoded_max(size_t len);
/*
 * Does this start of a body (the first chunk, at least a few hundred bytes
 * when the body is that long) look like base64 rather than CSV? True when it
 * holds only base64 characters and whitespace and no line of it has a comma.
 */
bool b64_looks_encoded(const char *buf, size_t len);

#endif
