#!/usr/bin/env python3
"""The ETL end to end: the real salesd binary ("run etl", "backfill etl")
downloading from the real POS API simulator (tools/sales-api-sim, serving
tools/salesgen data) into a real PostgreSQL (the ctest fixture "pg").

Proven here: KPI tables equal an independent calculation made in this test
from the same generated CSV (Python's csv module and Decimal, not SQL);
re-runs give identical tables; base64, CRLF, BOM, quotes, embedded newlines
and non-ASCII names load exactly; every fault of the simulator ends in a
retry or a clear failure with the old day intact; missing columns and
ambiguous dates are refused with nothing written; bad rows go to etl_reject
and a flood of them quarantines the day; kill -9 of the ETL child in the
middle of its COPY or of its transaction leaves the previous day as it was.
Bad bytes (invalid UTF-8, NUL, a lone CR) in any column and records past the
parser's limits are rejects stored as valid text while the day loads; data
that waiting cannot fix exits 65 without a retry; a database session lost in
the middle of the COPY exits 75.

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM,
SALESD_PGHOST.
"""
import base64
import csv
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PGHOST, SALESD, make_ca, psql, require_env  # noqa: E402
from harness import Sim as _Sim  # noqa: E402
from harness import generate as _generate  # noqa: E402

# The generated world: small, so that the suite stays fast.
GEN = ["--seed", "11", "--stores", "6", "--products", "80", "--lines", "400"]
ORDER_TYPES = ["online", "offline"]
EXCLUDED = "Head Office"
# Bad source data that waiting cannot fix (-EBADMSG): not retried.
EX_DATAERR = 65
EX_TEMPFAIL = 75


def csv_field(v):
    """One CSV field (bytes), quoted only when a comma, quote or LF needs it (a CR alone does not)."""
    if any(c in v for c in (b",", b'"', b"\n")):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def csv_line(fields):
    return b",".join(csv_field(f) for f in fields) + b"\n"


def data_rows(text):
    """The header and data rows of a CSV text, as lists of bytes."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [[f.encode() for f in r] for r in rows]


def generate(day, order_type, extra=()):
    return _generate(GEN, day, order_type, extra)


def reference_kpis(day, extra=()):
    """KPI rows for a day computed here from the CSV, as INTERFACES.md defines them."""
    return reference_from_texts([generate(day, t, extra).decode("utf-8-sig") for t in ORDER_TYPES])


def reference_from_texts(texts):
    """KPI rows and line count of the given CSV texts (every row valid)."""
    acc = {dim: defaultdict(lambda: {"inv": set(), "sales": Decimal(0), "qty": Decimal(0),
                                     "cost": Decimal(0)})
           for dim in ("store", "category", "brand", "product")}
    nlines = 0
    for text in texts:
        for row in csv.DictReader(io.StringIO(text, newline="")):
            nlines += 1
            store = row["storeName"].strip()
            if store == EXCLUDED:
                continue
            keys = {"store": store, "category": row["subCategoryOf"].strip() or "(none)",
                    "brand": row["brandName"].strip() or "(none)", "product": row["productName"].strip()}
            qty = Decimal(row["quantity"].strip())
            total = Decimal(row["totalProductPrice"].strip())
            cost = Decimal(row["costPrice"].strip() or "0") * qty
            for dim, key in keys.items():
                a = acc[dim][key]
                a["inv"].add(row["invoice"].strip())
                a["sales"] += total
                a["qty"] += qty
                a["cost"] += cost
    out = {}
    for dim, m in acc.items():
        out[dim] = {k: (len(a["inv"]), a["sales"], a["qty"], a["cost"], money_div(a["sales"], len(a["inv"])))
                    for k, a in m.items()}
    return out, nlines


def money_div(sales, orders):
    """round(sales / orders, 2) as PostgreSQL's numeric does it (half away from zero)."""
    return (sales / Decimal(orders)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def db_kpis(db, day):
    out = {}
    for dim, table in (("store", "kpi_store_day"), ("category", "kpi_category_day"),
                       ("brand", "kpi_brand_day"), ("product", "kpi_product_day")):
        rows = psql(db, f"SELECT {dim}, orders, sales, quantity, cost, aov FROM salesd.{table} "
                        f"WHERE day = '{day}'")
        out[dim] = {r[0]: (int(r[1]), Decimal(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]))
                    for r in rows}
    return out


def Sim(*options):
    return _Sim(GEN, *options)


class EtlTest(unittest.TestCase):
    counter = 0

    def setUp(self):
        require_env(self)
        EtlTest.counter += 1
        self.db = f"etl_{os.getpid()}_{EtlTest.counter}"
        psql("postgres", f"CREATE DATABASE {self.db}")
        self.addCleanup(psql, "postgres", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        self.tmp = tempfile.TemporaryDirectory(prefix="salesd-etl-")
        self.addCleanup(self.tmp.cleanup)
        self.sims = []
        self.addCleanup(self.stop_sims)

    def stop_sims(self):
        for s in self.sims:
            s.stop()

    def sim(self, *options):
        s = Sim(*options)
        self.sims.append(s)
        return s

    def config(self, sim, retries=0, **source):
        settings = {"base_url": sim.url, "username": "demo", "password": "demo-password",
                    "order_types": ", ".join(ORDER_TYPES), "date_format": "ymd", "request_retries": "2",
                    "request_retry_delay": "20ms", "connect_timeout": "3s", "stall_timeout": "3s",
                    "reject_threshold": "1%"}
        settings.update(source)
        lines = ["[salesd]", "timezone = Asia/Kolkata", f"exclude_stores = {EXCLUDED}",
                 f"state_dir = {self.tmp.name}/state", "[database]",
                 f"conninfo = host={PGHOST} user=salesd_test dbname={self.db}", "[source]"]
        lines += [f"{k} = {v}" for k, v in settings.items()]
        lines += ["[job etl]", "kind = etl", "schedule = 30 1 * * *", f"retries = {retries}",
                  "retry_delay = 20ms"]
        path = os.path.join(self.tmp.name, "salesd.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def forget_runs(self):
        """Empty the ledger (if salesd created it yet), so that a day can run again."""
        psql(self.db, "DO $$ BEGIN IF to_regclass('salesd.task_instance') IS NOT NULL THEN "
                      "DELETE FROM salesd.task_instance; END IF; END $$")

    def salesd(self, conf, *args, timeout=120):
        return subprocess.run([SALESD, "--config", conf] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def run_etl(self, conf, day, *more, expect=0):
        r = self.salesd(conf, "run", "etl", "--date", day, *more)
        self.assertEqual(r.returncode, expect, f"salesd run etl --date {day}: {r.stderr}")
        return r

    def snapshot(self, day):
        """Everything the day left in the database, to compare runs."""
        return {t: psql(self.db, f"SELECT * FROM salesd.{t} WHERE day = '{day}' ORDER BY 1, 2, 3")
                for t in ("kpi_store_day", "kpi_category_day", "kpi_brand_day", "kpi_product_day")} | {
            "lines": psql(self.db, f"SELECT order_type, line, invoice, store, product, brand, category, "
                                   f"quantity, total, cost_price FROM salesd.sales_line WHERE day = '{day}' "
                                   f"ORDER BY order_type, line")}

    def assert_kpis(self, day, extra=(), texts=None, rejected=0):
        want, nlines = reference_kpis(day, extra) if texts is None else reference_from_texts(texts)
        got = db_kpis(self.db, day)
        for dim in want:
            self.assertEqual(got[dim], want[dim], f"{dim} KPIs of {day}")
        n = psql(self.db, f"SELECT count(*) FROM salesd.sales_line WHERE day = '{day}'")[0][0]
        self.assertEqual(int(n), nlines)
        state = psql(self.db, f"SELECT state, lines, rejected FROM salesd.etl_day WHERE day = '{day}'")
        self.assertEqual(state, [["loaded", str(nlines), str(rejected)]])

    def file_sim(self, name, data, *options):
        """A simulator serving data (bytes) for every request."""
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return self.sim("--csv-file", path, *options)

    # -- the tests -------------------------------------------------------

    def test_kpis_equal_reference_and_rerun_identical(self):
        conf = self.config(self.sim())
        r = self.salesd(conf, "backfill", "etl", "--from", "2026-11-20", "--to", "2026-11-22")
        self.assertEqual(r.returncode, 0, r.stderr)
        for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
            self.assert_kpis(day)
        # The excluded store is kept in the lines but not in the KPIs.
        self.assertTrue(psql(self.db, f"SELECT 1 FROM salesd.sales_line WHERE store = '{EXCLUDED}' LIMIT 1"))
        self.assertFalse(psql(self.db, f"SELECT 1 FROM salesd.kpi_store_day WHERE store = '{EXCLUDED}'"))
        before = self.snapshot("2026-11-21")
        self.run_etl(conf, "2026-11-21", "--force")
        self.assertEqual(self.snapshot("2026-11-21"), before)

    def test_awkward_encodings_load_exactly(self):
        plain = self.sim()
        self.run_etl(self.config(plain), "2026-11-23")
        want = self.snapshot("2026-11-23")
        # The same data base64-encoded, with CRLF and a BOM: the same lines and KPIs.
        psql(self.db, "DELETE FROM salesd.etl_day; DROP TABLE IF EXISTS salesd.sales_line_20261123; "
                      "DELETE FROM salesd.kpi_store_day; DELETE FROM salesd.kpi_product_day; "
                      "DELETE FROM salesd.kpi_brand_day; DELETE FROM salesd.kpi_category_day; "
                      "DELETE FROM salesd.task_instance")
        odd = self.sim("--base64", "--crlf", "--bom")
        self.run_etl(self.config(odd), "2026-11-23")
        self.assertEqual(self.snapshot("2026-11-23"), want)
        # Quotes, commas, non-ASCII scripts and embedded newlines arrived as written.
        names = {r[0] for r in psql(self.db, "SELECT DISTINCT product FROM salesd.sales_line")}
        ref = set()
        for t in ORDER_TYPES:
            text = generate("2026-11-23", t).decode("utf-8-sig")
            ref |= {row["productName"].strip() for row in csv.DictReader(io.StringIO(text, newline=""))}
        self.assertEqual(names, ref)
        self.assertTrue(any(any(ord(c) > 0x900 for c in n) for n in names), "no non-ASCII names")
        self.assertTrue(any('"' in n or "," in n for n in names), "no quotes or commas in names")

    def test_transient_faults_are_retried(self):
        for opts in (("--fail-first", "2"), ("--fail-login", "1"), ("--token-ttl", "1")):
            with self.subTest(opts=opts):
                self.forget_runs()
                sim = self.sim(*opts)
                r = self.run_etl(self.config(sim), "2026-11-23", "--force")
                self.assert_kpis("2026-11-23")
                self.assertTrue("trying again" in r.stderr or "logging in again" in r.stderr, r.stderr)

    def test_failures_keep_the_old_day(self):
        conf = self.config(self.sim())
        self.run_etl(conf, "2026-11-23")
        before = self.snapshot("2026-11-23")
        cases = (
            (("--cut-after", "3000"), {}, 75, "cut off"),
            (("--fail-first", "50"), {}, 75, "HTTP 500"),
            ((), {"password": "wrong"}, 1, "login refused"),
            (("--slow", "2500"), {"stall_timeout": "1s"}, 75, "too slow"),
        )
        for opts, source, code, message in cases:
            with self.subTest(opts=opts, source=source):
                sim = self.sim(*opts)
                conf = self.config(sim, **source)
                r = self.run_etl(conf, "2026-11-23", "--force", expect=code)
                self.assertIn(message, r.stderr)
                if code == 1:
                    self.assertIn("exit status 78", r.stderr, "a refused login is the configuration")
                self.assertNotIn("wrong", r.stderr.replace("password", ""), "the password was logged")
                self.assertEqual(self.snapshot("2026-11-23"), before)
        # A server that is not there at all.
        dead = self.sim()
        conf = self.config(dead)
        dead.stop()
        r = self.run_etl(conf, "2026-11-23", "--force", expect=75)
        self.assertEqual(self.snapshot("2026-11-23"), before)

    def test_tls_verified(self):
        # A private CA and a certificate for 127.0.0.1 it signed.
        ca, cert, key = make_ca(self.tmp.name)
        sim = self.sim("--tls-cert", cert, "--tls-key", key)
        self.assertTrue(sim.url.startswith("https://"))
        # Not trusted: refused, not retried as if the server were down, nothing loaded.
        r = self.run_etl(self.config(sim, retries=2), "2026-11-23", expect=1)
        self.assertIn("certificate", r.stderr)
        self.assertIn("exit status 78", r.stderr)
        self.assertEqual(psql(self.db, "SELECT attempts FROM salesd.task_instance"), [["1"]])
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.etl_day")[0][0], "0")
        # Trusted through [source] ca_file.
        self.forget_runs()
        self.run_etl(self.config(sim, ca_file=ca), "2026-11-23")
        self.assert_kpis("2026-11-23")

    def test_empty_day_is_a_day_without_sales(self):
        # A header and no rows: the stores sold nothing; the day is loaded, empty.
        self.run_etl(self.config(self.sim("--empty-day", "2026-11-23")), "2026-11-23")
        self.assertEqual(psql(self.db, "SELECT state, lines, rejected FROM salesd.etl_day"), [["loaded", "0", "0"]])
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.kpi_store_day")[0][0], "0")

    def test_missing_columns_write_nothing(self):
        r = self.run_etl(self.config(self.sim("--wrong-header")), "2026-11-23", expect=1)
        self.assertIn("exit status 65", r.stderr)
        self.assertIn("required columns missing: productName, storeName", r.stderr)
        self.assertIn("the header has:", r.stderr)
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.etl_day")[0][0], "0")
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.sales_line")[0][0], "0")

    def test_date_formats(self):
        sim = self.sim("--date-format", "dmy-slash")
        # The 23rd reads one way only; the 5th of November reads as 11 May too.
        self.run_etl(self.config(sim, date_format="auto"), "2026-11-23")
        self.assert_kpis("2026-11-23", ("--date-format", "dmy-slash"))
        r = self.run_etl(self.config(sim, date_format="auto"), "2026-11-05", expect=1)
        self.assertIn("exit status 65", r.stderr)
        self.assertIn("ambiguous", r.stderr)
        self.assertIn("date_format = dmy-slash or mdy-slash", r.stderr)
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.etl_day WHERE day = '2026-11-05'")[0][0], "0")
        self.forget_runs()
        self.run_etl(self.config(sim, date_format="dmy-slash"), "2026-11-05")
        self.assert_kpis("2026-11-05", ("--date-format", "dmy-slash"))

    def test_bad_rows_rejected_or_quarantined(self):
        sim = self.sim("--bad-rate", "0.004")
        self.run_etl(self.config(sim, reject_threshold="5%"), "2026-11-23")
        rejects = psql(self.db, "SELECT field, reason, line, raw FROM salesd.etl_reject ORDER BY line")
        self.assertTrue(rejects, "no rejects recorded")
        got = psql(self.db, "SELECT lines, rejected FROM salesd.etl_day WHERE day = '2026-11-23'")[0]
        total = 0
        for t in ORDER_TYPES:
            text = generate("2026-11-23", t, ("--bad-rate", "0.004")).decode("utf-8-sig")
            total += sum(1 for _ in csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual(int(got[0]) + int(got[1]), total, "a row was neither loaded nor rejected")
        self.assertEqual(int(got[1]), len(rejects))
        for field, reason, line, raw in rejects:
            self.assertTrue(reason and raw, (field, reason, line))
        # A flood: quarantined, nothing of the day left, the task fails.
        sim2 = self.sim("--bad-rate", "0.05")
        r = self.run_etl(self.config(sim2), "2026-11-23", "--force", expect=1)
        self.assertIn("exit status 65", r.stderr)
        self.assertIn("quarantined", r.stderr)
        self.assertEqual(psql(self.db, "SELECT state FROM salesd.etl_day WHERE day = '2026-11-23'"),
                         [["quarantined"]])
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.sales_line")[0][0], "0")
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.kpi_store_day")[0][0], "0")
        self.assertGreater(int(psql(self.db, "SELECT count(*) FROM salesd.etl_reject")[0][0]), 0)

    # -- bad bytes, limits, unframeable files, a lost database ----------

    def test_bad_bytes_are_rejects_not_a_failed_day(self):
        """0xff, an overlong form, a UTF-8-encoded surrogate, NUL and a lone CR, in every column:
        each such row is a reject with its reason and its text stored escaped; the day loads."""
        day = "2026-11-23"
        text = generate(day, "online").decode("utf-8-sig")
        rows = data_rows(text)
        header, good = rows[0], rows[1]
        bad = {"0xff": b"\xff", "overlong": b"\xc0\xaf", "surrogate": b"\xed\xa0\x80", "nul": b"\x00",
               "cr": b"\r"}
        body = text.encode()
        line = body.count(b"\n") + 1
        want = {}
        for kind, seq in bad.items():
            for i, name in enumerate(header):
                fields = list(good)
                fields[i] = b"X" + seq + b"Y"
                body += csv_line(fields)
                want[line] = (kind, name.decode())
                line += 1
        sim = self.file_sim("bad-bytes.csv", body)
        self.run_etl(self.config(sim, order_types="online", reject_threshold="90%"), day)
        self.assert_kpis(day, texts=[text], rejected=len(want))
        rejects = {int(r[0]): r[1:] for r in
                   psql(self.db, "SELECT line, field, reason, replace(raw, chr(13), '<CR>') "
                                 "FROM salesd.etl_reject ORDER BY line")}
        self.assertEqual(sorted(rejects), sorted(want))
        escaped = {"0xff": "X\\xffY", "overlong": "X\\xc0\\xafY", "surrogate": "X\\xed\\xa0\\x80Y",
                   "nul": "X\\x00Y", "cr": "X<CR>Y"}
        for ln, (kind, column) in want.items():
            field, reason, raw = rejects[ln]
            with self.subTest(line=ln, kind=kind, column=column):
                self.assertIn(escaped[kind], raw)
                if kind == "cr":
                    self.assertIn("a lone CR", reason)
                elif kind == "nul":
                    self.assertIn("holds a NUL byte", reason)
                else:
                    self.assertIn("is not valid UTF-8 text", reason)
                if kind != "cr" and field:
                    self.assertEqual(field.lower(), column.lower())

    def test_records_past_a_limit_are_rejects(self):
        """More than 1024 fields, more than 1 MiB (unquoted, quoted): each a reject with its line;
        the records after it load."""
        day = "2026-11-23"
        text = generate(day, "online").decode("utf-8-sig")
        rows = data_rows(text)
        lines = text.encode().split(b"\n")
        # Break the file after the header and a few records (at a line that starts a record).
        cut = next(i for i in range(5, len(lines)) if lines[i].startswith(day.encode()))
        head, tail = b"\n".join(lines[:cut]) + b"\n", b"\n".join(lines[cut:])
        wide = b",".join(b"%d" % i for i in range(1500)) + b"\n"
        long_plain = b"y" * (1024 * 1024 + 100) + b",z\n"
        long_quoted = b'"' + b"q" * (1024 * 1024 + 100) + b'\nmore",z\n'
        body = head + wide + long_plain + long_quoted + tail
        sim = self.file_sim("limits.csv", body)
        self.run_etl(self.config(sim, order_types="online", reject_threshold="90%"), day)
        self.assert_kpis(day, texts=[text], rejected=3)
        rejects = psql(self.db, "SELECT line, reason, length(raw) FROM salesd.etl_reject ORDER BY line")
        self.assertEqual([int(r[0]) for r in rejects], [cut + 1, cut + 2, cut + 3])
        self.assertIn(f"line {cut + 1}: more than 1024 fields", rejects[0][1])
        self.assertIn(f"line {cut + 2}: a record longer than", rejects[1][1])
        self.assertIn(f"line {cut + 3}: a record longer than", rejects[2][1])
        self.assertLessEqual(max(int(r[2]) for r in rejects), 2000)
        self.assertEqual(len(rows) - 1, int(psql(self.db, "SELECT lines FROM salesd.etl_day")[0][0]))

    def test_source_data_errors_exit_65(self):
        """Invalid base64, a duplicate header column, a quote open at the end: EX_DATAERR, not retried,
        nothing written."""
        day = "2026-11-23"
        text = generate(day, "online")
        header, rest = text.split(b"\n", 1)
        encoded = base64.encodebytes(text).replace(b"\n", b"\r\n")
        cases = {
            "base64": (encoded[:4000] + b"%" + encoded[4000:], "base64 body: byte"),
            "duplicate": (header + b",invoice\n" + rest, "the header has column invoice twice"),
            "open-quote": (text + b'2026-11-23,"never closed\n', "a quoted field is still open"),
        }
        for name, (body, message) in cases.items():
            with self.subTest(case=name):
                self.forget_runs()
                sim = self.file_sim(name + ".csv", body)
                r = self.salesd(self.config(sim, order_types="online", retries=2), "run", "etl", "--date", day)
                self.assertIn(message, r.stderr)
                self.assertNotIn("trying again", r.stderr)
                self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.etl_day")[0][0], "0")
                self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.sales_line")[0][0], "0")
                # The task's 65 is final: no retry (retries = 2 here), and salesd run says 1.
                self.assertIn(f"exit status {EX_DATAERR}", r.stderr)
                self.assertIn("not retried", r.stderr)
                self.assertNotIn("retrying in", r.stderr)
                self.assertEqual(psql(self.db, "SELECT attempts FROM salesd.task_instance"), [["1"]])
                self.assertEqual(r.returncode, 1, r.stderr)

    def test_database_lost_during_copy_is_temporary(self):
        """PostgreSQL's session ends in the middle of the COPY: EX_TEMPFAIL (try later), not a failure."""
        slow = self.sim("--slow", "40")
        conf = self.config(slow, stall_timeout="30s")
        proc = subprocess.Popen([SALESD, "--config", conf, "run", "etl", "--date", "2026-11-23"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        copy = "query LIKE 'COPY sales_line%'"
        deadline = time.time() + 30
        while time.time() < deadline and not psql(self.db, "SELECT 1 FROM pg_stat_activity WHERE "
                                                            f"datname = current_database() AND {copy}"):
            time.sleep(0.05)
        ended = psql(self.db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              f"datname = current_database() AND {copy}")
        self.assertEqual(ended, [["t"]])
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, EX_TEMPFAIL, err)
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.etl_day")[0][0], "0")

    def kill_task_child(self, proc, when):
        """Wait until when() holds, then kill -9 the ETL task child of proc."""
        deadline = time.time() + 30
        while time.time() < deadline and not when():
            time.sleep(0.05)
        self.assertTrue(when(), "the moment to kill never came")
        out = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "salesd.* task etl"],
                             capture_output=True, text=True).stdout.split()
        self.assertTrue(out, "no task child found")
        for pid in out:
            os.kill(int(pid), signal.SIGKILL)

    def test_kill9_mid_copy_and_mid_transaction(self):
        conf = self.config(self.sim())
        self.run_etl(conf, "2026-11-23")
        before = self.snapshot("2026-11-23")
        # Mid-COPY: a slow body keeps the COPY open.
        slow = self.sim("--slow", "40")
        conf_slow = self.config(slow, stall_timeout="30s")
        proc = subprocess.Popen([SALESD, "--config", conf_slow, "run", "etl", "--date", "2026-11-23", "--force"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        copying = lambda: bool(psql(self.db, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                              "AND query LIKE 'COPY sales_line%'"))
        self.kill_task_child(proc, copying)
        proc.wait(30)
        self.assertEqual(self.snapshot("2026-11-23"), before)
        # Mid-transaction: hold a lock the KPI step needs, kill the child while it waits.
        self.forget_runs()
        locker = subprocess.Popen(["psql", "-X", "-q", "-h", PGHOST, "-U", "salesd_test", "-d", self.db],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.addCleanup(lambda: locker.poll() is None and locker.kill())
        locker.stdin.write("BEGIN; LOCK TABLE salesd.kpi_store_day IN ACCESS EXCLUSIVE MODE;\n")
        locker.stdin.flush()
        time.sleep(0.5)
        proc = subprocess.Popen([SALESD, "--config", conf, "run", "etl", "--date", "2026-11-23", "--force"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        waiting = lambda: bool(psql(self.db, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                             "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM kpi_store_day%'"))
        self.kill_task_child(proc, waiting)
        proc.wait(30)
        locker.stdin.write("ROLLBACK;\n\\q\n")
        locker.stdin.close()
        locker.wait(10)
        self.assertEqual(self.snapshot("2026-11-23"), before)
        # And a clean re-run after both gives the right tables.
        self.forget_runs()
        self.run_etl(conf, "2026-11-23")
        self.assert_kpis("2026-11-23")


if __name__ == "__main__":
    unittest.main(verbosity=2)
