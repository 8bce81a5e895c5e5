#!/usr/bin/env python3
"""The two tools the ETL tests, the demo and the benchmarks stand on:
tools/salesgen (deterministic POS CSV) and tools/sales-api-sim (the POS API
of INTERFACES.md on 127.0.0.1, serving salesgen's CSV, with faults).

Proven here for salesgen: same arguments give the same bytes, and a range is
the concatenation of its days; the header has the 41 columns of INTERFACES.md
(not in their listed order) plus loyaltyTier; the file parses as RFC 4180 with
every row the header's width; the awkward cases are there (and gone with
--no-awkward); each date format; --bad-rate gives its share of defects, one per
row, of each kind; totals, taxes and payments add up; the data has the shape
of real sales. For the simulator: login, the CSV equal to salesgen's for the
same options, base64, 400/401, every fault switch (among them a store missing
until a retry and a day restated, byte for byte salesgen's CSV otherwise), and
that it stops on SIGTERM and when its parent dies.

Environment (set by ctest): SALESGEN (the binary), SALES_API_SIM (the script).
"""
import base64
import csv
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import stop_process  # noqa: E402

SALESGEN = os.environ.get("SALESGEN", "")
SIM = os.environ.get("SALES_API_SIM", "")

# INTERFACES.md, "POS API (the source)", in its order.
COLUMNS = ("invoice storeInvoice orderDate time productId productName barcode quantity sellingPrice "
           "discountAmount totalProductPrice deliveryFee HSNCode GST GSTAmount CGSTRate CGSTAmount "
           "SGSTRate SGSTAmount acessAmount cess cessAmount orderAmountTax orderAmountNet cashAmount "
           "cardAmount upiAmount creditAmount costPrice description brandName categoryName "
           "subCategoryOf storeName GSTIN orderType paymentMethod customerName customerNumber "
           "orderFrom orderStatus").split()
MONEY = ("sellingPrice discountAmount totalProductPrice costPrice GSTAmount CGSTAmount SGSTAmount "
         "acessAmount cessAmount deliveryFee orderAmountTax orderAmountNet cashAmount cardAmount "
         "upiAmount creditAmount").split()
MONEY_RE = re.compile(r"^-?\d+\.\d\d$")
DATE_FORMATS = {"ymd": "%Y-%m-%d", "dmy": "%d-%m-%Y", "dmy-slash": "%d/%m/%Y",
                "mdy-slash": "%m/%d/%Y", "ymd-slash": "%Y/%m/%d"}
CENT = Decimal("0.01")


def gen(*args):
    """salesgen's output for these arguments."""
    return subprocess.run([SALESGEN] + [str(a) for a in args], check=True, capture_output=True,
                          timeout=120).stdout


def parse(data):
    """(header, rows) of a CSV as salesgen writes it."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True))
    return rows[0], rows[1:]


def records(data):
    """Rows as dicts."""
    header, rows = parse(data)
    return [dict(zip(header, r)) for r in rows]


def split_header(data):
    """(header line, body) of a CSV whose header has no quoted newline."""
    i = data.index(b"\n") + 1
    return data[:i], data[i:]


def unparse(header, rows, crlf=False, bom=False):
    """The bytes salesgen writes for these rows: a field quoted only when it
    has a comma, quote, CR or LF (test_csv_shape), every record ending alike."""
    def field(v):
        return '"' + v.replace('"', '""') + '"' if re.search(r'[,"\r\n]', v) else v
    eol = "\r\n" if crlf else "\n"
    text = "".join(",".join(field(v) for v in r) + eol for r in [header] + rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def dec(s):
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def defects(row, fmt="%Y-%m-%d"):
    """The ways a row is invalid, as the ETL must see them."""
    out = []
    try:
        time.strptime(row["orderDate"], fmt)
    except ValueError:
        out.append("date")
    if row["invoice"].strip() == "":
        out.append("invoice")
    qty, total = dec(row["quantity"]), dec(row["totalProductPrice"])
    if qty is None or total is None:
        out.append("number")
    elif qty <= 0:
        out.append("quantity")
    elif total < 0:
        out.append("negative")
    return out


def need_env(test):
    for name, v in (("SALESGEN", SALESGEN), ("SALES_API_SIM", SIM)):
        if not v:
            test.fail(f"{name} is not set: run this test through ctest")


class SalesgenTest(unittest.TestCase):
    def setUp(self):
        need_env(self)

    def test_deterministic(self):
        args = ("--seed", 3, "--from", "2026-02-01", "--to", "2026-02-03", "--bad-rate", "0.02")
        a = gen(*args)
        self.assertEqual(gen(*args), a)
        self.assertNotEqual(gen("--seed", 4, *args[2:]), a)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.csv")
            gen(*args, "--output", out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), a)

    def test_range_is_its_days(self):
        """A day's lines depend on the day, not on --from/--to (the simulator relies on it)."""
        opts = ("--seed", 9, "--stores", 8, "--lines", 300, "--bad-rate", "0.03", "--crlf", "--bom")
        first, last = date(2026, 1, 27), date(2026, 2, 4)
        whole = gen(*opts, "--from", first, "--to", last)
        head, body = split_header(whole)
        days = []
        d = first
        while d <= last:
            h, b = split_header(gen(*opts, "--from", d, "--to", d))
            self.assertEqual(h, head)
            on = split_header(gen(*opts, "--from", d, "--to", d, "--order-type", "online"))[1]
            off = split_header(gen(*opts, "--from", d, "--to", d, "--order-type", "offline"))[1]
            self.assertEqual(b, on + off, f"{d}: all = online + offline")
            days.append(b)
            d += timedelta(days=1)
        self.assertEqual(body, b"".join(days))

    def test_header(self):
        header, rows = parse(gen("--from", "2026-01-05", "--to", "2026-01-05", "--lines", 50))
        self.assertEqual(len(header), 42)
        self.assertEqual(sorted(header), sorted(COLUMNS + ["loyaltyTier"]))
        self.assertNotEqual(header[:41], COLUMNS, "the order must not be INTERFACES.md's")
        self.assertGreater(len(rows), 0)

    def test_csv_shape(self):
        data = gen("--seed", 2, "--from", "2026-01-01", "--to", "2026-01-14", "--bad-rate", "0.05")
        header, rows = parse(data)
        for i, r in enumerate(rows):
            self.assertEqual(len(r), len(header), f"row {i + 1}")
        # Quoting only where needed: a quoted field has a comma, quote, CR or LF.
        for m in re.finditer(rb'(?:^|,)"((?:[^"]|"")*)"(?=,|\r?\n)', data, re.M):
            self.assertRegex(m.group(1), rb'[,"\r\n]')
        self.assertNotIn(b"\r", data)
        self.assertFalse(data.startswith(b"\xef\xbb\xbf"))
        self.assertTrue(data.endswith(b"\n"))

    def test_crlf_and_bom(self):
        args = ("--from", "2026-01-01", "--to", "2026-01-02", "--lines", 300)
        plain = gen(*args)
        data = gen(*args, "--crlf", "--bom")
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        header, rows = parse(data)
        self.assertEqual(header[0], parse(plain)[0][0])
        # Every record ends in CRLF; the newline inside a description stays LF.
        self.assertEqual(data.count(b"\r\n"), len(rows) + 1)
        self.assertTrue(data.endswith(b"\r\n"))
        self.assertEqual(rows, parse(plain)[1])

    def test_awkward_cases(self):
        data = gen("--seed", 7, "--from", "2025-12-22", "--to", "2026-01-31")
        rows = records(data)
        products = {r["productName"] for r in rows}
        stores = {r["storeName"] for r in rows}
        text = data.decode("utf-8")
        self.assertTrue(any("," in p for p in products), "a product name with a comma")
        self.assertTrue(any('"' in p for p in products), "a product name with a quote")
        self.assertIn("Haldiram's Aloo Bhujia, 400g", products)
        self.assertIn("हल्दीराम भुजिया 200g", products)
        self.assertTrue(re.search("[\u0b80-\u0bff]", text), "Tamil")
        self.assertTrue(re.search("[\u0600-\u06ff]", text), "Arabic")
        self.assertTrue(re.search("[\U0001f300-\U0001faff]", text), "an emoji")
        self.assertIn("Café Crème Biscuits", products)
        self.assertTrue(any(p != p.strip() for p in products), "blanks around a name")
        self.assertTrue(any("\n" in r["description"] for r in rows), "an embedded newline")
        self.assertTrue(any("," in s for s in stores) and any('"' in s for s in stores))
        self.assertTrue(any(r["brandName"] == "" for r in rows), "an empty brand")
        # Head Office sells a little.
        by_store = Counter(r["storeName"] for r in rows)
        self.assertIn("Head Office", by_store)
        self.assertLess(by_store["Head Office"], 0.02 * len(rows))
        # Store 3 is closed on Tuesdays.
        days = defaultdict(set)
        for r in rows:
            days[r["storeName"]].add(date.fromisoformat(r["orderDate"]))
        closed = 'Anna Nagar "Main"'
        self.assertTrue(days[closed])
        self.assertFalse([d for d in days[closed] if d.weekday() == 1])
        self.assertTrue([d for d in days["Indiranagar"] if d.weekday() == 1])
        # The store before Head Office opens on 2026-01-01 + (seed mod 365) days.
        self.assertEqual(min(days["HSR Layout"]), date(2026, 1, 8))
        self.assertEqual(min(days["Indiranagar"]), date(2025, 12, 22))

    def test_opening_day_follows_seed(self):
        for seed, opens in ((10, date(2026, 1, 11)), (370, date(2026, 1, 6))):
            rows = records(gen("--seed", seed, "--stores", 5, "--from", "2026-01-01", "--to", "2026-01-15",
                               "--lines", 500))
            days = {date.fromisoformat(r["orderDate"]) for r in rows if r["storeName"] == "Jayanagar 4th Block"}
            self.assertEqual(min(days), opens, f"seed {seed}")

    def test_no_awkward(self):
        data = gen("--from", "2026-01-01", "--to", "2026-01-07", "--no-awkward")
        self.assertTrue(data.isascii())
        rows = records(data)
        for r in rows:
            for col in ("productName", "storeName", "brandName"):
                self.assertRegex(r[col], r"^[A-Za-z0-9][A-Za-z0-9 .&-]*[A-Za-z0-9]$")
            self.assertNotIn("\n", r["description"])

    def test_date_formats(self):
        day = date(2026, 3, 14)         # day > 12: DMY and MDY differ
        bodies = {}
        for name, fmt in DATE_FORMATS.items():
            data = gen("--from", day, "--to", day, "--lines", 200, "--date-format", name)
            rows = records(data)
            self.assertTrue(rows)
            self.assertEqual({r["orderDate"] for r in rows}, {day.strftime(fmt)}, name)
            bodies[name] = [{k: v for k, v in r.items() if k != "orderDate"} for r in rows]
        # Only the date changes.
        for name in DATE_FORMATS:
            self.assertEqual(bodies[name], bodies["ymd"], name)
        r = subprocess.run([SALESGEN, "--from", str(day), "--to", str(day), "--date-format", "iso"],
                           capture_output=True)
        self.assertEqual(r.returncode, 64)

    def test_bad_rate(self):
        rows = records(gen("--seed", 5, "--from", "2026-01-01", "--to", "2026-01-10", "--bad-rate", "0.05"))
        kinds = Counter()
        dates = set()
        for r in rows:
            d = defects(r)
            self.assertLessEqual(len(d), 1, f"one defect per row: {r}")
            kinds.update(d)
            if d == ["date"]:
                dates.add(r["orderDate"])
        n, bad = len(rows), sum(kinds.values())
        self.assertGreater(n, 15000)
        self.assertTrue(0.04 * n < bad < 0.06 * n, f"{bad} of {n}")
        for k in ("date", "invoice", "number", "quantity", "negative"):
            self.assertTrue(0.15 * bad < kinds[k] < 0.25 * bad, f"{k}: {kinds[k]} of {bad}")
        self.assertEqual(dates, {"31/31/2026", "yesterday"})
        clean = records(gen("--seed", 5, "--from", "2026-01-01", "--to", "2026-01-10"))
        self.assertEqual([r for r in clean if defects(r)], [])

    def test_amounts_add_up(self):
        rows = records(gen("--seed", 4, "--from", "2026-01-01", "--to", "2026-01-21"))
        price, cost = {}, {}
        for r in rows:
            self.assertEqual(defects(r), [])
            for col in MONEY:
                self.assertRegex(r[col], MONEY_RE, col)
            q, p, disc, total = (Decimal(r[c]) for c in ("quantity", "sellingPrice", "discountAmount",
                                                           "totalProductPrice"))
            self.assertEqual(total, (q * p - disc).quantize(CENT, rounding=ROUND_HALF_UP), r)
            self.assertTrue(0 <= disc < q * p)
            c = Decimal(r["costPrice"])
            self.assertTrue(Decimal("0.6") * p - CENT <= c <= Decimal("0.9") * p, r)
            # Prices are the product's, every day.
            self.assertEqual(price.setdefault(r["productId"], p), p)
            self.assertEqual(cost.setdefault(r["productId"], c), c)
            self.assertEqual(Decimal(r["CGSTAmount"]) + Decimal(r["SGSTAmount"]), Decimal(r["GSTAmount"]))
            self.assertIn(r["GST"], ("0", "5", "12", "18", "28"))
            self.assertEqual(Decimal(r["CGSTRate"]) * 2, Decimal(r["GST"]))
            pay = {m: Decimal(r[m + "Amount"]) for m in ("cash", "card", "upi", "credit")}
            self.assertEqual(sum(pay.values()), Decimal(r["orderAmountNet"]))
            self.assertEqual(pay[r["paymentMethod"]], Decimal(r["orderAmountNet"]))
            self.assertRegex(r["time"], r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
            self.assertRegex(r["customerNumber"], r"^\d{10}$")
            self.assertIn(r["orderType"], ("online", "offline"))
        # The invoice's lines add up to its net amount.
        net = defaultdict(Decimal)
        for r in rows:
            net[(r["invoice"], r["orderAmountNet"])] += Decimal(r["totalProductPrice"])
        for (inv, amount), s in net.items():
            self.assertEqual(s, Decimal(amount), inv)

    def test_order_types(self):
        args = ("--from", "2026-01-01", "--to", "2026-01-03")
        for t in ("online", "offline"):
            rows = records(gen(*args, "--order-type", t))
            self.assertEqual({r["orderType"] for r in rows}, {t})
        rows = records(gen(*args))
        share = sum(r["orderType"] == "online" for r in rows) / len(rows)
        self.assertTrue(0.2 < share < 0.4, share)

    def test_realistic_shape(self):
        rows = records(gen("--seed", 6, "--from", "2026-01-05", "--to", "2026-02-01"))     # 4 weeks
        # Invoices: unique per day across stores, one store each, 1-8 lines.
        inv = defaultdict(list)
        for r in rows:
            inv[r["invoice"]].append(r)
        for k, lines in inv.items():
            self.assertRegex(k, r"^INV-\d{8}-[OF]-\d{6}$")
            self.assertEqual(k[4:12], lines[0]["orderDate"].replace("-", ""))
            self.assertEqual(len({(r["storeName"], r["orderDate"], r["storeInvoice"]) for r in lines}), 1, k)
            self.assertTrue(1 <= len(lines) <= 8, k)
        self.assertGreater(Counter(len(v) for v in inv.values())[1], 0)
        self.assertTrue(any(len(v) >= 5 for v in inv.values()))
        # storeInvoice carries the store.
        prefix = defaultdict(set)
        for r in rows:
            prefix[r["storeInvoice"].split("-")[0]].add(r["storeName"])
        self.assertTrue(all(len(s) == 1 for s in prefix.values()))
        # Store sizes and product popularity skewed.
        stores = Counter(r["storeName"] for r in rows).most_common()
        self.assertGreater(stores[0][1], 3 * stores[-2][1])
        products = Counter(r["productId"] for r in rows).most_common()
        self.assertGreater(sum(c for _, c in products[:40]), 0.3 * len(rows))
        # Weekends busier than midweek.
        per_day = Counter(date.fromisoformat(r["orderDate"]) for r in rows)
        weekend = [c for d, c in per_day.items() if d.weekday() >= 5]
        midweek = [c for d, c in per_day.items() if d.weekday() in (1, 2)]
        self.assertGreater(min(weekend), max(midweek))
        # Quantities mostly 1-3, some loose goods.
        q = Counter(r["quantity"] for r in rows)
        self.assertGreater(q["1"] + q["2"] + q["3"], 0.7 * len(rows))
        self.assertTrue(any("." in k for k in q))
        # A catalogue of about 10 categories, 40 sub-categories, 60 brands.
        cats = defaultdict(set)
        for r in rows:
            cats[r["subCategoryOf"]].add(r["categoryName"])
        self.assertEqual(len(cats), 10)
        self.assertIn("Soft Drinks", cats["Beverages"])
        self.assertEqual(sum(len(s) for s in cats.values()), 40)
        self.assertEqual(len({s for v in cats.values() for s in v}), 40, "a sub-category has one parent")
        self.assertGreater(len({r["brandName"] for r in rows}), 45)

    def test_trend(self):
        args = ("--seed", 8, "--from", "2026-01-05", "--to", "2026-01-11")
        early = len(records(gen(*args)))
        late = len(records(gen("--seed", 8, "--from", "2026-12-07", "--to", "2026-12-13")))
        self.assertGreater(late, early * 1.05)

    def test_exact_and_bad_arguments(self):
        rows = records(gen("--from", "2026-01-01", "--to", "2026-01-01", "--lines", 123, "--exact"))
        self.assertEqual(len(rows), 246)
        for bad in (["--from", "2026-01-02", "--to", "2026-01-01"], ["--to", "2026-01-01"],
                    ["--from", "2026-01-01", "--to", "2026-01-01", "--order-type", "both"],
                    ["--from", "2026-01-01", "--to", "2026-01-01", "--bad-rate", "2"],
                    ["--frobnicate", "1", "--from", "2026-01-01", "--to", "2026-01-01"]):
            r = subprocess.run([SALESGEN] + bad, capture_output=True)
            self.assertEqual(r.returncode, 64, bad)
            self.assertIn(b"usage:", r.stderr)
        r = subprocess.run([SALESGEN, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for opt in ("--seed", "--stores", "--products", "--lines", "--order-type", "--date-format",
                    "--bad-rate", "--crlf", "--bom", "--no-awkward", "--output"):
            self.assertIn(opt, r.stdout)


# The simulator's world: small, so that requests are quick.
GEN = ["--seed", "5", "--stores", "6", "--products", "60", "--lines", "200"]


class Sim:
    """The simulator as a child process; stop() ends it (also when a test failed)."""

    def __init__(self, *options):
        self.log = tempfile.TemporaryFile()
        args = [sys.executable, SIM, "--salesgen", SALESGEN, "--exit-with-parent"] + list(options)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\n", line)
        if not m:
            self.stop()
            raise RuntimeError(f"simulator did not start: {line!r} {self.stderr()}")
        self.port = int(m.group(1))

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()
        self.log.close()

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body); the body read to its end."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r, r.read()
        finally:
            conn.close()

    def login(self, username="demo", password="demo-password"):
        body = json.dumps({"username": username, "password": password})
        return self.request("POST", "/login", body, {"Content-Type": "application/json"})

    def token(self):
        status, _, body = self.login()
        if status not in (200, 201):
            raise AssertionError(f"login: {status} {body!r}")
        return json.loads(body)["token"]

    def csv(self, token, order_type="offline", first="2026-03-10", last=None):
        path = f"/orders/orderReportCSV?orderType={order_type}&fromDate={first}&toDate={last or first}"
        return self.request("GET", path, headers={"Authorization": token} if token is not None else {})


class SimulatorTest(unittest.TestCase):
    def setUp(self):
        need_env(self)

    def sim(self, *options):
        s = Sim(*options)
        self.addCleanup(s.stop)
        return s

    def test_login(self):
        s = self.sim(*GEN)
        status, r, body = s.login()
        self.assertEqual(status, 201)
        self.assertTrue(r.getheader("Content-Type").startswith("application/json"))
        self.assertTrue(json.loads(body)["token"])
        for user, pw in (("demo", "wrong"), ("someone", "demo-password"), ("", "")):
            status, _, body = s.login(user, pw)
            self.assertEqual(status, 401)
            self.assertIn("error", json.loads(body))
        status, _, _ = s.request("POST", "/login", "not json", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        # One log line per request, on stderr.
        self.assertEqual(len([ln for ln in s.stderr().splitlines() if "POST /login" in ln]), 5)

    def test_login_options(self):
        s = self.sim("--login-status", "200", "--username", "u", "--password", "p w", *GEN)
        self.assertEqual(s.login()[0], 401)
        status, _, body = s.login("u", "p w")
        self.assertEqual(status, 200)
        self.assertTrue(json.loads(body)["token"])

    def test_csv_is_salesgen(self):
        opts = ["--date-format", "dmy-slash", "--bad-rate", "0.02", "--crlf", "--bom"]
        s = self.sim(*GEN, *opts)
        token = s.token()
        for t, first, last in (("online", "2026-03-10", "2026-03-10"), ("offline", "2026-03-10", "2026-03-10"),
                               ("offline", "2026-02-27", "2026-03-02")):
            status, r, body = s.csv(token, t, first, last)
            self.assertEqual(status, 200)
            self.assertTrue(r.getheader("Content-Type").startswith("text/csv"))
            self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
            want = gen(*GEN, *opts, "--order-type", t, "--from", first, "--to", last)
            self.assertEqual(body, want, f"{t} {first}..{last}")
            self.assertGreater(len(parse(body)[1]), 10)

    def test_unauthorised_and_bad_queries(self):
        s = self.sim(*GEN)
        token = s.token()
        self.assertEqual(s.csv(None)[0], 401)
        self.assertEqual(s.csv("not-a-token")[0], 401)
        self.assertEqual(s.csv("Bearer " + token)[0], 401)
        for q in ("orderType=all&fromDate=2026-03-10&toDate=2026-03-10",
                  "orderType=online&fromDate=10-03-2026&toDate=2026-03-10",
                  "orderType=online&fromDate=2026-03-10&toDate=2026-03-09",
                  "orderType=online&fromDate=2026-03-10", ""):
            status, _, body = s.request("GET", "/orders/orderReportCSV?" + q, headers={"Authorization": token})
            self.assertEqual(status, 400, q)
            self.assertIn("error", json.loads(body))
        self.assertEqual(s.request("GET", "/nowhere", headers={"Authorization": token})[0], 404)
        self.assertEqual(s.csv(token)[0], 200)

    def test_base64(self):
        s = self.sim(*GEN, "--base64", "--bom")
        status, r, body = s.csv(s.token(), "online")
        self.assertEqual(status, 200)
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        lines = body.split(b"\r\n")
        self.assertEqual(lines[-1], b"")
        self.assertTrue(all(0 < len(ln) <= 76 for ln in lines[:-1]))
        self.assertTrue(all(len(ln) == 76 for ln in lines[:-2]))
        self.assertNotIn(b"\n", body.replace(b"\r\n", b""))
        self.assertEqual(base64.b64decode(body.replace(b"\r\n", b"")),
                         gen(*GEN, "--bom", "--order-type", "online", "--from", "2026-03-10", "--to", "2026-03-10"))

    def test_fail_first(self):
        s = self.sim(*GEN, "--fail-first", "2")
        token = s.token()
        self.assertEqual([s.csv(token)[0] for _ in range(4)], [500, 500, 200, 200])

    def test_fail_login(self):
        s = self.sim(*GEN, "--fail-login", "2")
        self.assertEqual([s.login()[0] for _ in range(3)], [500, 500, 201])
        self.assertEqual(s.csv(s.token())[0], 200)

    def test_slow(self):
        s = self.sim("--seed", "5", "--stores", "6", "--products", "60", "--lines", "10", "--slow", "150")
        token = s.token()
        start = time.monotonic()
        status, _, body = s.csv(token)
        took = time.monotonic() - start
        self.assertEqual(status, 200)
        self.assertEqual(body, gen("--seed", 5, "--stores", 6, "--products", 60, "--lines", 10,
                                   "--order-type", "offline", "--from", "2026-03-10", "--to", "2026-03-10"))
        chunks = -(-len(body) // 1024)
        self.assertGreater(chunks, 1)
        self.assertGreaterEqual(took, 0.15 * (1 + chunks) * 0.9)

    def test_cut_after(self):
        s = self.sim(*GEN, "--cut-after", "1000")
        token = s.token()
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        self.addCleanup(conn.close)
        conn.request("GET", "/orders/orderReportCSV?orderType=offline&fromDate=2026-03-10&toDate=2026-03-10",
                     headers={"Authorization": token})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        with self.assertRaises(http.client.IncompleteRead) as cm:
            r.read()
        want = gen(*GEN, "--order-type", "offline", "--from", "2026-03-10", "--to", "2026-03-10")
        self.assertGreater(len(want), 1000)
        self.assertEqual(cm.exception.partial, want[:1000])

    def test_empty_day(self):
        s = self.sim(*GEN, "--empty-day", "2026-03-10")
        token = s.token()
        head = split_header(gen(*GEN, "--from", "2026-03-10", "--to", "2026-03-10"))[0]
        for t in ("online", "offline"):
            status, _, body = s.csv(token, t, "2026-03-10")
            self.assertEqual((status, body), (200, head), t)
        status, _, body = s.csv(token, "offline", "2026-03-11")
        self.assertEqual(status, 200)
        self.assertGreater(len(parse(body)[1]), 10)

    def test_missing_and_short_stores(self):
        # A day on which one store has not synced and another only partly: the
        # other stores' records are the generator's, record for record.
        day = "2026-03-10"
        full = records(gen(*GEN, "--order-type", "offline", "--from", day, "--to", day))
        stores = sorted({r["storeName"].strip() for r in full})
        gone, part = stores[0], stores[1]
        s = self.sim(*GEN, "--missing-store", f"{day}:{gone}", "--short-store", f"{day}:{part}:25")
        status, _, body = s.csv(s.token(), "offline", day)
        self.assertEqual(status, 200)
        got = records(body)
        self.assertNotIn(gone, {r["storeName"].strip() for r in got})
        want_part = [r for r in full if r["storeName"].strip() == part]
        got_part = [r for r in got if r["storeName"].strip() == part]
        self.assertEqual(got_part, want_part[:len(want_part) * 25 // 100])
        self.assertGreater(len(want_part), len(got_part))
        others = [r for r in full if r["storeName"].strip() not in (gone, part)]
        self.assertEqual([r for r in got if r["storeName"].strip() not in (gone, part)], others)
        # Another day is whole.
        status, _, body = s.csv(s.token(), "offline", "2026-03-11")
        self.assertEqual(records(body), records(gen(*GEN, "--order-type", "offline", "--from", "2026-03-11",
                                                     "--to", "2026-03-11")))

    def test_missing_store_until_retry(self):
        # DAY:STORE:N: a store that syncs late is missing from the first N
        # downloads of the day of each order type, then there; DAY:STORE stays
        # missing. Only downloads of the day alone count.
        day, late, never = "2026-03-11", 'Anna Nagar "Main"', "Whitefield"
        full = {t: gen(*GEN, "--order-type", t, "--from", day, "--to", day) for t in ("online", "offline")}
        for t, data in full.items():
            by_store = Counter(r["storeName"].strip() for r in records(data))
            self.assertGreater(by_store[late], 0, t)
            self.assertGreater(by_store[never], 0, t)
        s = self.sim(*GEN, "--missing-store", f"{day}:{late}:1", "--missing-store", f"{day}:{never}",
                     "--missing-store", f"2026-03-12:{late}:2")
        token = s.token()

        def without(t, stores):
            header, rows = parse(full[t])
            return unparse(header, [r for r in rows if r[header.index("storeName")].strip() not in stores])

        status, _, body = s.csv(token, "offline", "2026-03-10", day)
        self.assertEqual((status, body), (200, gen(*GEN, "--order-type", "offline", "--from", "2026-03-10",
                                                   "--to", day)), "a range is not thinned, nor counted")
        self.assertEqual(unparse(*parse(full["offline"])), full["offline"])
        for i, t in enumerate(("offline", "online", "online", "offline", "offline")):
            first = i < 2
            status, _, body = s.csv(token, t, day)
            self.assertEqual(status, 200)
            self.assertEqual(body, without(t, {late, never} if first else {never}), f"download {i + 1}: {t}")
            got = Counter(r["storeName"].strip() for r in records(body))
            self.assertEqual(got[late] == 0, first, f"download {i + 1}: {t}")
            self.assertEqual(got[never], 0)
        # The late store's lines are salesgen's, record for record.
        want = [r for r in records(full["offline"]) if r["storeName"].strip() == late]
        self.assertEqual([r for r in records(body) if r["storeName"].strip() == late], want)
        # Downloads at the same time are counted one by one.
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(lambda _: s.csv(token, "offline", "2026-03-12"), range(6)))
        self.assertEqual([status for status, _, _ in got], [200] * 6)
        lacking = [not any(r["storeName"].strip() == late for r in records(body)) for _, _, body in got]
        self.assertEqual(sum(lacking), 2)

    def test_restate(self):
        # DAY:STORE:PCT:N: the first N downloads of the day (of each order type)
        # are salesgen's bytes; from then on STORE's totals are PCT percent of
        # them, rounded half up to the paisa, and nothing else changes.
        day, store = "2026-03-10", "Koramangala, Bengaluru"
        opts = [*GEN, "--bad-rate", "0.05", "--crlf", "--bom"]
        full = {t: gen(*opts, "--order-type", t, "--from", day, "--to", day) for t in ("online", "offline")}
        s = self.sim(*opts, "--restate", f"{day}:{store}:110:1", "--restate", f"{day}:{store}:90:3")
        token = s.token()

        def restated(t, pct):
            header, rows = parse(full[t])
            col, total = header.index("storeName"), header.index("totalProductPrice")
            out = []
            for r in rows:
                if r[col].strip() == store:
                    r = list(r)
                    r[total] = str((Decimal(r[total]) * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP))
                out.append(r)
            return unparse(header, out, crlf=True, bom=True)

        def totals(data):
            sums = defaultdict(Decimal)
            for r in records(data):
                sums[r["storeName"].strip()] += Decimal(r["totalProductPrice"])
            return sums

        for t in ("online", "offline"):
            self.assertEqual(unparse(*parse(full[t]), crlf=True, bom=True), full[t])
            self.assertGreater(sum(r["storeName"].strip() == store for r in records(full[t])), 5, t)
        self.assertTrue(any(r["storeName"].strip() == store and r["totalProductPrice"].startswith("-")
                            for t in full for r in records(full[t])), "a negative total (--bad-rate) is restated")
        seen = Counter()
        for t in ("offline", "online", "offline", "online", "offline", "offline"):
            seen[t] += 1
            status, _, body = s.csv(token, t, day)
            self.assertEqual(status, 200)
            pct = 100 if seen[t] == 1 else 110 if seen[t] <= 3 else 90
            want = full[t] if pct == 100 else restated(t, pct)
            self.assertEqual(body, want, f"{t} download {seen[t]}")
            # The store's sum moves by PCT - 100 percent (give or take half a
            # paisa a line); the other stores' records are salesgen's.
            before, after = totals(full[t]), totals(body)
            n = sum(r["storeName"].strip() == store for r in records(body))
            self.assertLessEqual(abs(after[store] - before[store] * pct / 100), n * Decimal("0.005"))
            if pct != 100:
                self.assertNotEqual(after[store], before[store])
            self.assertEqual({k: v for k, v in after.items() if k != store},
                             {k: v for k, v in before.items() if k != store})
            self.assertEqual([r for r in records(body) if r["storeName"].strip() != store],
                             [r for r in records(full[t]) if r["storeName"].strip() != store])
            self.assertEqual([{k: v for k, v in r.items() if k != "totalProductPrice"} for r in records(body)],
                             [{k: v for k, v in r.items() if k != "totalProductPrice"} for r in records(full[t])])
        # Another day, and a range with the day in it, are salesgen's.
        for first, last in (("2026-03-11", "2026-03-11"), ("2026-03-09", day)):
            status, _, body = s.csv(token, "offline", first, last)
            self.assertEqual((status, body), (200, gen(*opts, "--order-type", "offline", "--from", first,
                                                       "--to", last)), f"{first}..{last}")

    def test_store_switches_refused(self):
        for bad in (["--missing-store", "2026-03-10"], ["--missing-store", "10-03-2026:Indiranagar"],
                    ["--missing-store", "2026-02-30:Indiranagar"], ["--missing-store", "2026-03-10::1"],
                    ["--missing-store", "2026-03-10: "],
                    ["--short-store", "2026-03-10:Indiranagar:101"],
                    ["--restate", "2026-03-10:Indiranagar:110"], ["--restate", "2026-03-10:Indiranagar:1001:1"],
                    ["--restate", "2026-03-10:Indiranagar:-10:1"], ["--restate", "2026-03-10:Indiranagar:10.5:1"],
                    ["--restate", "2026-03-10:Indiranagar:110:-1"], ["--restate", "2026-03-10:Indiranagar:110:x"],
                    ["--restate", "2026-03-10::110:1"], ["--restate", "2026/03/10:Indiranagar:110:1"],
                    ["--restate", "2026-03-10:Indiranagar:110:1", "--restate", "2026-03-10:Indiranagar:90:1"]):
            r = subprocess.run([sys.executable, SIM, "--salesgen", SALESGEN] + bad, capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(f"error: {bad[0]}", r.stderr, bad)
            self.assertEqual(r.stdout, "", bad)

    def test_token_ttl(self):
        s = self.sim(*GEN, "--token-ttl", "2")
        token = s.token()
        self.assertEqual([s.csv(token)[0] for _ in range(3)], [200, 200, 401])
        token2 = s.token()
        self.assertNotEqual(token2, token)
        self.assertEqual(s.csv(token2)[0], 200)
        self.assertEqual(s.csv(token)[0], 401)

    def test_wrong_header(self):
        s = self.sim(*GEN, "--wrong-header")
        status, _, body = s.csv(s.token())
        self.assertEqual(status, 200)
        header, rows = parse(body)
        self.assertEqual(len(header), 40)
        self.assertNotIn("productName", header)
        self.assertNotIn("storeName", header)
        self.assertTrue(all(len(r) == 40 for r in rows))
        full = records(gen(*GEN, "--order-type", "offline", "--from", "2026-03-10", "--to", "2026-03-10"))
        self.assertEqual([dict(zip(header, r)) for r in rows],
                         [{k: v for k, v in r.items() if k not in ("productName", "storeName")} for r in full])

    def test_port_file_and_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "port")
            s = self.sim(*GEN, "--port-file", pf)
            with open(pf) as f:
                self.assertEqual(int(f.read()), s.port)
        self.assertEqual(s.login()[0], 201)
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.proc.wait(5), 0)
        s2 = self.sim(*GEN)
        s2.proc.send_signal(signal.SIGINT)
        self.assertEqual(s2.proc.wait(5), 0)

    def test_missing_salesgen(self):
        r = subprocess.run([sys.executable, SIM, "--salesgen", "/nonexistent/salesgen"], capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("salesgen", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_exit_with_parent(self):
        """The simulator goes when the process that started it dies, even by SIGKILL."""
        code = ("import subprocess, sys\n"
                "p = subprocess.Popen([sys.executable, sys.argv[1], '--salesgen', sys.argv[2], "
                "'--exit-with-parent'], stdout=subprocess.PIPE, text=True)\n"
                "print(p.pid, p.stdout.readline().strip(), flush=True)\n"
                "sys.stdin.read()\n")
        parent = subprocess.Popen([sys.executable, "-c", code, SIM, SALESGEN], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(parent.wait)
        self.addCleanup(parent.kill)
        line = parent.stdout.readline().split()
        parent.stdout.close()
        pid = int(line[0])
        self.addCleanup(self.kill_quietly, pid)
        self.assertEqual(line[1:3], ["listening", "on"])
        self.assertTrue(self.alive(pid))
        parent.kill()
        parent.wait()
        parent.stdin.close()
        deadline = time.monotonic() + 10
        while self.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(self.alive(pid), "the simulator outlived its parent")

    @staticmethod
    def alive(pid):
        """Whether pid runs (a zombie no longer does)."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    @staticmethod
    def kill_quietly(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    unittest.main(verbosity=2)
