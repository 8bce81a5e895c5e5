/*
 * csv: a streaming RFC 4180 parser for the POS exports.
 *
 * Bytes go in with csv_feed() in chunks of any size (a chunk may end in the
 * middle of a field, a quote pair or a CRLF); each complete record comes out
 * through the callback, fields unquoted and NUL-terminated, before csv_feed()
 * returns. Memory is bounded by the longest record, not by the input.
 *
 * Accepted: a UTF-8 byte order mark at the very start (skipped); records
 * ended by LF or CRLF, or by a lone CR in old Mac files (the first record end
 * decides: once a record has ended in LF or CRLF, a lone CR outside quotes is
 * a broken record, not a line end); quoted fields with doubled quotes and
 * embedded CR/LF (a lone CR inside quotes is kept); an empty last line; a
 * last record without a line end. Blank lines between records are skipped
 * (they carry no data).
 *
 * Not valid, so reported per record rather than failing the file: a quote
 * inside an unquoted field (kept literally), text after a closing quote
 * (kept, appended to the field), a lone CR outside quotes in a file of LF
 * records (kept), a record of more than CSV_FIELDS_MAX fields (the fields
 * past the limit are dropped) and a record longer than CSV_RECORD_MAX bytes
 * (raw and values cut; the parser keeps following the quotes, so it finds
 * the next record where it starts). Such a record comes out with
 * row->problem set ("line 12: text after the closing quote in field 3");
 * the caller decides (the ETL rejects the row).
 *
 * Fatal (csv_finish returns -EBADMSG with the line): a quoted field still
 * open at the end of the input. Then no record end can be trusted: the file
 * cannot be framed.
 */
#ifndef SALESD_CSV_H
#define SALESD_CSV_H

#include <stddef.h>
#include <stdint.h>

/* Longest record kept, in bytes (raw, with quotes); a longer one is a broken record. */
#define CSV_RECORD_MAX (1024 * 1024)
/* Most fields in one record; more make it a broken record. */
#define CSV_FIELDS_MAX 1024

struct csv;

struct csv_row {
	size_t nfields;
	char **fields;          /* unquoted values, each NUL-terminated */
	const size_t *lens;     /* byte length of each field (a broken export may hold a NUL) */
	uint64_t record;        /* 1 for the first record (usually the header) */
	uint64_t line;          /* physical line where the record starts, 1-based */
	const char *raw;        /* the record's raw bytes as read, without its line end */
	size_t rawlen;
	const char *problem;    /* NULL, or why the record is malformed (see above) */
};

/*
 * Called for every record. Fields and raw bytes are valid only during the
 * call. Return 0 to go on, or a negative error to stop: csv_feed() then
 * returns that error (and the callback's message, if it set *cause).
 */
typedef int (*csv_row_fn)(void *arg, const struct csv_row *row, char **cause);

int csv_new(struct csv **out, csv_row_fn fn, void *arg);
/* Parse len more bytes. Returns 0, the callback's error, or -EBADMSG / -ENOMEM with *cause. */
int csv_feed(struct csv *p, const char *buf, size_t len, char **cause);
/* End of input: emit the last record if it had no line end. Same results as csv_feed. */
int csv_finish(struct csv *p, char **cause);
/* Bytes consumed so far (for progress and messages). */
uint64_t csv_offset(const struct csv *p);
void csv_free(struct csv *p);

#endif
