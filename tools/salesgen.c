/*
 * salesgen: deterministic synthetic sales in the POS export's CSV format
 * (INTERFACES.md, "POS API"), for the simulator, the demo, tests and
 * benchmarks.
 *
 *   salesgen --from YYYY-MM-DD --to YYYY-MM-DD [--seed N] [--stores N]
 *            [--products N] [--lines N] [--order-type online|offline|all]
 *            [--date-format ymd|dmy|dmy-slash|mdy-slash|ymd-slash]
 *            [--bad-rate R] [--crlf] [--bom] [--no-awkward] [--exact] [--output FILE]
 *
 * --lines is the average per day over both order types (30% online, 70%
 * offline), shaped by weekday, trend and noise; with --exact it is the exact
 * count per day and order type (for benchmarks).
 * Same arguments, same bytes. A day's lines depend only on the seed, the day,
 * the order type and the size options, never on --from/--to, so a range is
 * the concatenation of its days (the header once).
 *
 * The shape: store sizes and product popularity skewed, weekends busier, a
 * slow upward trend, 1-8 lines per invoice, cost below price, GST by
 * category, one payment method per invoice. The awkward cases of real exports
 * (unless --no-awkward): names with commas, quotes and apostrophes, Indic,
 * Tamil and Arabic scripts, an emoji, accented Latin, blanks around names,
 * names that look like spreadsheet formulas ("=HYPERLINK(...)", "+91 ..."), a
 * description with an embedded newline. Store 3 ("Anna Nagar ...") is closed
 * on Tuesdays; the store before Head Office (with 4 or more stores) opens on
 * 2026-01-01 plus (seed mod 365) days, and sells nothing before;
 * "Head Office" sells a little (configurations exclude it from KPIs).
 *
 * --bad-rate R makes that share of lines invalid, each in one way, in turn:
 * negative totalProductPrice, quantity 0, blank invoice, orderDate not a
 * date, quantity not a number.
 *
 * Columns: all 41 of INTERFACES.md in an order of our own, plus loyaltyTier
 * (which the ETL must ignore).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBUF (1 << 20)

static const char *const header[] = {
	"orderDate", "time", "invoice", "storeInvoice", "storeName", "GSTIN", "orderType", "orderFrom",
	"orderStatus", "paymentMethod", "customerName", "customerNumber", "productId", "barcode",
	"productName", "description", "brandName", "subCategoryOf", "categoryName", "HSNCode",
	"quantity", "sellingPrice", "discountAmount", "totalProductPrice", "costPrice", "GST",
	"GSTAmount", "CGSTRate", "CGSTAmount", "SGSTRate", "SGSTAmount", "acessAmount", "cess",
	"cessAmount", "deliveryFee", "orderAmountTax", "orderAmountNet", "cashAmount", "cardAmount",
	"upiAmount", "creditAmount", "loyaltyTier",
};
#define NCOLS (sizeof header / sizeof header[0])

static const char *const categories[] = {
	"Beverages", "Snacks", "Staples", "Dairy", "Personal Care", "Household", "Frozen Foods",
	"Bakery", "Fruits & Vegetables", "Baby Care",
};
static const int gst_rates[] = { 12, 12, 5, 5, 18, 18, 12, 5, 0, 12 };
static const char *const subcategories[] = {
	"Soft Drinks", "Juices", "Tea", "Coffee", "Chips", "Namkeen", "Biscuits", "Chocolates",
	"Rice", "Atta", "Dal", "Oil", "Milk", "Curd", "Paneer", "Butter", "Soap", "Shampoo",
	"Toothpaste", "Deodorant", "Detergent", "Cleaners", "Tissues", "Pooja Items", "Ice Cream",
	"Frozen Snacks", "Frozen Veg", "Ready Meals", "Bread", "Cakes", "Rusk", "Buns", "Fruits",
	"Vegetables", "Herbs", "Exotic", "Diapers", "Baby Food", "Wipes", "Baby Bath",
};
static const char *const brand_parts[] = {
	"Amul", "Tata", "Britannia", "Parle", "Nestle", "Dabur", "ITC", "Haldiram", "Patanjali",
	"Mother Dairy", "Godrej", "Hindustan", "Fortune", "Aashirvaad", "MTR", "Bikaji",
};
static const char *const awkward_products[] = {
	"Haldiram's Aloo Bhujia, 400g", "Steel Bowl 5\" Deep", "हल्दीराम भुजिया 200g",
	"முறுக்கு 250g", "حلوى السمسم", "Café Crème Biscuits", "Party Pack \xf0\x9f\x8e\x89",
	"  Tata Salt 1kg  ", "\"Premium\" Basmati, 5kg", "Dr. Oetker's FunFoods",
	/* Names a spreadsheet would take for formulas (with 74 or more products). */
	"=HYPERLINK(\"http://example.com\",\"Free Gift\")", "+91 Mobile Recharge 199",
};
static const char *const awkward_stores[] = {
	"Koramangala, Bengaluru", "Indiranagar", "Anna Nagar \"Main\"", "Jayanagar 4th Block",
	"Whitefield", "Salt Lake, Kolkata", "Andheri West", "Connaught Place", "Banjara Hills",
	"Powai", "HSR Layout", "Velachery",
};
static const char *const payments[] = { "cash", "card", "upi", "credit" };

struct product {
	char name[96];
	char id[24];
	char barcode[24];
	char brand[48];
	int cat, sub;
	int64_t price;          /* paise */
	int64_t cost;
	bool newline_desc;
};

struct store {
	char name[64];
	char gstin[32];
	double weight;
	bool closed_tuesdays;
	int32_t opens;          /* first day with sales */
	bool head_office;
};

struct opts {
	uint64_t seed;
	int32_t from, to;
	int stores, products;
	long lines;
	int types;              /* 1 online, 2 offline, 3 all */
	int date_format;        /* 0 ymd 1 dmy 2 dmy-slash 3 mdy-slash 4 ymd-slash */
	double bad_rate;
	bool crlf, bom, awkward, exact;
	const char *output;
};

static char *out;
static size_t outlen;
static FILE *outfp;

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
	return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

static long
range(uint64_t *s, long lo, long hi)
{
	return lo + (long)(splitmix(s) % (uint64_t)(hi - lo + 1));
}

/* Days since 1970-01-01 <-> civil (Howard Hinnant's algorithms). */
static int32_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
flush_out(void)
{
	if (outlen > 0 && fwrite(out, 1, outlen, outfp) != outlen) {
		perror("salesgen: write");
		exit(1);
	}
	outlen = 0;
}

static void
put(const char *s, size_t n)
{
	if (outlen + n > OUTBUF)
		flush_out();
	if (n > OUTBUF) {
		fwrite(s, 1, n, outfp);
		return;
	}
	memcpy(out + outlen, s, n);
	outlen += n;
}

/* One field, quoted when it has to be. */
static void
field(const char *s, bool first)
{
	size_t n = strlen(s);

	if (!first)
		put(",", 1);
	if (strpbrk(s, ",\"\r\n") == NULL) {
		put(s, n);
		return;
	}
	put("\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			put("\"", 1);
		put(p, 1);
	}
	put("\"", 1);
}

static void
end_record(const struct opts *o)
{
	put(o->crlf ? "\r\n" : "\n", o->crlf ? 2 : 1);
}

/* Money in paise as "123.45" (no exponent, two decimals). */
static const char *
money(char *buf, int64_t v)
{
	int64_t a = v < 0 ? -v : v;

	snprintf(buf, 48, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
	return buf;
}

/* Quantity in thousandths, shortest form: "2", "0.5", "1.25". */
static const char *
quantity(char *buf, int64_t q)
{
	int64_t whole = q / 1000, frac = q % 1000;

	if (frac == 0)
		snprintf(buf, 48, "%lld", (long long)whole);
	else if (frac % 100 == 0)
		snprintf(buf, 48, "%lld.%lld", (long long)whole, (long long)(frac / 100));
	else if (frac % 10 == 0)
		snprintf(buf, 48, "%lld.%02lld", (long long)whole, (long long)(frac / 10));
	else
		snprintf(buf, 48, "%lld.%03lld", (long long)whole, (long long)frac);
	return buf;
}

static void
format_date(char *buf, int32_t day, int fmt)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	switch (fmt) {
	case 1: snprintf(buf, 48, "%02d-%02d-%04d", d, m, y); break;
	case 2: snprintf(buf, 48, "%02d/%02d/%04d", d, m, y); break;
	case 3: snprintf(buf, 48, "%02d/%02d/%04d", m, d, y); break;
	case 4: snprintf(buf, 48, "%04d/%02d/%02d", y, m, d); break;
	default: snprintf(buf, 48, "%04d-%02d-%02d", y, m, d); break;
	}
}

static void
build_catalog(const struct opts *o, struct store *stores, struct product *products)
{
	uint64_t s = o->seed * 0x2545f4914f6cdd1dULL + 1;

	for (int i = 0; i < o->stores; i++) {
		struct store *st = &stores[i];

		if (i == o->stores - 1 && o->stores > 1) {
			snprintf(st->name, sizeof st->name, "Head Office");
			st->head_office = true;
			st->weight = 0.1;
		} else {
			if (o->awkward && i < (int)(sizeof awkward_stores / sizeof awkward_stores[0]))
				snprintf(st->name, sizeof st->name, "%s", awkward_stores[i]);
			else
				snprintf(st->name, sizeof st->name, "Store %03d", i + 1);
			st->weight = 1.0 / pow(i + 1, 0.8);
		}
		snprintf(st->gstin, sizeof st->gstin, "29ABCDE%04dF1Z%d", i + 1, i % 10);
		st->closed_tuesdays = i == 2;
		st->opens = i == o->stores - 2 && o->stores > 3 ?
		    days_from_civil(2026, 1, 1) + (int32_t)(o->seed % 365) : INT32_MIN;
	}
	for (int i = 0; i < o->products; i++) {
		struct product *p = &products[i];
		int b = (int)range(&s, 0, 59);

		p->sub = (int)range(&s, 0, (long)(sizeof subcategories / sizeof subcategories[0]) - 1);
		p->cat = p->sub / 4;
		snprintf(p->brand, sizeof p->brand, "%s%s%s", brand_parts[b % 16], b >= 16 ? " " : "",
		    b >= 16 ? (b < 32 ? "Gold" : b < 48 ? "Select" : "Fresh") : "");
		if (o->awkward && i % 7 == 3 && i / 7 < (int)(sizeof awkward_products / sizeof awkward_products[0]))
			snprintf(p->name, sizeof p->name, "%s", awkward_products[i / 7]);
		else
			snprintf(p->name, sizeof p->name, "%s %s %d", p->brand, subcategories[p->sub], 100 + i);
		snprintf(p->id, sizeof p->id, "P%05d", i + 1);
		snprintf(p->barcode, sizeof p->barcode, "890%010d", i * 7919 % 1000000000);
		p->price = range(&s, 1000, 60000);
		p->cost = p->price * range(&s, 60, 90) / 100;
		p->newline_desc = o->awkward && i == 5;
	}
	/* An empty brand now and then, as exports have. */
	if (o->awkward && o->products > 11)
		products[11].brand[0] = '\0';
}

/* A product index, skewed towards the popular ones. */
static int
pick_product(uint64_t *s, int n)
{
	double u = uniform(s);
	int i = (int)(n * pow(u, 2.5));

	return i < n ? i : n - 1;
}

static int
pick_store(uint64_t *s, const struct store *stores, int n, const double *cum, double total, int32_t day)
{
	for (int tries = 0; tries < 50; tries++) {
		double u = uniform(s) * total;
		int lo = 0, hi = n - 1;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (cum[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (stores[lo].closed_tuesdays && ((day + 3) % 7 + 7) % 7 == 1)
			continue;
		if (day < stores[lo].opens)
			continue;
		return lo;
	}
	return 0;
}

struct line {
	int product;
	int64_t qty;            /* thousandths */
	int64_t discount;       /* paise */
	int64_t total;
};

static void
gen_day(const struct opts *o, const struct store *stores, const struct product *products,
    const double *cum, double total_weight, int32_t day, int type)
{
	static const double weekday_factor[] = { 1.0, 0.9, 0.85, 0.9, 1.1, 1.3, 1.35 }; /* Mon..Sun */
	uint64_t s = o->seed ^ ((uint64_t)(uint32_t)day << 20) ^ ((uint64_t)type << 56) ^ 0x5eed;
	int wd = ((day + 3) % 7 + 7) % 7;       /* 0 = Monday */
	double trend = 1.0 + 0.0005 * (day - days_from_civil(2026, 1, 1));
	double share = type == 1 ? 0.3 : 0.7;
	long nlines, written = 0, inv = 0;
	char date[48], buf[12][48], invoice[64], store_invoice[48], t[48], cust[48], phone[24];
	uint64_t badn = 0;

	splitmix(&s);
	if (trend < 0.5)
		trend = 0.5;
	nlines = o->exact ? o->lines :
	    lround(o->lines * share * weekday_factor[wd] * trend * (0.9 + 0.2 * uniform(&s)));
	format_date(date, day, o->date_format);
	while (written < nlines) {
		struct line lines[8];
		int k = 1 + (int)(7 * pow(uniform(&s), 2.0));
		int st = pick_store(&s, stores, o->stores, cum, total_weight, day);
		int64_t net = 0, tax = 0;
		const char *pay = payments[range(&s, 0, 3)];
		int y, m, d;

		if (stores[st].head_office && uniform(&s) < 0.7)
			continue;       /* the head office sells rarely */
		civil_from_days(day, &y, &m, &d);
		inv++;
		snprintf(invoice, sizeof invoice, "INV-%04d%02d%02d-%c-%06ld", y, m, d, type == 1 ? 'O' : 'F', inv);
		snprintf(store_invoice, sizeof store_invoice, "S%02d-%ld", st + 1, inv);
		snprintf(t, sizeof t, "%02ld:%02ld:%02ld", range(&s, 9, 21), range(&s, 0, 59), range(&s, 0, 59));
		snprintf(cust, sizeof cust, "Customer %ld", range(&s, 1, 99999));
		snprintf(phone, sizeof phone, "9%09ld", range(&s, 0, 999999999));
		if (k > nlines - written)
			k = (int)(nlines - written);
		for (int i = 0; i < k; i++) {
			struct line *l = &lines[i];
			const struct product *p;
			double u = uniform(&s);

			l->product = pick_product(&s, o->products);
			p = &products[l->product];
			l->qty = u < 0.8 ? range(&s, 1, 3) * 1000 : u < 0.9 ? range(&s, 4, 6) * 1000 :
			    (int64_t[]){ 500, 1250, 2500, 750 }[range(&s, 0, 3)];
			l->discount = uniform(&s) < 0.15 ? p->price * l->qty / 1000 * range(&s, 5, 10) / 100 : 0;
			/* Rounded half up to the paisa, as the export does. */
			l->total = (p->price * l->qty + 500) / 1000 - l->discount;
			net += l->total;
			tax += l->total * gst_rates[p->cat] / (100 + gst_rates[p->cat]);
		}
		for (int i = 0; i < k; i++) {
			struct line *l = &lines[i];
			const struct product *p = &products[l->product];
			int rate = gst_rates[p->cat];
			int64_t gst = l->total * rate / (100 + rate);
			int bad = -1;
			char desc[80];

			if (o->bad_rate > 0 && uniform(&s) < o->bad_rate)
				bad = (int)(badn++ % 5);
			snprintf(desc, sizeof desc, p->newline_desc ? "Sealed pack.\nBest before 6 months." :
			    "%s, %s", categories[p->cat], subcategories[p->sub]);
			field(bad == 3 ? (badn % 2 ? "31/31/2026" : "yesterday") : date, true);
			field(t, false);
			field(bad == 2 ? "" : invoice, false);
			field(store_invoice, false);
			field(stores[st].name, false);
			field(stores[st].gstin, false);
			field(type == 1 ? "online" : "offline", false);
			field(type == 1 ? "App" : "POS", false);
			field("Completed", false);
			field(pay, false);
			field(cust, false);
			field(phone, false);
			field(p->id, false);
			field(p->barcode, false);
			field(p->name, false);
			field(desc, false);
			field(p->brand, false);
			field(categories[p->cat], false);
			field(subcategories[p->sub], false);
			snprintf(buf[0], 48, "%04d", 1000 + p->sub * 7);
			field(buf[0], false);
			field(bad == 1 ? "0" : bad == 4 ? "12,5x" : quantity(buf[1], l->qty), false);
			field(money(buf[2], p->price), false);
			field(money(buf[3], l->discount), false);
			field(money(buf[4], bad == 0 ? -l->total : l->total), false);
			field(money(buf[5], p->cost), false);
			snprintf(buf[6], 48, "%d", rate);
			field(buf[6], false);
			field(money(buf[7], gst), false);
			snprintf(buf[8], 48, "%d.%d", rate / 2, rate % 2 ? 5 : 0);
			field(buf[8], false);
			field(money(buf[9], gst / 2), false);
			field(buf[8], false);
			field(money(buf[10], gst - gst / 2), false);
			field("0.00", false);
			field("0", false);
			field("0.00", false);
			field(type == 1 ? "40.00" : "0.00", false);
			field(money(buf[11], tax), false);
			field(money(buf[2], net), false);
			for (int m2 = 0; m2 < 4; m2++)
				field(strcmp(pay, payments[m2]) == 0 ? buf[2] : "0.00", false);
			field(inv % 3 == 0 ? "gold" : "", false);
			end_record(o);
			written++;
		}
	}
}

static int
parse_date(const char *s, int32_t *day)
{
	int y, m, d;
	char extra;

	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

static void
usage(FILE *fp)
{
	fputs("usage: salesgen --from YYYY-MM-DD --to YYYY-MM-DD [options]\n"
	    "Deterministic synthetic POS sales as CSV (same arguments, same bytes).\n"
	    "  --seed N              world and sales seed (default 1)\n"
	    "  --stores N            stores, the last one \"Head Office\" (default 12)\n"
	    "  --products N          products (default 400)\n"
	    "  --lines N             average lines per day, both order types (default 2000)\n"
	    "  --exact               exactly N lines per day and order type\n"
	    "  --order-type T        online, offline or all (default all)\n"
	    "  --date-format F       ymd, dmy, dmy-slash, mdy-slash or ymd-slash (default ymd)\n"
	    "  --bad-rate R          share of lines made invalid, one defect each (default 0)\n"
	    "  --crlf                end records with CRLF\n"
	    "  --bom                 start with a UTF-8 byte order mark\n"
	    "  --no-awkward          plain ASCII store and product names, no embedded newline\n"
	    "  --output FILE         write to FILE (default standard output)\n", fp);
}

int
main(int argc, char **argv)
{
	static const char *const formats[] = { "ymd", "dmy", "dmy-slash", "mdy-slash", "ymd-slash" };
	struct opts o = { .seed = 1, .stores = 12, .products = 400, .lines = 2000, .types = 3 };
	bool have_from = false, have_to = false;
	struct store *stores;
	struct product *products;
	double *cum, total = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--crlf") == 0) {
			o.crlf = true;
			takes = false;
		} else if (strcmp(a, "--bom") == 0) {
			o.bom = true;
			takes = false;
		} else if (strcmp(a, "--no-awkward") == 0) {
			takes = false;
		} else if (strcmp(a, "--exact") == 0) {
			o.exact = true;
			takes = false;
		} else if (v == NULL) {
			fprintf(stderr, "salesgen: %s needs a value\n", a);
			return 64;
		} else if (strcmp(a, "--seed") == 0) {
			o.seed = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--from") == 0) {
			have_from = parse_date(v, &o.from) == 0;
		} else if (strcmp(a, "--to") == 0) {
			have_to = parse_date(v, &o.to) == 0;
		} else if (strcmp(a, "--stores") == 0) {
			o.stores = atoi(v);
		} else if (strcmp(a, "--products") == 0) {
			o.products = atoi(v);
		} else if (strcmp(a, "--lines") == 0) {
			o.lines = atol(v);
		} else if (strcmp(a, "--bad-rate") == 0) {
			o.bad_rate = strtod(v, NULL);
		} else if (strcmp(a, "--output") == 0) {
			o.output = v;
		} else if (strcmp(a, "--order-type") == 0) {
			o.types = strcmp(v, "online") == 0 ? 1 : strcmp(v, "offline") == 0 ? 2 :
			    strcmp(v, "all") == 0 ? 3 : 0;
		} else if (strcmp(a, "--date-format") == 0) {
			o.date_format = -1;
			for (int k = 0; k < 5; k++)
				if (strcmp(v, formats[k]) == 0)
					o.date_format = k;
		} else {
			fprintf(stderr, "salesgen: unknown option %s\n", a);
			usage(stderr);
			return 64;
		}
		if (takes)
			i++;
	}
	o.awkward = true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--no-awkward") == 0)
			o.awkward = false;
	if (!have_from || !have_to || o.to < o.from || o.stores < 1 || o.stores > 10000 || o.products < 1 ||
	    o.products > 1000000 || o.lines < 0 || o.types == 0 || o.date_format < 0 ||
	    o.bad_rate < 0 || o.bad_rate > 1) {
		fprintf(stderr, "salesgen: bad or missing arguments\n");
		usage(stderr);
		return 64;
	}
	if ((out = malloc(OUTBUF)) == NULL || (stores = calloc((size_t)o.stores, sizeof *stores)) == NULL ||
	    (products = calloc((size_t)o.products, sizeof *products)) == NULL ||
	    (cum = calloc((size_t)o.stores, sizeof *cum)) == NULL) {
		fprintf(stderr, "salesgen: out of memory\n");
		return 1;
	}
	outfp = stdout;
	if (o.output != NULL && (outfp = fopen(o.output, "wb")) == NULL) {
		fprintf(stderr, "salesgen: %s: %s\n", o.output, strerror(errno));
		return 1;
	}
	build_catalog(&o, stores, products);
	for (int i = 0; i < o.stores; i++) {
		total += stores[i].weight;
		cum[i] = total;
	}
	if (o.bom)
		put("\xef\xbb\xbf", 3);
	for (size_t c = 0; c < NCOLS; c++)
		field(header[c], c == 0);
	end_record(&o);
	for (int32_t day = o.from; day <= o.to; day++)
		for (int type = 1; type <= 2; type++)
			if (o.types & type)
				gen_day(&o, stores, products, cum, total, day, type);
	flush_out();
	if (fflush(outfp) != 0 || (outfp != stdout && fclose(outfp) != 0)) {
		perror("salesgen: write");
		return 1;
	}
	free(out);
	free(stores);
	free(products);
	free(cum);
	return 0;
}
