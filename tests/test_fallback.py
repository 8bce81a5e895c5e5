#!/usr/bin/python3
"""WhatsApp's fallback to e-mail end to end: the real salesd ("run
daily-whatsapp", "task", "whatsapp-login", "status") driving real headless
Chromium against tools/whatsapp-web, the fallback e-mails going over
STARTTLS with AUTH to tools/smtp-server, the delivery ledger in a real
PostgreSQL.

Proven here: a profile that needs a login sends each chat's report by e-mail
to the chat's whatsapp_fallback addresses (else [whatsapp] fallback_email),
once per report, chat and address, with the rendered PDF attached byte for
byte and the manifest's figures in the text; the operator gets one "WhatsApp
needs a login on HOST" alert per incident (none on the next attempts, one
again after a login and a new logout); `salesd status` shows the fallbacks;
once logged in again a WhatsApp run sends what was not sent, and a re-run
sends nothing twice on WhatsApp or by e-mail. A chat that does not exist gets
its fallback on the last attempt only (`salesd task` without and with
--last-attempt; the engine passes it to the last of retries + 1 attempts).
Past [whatsapp] deadline the browser is not started and the chats get the
e-mail; a send that ended unknown gets it worded "in case the WhatsApp
message did not arrive".

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM,
SALESD_PGHOST, WHATSAPP_WEB, SMTP_SERVER.
"""
import email
import email.policy
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PGHOST, SALESD, Sim, Smtp, make_ca, psql, require_env  # noqa: E402
from test_whatsapp import CHATS, WHATSAPP_WEB, Web, leftovers  # noqa: E402

GEN = ["--seed", "733", "--stores", "8", "--products", "120", "--lines", "300"]
DATE = "2026-10-18"
COMPANY = "Sharma & Sons"
USER, PASSWORD = "mailer", "s3cret pass"
OPS = "ops@example.com"                 # [whatsapp] fallback_email
MGMT = ["md@example.com", "cfo@example.com"]  # Management's own whatsapp_fallback


class FallbackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_env(cls)
        if not WHATSAPP_WEB or not os.environ.get("SMTP_SERVER"):
            raise AssertionError("WHATSAPP_WEB or SMTP_SERVER is not set: run this test through ctest")
        cls.db = f"fallback_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {cls.db}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="salesd-fallback-")
        cls.root = cls.tmp.name
        cls.sim = Sim(GEN)
        cls.web = cls.smtp = None
        try:
            cls.web = Web(os.path.join(cls.root, "uploads"))
            cls.ca, cls.cert, cls.key = make_ca(cls.root)
            cls.maildir = os.path.join(cls.root, "mail")
            cls.smtp = Smtp(cls.maildir, "--tls-cert", cls.cert, "--tls-key", cls.key, "--username", USER,
                            "--password", PASSWORD)
            conf = cls.config("report")
            for cmd in (["backfill", "etl", "--from", "2026-10-11", "--to", DATE],
                        ["run", "daily-report", "--date", DATE]):
                r = subprocess.run([SALESD, "--config", conf] + cmd, capture_output=True, text=True,
                                   timeout=300, cwd=cls.root)
                if r.returncode != 0:
                    raise RuntimeError(" ".join(cmd) + ": " + r.stderr[-2000:])
            cls.pdf = os.path.join(cls.root, "state", "reports", "daily", DATE, "company.pdf")
            with open(os.path.join(cls.root, "state", "reports", "daily", DATE, "company.json")) as f:
                cls.manifest = json.load(f)
            # One logged-in profile for the tests that send.
            cls.login(cls.config("shared"), "state")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.web, cls.smtp):
            if s is not None:
                s.stop()
        cls.sim.stop()
        psql("postgres", f"DROP DATABASE IF EXISTS {cls.db} WITH (FORCE)")
        cls.tmp.cleanup()

    @classmethod
    def fail(cls, msg):
        raise AssertionError(msg)

    @classmethod
    def config(cls, name, chats=("Management", "Store Partners"), state="state", retries=0, **wa):
        settings = {"url": cls.web.url, "chromium": "/usr/bin/chromium", "chromedriver": "/usr/bin/chromedriver",
                    "load_timeout": "20s", "step_timeout": "5s", "send_timeout": "10s", "pause_min": "0s",
                    "pause_max": "200ms", "login_timeout": "60s", "batch_timeout": "3m",
                    "fallback_email": OPS}
        settings.update(wa)
        recipients = os.path.join(cls.root, f"recipients-{name}.csv")
        with open(recipients, "w") as f:
            f.write("store,email,whatsapp,whatsapp_fallback\n")
            for c in chats:
                f.write(f"*,,\"{c}\",{';'.join(MGMT) if c == 'Management' else ''}\n")
        sdir = os.path.join(cls.root, state)
        os.makedirs(sdir, exist_ok=True)
        if state != "state" and not os.path.exists(os.path.join(sdir, "reports")):
            os.symlink(os.path.join(cls.root, "state", "reports"), os.path.join(sdir, "reports"))
        lines = ["[salesd]", "timezone = Asia/Kolkata", "exclude_stores = Head Office", f"state_dir = {sdir}",
                 "[database]", f"conninfo = host={PGHOST} user=salesd_test dbname={cls.db}", "[source]",
                 f"base_url = {cls.sim.url}", "username = demo", "password = demo-password",
                 "order_types = online, offline", "date_format = ymd", "[report]", f"company = {COMPANY}",
                 "[recipients]", f"file = {recipients}",
                 "[smtp]", f"url = {cls.smtp.url if cls.smtp else 'smtp://127.0.0.1:9'}", f"username = {USER}",
                 f"password = {PASSWORD}", "from = Sales Reports <reports@example.com>", f"ca_file = {cls.ca}",
                 "connect_timeout = 3s", "timeout = 20s", "[whatsapp]"]
        lines += [f"{k} = {v}" for k, v in settings.items()]
        lines += ["[job etl]", "kind = etl", "schedule = 30 1 * * *", "retries = 0",
                  "[job daily-report]", "kind = report", "after = etl", "retries = 0",
                  "[job daily-whatsapp]", "kind = whatsapp", "after = daily-report", f"retries = {retries}",
                  "retry_delay = 50ms"]
        path = os.path.join(cls.root, f"{name}.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    @classmethod
    def login(cls, conf, state):
        """whatsapp-login with the scan done once the QR code is saved."""
        qr = os.path.join(cls.root, state, "whatsapp", "qr.png")
        if os.path.exists(qr):
            os.unlink(qr)
        p = subprocess.Popen([SALESD, "--config", conf, "whatsapp-login"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=cls.root)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(qr) and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            if not os.path.exists(qr):
                raise AssertionError("no QR code saved")
            cls.web.call("/control/scan", {})
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if p.returncode != 0:
            raise AssertionError(f"whatsapp-login exited {p.returncode}: {err[-2000:]}")

    def setUp(self):
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.web.fault(popup="none", upload="ok", slow=0, hang="none")
        self.before = len(self.web.state()["uploads"])
        self.seen = set(glob.glob(os.path.join(self.maildir, "*.eml")))

    def tearDown(self):
        keep = tuple(s.proc.pid for s in (self.web, self.smtp))
        self.assertEqual(leftovers(self.root, keep=keep, settle=10), [], "processes outlived the run")

    def run_salesd(self, conf, *args, expect=0):
        r = subprocess.run([SALESD, "--config", conf] + list(args), capture_output=True, text=True, timeout=600,
                           cwd=self.root)
        self.assertEqual(r.returncode, expect, r.stderr[-4000:])
        return r

    def send(self, conf, *more, expect=0):
        return self.run_salesd(conf, "run", "daily-whatsapp", "--date", DATE, *more, expect=expect)

    def uploads(self):
        return self.web.state()["uploads"][self.before:]

    def mail(self):
        """[(rcpt, message)] received since setUp (or the last call), in arrival order."""
        out = []
        for path in sorted(set(glob.glob(os.path.join(self.maildir, "*.eml"))) - self.seen):
            self.seen.add(path)
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            with open(path[:-4] + ".json") as f:
                env = json.load(f)
            self.assertTrue(env["tls"] and env["auth_user"] == USER)
            out.append((env["rcpt_tos"][0], m))
        return out

    def fallbacks(self):
        """{(address, chat): (state, linked WhatsApp state)} of the fallback rows."""
        rows = psql(self.db, "SELECT e.recipient, e.state, w.recipient, w.state FROM salesd.delivery e "
                             "JOIN salesd.delivery w ON w.id = e.fallback_of WHERE e.channel = 'email'")
        return {(r[0].split(" ")[0], r[2]): (r[1], r[3]) for r in rows}

    def whatsapp(self):
        return {r[0]: r[1] for r in psql(self.db, "SELECT recipient, state FROM salesd.delivery "
                                                  "WHERE channel = 'whatsapp'")}

    def check_report(self, m, chat, in_case=False):
        """m is the fallback of chat: the rendered PDF attached, the manifest's figures in the text."""
        text = m.get_body(("plain",)).get_content()
        self.assertIn(f'"{chat}"', text)
        if in_case:
            self.assertTrue(m["Subject"].startswith("In case the WhatsApp message did not arrive: "), m["Subject"])
            self.assertIn("in case the WhatsApp message did not arrive", text)
        else:
            self.assertTrue(m["Subject"].startswith("Instead of WhatsApp: "), m["Subject"])
            self.assertIn("could not reach", text)
        self.assertIn(self.manifest["figures"]["sales"], text)
        pdfs = [a for a in m.iter_attachments() if a.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1)
        with open(self.pdf, "rb") as f:
            self.assertEqual(pdfs[0].get_content(), f.read(), "the rendered PDF, byte for byte")

    def test_needs_login(self):
        conf = self.config("fresh", state="fresh", retries=2)
        r = self.send(conf, expect=1)
        self.assertIn("WhatsApp needs a login", r.stderr)
        self.assertEqual(self.uploads(), [])
        got = self.mail()
        alerts = [m for rcpt, m in got if m["Subject"].startswith("salesd: WhatsApp needs a login on ")]
        self.assertEqual(len(alerts), 1, [m["Subject"] for _, m in got])
        self.assertEqual(alerts[0]["Subject"], f"salesd: WhatsApp needs a login on {socket.gethostname()}")
        self.assertIn("salesd whatsapp-login", alerts[0].get_body(("plain",)).get_content())
        reports = sorted((rcpt, m) for rcpt, m in got if m not in alerts)
        self.assertEqual(sorted(r for r, _ in reports), sorted(MGMT + [OPS]),
                         "Management's own addresses, Store Partners' the configured ones")
        for rcpt, m in reports:
            self.check_report(m, "Management" if rcpt in MGMT else "Store Partners")
        self.assertEqual(self.fallbacks(), {(a, "Management"): ("sent", "failed") for a in MGMT} |
                         {(OPS, "Store Partners"): ("sent", "failed")})
        st = self.run_salesd(conf, "status")
        self.assertIn("WhatsApp: NEEDS LOGIN", st.stdout)
        self.assertIn('FALLBACK for the WhatsApp chat "Store Partners"', st.stdout)
        self.assertIn('FALLBACK for the WhatsApp chat "Management"', st.stdout)

        # The same outage again: no second fallback, no second alert.
        self.send(conf, "--force", expect=1)
        self.assertEqual(self.mail(), [])

        # Logged in again: the retry (--force on what gave up) gets WhatsApp what it did not.
        self.login(conf, "fresh")
        self.send(conf, "--force")
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management", "Store Partners"])
        self.assertEqual(self.whatsapp(), {"Management": "sent", "Store Partners": "sent"})
        # The task again, not forced: the ledger holds both, nothing twice on WhatsApp nor by e-mail.
        r = self.run_salesd(conf, "task", "daily-whatsapp", "--period", DATE)
        self.assertIn("0 sent, 2 sent before", r.stdout + r.stderr)
        self.send(conf)
        self.assertEqual(len(self.uploads()), 2, "nothing twice on WhatsApp")
        self.assertEqual(self.mail(), [], "nothing by e-mail once WhatsApp works")

        # A new incident: logged out again, one new alert, and no second fallback for the same report.
        self.web.call("/control/logout", {})
        task = ["task", "daily-whatsapp", "--period", DATE, "--force"]
        r = self.run_salesd(conf, *task, expect=77)
        self.assertIn("WhatsApp needs a login", r.stdout + r.stderr)
        self.assertEqual([m["Subject"] for _, m in self.mail()],
                         [f"salesd: WhatsApp needs a login on {socket.gethostname()}"])
        self.run_salesd(conf, *task, expect=77)
        self.assertEqual([m["Subject"] for _, m in self.mail()], [], "one alert per incident")
        self.assertEqual(len(self.uploads()), 2)
        # The logout ended every session: the other tests' profile logs in again.
        self.login(self.config("shared"), "state")

    def test_last_attempt_only(self):
        conf = self.config("missing", chats=("Store Partners", "Nobody Here"))
        task = ["task", "daily-whatsapp", "--period", DATE]
        # Not the last attempt: the failure is retried, nothing goes by e-mail.
        r = self.run_salesd(conf, *task, "--attempt", "1", expect=1)
        self.assertIn("no chat named", r.stdout)
        self.assertEqual(self.mail(), [])
        # The last: the chat that failed gets its e-mail, the one that got WhatsApp does not.
        r = self.run_salesd(conf, *task, "--attempt", "2", "--last-attempt", expect=1)
        got = self.mail()
        self.assertEqual([rcpt for rcpt, _ in got], [OPS])
        self.check_report(got[0][1], "Nobody Here")
        text = got[0][1].get_body(("plain",)).get_content()
        self.assertIn("no retry is left", text)
        self.assertIn("no chat named", text, "the page's reason, for the reader")
        self.assertEqual(self.fallbacks(), {(OPS, "Nobody Here"): ("sent", "failed")})
        self.assertEqual([u["chat"] for u in self.uploads()], ["Store Partners"])

        # Through the engine: retries = 1, two attempts, the e-mail from the second only, once.
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        conf = self.config("missing2", chats=("Nobody Here",), retries=1)
        r = self.send(conf, expect=1)
        self.assertEqual(psql(self.db, "SELECT attempts FROM salesd.task_instance WHERE job = 'daily-whatsapp'"),
                         [["2"]])
        got = self.mail()
        self.assertEqual([rcpt for rcpt, _ in got], [OPS])
        attempts = r.stderr.split("attempt 2")
        self.assertNotIn("in place of WhatsApp", attempts[0], "no fallback on the first attempt")
        self.assertIn("in place of WhatsApp", attempts[-1])

    def test_deadline(self):
        conf = self.config("late", deadline="09:30")
        loads = self.web.state()["page_loads"]
        r = self.send(conf)
        self.assertIn("the browser is not started", r.stderr)
        self.assertEqual(self.web.state()["page_loads"], loads, "the browser was not started")
        self.assertEqual(self.uploads(), [])
        got = self.mail()
        self.assertEqual(sorted(rcpt for rcpt, _ in got), sorted(MGMT + [OPS]))
        for rcpt, m in got:
            self.check_report(m, "Management" if rcpt in MGMT else "Store Partners")
            self.assertIn("deadline 09:30", m.get_body(("plain",)).get_content())
        self.send(conf, "--force")
        self.assertEqual(self.mail(), [], "once per report and chat")
        # Before the deadline (the clock set to 09:00 the next morning), WhatsApp sends as ever.
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        env = dict(os.environ, SALESD_FAKE_NOW=str(1792380600))   # 2026-10-19 09:00 IST
        r = subprocess.run([SALESD, "--config", conf, "run", "daily-whatsapp", "--date", DATE], env=env,
                           capture_output=True, text=True, timeout=600, cwd=self.root)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management", "Store Partners"])
        self.assertEqual(self.mail(), [])

    def test_unknown_in_case(self):
        # The batch must reach Send before its time-out: under ASan and a loaded machine Chromium alone takes
        # seconds to start, so the time-out leaves room for that.
        conf = self.config("stall", chats=("Store Partners",), batch_timeout="30s", send_timeout="90s")
        self.web.fault(upload="stall")
        r = self.send(conf, expect=75)
        self.assertIn("whether the message went is unknown", r.stderr)
        self.assertEqual(self.whatsapp(), {"Store Partners": "unknown"})
        got = self.mail()
        self.assertEqual([rcpt for rcpt, _ in got], [OPS])
        self.check_report(got[0][1], "Store Partners", in_case=True)
        self.assertEqual(self.fallbacks(), {(OPS, "Store Partners"): ("sent", "unknown")})
        # The retry: neither WhatsApp nor the e-mail again.
        self.web.fault(upload="ok")
        self.send(conf, "--force")
        self.assertEqual(self.mail(), [])
        self.assertEqual(self.whatsapp(), {"Store Partners": "unknown"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
