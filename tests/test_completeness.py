#!/usr/bin/python3
"""The completeness gate end to end (docs/completeness.md): the real salesd
("run", "backfill", "status") loading from the real POS API simulator into a
real PostgreSQL, rendering, and e-mailing over SMTP with TLS to
tools/smtp-server, with the clock set by SALESD_FAKE_NOW.

Proven here, on four weeks of a chain's history (in which no ordinary day is
flagged, the store closed on Tuesdays included):
- an empty day is loaded as incomplete, held before its settle deadline
  (exit 75, nothing sent), withheld after it (exit 65, nothing sent, said by
  salesd status), and released by an operator with --accept-incomplete
  (who and when in etl_day; its report sent once; a second release sends
  nothing more);
- a store missing on the first download and there on the retry: the held ETL
  is tried again beyond its retry limit, the day loads complete, and the
  report goes out once;
- a short store at the deadline under deliver-with-warning: the report goes
  out with the warning in the PDF's first page and in the e-mail;
- a missing store listed in [salesd] closed_stores does not hold the day;
- a report whose day turns out incomplete is held, then withheld, and the
  manifest of its earlier rendering removed.

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM,
SALESD_PGHOST, SMTP_SERVER.
"""
import calendar
import csv
import email
import email.policy
import glob
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import openpyxl
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PGHOST, SALESD, Sim, Smtp, make_ca, money, psql, require_env  # noqa: E402

SMTP_SERVER = os.environ.get("SMTP_SERVER", "")
GEN = ["--seed", "31", "--stores", "6", "--products", "60", "--lines", "400"]
HISTORY = ("2026-10-04", "2026-11-01")
EMPTY, LATE, SHORT, CLOSED, WEEKDAY = "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"
# Restated by the POS system after the first download: +10 % (salesd recheck), -10 % (the nightly recheck).
RESTATED, NIGHTLY = "2026-11-10", "2026-11-11"
# Delivered, then restated (+20 %) and found by salesd recheck: a correction follows.
CORRECTED = "2026-11-16"
BOSS = "boss@example.com"
EX_DATAERR, EX_TEMPFAIL = 65, 75


def ist(day, hhmm):
    """Seconds since the epoch of day at HH:MM in Asia/Kolkata (UTC+5:30, no DST)."""
    t = time.strptime(f"{day} {hhmm}", "%Y-%m-%d %H:%M")
    return calendar.timegm(t) - (5 * 3600 + 1800)


def next_day(day):
    t = time.strptime(day, "%Y-%m-%d")
    return time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(t) + 86400))


class CompletenessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_env(cls)
        if not SMTP_SERVER:
            raise AssertionError("SMTP_SERVER is not set: run this test through ctest")
        cls.db = f"complete_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {cls.db}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="salesd-complete-")
        cls.sim = cls.smtp = None
        try:
            # A store that sells much is the one that goes missing: it is expected every day.
            cls.store = cls.busiest_store()
            cls.sim = Sim(GEN, "--empty-day", EMPTY, "--missing-store", f"{LATE}:{cls.store}:1",
                          "--short-store", f"{SHORT}:{cls.store}:5", "--missing-store", f"{CLOSED}:{cls.store}",
                          "--missing-store", f"{WEEKDAY}:{cls.store}",
                          "--restate", f"{RESTATED}:{cls.store}:110:1", "--restate", f"{NIGHTLY}:{cls.store}:90:1",
                          "--restate", f"{CORRECTED}:{cls.store}:120:1")
            cls.ca, cert, key = make_ca(cls.tmp.name)
            cls.maildir = os.path.join(cls.tmp.name, "mail")
            os.mkdir(cls.maildir)
            cls.smtp = Smtp(cls.maildir, "--tls-cert", cert, "--tls-key", key)
            with open(os.path.join(cls.tmp.name, "recipients.csv"), "w") as f:
                f.write(f"store,email,whatsapp\n\"*\",{BOSS},\n")
            cls.conf = cls.config()
            r = cls.salesd("backfill", "etl", "--from", HISTORY[0], "--to", HISTORY[1])
            if r.returncode != 0:
                raise RuntimeError("backfill: " + r.stderr[-3000:])
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.sim, cls.smtp):
            if s is not None:
                s.stop()
        psql("postgres", f"DROP DATABASE IF EXISTS {cls.db} WITH (FORCE)")
        cls.tmp.cleanup()

    @classmethod
    def busiest_store(cls):
        counts = {}
        for t in ("online", "offline"):
            out = subprocess.run([os.environ["SALESGEN"]] + GEN + ["--order-type", t, "--from", HISTORY[0],
                                                                   "--to", HISTORY[1]],
                                 check=True, capture_output=True).stdout.decode("utf-8-sig")
            for row in csv.DictReader(io.StringIO(out, newline="")):
                counts[row["storeName"].strip()] = counts.get(row["storeName"].strip(), 0) + 1
        # The second busiest: expected every day, yet the day without it is not short as a whole.
        counts.pop("Head Office", None)
        return sorted(sorted(counts), key=counts.get, reverse=True)[1]

    @classmethod
    def config(cls):
        lines = ["[salesd]", "timezone = Asia/Kolkata", f"state_dir = {cls.tmp.name}/state",
                 "exclude_stores = Head Office",
                 "[database]", f"conninfo = host={PGHOST} user=salesd_test dbname={cls.db}",
                 "[source]", f"base_url = {cls.sim.url}", "username = demo", "password = demo-password",
                 "order_types = online, offline", "date_format = ymd", "request_retries = 0",
                 "settle_until = 10:00",
                 "[report]", "company = Gate Retail",
                 "[recipients]", f"file = {cls.tmp.name}/recipients.csv",
                 "[smtp]", f"url = {cls.smtp.url}", "from = Reports <reports@example.com>",
                 f"ca_file = {cls.ca}", "connect_timeout = 3s", "timeout = 20s",
                 "[job etl]", "kind = etl", "schedule = 30 1 * * *", "retries = 1", "retry_delay = 200ms",
                 "retry_max_delay = 400ms",
                 "[job daily-reports]", "kind = report", "after = etl", "period = day", "retries = 1",
                 "retry_delay = 200ms", "retry_max_delay = 400ms",
                 "[job daily-email]", "kind = email", "after = daily-reports", "period = day",
                 "scope = company", "retries = 0",
                 "[job weekly-reports]", "kind = report", "after = etl", "period = week", "scope = company",
                 "retries = 0"]
        path = os.path.join(cls.tmp.name, "salesd.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    @classmethod
    def salesd(cls, *args, now=None, sets=()):
        env = dict(os.environ)
        if now is not None:
            env["SALESD_FAKE_NOW"] = str(now)
        argv = [SALESD, "--config", cls.conf]
        for s in sets:
            argv += ["--set", s]
        return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=300, env=env)

    def mails(self, day):
        out = []
        for path in sorted(glob.glob(os.path.join(self.maildir, "*.eml"))):
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            if day in m["Subject"]:
                out.append(m)
        return out

    def envelopes(self, day):
        """The envelope recipients of each message of day, in arrival order."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.maildir, "*.eml"))):
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            if day in m["Subject"]:
                with open(path[:-4] + ".json") as f:
                    out.append(json.load(f)["rcpt_tos"])
        return out

    def day_row(self, day):
        rows = psql(self.db, f"SELECT state, coalesce(released, ''), coalesce(released_by, ''), "
                             f"coalesce(error, '') FROM salesd.etl_day WHERE day = '{day}'")
        return rows[0] if rows else None

    def gaps(self, day):
        return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in
                psql(self.db, f"SELECT store, kind, lines, median FROM salesd.etl_gap WHERE day = '{day}'")}

    def test_history_has_no_false_alarm(self):
        # 29 ordinary days, a store closed every Tuesday among them: every one loaded complete.
        states = psql(self.db, f"SELECT state, count(*) FROM salesd.etl_day WHERE day BETWEEN "
                               f"'{HISTORY[0]}' AND '{HISTORY[1]}' GROUP BY state")
        self.assertEqual(states, [["loaded", "29"]])
        self.assertEqual(psql(self.db, f"SELECT count(*) FROM salesd.etl_gap WHERE day <= '{HISTORY[1]}'"),
                         [["0"]])
        tuesdays = psql(self.db, f"SELECT count(DISTINCT day) FROM salesd.etl_store_day WHERE "
                                 f"extract(isodow FROM day) = 2 AND day <= '{HISTORY[1]}'")
        self.assertEqual(tuesdays, [["4"]], "the Tuesdays were loaded and judged")

    def test_empty_day_held_withheld_then_released(self):
        # Before the deadline: held (exit 75 after its retries: by hand nobody waits for hours).
        before = ist(next_day(EMPTY), "08:00")
        r = self.salesd("run", "daily-email", "--date", EMPTY, now=before)
        self.assertNotEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn(f"{EMPTY} is incomplete (the day is empty", r.stderr)
        self.assertIn(f"until {next_day(EMPTY)} 10:00 IST", r.stderr)
        state, released, _, error = self.day_row(EMPTY)
        self.assertEqual([state, released], ["incomplete", ""])
        self.assertIn("the day is empty", error)
        self.assertIn(("", "day"), self.gaps(EMPTY))
        self.assertEqual(self.mails(EMPTY), [], "nothing goes out from a held day")
        # Past the deadline, withhold (the default): exit 65, nothing sent, status says so.
        after = ist(next_day(EMPTY), "10:05")
        r = self.salesd("run", "etl", "--date", EMPTY, "--force", now=after)
        self.assertEqual(r.returncode, 1, r.stderr[-2000:])
        self.assertRegex(r.stderr, r"etl 2026-11-02 failed with exit status 65: 2026-11-02 is still incomplete "
                                   r"at 2026-11-03 10:00 IST .*withheld")
        self.assertEqual(self.mails(EMPTY), [])
        status = self.salesd("status", now=after).stdout
        self.assertRegex(status, r"2026-11-02  held or withheld: not delivered\s+the day is empty")
        # An operator releases it: recorded with who, and the report goes out, once.
        r = self.salesd("run", "etl", "--date", EMPTY, "--accept-incomplete", now=after)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        state, released, who, _ = self.day_row(EMPTY)
        self.assertEqual([state, released], ["incomplete", "accepted"])
        self.assertIn("--accept-incomplete", who)
        self.assertEqual(psql(self.db, f"SELECT released_at IS NOT NULL FROM salesd.etl_day WHERE day = '{EMPTY}'"),
                         [["t"]])
        got = self.mails(EMPTY)
        self.assertEqual([m["To"] for m in got], [BOSS])
        self.assertNotIn("WARNING", got[0].get_body(("plain",)).get_content(), "accepted: no warning")
        r = self.salesd("run", "etl", "--date", EMPTY, "--accept-incomplete", now=after)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(len(self.mails(EMPTY)), 1, "released again: nothing sent twice")
        status = self.salesd("status", now=after).stdout
        self.assertRegex(status, r"2026-11-02  accepted as it is")

    def test_late_store_fills_in_on_the_retry(self):
        r = self.salesd("run", "daily-email", "--date", LATE, now=ist(next_day(LATE), "03:00"))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        # The first attempt was held (the store missing), the second loaded the whole day.
        self.assertRegex(r.stderr, rf"etl {LATE} failed with exit status 75: {LATE} is incomplete \(missing: "
                                   rf"{re.escape(self.store)} \(no lines; usually [0-9,]+\)\): held")
        attempts = psql(self.db, f"SELECT a.attempt, a.exit_status FROM salesd.task_attempt a JOIN "
                                 f"salesd.task_instance i ON i.id = a.instance_id WHERE i.job = 'etl' AND "
                                 f"i.period = '{LATE}' ORDER BY 1")
        self.assertEqual(attempts, [["1", str(EX_TEMPFAIL)], ["2", "0"]])
        self.assertEqual(self.day_row(LATE)[:2], ["loaded", ""])
        self.assertEqual(self.gaps(LATE), {})
        self.assertIn([self.store], psql(self.db, f"SELECT store FROM salesd.kpi_store_day WHERE day = '{LATE}'"))
        got = self.mails(LATE)
        self.assertEqual(len(got), 1, "delivered once")
        self.assertNotIn("WARNING", got[0].get_body(("plain",)).get_content())

    def test_short_store_goes_out_with_a_warning(self):
        r = self.salesd("run", "daily-email", "--date", SHORT, now=ist(next_day(SHORT), "11:00"),
                        sets=["source.incomplete=deliver-with-warning"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("its reports go out with a warning", r.stderr)
        state, released, who, _ = self.day_row(SHORT)
        self.assertEqual([state, released], ["incomplete", "warning"])
        (kind_lines,) = [v for k, v in self.gaps(SHORT).items() if k == (self.store, "short")]
        lines, median = kind_lines
        self.assertLess(lines, median * 0.2)
        got = self.mails(SHORT)
        self.assertEqual(len(got), 1)
        body = got[0].get_body(("plain",)).get_content()
        self.assertIn("WARNING: the figures may be too low.", body)
        self.assertIn(f"Incomplete data for {SHORT}: short: {self.store} (", body)
        pdf = os.path.join(self.tmp.name, "state", "reports", "daily", SHORT, "company.pdf")
        text = subprocess.run(["pdftotext", "-l", "1", pdf, "-"], check=True, capture_output=True,
                              text=True).stdout
        self.assertIn("Warning: incomplete data", text)
        self.assertIn(f"short: {self.store}", text)
        # In the stores table the short store is marked, not shown as a fall in sales.
        table = subprocess.run(["pdftotext", "-layout", pdf, "-"], check=True, capture_output=True,
                               text=True).stdout
        rows = [line for line in table.splitlines() if self.store in line and "₹" in line and
                "short:" not in line]
        marked = [line for line in rows if re.search(r"\bshort\b", line)]
        self.assertTrue(marked, rows)
        self.assertFalse([line for line in marked if re.search(r"[-−]\d+\.\d%", line)], marked)
        wb = openpyxl.load_workbook(pdf[:-3] + "xlsx")
        cells = [[c.value for c in row] for row in wb["Stores"].iter_rows()]
        (mine,) = [row for row in cells if row and row[0] == self.store]
        self.assertIn("short", mine)

    def test_closed_store_does_not_hold_the_day(self):
        r = self.salesd("run", "etl", "--date", CLOSED, now=ist(next_day(CLOSED), "03:00"),
                        sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(self.day_row(CLOSED)[:2], ["loaded", ""])
        # The same store missing on another day, not listed as closed: held.
        r = self.salesd("run", "etl", "--date", WEEKDAY, now=ist(next_day(WEEKDAY), "03:00"))
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr[-3000:])
        self.assertEqual(list(self.gaps(WEEKDAY)), [(self.store, "missing")])
        self.assertEqual(self.day_row(WEEKDAY)[:2], ["incomplete", ""])

    def test_report_of_a_day_found_incomplete_is_withheld(self):
        # A day whose report was rendered, found incomplete later (as a reload may): the report
        # job holds, and past the day's deadline withholds, removing the manifest delivery reads.
        day = "2026-11-07"
        r = self.salesd("run", "daily-reports", "--date", day, now=ist(next_day(day), "03:00"),
                        sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        manifest = os.path.join(self.tmp.name, "state", "reports", "daily", day, "company.json")
        self.assertTrue(os.path.exists(manifest))
        psql(self.db, f"UPDATE salesd.etl_day SET state = 'incomplete', error = 'missing: X' WHERE day = '{day}'")
        try:
            r = self.salesd("run", "daily-reports", "--date", day, "--force", now=ist(next_day(day), "09:00"))
            self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr[-3000:])
            self.assertIn(f"daily {day}: held: {day} is incomplete (missing: X)", r.stderr)
            self.assertFalse(os.path.exists(manifest), "nothing rendered before may go out")
            r = self.salesd("run", "daily-reports", "--date", day, "--force", now=ist(next_day(day), "10:31"))
            self.assertEqual(r.returncode, 1, r.stderr[-3000:])
            self.assertIn("failed with exit status 65", r.stderr)
            self.assertIn("its settle deadline has passed: withheld", r.stderr)
        finally:
            psql(self.db, f"UPDATE salesd.etl_day SET state = 'loaded', error = NULL WHERE day = '{day}'")


    def store_sales(self, day):
        return dict(psql(self.db, f"SELECT store, sales FROM salesd.kpi_store_day WHERE day = '{day}'"))

    def test_recheck_reloads_a_restated_day_and_nothing_else(self):
        r = self.salesd("run", "etl", "--date", RESTATED, sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        before = self.store_sales(RESTATED)
        loaded_at, version = psql(self.db, f"SELECT loaded_at, version FROM salesd.etl_day WHERE day = '{RESTATED}'")[0]
        self.assertEqual(version, "1")
        # The POS now says +10 % for one store: reloaded as version 2, the difference recorded.
        r = self.salesd("recheck", "--from", RESTATED, "--to", RESTATED, "--no-deliver")
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn(f"{RESTATED} rechecked: the POS system changed it", r.stderr)
        after = self.store_sales(RESTATED)
        self.assertEqual(set(after), set(before))
        for store in before:
            if store != self.store:
                self.assertEqual(after[store], before[store], f"{store} was not restated")
        old, new = Decimal(before[self.store]), Decimal(after[self.store])
        self.assertAlmostEqual(float(new / old), 1.10, delta=0.002)
        rows = psql(self.db, f"SELECT version, store, old_sales, new_sales FROM salesd.etl_restatement "
                             f"WHERE day = '{RESTATED}'")
        self.assertEqual(rows, [["2", self.store, before[self.store], after[self.store]]])
        self.assertEqual(psql(self.db, f"SELECT version FROM salesd.etl_day WHERE day = '{RESTATED}'"), [["2"]])
        status = self.salesd("status").stdout
        self.assertIn(f"{RESTATED}  version 2", status)
        self.assertIn(f"{self.store}: sales {before[self.store]} -> {after[self.store]}", status)
        # Fetched again, the same content (the simulator keeps serving +10 %): one download, no write.
        loaded_at = psql(self.db, f"SELECT loaded_at FROM salesd.etl_day WHERE day = '{RESTATED}'")[0][0]
        r = self.salesd("recheck", "--from", RESTATED, "--to", RESTATED, "--no-deliver")
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn(f"{RESTATED} rechecked: unchanged", r.stderr)
        self.assertIn("0 restated", r.stderr)
        self.assertEqual(psql(self.db, f"SELECT loaded_at, version FROM salesd.etl_day WHERE day = '{RESTATED}'"),
                         [[loaded_at, "2"]])
        self.assertEqual(len(psql(self.db, f"SELECT 1 FROM salesd.etl_restatement WHERE day = '{RESTATED}'")), 1)

    def minor(self, day, store):
        return int(psql(self.db, f"SELECT round(sales * 100) FROM salesd.kpi_store_day WHERE day = '{day}' "
                                 f"AND store = '{store}'")[0][0])

    def test_correction_after_recheck(self):
        # Delivered as usual; then a recipient is added (it must not get the old day's report).
        r = self.salesd("run", "daily-email", "--date", CORRECTED, sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual([m["To"] for m in self.mails(CORRECTED)], [BOSS])
        before = self.minor(CORRECTED, self.store)
        rfile = os.path.join(self.tmp.name, "recipients.csv")
        with open(rfile, "w") as f:
            f.write(f"store,email,whatsapp\n\"*\",{BOSS};new@example.com,\n")
        try:
            # The POS system now says +20 % for the store: recheck, reload, render, correct.
            r = self.salesd("recheck", "--from", CORRECTED, "--to", CORRECTED)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            after = self.minor(CORRECTED, self.store)
            self.assertAlmostEqual(after / before, 1.20, delta=0.002)
            got = self.mails(CORRECTED)
            self.assertEqual(len(got), 2, [m["Subject"] for m in got])
            corr = got[1]
            self.assertEqual(self.envelopes(CORRECTED), [[BOSS], [BOSS]],
                             "a correction goes to whoever got the report, and only them")
            self.assertTrue(corr["Subject"].startswith("Correction: "), corr["Subject"])
            self.assertNotEqual(corr["Message-ID"], got[0]["Message-ID"])
            text = corr.get_body(("plain",)).get_content()
            self.assertIn(f"{self.store} sales {CORRECTED}: {money(before)} -> {money(after)}", text)
            self.assertIn("never reached it; a run for a restated day sends corrections only", r.stderr)
            self.assertEqual(psql(self.db, f"SELECT recipient, version, state FROM salesd.delivery WHERE "
                                           f"period = '{CORRECTED}' ORDER BY version"),
                             [[BOSS, "1", "sent"], [BOSS, "2", "sent"]])
            # Again: the content is the same now; nothing is sent twice.
            r = self.salesd("recheck", "--from", CORRECTED, "--to", CORRECTED)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            self.assertEqual(len(self.mails(CORRECTED)), 2)
        finally:
            with open(rfile, "w") as f:
                f.write(f"store,email,whatsapp\n\"*\",{BOSS},\n")

    def test_nightly_recheck_of_the_days_before(self):
        r = self.salesd("run", "etl", "--date", NIGHTLY, sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        before = self.store_sales(NIGHTLY)
        # The next night's ETL rechecks the 3 days before it: NIGHTLY changed (-10 %).
        nxt = next_day(NIGHTLY)
        r = self.salesd("run", "etl", "--date", nxt, sets=[f"salesd.closed_stores={self.store}"])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn(f"{NIGHTLY} rechecked: the POS system changed it", r.stderr)
        self.assertIn("restated days found", r.stderr)
        after = self.store_sales(NIGHTLY)
        self.assertAlmostEqual(float(Decimal(after[self.store]) / Decimal(before[self.store])), 0.90, delta=0.002)
        self.assertEqual(psql(self.db, f"SELECT store FROM salesd.etl_restatement WHERE day = '{NIGHTLY}'"),
                         [[self.store]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
