/*
 * salesrow: what one CSV record of the POS export means. Finds the columns by
 * header name, validates each record against the rules of the ETL, and gives
 * back the line in the form the database stores, or why it is rejected.
 *
 * Rules (a record breaking one is rejected with the column and reason, never
 * dropped): the field count must match the header; invoice, productId,
 * productName and storeName must not be blank; orderDate must parse in the
 * date format and be the day that was requested; quantity must be a number
 * above 0; totalProductPrice a number not below 0; optional numbers
 * (sellingPrice, discountAmount, costPrice, GSTAmount) blank or numbers; every
 * value valid UTF-8 without NUL. Names are trimmed and then renamed by the
 * aliases. A blank brandName or subCategoryOf becomes "(none)": the line still
 * counts, under a name that shows.
 *
 * Numbers: an optional sign, digits, an optional '.' and digits; no
 * thousands separators, no exponent; at most SALESROW_NUMBER_INT_DIGITS
 * digits before the point (leading zeros aside) and SALESROW_NUMBER_FRAC_DIGITS
 * after it. They are passed on as written (numeric in SQL, exact), never
 * through binary floating point.
 *
 * Every reason is valid UTF-8 (a quoted value is cut on a character
 * boundary), so that it can be stored as text.
 *
 * Date format "auto": each record narrows the set of formats that read its
 * orderDate as a valid date; a record is accepted when one of the formats
 * still possible reads it as the requested day. At the end (salesrow_finish)
 * the file is refused when the formats left read some value differently
 * (e.g. "05/11/2026" in dmy-slash and mdy-slash), or when an accepted record
 * is not the requested day in the format finally chosen.
 */
#ifndef SALESD_SALESROW_H
#define SALESD_SALESROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/csv.h"

/* Digits a number may have before the point (values below 10^12) and after it. */
#define SALESROW_NUMBER_INT_DIGITS 12
#define SALESROW_NUMBER_FRAC_DIGITS 20

enum salesrow_date_format {
	SALESROW_DATE_AUTO,
	SALESROW_DATE_YMD,              /* 2026-11-23 */
	SALESROW_DATE_DMY,              /* 23-11-2026 */
	SALESROW_DATE_DMY_SLASH,        /* 23/11/2026 */
	SALESROW_DATE_MDY_SLASH,        /* 11/23/2026 */
	SALESROW_DATE_YMD_SLASH,        /* 2026/11/23 */
};
#define SALESROW_NFORMATS 5

/* The columns of a stored line, in the order of the sales_line table after (day, order_type, line). */
enum salesrow_col {
	SR_INVOICE, SR_STORE_INVOICE, SR_TIME, SR_STORE, SR_PRODUCT_ID, SR_PRODUCT, SR_BARCODE,
	SR_BRAND, SR_CATEGORY, SR_SUB_CATEGORY, SR_QUANTITY, SR_SELLING_PRICE, SR_DISCOUNT,
	SR_TOTAL, SR_COST_PRICE, SR_GST_AMOUNT, SR_PAYMENT_METHOD, SR_ORDER_STATUS,
	SR_CUSTOMER_NAME, SR_CUSTOMER_NUMBER,
	SR_NCOLS
};

/* Shared by every file of a load: formats, aliases, options. */
struct salesrow_rules;

enum salesrow_customer {
	SALESROW_CUSTOMER_DROP,         /* customerName/customerNumber stored as NULL */
	SALESROW_CUSTOMER_KEEP,         /* stored as they come */
	SALESROW_CUSTOMER_HASH,         /* stored as hex HMAC-SHA256 under hash_key */
};

struct salesrow_options {
	enum salesrow_date_format date_format;
	enum salesrow_customer customer;
	const char *aliases_path;       /* CSV kind,from,to; NULL for none */
	const char *hash_key;           /* SALESROW_CUSTOMER_HASH: the key (copied) */
};

/* Returns 0, -ENOMEM, or -EINVAL (no hash key; an aliases file unreadable or malformed). */
int salesrow_rules_new(struct salesrow_rules **out, const struct salesrow_options *o, char **cause);
void salesrow_rules_free(struct salesrow_rules *r);
/* How many aliases were read (for the log). */
size_t salesrow_rules_naliases(const struct salesrow_rules *r);
int salesrow_date_format_parse(const char *name, enum salesrow_date_format *f);
const char *salesrow_date_format_name(enum salesrow_date_format f);

/* One CSV body: its header, then its records. */
struct salesrow_file;

/* day: the requested business day (days since 1970-01-01). */
int salesrow_file_new(struct salesrow_file **out, const struct salesrow_rules *r, int32_t day);
void salesrow_file_free(struct salesrow_file *f);

/*
 * The header record. Returns 0, or -EBADMSG naming every required column
 * that is missing and the columns present, a duplicate column, or the
 * header's own problem (row->problem: a broken header is not guessed at).
 */
int salesrow_header(struct salesrow_file *f, const struct csv_row *row, char **cause);

/* A validated line: values valid until the next salesrow_record call; NULL is SQL NULL. */
struct salesrow_line {
	const char *v[SR_NCOLS];
	size_t len[SR_NCOLS];
};

/* Why a record was rejected: field may be NULL (e.g. wrong field count). */
struct salesrow_reject {
	const char *field;
	char reason[256];
};

/*
 * A data record: 1 and *line filled when it is good, 0 and *rej filled when
 * it is rejected, or a negative error (out of memory).
 */
int salesrow_record(struct salesrow_file *f, const struct csv_row *row, struct salesrow_line *line,
    struct salesrow_reject *rej);

/*
 * After the last record: for "auto", the format found, or -EBADMSG when the
 * file cannot be read one way (the message says what to configure). Sets
 * *chosen (may be NULL) to the format used.
 */
int salesrow_finish(struct salesrow_file *f, enum salesrow_date_format *chosen, char **cause);

/* Parse a date in one format into days since 1970-01-01; -1 when it does not parse. */
int32_t salesrow_parse_date(enum salesrow_date_format f, const char *s, size_t len);

/* Is s (len bytes) a number as the rules define it? *sign: -1, 0 (all zero digits) or 1. */
bool salesrow_number(const char *s, size_t len, int *sign);

#endif
