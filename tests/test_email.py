#!/usr/bin/python3
"""E-mail delivery end to end: the real salesd ("run weekly-email") sending
the rendered weekly reports over SMTP (STARTTLS, AUTH) to a real SMTP server
on 127.0.0.1 (tools/smtp-server, aiosmtpd), with the delivery ledger in a
real PostgreSQL.

Proven here: every recipient (the store's, the company's "*", [smtp] bcc)
gets one message of its own that a standard MIME parser (Python's email
package) reads right: headers, no Bcc header, the non-ASCII subject, the
text and HTML parts with the store's figures, attachments byte-identical to
the rendered files, the Message-ID the ledger recorded; a re-run sends
nothing, --force sends again with the same Message-IDs; a 451, a 550 for one
recipient, a connection dropped after DATA, a wrong password, an untrusted
certificate, a server that is down, plain text without the opt-in, and a
line break in a header value each end in the documented state, and a re-run
sends only what is missing; a report rendered again with other figures
(restated sales) brings a correction, once, to exactly the recipients of the
reports whose stores moved materially, saying what changed, with a
Message-ID of its own, and nothing for an immaterial change or to a
recipient whose delivery is unknown.

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM,
SALESD_PGHOST, SMTP_SERVER.
"""
import email
import email.policy
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import signal
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PGHOST, SALESD, Sim, Smtp, children, make_ca, money, psql, require_env  # noqa: E402

SMTP_SERVER = os.environ.get("SMTP_SERVER", "")
GEN = ["--seed", "292", "--stores", "8", "--products", "120", "--lines", "300"]
WEEK, DATE = "2026-W42", "2026-10-18"
COMPANY = "Sharma & Sons रिटेल"
USER, PASSWORD = "mailer", "s3cret pass"
RECIPIENTS = {"*": ["boss@example.com", "cfo@example.com"], "Indiranagar": ["partner@indira.example.in"],
              "Koramangala, Bengaluru": ["kora@example.in"]}
ARCHIVE = "archive@example.com"


class EmailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_env(cls)
        if not SMTP_SERVER:
            raise AssertionError("SMTP_SERVER is not set: run this test through ctest")
        cls.db = f"email_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {cls.db}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="salesd-email-")
        cls.sim = Sim(GEN)
        try:
            cls.ca, cls.cert, cls.key = make_ca(cls.tmp.name)
            with open(os.path.join(cls.tmp.name, "recipients.csv"), "w") as f:
                f.write("store,email,whatsapp\n")
                for store, addrs in RECIPIENTS.items():
                    f.write(f"\"{store}\",{';'.join(addrs)},\n")
                f.write("\"Evil\r\nBcc: thief@example.net\",evil@example.com,\n")
            conf = cls.config("smtp://127.0.0.1:9")
            r = subprocess.run([SALESD, "--config", conf, "run", "weekly-reports", "--date", DATE],
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise RuntimeError("weekly-reports: " + r.stderr[-2000:])
            cls.stores = {s for (s,) in psql(cls.db, "SELECT DISTINCT store FROM salesd.kpi_store_day "
                                                     "WHERE day BETWEEN '2026-10-12' AND '2026-10-18'")}
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        psql("postgres", f"DROP DATABASE IF EXISTS {cls.db} WITH (FORCE)")
        cls.tmp.cleanup()

    @classmethod
    def fail(cls, msg):
        raise AssertionError(msg)

    @classmethod
    def config(cls, url, name="salesd.conf", retries=0, **smtp):
        settings = {"url": url, "username": USER, "password": PASSWORD,
                    "from": "Sales Reports <reports@example.com>", "ca_file": cls.ca, "bcc": ARCHIVE,
                    "connect_timeout": "3s", "timeout": "20s",
                    "subject": "{company}: {report} report {period}, {store}"}
        settings.update(smtp)
        lines = ["[salesd]", "timezone = Asia/Kolkata", "exclude_stores = Head Office",
                 f"state_dir = {cls.tmp.name}/state", "[database]",
                 f"conninfo = host={PGHOST} user=salesd_test dbname={cls.db}", "[source]",
                 f"base_url = {cls.sim.url}", "username = demo", "password = demo-password",
                 "order_types = online, offline", "date_format = ymd", "[report]", f"company = {COMPANY}",
                 "[recipients]", f"file = {cls.tmp.name}/recipients.csv", "[smtp]"]
        lines += [f"{k} = {v}" for k, v in settings.items() if v is not None]
        lines += ["[job etl]", "kind = etl", "schedule = 30 1 * * *", "retries = 0",
                  "[job weekly-reports]", "kind = report", "after = etl", "period = week", "scope = both",
                  "retries = 0",
                  "[job weekly-email]", "kind = email", "after = weekly-reports", "period = week",
                  "scope = both", f"retries = {retries}", "retry_delay = 50ms"]
        path = os.path.join(cls.tmp.name, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def setUp(self):
        # Each test starts with nothing delivered and the e-mail job not run.
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        self.maildir = tempfile.mkdtemp(dir=self.tmp.name, prefix="mail-")

    def server(self, *faults, tls=True, auth=True):
        args = list(faults)
        if tls:
            args += ["--tls-cert", self.cert, "--tls-key", self.key]
        if auth:
            args += ["--username", USER, "--password", PASSWORD]
        s = Smtp(self.maildir, *args)
        self.addCleanup(s.stop)
        return s

    def send(self, conf, *more, expect=0):
        r = subprocess.run([SALESD, "--config", conf, "run", "weekly-email", "--date", DATE] + list(more),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    def received(self):
        """[(envelope, parsed message, raw bytes)] in arrival order."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.maildir, "*.eml"))):
            with open(path, "rb") as f:
                raw = f.read()
            with open(path[:-4] + ".json") as f:
                env = json.load(f)
            out.append((env, email.message_from_bytes(raw, policy=email.policy.default), raw))
        return out

    def ledger(self):
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in
                psql(self.db, "SELECT store, recipient, state, message_id, reply FROM salesd.delivery")}

    def expected(self):
        """{(store key, address)} every delivery of the week."""
        want = {("*", a) for a in RECIPIENTS["*"]} | {("*", ARCHIVE)}
        for s in self.stores:
            want |= {(s, a) for a in RECIPIENTS.get(s, [])} | {(s, ARCHIVE)}
        return want

    def test_delivers_each_once(self):
        s = self.server()
        conf = self.config(s.url)
        r = self.send(conf)
        got = self.received()
        want = self.expected()
        self.assertEqual(len(got), len(want))
        ledger = self.ledger()
        self.assertEqual(set(ledger), want)
        slugs = dict(psql(self.db, "SELECT store, slug FROM salesd.store_slug"))
        seen = set()
        for env, m, raw in got:
            self.assertEqual(len(env["rcpt_tos"]), 1, "one transaction per recipient")
            rcpt = env["rcpt_tos"][0]
            self.assertTrue(env["tls"] and env["auth_user"] == USER)
            self.assertEqual(m.defects, [])
            self.assertIsNone(m["Bcc"])
            self.assertNotIn(ARCHIVE, str(m["To"]) + str(m["Cc"]), "bcc stays in the envelope")
            self.assertNotIn(b"Bcc:", raw)
            store = m["Subject"].split(", ", 1)[1] if ", " in m["Subject"] else None
            self.assertTrue(m["Subject"].startswith(f"{COMPANY}: weekly report {WEEK}, "), m["Subject"])
            key = "*" if store == "All stores" else store
            seen.add((key, rcpt))
            state, msgid, reply = ledger[(key, rcpt)]
            self.assertEqual((state, m["Message-ID"]), ("sent", msgid))
            self.assertTrue(reply.startswith("250"), reply)
            if key != "*" and key in RECIPIENTS:
                self.assertEqual(str(m["To"]), ", ".join(RECIPIENTS[key]))
            # The figures in the body: the store's week from the KPI table, formatted as the PDF does.
            where = "" if key == "*" else f"AND store = '{key}'"
            sales = int(psql(self.db, f"SELECT round(sum(sales) * 100) FROM salesd.kpi_store_day "
                                      f"WHERE day BETWEEN '2026-10-12' AND '2026-10-18' {where}")[0][0])
            self.assertIn(money(sales), m.get_body(("plain",)).get_content())
            self.assertIn(money(sales), m.get_body(("html",)).get_content())
            # Attachments: the rendered files, byte for byte.
            slug = "company" if key == "*" else slugs[key]
            atts = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
            base = os.path.join(self.tmp.name, "state", "reports", "weekly", WEEK, slug)
            for ext, ctype in (("pdf", "application/pdf"),
                               ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
                name = f"weekly-report-{WEEK}-{slug}.{ext}"
                with open(f"{base}.{ext}", "rb") as f:
                    self.assertEqual(atts[name], f.read(), name)
                self.assertIn(ctype, [p.get_content_type() for p in m.iter_attachments()])
        self.assertEqual(seen, want)
        # A store without a recipient of its own is said so in the log, as a warning.
        self.assertRegex(r.stderr, r"(?m)^<4>Whitefield has no e-mail recipient in .*recipients.csv; "
                                   r"only \[smtp\] cc and bcc get it")
        # Again: nothing new. Forced: everything again, with the same Message-IDs.
        self.send(conf)
        self.assertEqual(len(self.received()), len(want))
        self.send(conf, "--store", "Indiranagar", "--force")
        again = self.received()[len(want):]
        self.assertEqual(sorted(e["rcpt_tos"][0] for e, _, _ in again), sorted([ARCHIVE] + RECIPIENTS["Indiranagar"]))
        for env, m, _ in again:
            self.assertEqual(m["Message-ID"], ledger[("Indiranagar", env["rcpt_tos"][0])][1])
        status = subprocess.run([SALESD, "--config", conf, "status"], capture_output=True, text=True).stdout
        self.assertIn("partner@indira.example.in", status)

    def hide_sales(self):
        """Empty the sales and KPI tables until the test ends (restored by its cleanup)."""
        tables = ["sales_line", "kpi_store_day", "kpi_category_day", "kpi_brand_day", "kpi_product_day"]
        for t in tables:
            psql(self.db, f"CREATE TABLE salesd.keep_{t} AS SELECT * FROM salesd.{t}; TRUNCATE salesd.{t}")

        def restore():
            for t in tables:
                psql(self.db, f"TRUNCATE salesd.{t}; INSERT INTO salesd.{t} SELECT * FROM salesd.keep_{t}; "
                              f"DROP TABLE salesd.keep_{t}")
        self.addCleanup(restore)

    def manifest(self, scope):
        with open(os.path.join(self.tmp.name, "state", "reports", "weekly", WEEK, scope + ".json")) as f:
            return json.load(f)

    def test_sends_what_was_rendered(self):
        # Delivery reads the rendered report's manifest, never the KPI tables:
        # with them emptied after rendering, the body still carries the
        # figures of the attached PDF.
        self.hide_sales()
        s = self.server()
        self.send(self.config(s.url), "--store", "*")
        got = self.received()
        self.assertEqual(len(got), len([k for k in self.expected() if k[0] == "*"]))
        m = self.manifest("company")
        self.assertEqual((m["report"], m["period"], m["scope"], m["store"]), ("weekly", WEEK, "company", None))
        with open(os.path.join(self.tmp.name, "state", "reports", "weekly", WEEK, "company.pdf"), "rb") as f:
            pdf = f.read()
        self.assertEqual((m["files"]["pdf"]["size"], m["files"]["pdf"]["sha256"]),
                         (len(pdf), hashlib.sha256(pdf).hexdigest()))
        self.assertTrue(m["figures"]["sales"].startswith("₹"), m["figures"])
        for _, msg, _ in got:
            body = msg.get_body(("plain",)).get_content()
            self.assertIn(m["figures"]["sales"], body)
            self.assertIn(m["figures"]["profit"], body)
            self.assertNotIn("no sales in this period", body)
            self.assertIn(m["figures"]["margin"], body)
            atts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
            self.assertEqual(atts[f"weekly-report-{WEEK}-company.pdf"], pdf)

    def week_sales(self, store):
        """A store's sales of the week in minor units, from the KPI table (as the report sums them)."""
        return int(psql(self.db, f"SELECT coalesce(round(sum(sales) * 100), 0) FROM salesd.kpi_store_day "
                                 f"WHERE day BETWEEN '2026-10-12' AND '{DATE}' AND store = '{store}'")[0][0])

    def render(self, conf):
        r = subprocess.run([SALESD, "--config", conf, "run", "weekly-reports", "--date", DATE, "--force"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])

    def restate(self, conf, sql):
        """Change the week's KPI rows (as a restated POS day would) and render the week again; the rows
        and the reports are put back when the test ends."""
        if not hasattr(self, "_kept_kpi"):
            self._kept_kpi = True
            psql(self.db, "CREATE TABLE salesd.keep_kpi_store_day AS SELECT * FROM salesd.kpi_store_day")

            def restore():
                psql(self.db, "TRUNCATE salesd.kpi_store_day; INSERT INTO salesd.kpi_store_day "
                              "SELECT * FROM salesd.keep_kpi_store_day; DROP TABLE salesd.keep_kpi_store_day")
                self.render(conf)
            self.addCleanup(restore)
        psql(self.db, sql)
        self.render(conf)

    def test_corrections(self):
        s = self.server()
        conf = self.config(s.url)
        kora, indira = "Koramangala, Bengaluru", "Indiranagar"
        self.send(conf)
        first = self.received()
        original = {(m["Subject"].split(", ", 1)[1], e["rcpt_tos"][0]): m["Message-ID"] for e, m, _ in first}
        # The boss's company delivery is unknown (the reply was lost): it gets no correction.
        psql(self.db, "UPDATE salesd.delivery SET state = 'unknown' WHERE store = '*' "
                      "AND recipient = 'boss@example.com'")
        before = {st: self.week_sales(st) for st in self.stores}
        # The POS system restated the last day: Koramangala's sales 10% up (material), Indiranagar's
        # 50 paise up (immaterial: less than one rupee).
        [(kday, ksales)] = psql(self.db, f"SELECT day, sales FROM salesd.kpi_store_day WHERE store = '{kora}' "
                                         f"AND day = '{DATE}'")
        self.assertGreater(float(ksales), 0)
        self.restate(conf, f"UPDATE salesd.kpi_store_day SET sales = sales * 1.10 WHERE day = '{DATE}' "
                           f"AND store = '{kora}'; UPDATE salesd.kpi_store_day SET sales = sales + 0.50 "
                           f"WHERE day = '{DATE}' AND store = '{indira}'")
        after = {st: self.week_sales(st) for st in self.stores}
        self.assertEqual(after[indira] - before[indira], 50)
        # The rule, calculated here: |new - old| >= max(100, 0.5% of |old|).
        moved = {st for st in self.stores if abs(after[st] - before[st]) >= max(100, abs(before[st]) * 5 / 1000)}
        self.assertEqual(moved, {kora})

        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        r = self.send(conf)
        got = self.received()[len(first):]
        # Exactly one correction per recipient of the reports that changed: the company's (not the
        # boss's, unknown) and Koramangala's; nothing for Indiranagar or any other store.
        self.assertEqual(sorted((m["Subject"].split(", ", 1)[1], e["rcpt_tos"][0]) for e, m, _ in got),
                         sorted([("All stores", "cfo@example.com"), ("All stores", ARCHIVE),
                                 (kora, "kora@example.in"), (kora, ARCHIVE)]))
        self.assertRegex(r.stderr, r"(?m)^<4>boss@example.com: the figures of the weekly report 2026-W42 changed "
                                   r"since it was sent, but whether that message arrived is unknown")
        line = f"{kora} sales {WEEK}: {money(before[kora])} -> {money(after[kora])}"
        ledger = {(row[0], row[1]): row[2:] for row in
                  psql(self.db, "SELECT store, recipient, message_id, state, figures FROM salesd.delivery "
                                "WHERE version = 2")}
        for env, m, _ in got:
            store, rcpt = m["Subject"].split(", ", 1)[1], env["rcpt_tos"][0]
            key = "*" if store == "All stores" else store
            self.assertEqual(m.defects, [])
            self.assertTrue(m["Subject"].startswith(f"Correction: {COMPANY}: weekly report {WEEK}, "), m["Subject"])
            text = m.get_body(("plain",)).get_content()
            html = m.get_body(("html",)).get_content()
            self.assertTrue(text.startswith("Correction: the figures of this report changed since it was sent "
                                            "(the POS system restated its data)"), text[:300])
            self.assertEqual([ln for ln in text.splitlines() if " sales 2026-W42: " in ln], [line], text)
            self.assertIn(line.replace("->", "-&gt;"), html)
            self.assertNotIn(f"{indira} sales", text)
            # Then the usual body, with the corrected figures.
            self.assertIn("the weekly report of", text)
            total = sum(after.values()) if key == "*" else after[key]
            self.assertIn(money(total), text)
            # The corrected files, byte for byte.
            slug = "company" if key == "*" else dict(psql(self.db, "SELECT store, slug FROM salesd.store_slug"))[key]
            with open(os.path.join(self.tmp.name, "state", "reports", "weekly", WEEK, slug + ".pdf"), "rb") as f:
                pdf = f.read()
            atts = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
            self.assertEqual(atts[f"weekly-report-{WEEK}-{slug}.pdf"], pdf)
            # A Message-ID of its own, which the ledger's version 2 row holds, with the figures it carried.
            self.assertNotEqual(m["Message-ID"], original[(store, rcpt)])
            msgid, state, figures = ledger[(key, rcpt)]
            self.assertEqual((msgid, state), (m["Message-ID"], "sent"))
            self.assertEqual(json.loads(figures)[kora], after[kora])
        self.assertEqual(len(ledger), 4)
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.delivery WHERE version > 2"), [["0"]])

        # Again: nothing new, however often it runs.
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        self.send(conf)
        self.assertEqual(len(self.received()), len(first) + 4)
        # An immaterial change since the correction (99 paise at Koramangala): nothing either.
        self.restate(conf, f"UPDATE salesd.kpi_store_day SET sales = sales + 0.99 WHERE day = '{DATE}' "
                           f"AND store = '{kora}'")
        self.assertEqual(self.week_sales(kora) - after[kora], 99)
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        self.send(conf)
        self.assertEqual(len(self.received()), len(first) + 4)
        self.assertEqual(psql(self.db, "SELECT count(*) FROM salesd.delivery WHERE version > 2"), [["0"]])

    def test_manifest_that_does_not_match_is_refused(self):
        # A PDF that is not the one its manifest describes is never sent: exit
        # 65 (not retried), nothing sent, and the message says what to do.
        s = self.server()
        conf = self.config(s.url, retries=2)
        base = os.path.join(self.tmp.name, "state", "reports", "weekly", WEEK, "company")
        with open(base + ".pdf", "rb") as f:
            kept = f.read()
        self.addCleanup(lambda: open(base + ".pdf", "wb").write(kept))
        with open(base + ".pdf", "r+b") as f:
            f.seek(len(kept) // 2)
            f.write(b"X")
        r = self.send(conf, "--store", "*", expect=1)
        self.assertIn("is not the file its manifest describes", r.stderr)
        self.assertIn("exit status 65", r.stderr)
        self.assertNotIn("retrying in", r.stderr)
        self.assertEqual(self.received(), [])
        # No manifest (the report not rendered yet): worth waiting for, 75.
        os.rename(base + ".json", base + ".json.kept")
        self.addCleanup(os.rename, base + ".json.kept", base + ".json")
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        r = self.send(self.config(s.url), "--store", "*", expect=75)
        self.assertIn("has not been rendered yet", r.stderr)
        self.assertEqual(self.received(), [])

    def test_delivery_states_logged_at_debug(self):
        # Every change of a delivery's state is logged once, old -> new, at
        # debug priority (hidden at the default level), with the run's fields.
        s = self.server()
        conf = self.config(s.url)
        r = subprocess.run([SALESD, "--config", conf, "--log-level", "debug", "run", "weekly-email", "--date", DATE,
                            "--store", "*"], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        key = f"delivery weekly/{WEEK}/*/email/boss@example.com"
        self.assertRegex(r.stderr, r"(?m)^<7>" + re.escape(key) + r": none -> sending .*job=weekly-email")
        self.assertRegex(r.stderr, r"(?m)^<7>" + re.escape(key) + r": sending -> sent \(250 ")
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        r = self.send(conf, "--store", "*")
        self.assertNotIn("none -> sending", r.stderr)

    def test_451_is_retried_and_sends_only_what_is_missing(self):
        s = self.server("--fail-first", "1")
        r = self.send(self.config(s.url, retries=1))
        self.assertIn("451", r.stderr)
        self.assertEqual(len(self.received()), len(self.expected()))
        retried = [k for k, v in self.ledger().items() if v[0] == "sent" and v[2] and k in self.attempts(2)]
        self.assertEqual(len(retried), 1, "the 451 recipient, and only it, was sent to twice")

    def attempts(self, n):
        return {(r[0], r[1]) for r in psql(self.db, f"SELECT store, recipient FROM salesd.delivery "
                                                    f"WHERE attempts = {n}")}

    def test_550_for_one_recipient(self):
        s = self.server("--reject-rcpt", "cfo@example.com")
        conf = self.config(s.url, retries=1)
        r = self.send(conf, expect=1)
        self.assertIn("550 5.1.1 <cfo@example.com>: user unknown", r.stderr)
        ledger = self.ledger()
        self.assertEqual(ledger[("*", "cfo@example.com")][0], "failed")
        self.assertIn("550", ledger[("*", "cfo@example.com")][2])
        # A refusal for good (5xx) is not retried, whatever retries says: exit 67.
        self.assertIn("exit status 67", r.stderr)
        self.assertIn("not retried (exit status 67: final failure", r.stderr)
        self.assertEqual(self.attempts(2), set())
        self.assertEqual(psql(self.db, "SELECT attempts FROM salesd.task_instance WHERE job = 'weekly-email' "
                                       "AND store = '*'"), [["1"]])
        self.assertEqual(len(self.received()), len(self.expected()) - 1)
        self.assertEqual({v[0] for k, v in ledger.items() if k != ("*", "cfo@example.com")}, {"sent"})
        # By hand, as the log says (the company's instance, forced): only the
        # refused address is tried again, nobody else hears twice.
        self.assertIn("salesd run weekly-email --date 2026-10-18 --store '*' --force", r.stderr)
        self.send(conf, "--store", "*", "--force", expect=1)
        self.assertEqual(len(self.received()), len(self.expected()) - 1)
        self.assertEqual(self.attempts(2), {("*", "cfo@example.com")})

    def unknown(self):
        return {k for k, v in self.ledger().items() if v[0] == "unknown"}

    def test_reply_lost_after_data_is_unknown(self):
        # The server stores the message and drops the connection instead of its
        # 250: salesd cannot know it arrived, so it must not send it again.
        s = self.server("--accept-then-drop", "1")
        conf = self.config(s.url, retries=2)
        r = self.send(conf)
        got = self.received()
        self.assertEqual(len(got), len(self.expected()), "every recipient exactly once")
        self.assertEqual(len({m["Message-ID"] for _, m, _ in got}), len(got), "no Message-ID twice")
        [key] = self.unknown()
        self.assertEqual(self.attempts(2), set(), "nothing was tried twice")
        self.assertIn("no reply came back", self.ledger()[key][2] + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^<4>.*the server may have accepted it")
        # Run again (as after a restart): nothing is sent, the row stays unknown.
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        r = self.send(conf)
        self.assertIn("not sent again (--force sends it)", r.stderr)
        self.assertEqual(len(self.received()), len(got))
        self.assertEqual(self.unknown(), {key})
        # Forced: it goes out again, with the same Message-ID, and is sent.
        self.send(conf, "--store", key[0], "--force")
        again = [m for e, m, _ in self.received()[len(got):] if e["rcpt_tos"] == [key[1]]]
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0]["Message-ID"], self.ledger()[key][1])
        self.assertEqual(self.ledger()[key][0], "sent")

    def test_connection_dropped_after_data(self):
        # Read whole, nothing stored, no reply: from salesd's side the same as
        # above (the 250 may have been lost), so unknown too, and not resent.
        s = self.server("--drop-after-data", "1")
        self.send(self.config(s.url, retries=1))
        self.assertEqual(len(self.received()), len(self.expected()) - 1)
        self.assertEqual(len(self.unknown()), 1)
        self.assertEqual(self.attempts(2), set())

    def test_killed_after_the_server_accepted(self):
        # The server takes the message and holds its reply until the client is
        # gone; the test kills the e-mail task in that gap, deterministically.
        # The retry finds the delivery 'sending': unknown, not sent again.
        s = self.server("--hold-after-accept", "1")
        conf = self.config(s.url, retries=1)
        p = subprocess.Popen([SALESD, "--config", conf, "run", "weekly-email", "--date", DATE, "--store", "*"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not glob.glob(os.path.join(self.maildir, "*.json")):
                self.assertLess(time.monotonic(), deadline, "the server never got the message")
                self.assertIsNone(p.poll(), "salesd ended before the server had the message")
                time.sleep(0.05)
            [(state,)] = psql(self.db, "SELECT state FROM salesd.delivery")
            self.assertEqual(state, "sending", "the ledger says sending while the server holds its reply")
            [task] = children(p.pid)
            os.killpg(task, signal.SIGKILL)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.assertEqual(p.returncode, 0, err[-3000:])
        self.assertIn("died of signal 9", err)
        got = self.received()
        first = got[0][0]["rcpt_tos"][0]
        self.assertEqual([e["rcpt_tos"][0] for e, _, _ in got].count(first), 1, "sent twice")
        self.assertEqual(self.unknown(), {("*", first)})
        self.assertEqual(len(got), len([k for k in self.expected() if k[0] == "*"]))
        self.assertEqual(self.attempts(2), set(), "the unknown one was not tried again")

    def test_wrong_password(self):
        s = self.server()
        r = self.send(self.config(s.url, password="wrong"), expect=1)
        self.assertIn("exit status 78", r.stderr)
        self.assertIn("535", r.stderr)
        self.assertNotIn("wrong", r.stderr, "the password is never logged")
        self.assertEqual(self.received(), [])

    def test_untrusted_certificate(self):
        s = self.server()
        r = self.send(self.config(s.url, ca_file=None), expect=1)
        self.assertIn("SSL certificate problem", r.stderr)
        self.assertEqual(self.received(), [])
        self.assertEqual({v[0] for v in self.ledger().values()}, {"failed"})

    def test_server_down(self):
        s = self.server()
        s.stop()
        self.send(self.config(s.url), expect=75)
        self.assertEqual({v[0] for v in self.ledger().values()}, {"failed"})

    def test_plain_text_only_when_allowed(self):
        s = self.server(tls=False, auth=False)
        r = self.send(self.config(s.url, username=None, password=None, retries=3), expect=1)
        self.assertIn("exit status 78", r.stderr)
        self.assertEqual(self.received(), [])
        # No STARTTLS cannot heal by waiting: one attempt per instance, not four.
        self.assertEqual({a for (a,) in psql(self.db, "SELECT attempts FROM salesd.task_instance "
                                                      "WHERE job = 'weekly-email'")}, {"1"})
        # Said once per attempt, in words an operator can act on.
        said = "the server does not offer STARTTLS"
        self.assertEqual(r.stderr.count(said), len(self.stores) + 1, r.stderr[-3000:])
        self.assertIn("allow_plain = yes", r.stderr)
        # Every recipient has its row: failed, and why.
        ledger = self.ledger()
        self.assertEqual(set(ledger), self.expected())
        self.assertEqual({v[0] for v in ledger.values()}, {"failed"})
        self.assertTrue(all(said in v[2] for v in ledger.values()), ledger)
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'weekly-email'")
        r = self.send(self.config(s.url, username=None, password=None, allow_plain="yes"))
        self.assertRegex(r.stderr, r"(?m)^<4>sending without TLS to smtp://")
        self.assertEqual(len(self.received()), len(self.expected()))

    def test_implicit_tls(self):
        s = self.server("--implicit-tls")
        self.assertTrue(s.url.startswith("smtps://"))
        self.send(self.config(s.url))
        got = self.received()
        self.assertEqual(len(got), len(self.expected()))
        self.assertEqual({e["tls_mode"] for e, _, _ in got}, {"implicit"})

    def test_header_injection_refused(self):
        s = self.server()
        conf = self.config(s.url)
        evil = "Evil\r\nBcc: thief@example.net"
        r = subprocess.run([SALESD, "--config", conf, "run", "weekly-reports", "--date", DATE, "--store", evil],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.send(conf, "--store", evil, expect=1)
        self.assertIn("line break", r.stderr)
        self.assertEqual(self.received(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
