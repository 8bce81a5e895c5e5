#!/usr/bin/python3
"""WhatsApp delivery end to end: the real salesd ("run daily-whatsapp",
"whatsapp-login") driving real headless Chromium through Debian's
chromedriver (the salesd-whatsapp child) against tools/whatsapp-web, a local
web app that behaves like WhatsApp Web, with the delivery ledger in a real
PostgreSQL.

Proven here: a fresh profile ends in "needs login" with the QR code saved as
a PNG, at error priority, shown by `salesd status`, and without retries;
whatsapp-login waits for the scan and the profile stays logged in (no QR on
the next runs); the daily report reaches every chat byte for byte with a
caption holding the day's sales, growth and best and worst stores (line
breaks kept); the evidence stored for a send quotes the message cut between
characters, never inside one; a re-run sends nothing and --force sends
again; a chat that is not found, a failed upload, a pop-up nobody can close, a slow page and a page
that hangs each end in the documented state with a screenshot and the page
source; a batch cut short re-sends only what is missing; a report rendered
again with a store's sales restated brings each chat one correction whose
caption starts with "Correction:" and the store's old and new sales; the
shipped selector defaults (strategy lists) send on the restyled page (no ids,
other classes) as on today's, each element's strategy logged at debug
priority, a first strategy gone showing as the second; an OK-only dialog and
pop-ups over the preview (closed by their close control or Escape) are closed
with their text logged and the report arrives; a dialog nothing closes fails
the send before Send, with a screenshot and nothing uploaded; `salesd
whatsapp-check` says which strategy finds each element and sends nothing,
exiting 1 naming an element not found and 77 without a login; the same batch
through a socket (`[whatsapp] socket`, served by systemd-socket-activate as
salesd-whatsapp.socket would be) delivers too; and after every run no
browser, driver or child process is left.

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM,
SALESD_PGHOST, WHATSAPP_WEB.
"""
import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PGHOST, SALESD, Server, Sim, money, psql, require_env, stop_process  # noqa: E402

WHATSAPP_WEB = os.environ.get("WHATSAPP_WEB", "")
GEN = ["--seed", "733", "--stores", "8", "--products", "120", "--lines", "300"]
DATE = "2026-10-18"
COMPANY = "Sharma & Sons"
CHATS = ["Management", "Store Partners", "Regional Heads"]


class Web(Server):
    """tools/whatsapp-web on 127.0.0.1, stopped with the test class."""

    def __init__(self, uploads, *options):
        super().__init__("whatsapp-web", ["/usr/bin/python3", WHATSAPP_WEB, "--exit-with-parent", "--uploads",
                                          uploads, "--chats", ",".join(CHATS + ["Family"])] + list(options))

    def call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method="GET" if data is None and
                                     not path.startswith("/control/scan") else "POST")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def state(self):
        return self.call("/control/state")

    def fault(self, **f):
        return self.call("/control/fault", f)


def leftovers(root, keep=(), settle=0.0):
    """Processes started below root (their working directory or command line) but those in keep:
    none may outlive a run. settle: seconds to let go first for Chromium's crash handler, which
    leaves the browser's process group by design and exits by itself moments after the browser
    (lib/deliver/browser.h); anything else still there then is a leak."""
    deadline = time.monotonic() + settle
    while True:
        found = _leftovers(root, keep)
        if not found or time.monotonic() >= deadline or \
                any("chrome_crashpad_handler" not in f for f in found):
            return found
        time.sleep(0.2)


def _leftovers(root, keep):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid() or int(pid) in keep:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if root in cmd or cwd.startswith(root):
            found.append(f"{pid}: {cmd[:200]}")
    return found


class WhatsAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_env(cls)
        if not WHATSAPP_WEB:
            raise AssertionError("WHATSAPP_WEB is not set: run this test through ctest")
        cls.db = f"whatsapp_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {cls.db}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="salesd-whatsapp-")
        cls.root = cls.tmp.name
        cls.sim = Sim(GEN)
        cls.web = None
        try:
            cls.web = Web(os.path.join(cls.root, "uploads"))
            conf = cls.config("report")
            # The day and the 7 before it (the baseline of growth, best and worst store), then the report.
            for cmd in (["backfill", "etl", "--from", "2026-10-11", "--to", DATE],
                        ["run", "daily-report", "--date", DATE]):
                r = subprocess.run([SALESD, "--config", conf] + cmd, capture_output=True, text=True,
                                   timeout=300, cwd=cls.root)
                if r.returncode != 0:
                    raise RuntimeError(" ".join(cmd) + ": " + r.stderr[-2000:])
            cls.pdf = glob.glob(os.path.join(cls.root, "state", "reports", "daily", DATE, "company.pdf"))[0]
            # One logged-in profile for the tests that send (the login itself is test_login).
            cls.login(cls.config("shared"))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.web is not None:
            cls.web.stop()
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
                    "pause_max": "200ms", "login_timeout": "60s", "batch_timeout": "3m"}
        settings.update(wa)
        recipients = os.path.join(cls.root, f"recipients-{name}.csv")
        with open(recipients, "w") as f:
            f.write("store,email,whatsapp\n")
            for c in chats:
                f.write(f"*,,\"{c}\"\n")
        # The profile lives in the state directory; the reports are shared through a symbolic link.
        sdir = os.path.join(cls.root, state)
        os.makedirs(sdir, exist_ok=True)
        if state != "state" and not os.path.exists(os.path.join(sdir, "reports")):
            os.symlink(os.path.join(cls.root, "state", "reports"), os.path.join(sdir, "reports"))
        lines = ["[salesd]", "timezone = Asia/Kolkata", "exclude_stores = Head Office", f"state_dir = {sdir}",
                 "[database]", f"conninfo = host={PGHOST} user=salesd_test dbname={cls.db}", "[source]",
                 f"base_url = {cls.sim.url}", "username = demo", "password = demo-password",
                 "order_types = online, offline", "date_format = ymd", "[report]", f"company = {COMPANY}",
                 "[recipients]", f"file = {recipients}", "[whatsapp]"]
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
    def login(cls, conf, state="state"):
        """salesd whatsapp-login, with the scan done once the QR code is saved; returns its output."""
        qr = os.path.join(cls.root, state, "whatsapp", "qr.png")
        if os.path.exists(qr):
            os.unlink(qr)   # the code of an earlier run: scan the one this login shows
        p = subprocess.Popen([SALESD, "--config", conf, "whatsapp-login"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=cls.root)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(qr) and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            if not os.path.exists(qr):
                raise AssertionError("no QR code saved: " + (p.stderr.read() if p.poll() is not None else ""))
            with open(qr, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    raise AssertionError("the QR code is not a PNG")
            cls.web.call("/control/scan", {})
            out, err = p.communicate(timeout=60)
        finally:
            stop_process(p)
        if p.returncode != 0:
            raise AssertionError(f"whatsapp-login exited {p.returncode}: {err[-2000:]}")
        return out

    def setUp(self):
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.web.fault(popup="none", upload="ok", slow=0, hang="none", variant="default", send_popup="none",
                       logout_after=0)
        state = self.web.state()
        self.before = len(state["uploads"])
        self.upload_attempts_before = state["upload_attempts"]

    def tearDown(self):
        self.assertEqual(leftovers(self.root, keep=(self.web.proc.pid,), settle=10), [], "processes outlived the run")

    def send(self, conf, *more, expect=0):
        r = subprocess.run([SALESD, "--config", conf, "run", "daily-whatsapp", "--date", DATE] + list(more),
                           capture_output=True, text=True, timeout=600, cwd=self.root)
        self.assertEqual(r.returncode, expect, r.stderr[-4000:])
        return r

    def uploads(self):
        return self.web.state()["uploads"][self.before:]

    def ledger(self):
        return {r[0]: (r[1], r[2]) for r in psql(self.db, "SELECT recipient, state, reply FROM salesd.delivery "
                                                          "WHERE channel = 'whatsapp'")}

    def diagnostics(self, r, *words):
        """The screenshot and page source a failure names exist, and the message has the words."""
        for w in words:
            self.assertIn(w, r.stderr)
        shots = [w.rstrip(",;") for w in r.stderr.split() if w.rstrip(",;").endswith(".png")]
        pages = [w.rstrip(",;)") for w in r.stderr.split() if w.rstrip(",;)").endswith(".html")]
        self.assertTrue(shots, r.stderr[-3000:])
        for s in shots:
            with open(s, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", s)
        for p in pages:
            self.assertGreater(os.path.getsize(p), 100, p)

    def test_login(self):
        conf = self.config("fresh", state="fresh", retries=3)
        shown = self.web.state()["qr_shown"]
        r = self.send(conf, expect=1)
        self.assertIn("WhatsApp needs a login", r.stderr)
        qr = os.path.join(self.root, "fresh", "whatsapp", "qr.png")
        with open(qr, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(self.web.state()["qr_shown"], shown)
        # A person must act: no retry piles up browsers, whatever retries says.
        self.assertEqual(psql(self.db, "SELECT attempts, state FROM salesd.task_instance "
                                       "WHERE job = 'daily-whatsapp'"), [["1", "failed"]])
        self.assertEqual(self.uploads(), [])
        st = subprocess.run([SALESD, "--config", conf, "status"], capture_output=True, text=True, timeout=60)
        self.assertIn("WhatsApp: NEEDS LOGIN", st.stdout)
        self.assertIn(qr, st.stdout)

        out = self.login(conf, state="fresh")
        self.assertIn(qr, out)
        self.assertIn("logged in", out)
        st = subprocess.run([SALESD, "--config", conf, "status"], capture_output=True, text=True, timeout=60)
        self.assertIn("WhatsApp: logged in", st.stdout)
        # The profile keeps the session: the next run goes straight to the app.
        shown = self.web.state()["qr_shown"]
        self.send(conf, "--force")
        self.assertEqual(self.web.state()["qr_shown"], shown)
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management", "Store Partners"])

    def test_sends_report_once(self):
        conf = self.config("send")
        self.send(conf)
        ups = self.uploads()
        self.assertEqual(sorted(u["chat"] for u in ups), ["Management", "Store Partners"])
        with open(self.pdf, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        sales = int(psql(self.db, f"SELECT round(sum(sales) * 100) FROM salesd.kpi_store_day "
                                  f"WHERE day = '{DATE}' AND store <> 'Head Office'")[0][0])
        for u in ups:
            self.assertEqual(u["filename"], f"daily-report-{DATE}-company.pdf")
            self.assertEqual(u["sha256"], digest, "the upload is the rendered PDF, byte for byte")
            lines = u["caption"].split("\n")
            self.assertEqual(lines[0], f"{COMPANY}: daily sales {DATE}", u["caption"])
            self.assertTrue(lines[1].startswith(f"Sales {money(sales)} ("), u["caption"])
            self.assertTrue(lines[2].startswith("Best: ") and lines[3].startswith("Worst: "), u["caption"])
        ledger = self.ledger()
        self.assertEqual(set(ledger), {"Management", "Store Partners"})
        for state, reply in ledger.values():
            self.assertEqual(state, "sent")
            self.assertIn(f"daily-report-{DATE}-company.pdf", reply)
            self.assertIn("msg-check", reply)
        # Sent is sent: a re-run does not even start the browser; --force sends again.
        loads = self.web.state()["page_loads"]
        self.send(conf)
        self.assertEqual(len(self.uploads()), 2)
        self.assertEqual(self.web.state()["page_loads"], loads)
        self.send(conf, "--force")
        self.assertEqual(len(self.uploads()), 4)

    def test_caption_from_the_rendered_report(self):
        # The caption's figures come from the rendered report's manifest, not
        # the KPI tables: emptied after rendering, the caption still says what
        # the PDF says; a PDF that is not the rendered one is never sent.
        with open(os.path.join(self.root, "state", "reports", "daily", DATE, "company.json")) as f:
            m = json.load(f)
        tables = ["sales_line", "kpi_store_day", "kpi_category_day", "kpi_brand_day", "kpi_product_day"]
        for t in tables:
            psql(self.db, f"CREATE TABLE salesd.keep_{t} AS SELECT * FROM salesd.{t}; TRUNCATE salesd.{t}")
        try:
            conf = self.config("manifest", chats=("Management",))
            self.send(conf)
            [up] = self.uploads()
            fig = m["figures"]
            self.assertEqual(up["caption"], f"{COMPANY}: daily sales {DATE}\nSales {fig['sales']} ({fig['growth']} "
                                            f"vs 7-day average)\nBest: {fig['best']}\nWorst: {fig['worst']}")
            self.assertEqual(up["sha256"], m["files"]["pdf"]["sha256"])
            # One byte of the PDF changed: refused (65), not uploaded.
            with open(self.pdf, "rb") as f:
                kept = f.read()
            try:
                with open(self.pdf, "r+b") as f:
                    f.seek(len(kept) // 2)
                    f.write(b"X" if kept[len(kept) // 2:len(kept) // 2 + 1] != b"X" else b"Y")
                r = self.send(conf, "--force", expect=1)
                self.assertIn("is not the file its manifest describes", r.stderr)
                self.assertIn("exit status 65", r.stderr)
                self.assertEqual(len(self.uploads()), 1)
            finally:
                with open(self.pdf, "wb") as f:
                    f.write(kept)
        finally:
            for t in tables:
                psql(self.db, f"TRUNCATE salesd.{t}; INSERT INTO salesd.{t} SELECT * FROM salesd.keep_{t}; "
                              f"DROP TABLE salesd.keep_{t}")

    def test_warning_caption(self):
        # The day went out incomplete with a warning (docs/completeness.md): the caption says so first.
        conf = self.config("warning")
        psql(self.db, f"UPDATE salesd.etl_day SET state = 'incomplete', released = 'warning', "
                      f"error = 'missing: Whitefield (no lines; usually 120)' WHERE day = '{DATE}'")

        def render():
            r = subprocess.run([SALESD, "--config", conf, "run", "daily-report", "--date", DATE, "--force"],
                               capture_output=True, text=True, timeout=300, cwd=self.root)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])

        def restore():
            psql(self.db, f"UPDATE salesd.etl_day SET state = 'loaded', released = NULL, error = NULL "
                          f"WHERE day = '{DATE}'")
            render()
        self.addCleanup(restore)
        render()
        self.send(conf)
        ups = self.uploads()
        self.assertEqual(sorted(u["chat"] for u in ups), ["Management", "Store Partners"])
        for u in ups:
            lines = u["caption"].split("\n")
            self.assertEqual(lines[0], f"WARNING: the figures may be too low. Incomplete data for {DATE}: "
                                       f"missing: Whitefield (no lines; usually 120)", u["caption"])
            self.assertEqual(lines[1], f"{COMPANY}: daily sales {DATE}", u["caption"])

    def test_correction(self):
        conf = self.config("correction")
        self.send(conf)
        self.assertEqual(len(self.uploads()), 2)
        # The POS system restated the day: the biggest store's sales 10% up. Rendered again.
        [(store, before)] = psql(self.db, f"SELECT store, round(sales * 100) FROM salesd.kpi_store_day "
                                          f"WHERE day = '{DATE}' AND store <> 'Head Office' "
                                          f"ORDER BY sales DESC LIMIT 1")
        psql(self.db, "CREATE TABLE salesd.keep_kpi_store_day AS SELECT * FROM salesd.kpi_store_day")

        def render():
            r = subprocess.run([SALESD, "--config", conf, "run", "daily-report", "--date", DATE, "--force"],
                               capture_output=True, text=True, timeout=300, cwd=self.root)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])

        def restore():
            psql(self.db, "TRUNCATE salesd.kpi_store_day; INSERT INTO salesd.kpi_store_day "
                          "SELECT * FROM salesd.keep_kpi_store_day; DROP TABLE salesd.keep_kpi_store_day")
            render()
        self.addCleanup(restore)
        psql(self.db, f"UPDATE salesd.kpi_store_day SET sales = sales * 1.10 WHERE day = '{DATE}' "
                      f"AND store = '{store}'")
        render()
        [(after,)] = psql(self.db, f"SELECT round(sales * 100) FROM salesd.kpi_store_day WHERE day = '{DATE}' "
                                   f"AND store = '{store}'")
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.send(conf)
        ups = self.uploads()[2:]
        self.assertEqual(sorted(u["chat"] for u in ups), ["Management", "Store Partners"])
        with open(self.pdf, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        total = int(psql(self.db, f"SELECT round(sum(sales) * 100) FROM salesd.kpi_store_day "
                                  f"WHERE day = '{DATE}' AND store <> 'Head Office'")[0][0])
        for u in ups:
            lines = u["caption"].split("\n")
            self.assertTrue(lines[0].startswith("Correction: "), u["caption"])
            self.assertEqual(lines[1], f"{store} sales {DATE}: {money(int(before))} -> {money(int(after))}",
                             u["caption"])
            # Then the usual caption, with the corrected figures, and the corrected PDF.
            self.assertEqual(lines[2], f"{COMPANY}: daily sales {DATE}", u["caption"])
            self.assertTrue(lines[3].startswith(f"Sales {money(total)} ("), u["caption"])
            self.assertEqual(u["sha256"], digest)
        self.assertEqual(psql(self.db, "SELECT recipient, state FROM salesd.delivery WHERE version = 2 "
                                       "ORDER BY recipient"), [["Management", "sent"], ["Store Partners", "sent"]])
        # Once: the next run sends nothing, and does not even start the browser.
        loads = self.web.state()["page_loads"]
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.send(conf)
        self.assertEqual(len(self.uploads()), 4)
        self.assertEqual(self.web.state()["page_loads"], loads)

    def test_best_and_worst_stores(self):
        conf = self.config("caption", chats=("Management",))
        self.send(conf)
        caption = self.uploads()[0]["caption"]
        # Growth of each store against the average of its 7 days before, in tenths of a percent.
        rows = psql(self.db, f"""
            SELECT store, round(sum(sales) FILTER (WHERE day = '{DATE}') * 100),
                   round(sum(sales) FILTER (WHERE day < '{DATE}') * 100)
            FROM salesd.kpi_store_day WHERE day BETWEEN date '{DATE}' - 7 AND '{DATE}'
              AND store <> 'Head Office' GROUP BY store""")
        growth = {}
        for store, cur, base in rows:
            cur, base = int(cur or 0), int(base or 0)
            if base > 0:
                num = (cur * 7 - base) * 1000
                growth[store] = (abs(num) + base // 2) // base * (1 if num >= 0 else -1)
        best = max(growth.values())
        worst = min(growth.values())
        best_line = caption.split("\n")[2]
        worst_line = caption.split("\n")[3]
        self.assertTrue(any(best_line.startswith(f"Best: {s} (") for s, g in growth.items() if g == best),
                        (caption, growth))
        self.assertTrue(any(worst_line.startswith(f"Worst: {s} (") for s, g in growth.items() if g == worst),
                        (caption, growth))
        self.assertIn(f"{best / 10:+.1f}%", best_line)
        self.assertIn(f"{worst / 10:+.1f}%", worst_line)

    def test_evidence_cut_between_characters(self):
        """The evidence in delivery.reply quotes the message cut at 200 bytes: a store name in Devanagari
        across that point loses whole characters, never half of one ("Chandni Chowk ??")."""
        lead = 'the new message shows "'
        # Where the caption starts in the message's text (after the file name and size), from a first send.
        self.send(self.config("utf8-probe", chats=("Management",), caption="PROBE"))
        reply = self.ledger()["Management"][1]
        at = len(reply[len(lead):reply.index("PROBE")].encode())
        self.assertLess(at, 150, reply)
        # Then a caption whose "च" (3 bytes) starts at byte 199 of the text: byte 200 is inside it.
        pad = "x" * (199 - at)
        caption = pad + "चाँदनी चौक"
        self.send(self.config("utf8", chats=("Management",), caption=caption), "--force")
        self.assertEqual(self.uploads()[-1]["caption"], caption)
        state, reply = self.ledger()["Management"]
        self.assertEqual(state, "sent")
        quoted = reply[len(lead):reply.index('" and the sent tick')]
        self.assertNotIn("?", reply, "a character was cut in two")
        self.assertTrue(quoted.endswith(pad), quoted)
        self.assertEqual(len(quoted.encode()), 199, quoted)

    def test_batches_take_turns(self):
        # Two days caught up together with max_parallel = 2: two WhatsApp
        # batches are due at once, but they share one profile. One waits for
        # the other, unclaimed, instead of failing on the lock and spending an
        # attempt (retries = 0 here: a lost attempt would fail the run).
        conf = self.config("turns", chats=("Management",))
        with open(conf) as f:
            text = f.read().replace("[salesd]\n", "[salesd]\nmax_parallel = 2\n", 1)
        with open(conf, "w") as f:
            f.write(text)
        r = subprocess.run([SALESD, "--config", conf, "run", "daily-report", "--date", "2026-10-17"],
                           capture_output=True, text=True, timeout=300, cwd=self.root)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        psql(self.db, "DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        r = subprocess.run([SALESD, "--config", conf, "backfill", "daily-whatsapp", "--from", "2026-10-17",
                            "--to", DATE, "--deliver"], capture_output=True, text=True, timeout=600, cwd=self.root)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        self.assertNotIn("is locked", r.stderr)
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management", "Management"])
        self.assertEqual(psql(self.db, "SELECT period, attempts, state FROM salesd.task_instance "
                                       "WHERE job = 'daily-whatsapp' ORDER BY period"),
                         [["2026-10-17", "1", "succeeded"], [DATE, "1", "succeeded"]])
        # Never two at once: the second batch started after the first ended.
        spans = psql(self.db, "SELECT a.started_at, a.finished_at FROM salesd.task_attempt a JOIN "
                              "salesd.task_instance i ON i.id = a.instance_id WHERE i.job = 'daily-whatsapp' "
                              "ORDER BY a.started_at")
        self.assertLessEqual(spans[0][1], spans[1][0], spans)

    def test_chat_not_found(self):
        conf = self.config("missing", chats=("Management", "Nobody Here", "Store Partners"))
        r = self.send(conf, expect=1)
        self.diagnostics(r, "Nobody Here", "no chat named")
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management", "Store Partners"])
        ledger = self.ledger()
        self.assertEqual(ledger["Nobody Here"][0], "failed")
        self.assertIn("no chat named", ledger["Nobody Here"][1])
        self.assertEqual(ledger["Management"][0], "sent")

    def test_upload_fails(self):
        conf = self.config("upload", chats=("Management",))
        self.web.fault(upload="fail")
        r = self.send(conf, expect=1)
        self.diagnostics(r, "not sent")
        self.assertEqual(self.ledger()["Management"][0], "failed")
        # The retry (--force on what gave up) sends what failed.
        self.web.fault(upload="ok")
        before = len(self.uploads())
        self.send(conf, "--force")
        self.assertEqual(len(self.uploads()), before + 1)
        self.assertEqual(self.ledger()["Management"][0], "sent")

    def test_popups(self):
        conf = self.config("popup", chats=("Management",))
        self.web.fault(popup="known")
        self.send(conf)
        self.assertEqual([u["chat"] for u in self.uploads()], ["Management"])
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.web.fault(popup="blocking")
        r = self.send(conf, expect=1)
        self.diagnostics(r, "covers the page", "selector_popup_close")
        self.assertEqual(len(self.uploads()), 1)

    def again(self):
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")

    def test_restyled_page(self):
        # The shipped defaults on both pages, the restyled one without any id and with other class names:
        # the whole send path, and each element's strategy logged at debug priority.
        conf = self.config("restyled", chats=("Management", "Store Partners"))
        for variant in ("default", "restyled"):
            self.again()
            self.web.fault(variant=variant)
            r = self.send(conf, "--log-level", "debug")
            for key in ("app", "search", "chat", "chat_title", "attach", "document_input", "caption", "send",
                        "message_out", "sent"):
                self.assertRegex(r.stderr, rf"selector_{key} matched by strategy \d+ of \d+: ", variant)
            self.assertIn("selector_app matched by strategy 1 of", r.stderr, variant)
            self.assertIn("selector_send matched by strategy 1 of", r.stderr, variant)
            self.assertNotIn("WhatsApp Web may have changed its page", r.stderr, variant)
            self.assertEqual(sorted(self.ledger()), ["Management", "Store Partners"])
            self.assertEqual({v[0] for v in self.ledger().values()}, {"sent"}, variant)
        self.assertEqual(sorted(u["chat"] for u in self.uploads()), ["Management"] * 2 + ["Store Partners"] * 2)
        # A first strategy that no longer matches: the next one finds the element, and the log says so.
        self.again()
        conf = self.config("moved", chats=("Management",), selector_attach='[aria-label="Attach a file"] | '
                           '[title="Attach"] | #main [title="Attach"]', selector_send='[aria-label="Send now"] | '
                           'text:Send | [data-icon="send"]')
        r = self.send(conf, "--log-level", "debug")
        self.assertIn('selector_attach matched by strategy 2 of 3: [title="Attach"] (the ones before it match '
                      'nothing: WhatsApp Web may have changed its page)', r.stderr)
        self.assertIn('selector_send matched by strategy 3 of 3: [data-icon="send"]', r.stderr)
        self.assertEqual(self.ledger()["Management"][0], "sent")

    def test_dialogs_closed(self):
        # Each dialog is closed in the documented order, its text logged, and the report arrives.
        conf = self.config("dialogs", chats=("Management",))
        cases = (({"popup": "ok-only"}, "What's new", 'its button "OK"'),
                 ({"popup": "ok-only", "variant": "restyled"}, "What's new", 'its button "OK"'),
                 ({"send_popup": "got-it"}, "Send documents faster", "its close control"),
                 ({"send_popup": "escape", "variant": "restyled"}, "Tip Press Esc to close", "Escape"))
        for n, (faults, text, how) in enumerate(cases, 1):
            self.again()
            self.web.fault(variant="default", popup="none", send_popup="none")
            self.web.fault(**faults)
            r = self.send(conf, "--log-level", "info")
            self.assertRegex(r.stderr, f'a dialog covers the page: "{text}', faults)
            self.assertRegex(r.stderr, f'closed the dialog "{text}[^"]*" with {how}', faults)
            self.assertEqual(self.ledger()["Management"][0], "sent", faults)
            self.assertEqual(len(self.uploads()), n, faults)
            with open(self.pdf, "rb") as f:
                self.assertEqual(self.uploads()[-1]["sha256"], hashlib.sha256(f.read()).hexdigest())

    def test_dialog_that_stays(self):
        # A dialog nothing closes fails the send before Send: a screenshot, nothing uploaded, and the
        # ledger says failed (not unknown), so the next run sends it.
        conf = self.config("stays", chats=("Management",))
        self.web.fault(popup="no-exit", variant="restyled")
        r = self.send(conf, expect=1)
        self.diagnostics(r, "Syncing your chats", "covers the page", "dismiss_buttons")
        self.assertEqual(self.uploads(), [])
        self.assertEqual(self.ledger()["Management"][0], "failed")
        # The same over the preview, with the dialog's buttons out of the configuration: the send fails
        # with the preview open (at the caption or the send step), before Send was pressed.
        self.again()
        self.web.fault(popup="none", send_popup="got-it", variant="default")
        conf = self.config("stays-preview", chats=("Management",), dismiss_buttons="",
                           selector_popup_close='[aria-label="Close this"]')
        r = self.send(conf, expect=1)
        self.diagnostics(r, "Send documents faster", "covers the page")
        self.assertRegex(r.stderr, r"/\d\d-(caption|send)\.png")
        self.assertNotIn("Send was pressed", r.stderr)
        self.assertEqual(self.uploads(), [])
        self.assertEqual(self.ledger()["Management"][0], "failed")
        self.assertEqual(self.web.state()["upload_attempts"], self.upload_attempts_before)

    def check(self, conf, *args):
        return subprocess.run([SALESD, "--config", conf, "whatsapp-check"] + list(args), capture_output=True,
                              text=True, timeout=300, cwd=self.root)

    def test_whatsapp_check(self):
        # Which strategy finds each element, without sending: on the restyled page, past a dialog.
        conf = self.config("check", chats=("Management",))
        self.web.fault(variant="restyled", popup="ok-only")
        r = self.check(conf, "Management")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("logged in", r.stdout)
        for key in ("app", "search", "chat", "chat_title", "attach", "document_input"):
            self.assertRegex(r.stdout, rf"selector_{key}: found by strategy \d+ of \d+: ", key)
        for key in ("caption", "send", "sent"):
            self.assertIn(f"selector_{key}: not checked", r.stdout)
        self.assertEqual(self.uploads(), [])
        self.assertEqual(self.web.state()["upload_attempts"], self.upload_attempts_before)
        # Without a chat: the list and the search box only.
        r = self.check(conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("selector_chat: not checked", r.stdout)
        # An element no strategy finds: exit 1, the element named, with a screenshot.
        conf = self.config("check-gone", chats=("Management",), selector_attach='[aria-label="Attach a file"]')
        r = self.check(conf, "Management")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("selector_attach", r.stderr)
        self.assertIn("selector_attach: not found", r.stdout)
        self.diagnostics(r)
        # The login lost: 77.
        r = self.check(self.config("check-fresh", state="check-fresh"))
        self.assertEqual(r.returncode, 77, r.stdout + r.stderr)
        self.assertIn("login", r.stderr)
        self.assertEqual(self.uploads(), [])
        # The same check as a job on a schedule (kind = whatsapp-check): logged in, it succeeds;
        # with the login lost, it fails with 77 and is not retried (a person must scan).
        for name, state, want, said in (("check-job", "state", 0, "every element checked was found"),
                                        ("check-job-fresh", "check-fresh", 1, "failed with exit status 77")):
            conf = self.config(name, state=state)
            with open(conf, "a") as f:
                f.write(f"[job {name}]\nkind = whatsapp-check\nschedule = 0 7 * * *\nretries = 2\n"
                        "retry_delay = 50ms\n")
            r = subprocess.run([SALESD, "--config", conf, "run", name, "--date", DATE], capture_output=True,
                               text=True, timeout=300, cwd=self.root)
            self.assertEqual(r.returncode, want, r.stderr[-3000:])
            self.assertIn(said, r.stderr)
            if want:
                self.assertIn("not retried", r.stderr)
        self.assertEqual(self.uploads(), [])

    def test_slow_page(self):
        conf = self.config("slow", chats=("Management",), load_timeout="12s")
        self.web.fault(slow=3)
        self.send(conf)
        self.assertEqual(len(self.uploads()), 1)
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        conf = self.config("slower", chats=("Management",), load_timeout="2s")
        self.web.fault(slow=6)
        r = self.send(conf, expect=75)
        # Said by salesd's load time-out, or, on a loaded machine, by chromedriver's own navigation time-out
        # ("Timed out receiving message from renderer"): either way a passing failure, nothing uploaded.
        self.assertRegex(r.stderr, r"load|Timed out receiving message from renderer")
        self.assertEqual(len(self.uploads()), 1)

    def test_page_hangs(self):
        conf = self.config("hang", chats=("Management",), step_timeout="2s")
        self.web.fault(hang="after-open")
        t0 = time.monotonic()
        r = self.send(conf, expect=75)
        self.assertLess(time.monotonic() - t0, 120, "a hung page is given up within the time-outs")
        self.assertEqual(self.uploads(), [])
        self.assertNotIn("Management", {k for k, v in self.ledger().items() if v[0] == "sent"})
        self.assertIn("daily-whatsapp", r.stderr)

    def test_partial_batch_resends_rest(self):
        conf = self.config("partial", chats=CHATS, pause_min="4s", pause_max="4s")
        p = subprocess.Popen([SALESD, "--config", conf, "run", "daily-whatsapp", "--date", DATE],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.root)
        try:
            # After the first confirmed send, during the pause, the child dies.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and p.poll() is None and \
                    self.ledger().get(CHATS[0], ("",))[0] != "sent":
                time.sleep(0.2)
            self.assertEqual(self.ledger().get(CHATS[0], ("",))[0], "sent")
            child = subprocess.run(["pgrep", "-f", "salesd-whatsapp$"], capture_output=True, text=True).stdout.split()
            mine = [int(c) for c in child if os.readlink(f"/proc/{c}/cwd").startswith(self.root)]
            self.assertEqual(len(mine), 1, child)
            os.kill(mine[0], signal.SIGKILL)
            p.communicate(timeout=120)
        finally:
            stop_process(p)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual([u["chat"] for u in self.uploads()], [CHATS[0]])
        # The retry sends only what the ledger does not hold.
        self.send(conf, "--force")
        self.assertEqual([u["chat"] for u in self.uploads()], CHATS, "the rest, each once")

    def test_daily_cap(self):
        conf = self.config("cap", chats=CHATS, daily_cap=1)
        r = self.send(conf, expect=75)
        self.assertIn("daily cap of 1 WhatsApp messages", r.stderr)
        self.assertEqual([u["chat"] for u in self.uploads()], [CHATS[0]])
        # Still capped today: the retry sends nothing more.
        r = self.send(conf, "--force", expect=75)
        self.assertEqual(len(self.uploads()), 1)

    def test_batch_timeout(self):
        # The upload never completes and the child would wait a minute: the task kills the whole group first.
        conf = self.config("stall", chats=("Management",), batch_timeout="8s", send_timeout="60s")
        self.web.fault(upload="stall")
        t0 = time.monotonic()
        r = self.send(conf, expect=75)
        self.assertLess(time.monotonic() - t0, 45)
        self.assertIn("batch_timeout", r.stderr)
        self.assertIn("whether the message went is unknown", r.stderr)
        # Recorded as unknown at once, with why (it used to stay "sending" until the next run).
        state, reply = self.ledger()["Management"]
        self.assertEqual(state, "unknown")
        self.assertTrue(reply, "no reason recorded")
        # Send was pressed: it may have gone, so the retry does not send it again by itself.
        self.web.fault(upload="ok")
        r = self.send(conf, "--force")
        self.assertIn("may have gone", r.stderr)
        self.assertEqual(self.ledger()["Management"][0], "unknown")
        self.assertEqual(self.uploads(), [])

    def test_socket(self):
        sock = os.path.join(self.root, "wa.sock")
        child = os.path.join(os.path.dirname(SALESD), "salesd-whatsapp")
        act = subprocess.Popen(["systemd-socket-activate", "--accept", "--inetd", "-l", sock, child],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.root)
        self.addCleanup(stop_process, act)
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.1)
        conf = self.config("socket", chats=("Management",), socket=sock)
        self.send(conf)
        self.assertEqual([u["chat"] for u in self.uploads()], ["Management"])
        self.assertEqual(self.ledger()["Management"][0], "sent")
        # A batch that runs out of time: the task shuts the connection, the child takes its browser down.
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        self.web.fault(upload="stall")
        stalled = self.config("socket-stall", chats=("Management",), socket=sock, batch_timeout="8s",
                              send_timeout="60s")
        r = self.send(stalled, expect=75)
        self.assertIn("batch_timeout", r.stderr)
        self.assertEqual(self.ledger()["Management"][0], "unknown")
        deadline = time.monotonic() + 10
        while leftovers(self.root, keep=(self.web.proc.pid, act.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(leftovers(self.root, keep=(self.web.proc.pid, act.pid)), [])
        self.web.fault(upload="ok")
        stop_process(act)
        # Nobody listening: a passing failure that names the socket.
        psql(self.db, "DELETE FROM salesd.delivery; DELETE FROM salesd.task_instance WHERE job = 'daily-whatsapp'")
        r = self.send(conf, expect=75)
        self.assertIn("salesd-whatsapp.socket", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
