#!/usr/bin/env python3
"""tools/whatsapp-web, the WhatsApp Web stand-in of salesd's WhatsApp tests,
proven over HTTP on 127.0.0.1 (WhatsAppWebTest, no browser: the default page
is proven by the salesd tests that drive Chromium) and, for what only a
browser shows, in headless Chromium through chromedriver (PageTest; skipped
without /usr/bin/chromium and /usr/bin/chromedriver, or CHROMIUM and
CHROMEDRIVER).

Proven here: the page's three files are served, uncached, and load nothing
from elsewhere, and GET / is counted; the login: a ref is pending until
/control/scan gives it a token, a replaced ref is dropped, /api/me tells a
valid token, /control/logout ends every session; the chat search (decoys,
case, --chats, --no-decoys) and the token it needs; an upload is stored
byte for byte as NNNN-NAME and NNNN.json (sanitised name, caption with line
breaks, numbering after what DIR holds, no temporary file left) and listed
in /control/state and /api/messages; refused uploads store nothing; the
faults through /control/fault and as flags: upload=fail answers 500,
upload=stall holds the request (others are served) until the server stops,
slow delays GET / only, popup and hang reach /api/config; bad faults and bad
options are refused; --port-file; it stops on SIGTERM and SIGINT within 2 s
and with --exit-with-parent, and prints nothing on stdout but its first line.
The variant, the new pop-ups and logout_after travel through /control/fault
and as flags; logout_after=N ends every session with the Nth stored upload
(failed ones do not count), a new scan counts afresh, 0 switches it off.

In the browser: the restyled page has no element id and none of the default
page's class names, and the whole send works on it with id-free selectors
(search, open the chat, attach, caption with a line break, Send, the bubble
with the file name and its tick; an upload=fail bubble gets the failure
mark); the "Got it" pop-up covers Send (the click is intercepted), Escape
leaves it, "Got it" closes it; logout_after=1 sends the page back to the QR
code after the tick, and it stays there until a scan; on the default page the
OK-only "What's new" intercepts clicks, ignores Escape and closes with OK; the
Escape-only pop-up intercepts Send and closes with Escape, the preview
staying; the no-exit dialog has no button, ignores Escape and intercepts.

Environment: WHATSAPP_WEB may name the script (default: tools/whatsapp-web
next to this directory).
"""
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server as FixtureServer, check_exits_with_parent, stop_process  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.environ.get("WHATSAPP_WEB") or os.path.join(HERE, "..", "tools", "whatsapp-web")
PAGE = os.path.join(HERE, "fixtures", "whatsapp-web")
DEFAULT_CHATS = ["Management (old)", "Management", "Store Partners (old)", "Store Partners",
                 "Family (old)", "Family"]
NO_FAULTS = {"popup": "none", "upload": "ok", "slow": 0.0, "hang": "none", "variant": "default",
             "send_popup": "none", "logout_after": 0}


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Server(FixtureServer):
    """tools/whatsapp-web on 127.0.0.1, its log in tmp; stop() it."""

    def __init__(self, tmp, *options):
        super().__init__("whatsapp-web", [SERVER, "--exit-with-parent"] + list(options), log_dir=tmp)
        if not re.fullmatch(r"http://127\.0\.0\.1:\d+/", self.url):
            self.stop()
            raise RuntimeError(f"whatsapp-web: unexpected first line: listening on {self.url}")

    def request(self, method, path, params=None, body=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if params:
                path += "?" + urlencode(params)
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return Reply(r.status, r.headers, r.read())
        finally:
            conn.close()

    def get(self, path, **params):
        return self.request("GET", path, params)

    def post(self, path, body=b"", **params):
        return self.request("POST", path, params, body)

    def state(self):
        r = self.get("/control/state")
        assert r.status == 200, r.status
        return r.json()

    def login(self):
        """A token, as the page gets one: a ref, the phone scans it, the page polls."""
        ref = self.post("/api/qr").json()["ref"]
        assert self.post("/control/scan").json() == {"scanned": 1}
        r = self.get("/api/login", ref=ref).json()
        assert r["state"] == "scanned", r
        return r["token"]


CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
ESCAPE = "\ue00c"
QR = 'canvas[aria-label="Scan this QR code to link a device!"]'


class WebDriverError(Exception):
    def __init__(self, error, message):
        super().__init__(f"{error}: {message}")
        self.error = error


class Browser:
    """Headless Chromium driven through chromedriver (W3C WebDriver over HTTP), as salesd drives it;
    quit() it."""

    def __init__(self, tmp):
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            self.port = sk.getsockname()[1]
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.session = None
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.call("GET", "/status").get("ready"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.quit()
                raise RuntimeError("chromedriver did not get ready")
            time.sleep(0.1)
        profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
        caps = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                         "--disable-dev-shm-usage", "--window-size=1280,900",
                                         f"--user-data-dir={profile}"]}}}
        try:
            self.session = self.call("POST", "/session", {"capabilities": caps})["sessionId"]
        except Exception:
            self.quit()
            raise

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            value = json.loads(r.read() or b"{}").get("value")
        finally:
            conn.close()
        if r.status != 200:
            raise WebDriverError(value.get("error"), value.get("message", "").splitlines()[0])
        return value

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", {} if body is None and method == "POST"
                         else body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, selector, using="css selector"):
        return [e[ELEMENT] for e in self.s("POST", "/elements", {"using": using, "value": selector})]

    def wait(self, selector, using="css selector", timeout=30):
        """The first element that selector finds, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(selector, using)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing matches {selector} after {timeout} s")
            time.sleep(0.1)

    def wait_gone(self, selector, timeout=30):
        deadline = time.monotonic() + timeout
        while self.find(selector):
            if time.monotonic() > deadline:
                raise AssertionError(f"{selector} still there after {timeout} s")
            time.sleep(0.1)

    def click(self, el):
        self.s("POST", f"/element/{el}/click")

    def click_css(self, selector):
        """Click what selector finds, found again while the page rebuilds it (a stale reference)."""
        for _ in range(20):
            try:
                return self.click(self.wait(selector))
            except WebDriverError as e:
                if e.error != "stale element reference":
                    raise
            time.sleep(0.1)
        raise AssertionError(f"{selector}: stale every time")

    def type(self, el, text):
        self.s("POST", f"/element/{el}/value", {"text": text})

    def quit(self):
        if self.session:
            try:
                self.s("DELETE", "")
            except (OSError, WebDriverError):
                pass
            self.session = None
        stop_process(self.proc)


class WhatsAppWebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(SERVER, os.X_OK):
            raise unittest.SkipTest(f"{SERVER}: not an executable")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="salesd-whatsapp-web-")
        self.addCleanup(self.tmp.cleanup)
        self.uploads = os.path.join(self.tmp.name, "uploads")

    def server(self, *options):
        s = Server(self.tmp.name, "--uploads", self.uploads, *options)
        self.addCleanup(s.stop)
        return s

    def stored(self):
        """{id: (file name, bytes, record)} in the uploads directory; no temporary file left."""
        names = sorted(os.listdir(self.uploads))
        self.assertEqual([n for n in names if n.startswith(".")], [], "temporary files left")
        out = {}
        for n in names:
            m = re.fullmatch(r"(\d{4})\.json", n)
            if not m:
                continue
            with open(os.path.join(self.uploads, n)) as f:
                record = json.load(f)
            files = [x for x in names if x.startswith(m.group(1) + "-")]
            self.assertEqual(len(files), 1, names)
            with open(os.path.join(self.uploads, files[0]), "rb") as f:
                out[int(m.group(1))] = (files[0], f.read(), record)
        self.assertEqual(len(names), 2 * len(out), names)
        return out

    # tests

    def test_page_files(self):
        srv = self.server()
        self.assertEqual(srv.state()["page_loads"], 0)
        for path, name, ctype in (("/", "index.html", "text/html"), ("/index.html", "index.html", "text/html"),
                                  ("/app.js", "app.js", "text/javascript"), ("/app.css", "app.css", "text/css")):
            with self.subTest(path=path):
                r = srv.get(path)
                self.assertEqual(r.status, 200)
                with open(os.path.join(PAGE, name), "rb") as f:
                    self.assertEqual(r.body, f.read())
                self.assertTrue(r.headers["Content-Type"].startswith(ctype), r.headers["Content-Type"])
                self.assertEqual(r.headers["Cache-Control"], "no-store")
        # Only the page itself counts as a page load.
        self.assertEqual(srv.state()["page_loads"], 2)
        self.assertEqual(srv.get("/favicon.ico").status, 404)
        self.assertEqual(srv.post("/nowhere").status, 404)

    def test_page_loads_nothing_from_elsewhere(self):
        for name in ("index.html", "app.js", "app.css"):
            with self.subTest(file=name):
                with open(os.path.join(PAGE, name), encoding="utf-8") as f:
                    text = f.read()
                self.assertNotRegex(text, r"(?i)\b(https?|wss?|ftp):", "an absolute URL")
                self.assertNotRegex(text, r"(?i)(src|href)\s*=\s*[\"']//", "a scheme-relative URL")
                self.assertNotRegex(text, r"(?i)@import|url\(\s*[\"']?[a-z/]", "CSS that loads something")

    def test_login(self):
        srv = self.server()
        self.assertEqual(srv.get("/api/login", ref="nonsense").json(), {"state": "expired"})
        self.assertEqual(srv.get("/api/me").status, 401)
        self.assertEqual(srv.get("/api/me", token="nonsense").status, 401)
        # Nothing to scan yet.
        self.assertEqual(srv.post("/control/scan").json(), {"scanned": 0})

        r1 = srv.post("/api/qr").json()["ref"]
        r2 = srv.post("/api/qr").json()["ref"]           # a second browser
        self.assertNotEqual(r1, r2)
        self.assertRegex(r1, r"^[A-Za-z0-9_-]{16,}$")
        self.assertEqual(srv.get("/api/login", ref=r1).json(), {"state": "pending"})
        # The first page rotates its code: the old one is gone.
        r3 = srv.post("/api/qr", old=r1).json()["ref"]
        self.assertEqual(srv.get("/api/login", ref=r1).json(), {"state": "expired"})
        st = srv.state()
        self.assertEqual((st["qr_shown"], st["tokens"]), (3, 0))

        self.assertEqual(srv.post("/control/scan").json(), {"scanned": 2})
        tokens = []
        for ref in (r2, r3):
            r = srv.get("/api/login", ref=ref).json()
            self.assertEqual(r["state"], "scanned")
            self.assertEqual(srv.get("/api/login", ref=ref).json(), r, "the same token on every poll")
            tokens.append(r["token"])
            me = srv.get("/api/me", token=r["token"])
            self.assertEqual((me.status, me.json()), (200, {"ok": True}))
        self.assertNotEqual(tokens[0], tokens[1])
        self.assertEqual(srv.state()["tokens"], 2)
        self.assertEqual(srv.post("/control/scan").json(), {"scanned": 0}, "scanned refs are not pending")

        self.assertEqual(srv.post("/control/logout").json(), {"logged_out": 2})
        for t in tokens:
            self.assertEqual(srv.get("/api/me", token=t).status, 401)
        self.assertEqual(srv.get("/api/login", ref=r2).json(), {"state": "expired"})
        self.assertEqual(srv.state()["tokens"], 0)
        # A new login works after a logout.
        t = srv.login()
        self.assertEqual(srv.get("/api/me", token=t).status, 200)

    def test_chats(self):
        srv = self.server()
        self.assertEqual(srv.get("/api/chats", q="").status, 401)
        t = srv.login()
        self.assertEqual(srv.get("/api/chats", token=t).json(), DEFAULT_CHATS)
        self.assertEqual(srv.get("/api/chats", token=t, q="MANAGE").json(), ["Management (old)", "Management"])
        self.assertEqual(srv.get("/api/chats", token=t, q="partners (o").json(), ["Store Partners (old)"])
        self.assertEqual(srv.get("/api/chats", token=t, q="nobody").json(), [])

        srv2 = self.server("--chats", " Ops Team ,Müller & Söhne,, Ops ", "--no-decoys")
        t = srv2.login()
        self.assertEqual(srv2.get("/api/chats", token=t).json(), ["Ops Team", "Müller & Söhne", "Ops"])
        self.assertEqual(srv2.get("/api/chats", token=t, q="ops").json(), ["Ops Team", "Ops"])
        self.assertEqual(srv2.get("/api/chats", token=t, q="MÜLLER").json(), ["Müller & Söhne"])
        srv3 = self.server("--chats", "Ops")
        t = srv3.login()
        self.assertEqual(srv3.get("/api/chats", token=t).json(), ["Ops (old)", "Ops"])

    def test_upload_stored(self):
        # Numbering continues after what the directory holds.
        os.makedirs(self.uploads)
        for name in ("0041.json", "0041-old.pdf", "notes.txt"):
            with open(os.path.join(self.uploads, name), "w") as f:
                f.write("{}\n")
        srv = self.server()
        t = srv.login()
        data = bytes(range(256)) * 4096 + b"\r\n\0end"      # 1 MiB and a bit, every byte value
        caption = "Acme: Daily sales 24 Nov\nTotal \u20b9 12,34,567.89 & more?=#"
        r = srv.post("/api/upload", data, token=t, chat="Store Partners", filename="Daily Sales 24-11.pdf",
                     caption=caption, kind="document")
        self.assertEqual((r.status, r.json()), (200, {"ok": True, "id": 42}))
        r = srv.post("/api/upload", b"", token=t, chat="Family", filename="../../etc/.pass wd;$(x).txt",
                     kind="media")
        self.assertEqual((r.status, r.json()), (200, {"ok": True, "id": 43}))

        for name in ("0041.json", "0041-old.pdf", "notes.txt"):
            os.unlink(os.path.join(self.uploads, name))
        got = self.stored()
        self.assertEqual(sorted(got), [42, 43])
        name, body, rec = got[42]
        self.assertEqual(name, "0042-Daily Sales 24-11.pdf")
        self.assertEqual(body, data)
        self.assertEqual(rec["id"], 42)
        self.assertEqual(rec["chat"], "Store Partners")
        self.assertEqual(rec["filename"], "Daily Sales 24-11.pdf")
        self.assertEqual(rec["size"], len(data))
        self.assertEqual(rec["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(rec["caption"], caption)
        self.assertEqual(rec["kind"], "document")
        self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        name, body, rec = got[43]
        self.assertEqual(name, "0043-pass wd___x_.txt", "the name made safe")
        self.assertEqual((body, rec["size"], rec["caption"], rec["kind"]), (b"", 0, "", "media"))
        self.assertEqual(rec["filename"], "../../etc/.pass wd;$(x).txt", "the record keeps the name as sent")

        st = srv.state()
        self.assertEqual(st["upload_attempts"], 2)
        self.assertEqual([u["id"] for u in st["uploads"]], [42, 43])
        for u in st["uploads"]:
            self.assertEqual(u["path"], os.path.join(self.uploads, got[u["id"]][0]))
            self.assertEqual({k: v for k, v in u.items() if k != "path"}, got[u["id"]][2])
        msgs = srv.get("/api/messages", token=t, chat="Store Partners").json()
        self.assertEqual([(m["id"], m["filename"], m["caption"]) for m in msgs],
                         [(42, "Daily Sales 24-11.pdf", caption)])
        self.assertEqual(srv.get("/api/messages", token=t, chat="Management").json(), [])
        self.assertEqual(srv.get("/api/messages", chat="Family").status, 401)

    def test_upload_refused(self):
        srv = self.server()
        t = srv.login()
        for params, status in (({"chat": "Family", "filename": "a.pdf"}, 401),
                               ({"token": "nonsense", "chat": "Family", "filename": "a.pdf"}, 401),
                               ({"token": t, "chat": "Nobody", "filename": "a.pdf"}, 404),
                               ({"token": t, "chat": "family", "filename": "a.pdf"}, 404),
                               ({"token": t, "chat": "Family"}, 400),
                               ({"token": t, "chat": "Family", "filename": "a.pdf", "kind": "sticker"}, 400)):
            with self.subTest(params=params):
                r = srv.request("POST", "/api/upload", params, b"x" * 1000)
                self.assertEqual(r.status, status)
                self.assertIn("error", r.json())
        srv.post("/control/logout")
        self.assertEqual(srv.post("/api/upload", b"x", token=t, chat="Family", filename="a.pdf").status, 401)
        st = srv.state()
        self.assertEqual((st["uploads"], st["upload_attempts"]), ([], 7))
        self.assertEqual(self.stored(), {})

    def test_faults_control(self):
        srv = self.server()
        self.assertEqual(srv.state()["faults"], NO_FAULTS)
        self.assertEqual(srv.get("/api/config").json(), {"faults": NO_FAULTS, "qr_rotate": 20.0})
        r = srv.post("/control/fault", {"popup": "known", "slow": 1})
        self.assertEqual(r.status, 200)
        want = {**NO_FAULTS, "popup": "known", "slow": 1.0}
        self.assertEqual(r.json(), {"faults": want})
        r = srv.post("/control/fault", {"hang": "after-open", "upload": "stall"})
        want.update(hang="after-open", upload="stall")
        self.assertEqual(r.json(), {"faults": want})
        self.assertEqual(srv.state()["faults"], want)
        self.assertEqual(srv.get("/api/config").json()["faults"], want)
        for bad in ({"popup": "sometimes"}, {"upload": "OK"}, {"hang": True}, {"slow": -1}, {"slow": "2"},
                    {"slow": True}, {"colour": "red"}, ["popup"], {"popup": "none", "bogus": 1},
                    {"variant": "new"}, {"send_popup": "ok"}, {"logout_after": -1}, {"logout_after": 1.5},
                    {"logout_after": True}, {"logout_after": "2"}, {"logout_after": 1000001}):
            with self.subTest(body=bad):
                r = srv.post("/control/fault", bad)
                self.assertEqual(r.status, 400)
                self.assertIn("error", r.json())
        self.assertEqual(srv.post("/control/fault", b"{not json").status, 400)
        self.assertEqual(srv.state()["faults"], want, "a refused change changes nothing")
        self.assertEqual(srv.post("/control/fault", {}).json(), {"faults": want})
        # The page variant and the new dialogs travel the same way.
        for change in ({"variant": "restyled"}, {"popup": "ok-only"}, {"popup": "no-exit"},
                       {"send_popup": "got-it"}, {"send_popup": "escape"}, {"logout_after": 3},
                       {"variant": "default", "send_popup": "none", "logout_after": 0}):
            with self.subTest(change=change):
                want.update(change)
                self.assertEqual(srv.post("/control/fault", change).json(), {"faults": want})
                self.assertEqual(srv.get("/api/config").json()["faults"], want)

        srv2 = self.server("--popup", "blocking", "--upload", "fail", "--slow", "0.5", "--hang", "on-load",
                           "--qr-rotate", "2.5")
        self.assertEqual(srv2.get("/api/config").json(),
                         {"faults": {**NO_FAULTS, "popup": "blocking", "upload": "fail", "slow": 0.5,
                                     "hang": "on-load"},
                          "qr_rotate": 2.5})

    def test_variant_and_dialog_flags(self):
        srv = self.server("--variant", "restyled", "--popup", "no-exit", "--send-popup", "escape",
                          "--logout-after", "2")
        want = {**NO_FAULTS, "variant": "restyled", "popup": "no-exit", "send_popup": "escape", "logout_after": 2}
        self.assertEqual(srv.get("/api/config").json()["faults"], want)
        self.assertEqual(srv.state()["faults"], want)
        # The same page files serve both variants: the page reads the variant from /api/config.
        with open(os.path.join(PAGE, "app.js"), "rb") as f:
            self.assertEqual(srv.get("/app.js").body, f.read())

    def test_logout_after(self):
        srv = self.server("--logout-after", "2")
        t = srv.login()
        up = lambda token, name: srv.post("/api/upload", b"%PDF", token=token, chat="Family", filename=name)
        self.assertEqual(up(t, "1.pdf").status, 200)
        st = srv.state()
        self.assertEqual((st["tokens"], st["sends_since_logout"], st["forced_logouts"]), (1, 1, 0))
        # A failed upload is no send.
        srv.post("/control/fault", {"upload": "fail"})
        self.assertEqual(up(t, "x.pdf").status, 500)
        srv.post("/control/fault", {"upload": "ok"})
        self.assertEqual(srv.state()["sends_since_logout"], 1)
        # The second send is stored and answered, then every session is over.
        self.assertEqual(up(t, "2.pdf").json(), {"ok": True, "id": 2})
        self.assertEqual(srv.get("/api/me", token=t).status, 401)
        self.assertEqual(up(t, "3.pdf").status, 401)
        st = srv.state()
        self.assertEqual((st["tokens"], st["sends_since_logout"], st["forced_logouts"]), (0, 0, 1))
        self.assertEqual([u["filename"] for u in st["uploads"]], ["1.pdf", "2.pdf"])
        # Logged out until a new scan; then counted afresh, and a manual logout resets the count.
        t = srv.login()
        self.assertEqual(up(t, "4.pdf").status, 200)
        srv.post("/control/logout")
        t = srv.login()
        self.assertEqual(up(t, "5.pdf").status, 200)
        self.assertEqual(srv.get("/api/me", token=t).status, 200)
        # Switched off (0) through the control API.
        srv.post("/control/fault", {"logout_after": 0})
        for n in range(3):
            self.assertEqual(up(t, f"{6 + n}.pdf").status, 200)
        st = srv.state()
        self.assertEqual((st["tokens"], st["forced_logouts"], len(st["uploads"])), (1, 1, 7))

    def test_upload_fail(self):
        srv = self.server("--upload", "fail")
        t = srv.login()
        r = srv.post("/api/upload", b"%PDF" * 100, token=t, chat="Family", filename="a.pdf")
        self.assertEqual(r.status, 500)
        self.assertEqual(srv.state()["uploads"], [])
        srv.post("/control/fault", {"upload": "ok"})
        r = srv.post("/api/upload", b"%PDF" * 100, token=t, chat="Family", filename="a.pdf")
        self.assertEqual((r.status, r.json()), (200, {"ok": True, "id": 1}))
        st = srv.state()
        self.assertEqual((len(st["uploads"]), st["upload_attempts"]), (1, 2))
        self.assertEqual(sorted(self.stored()), [1])

    def test_upload_stall(self):
        srv = self.server()
        t = srv.login()
        srv.post("/control/fault", {"upload": "stall"})
        result = {}

        def upload():
            try:
                r = srv.post("/api/upload", b"x" * 200000, token=t, chat="Family", filename="a.pdf")
                result["status"] = r.status
            except (OSError, http.client.HTTPException) as e:
                result["error"] = e
        th = threading.Thread(target=upload, daemon=True)
        th.start()
        th.join(2)
        self.assertTrue(th.is_alive(), f"the stalled upload was answered: {result}")
        # Everything else is still served meanwhile.
        st = srv.state()
        self.assertEqual((st["upload_attempts"], st["uploads"]), (1, []))
        self.assertEqual(srv.get("/api/me", token=t).status, 200)
        # Stopping the server ends the request without an answer, and does not wait for it.
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(5)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(srv.proc.returncode, 0, srv.log())
        th.join(5)
        self.assertFalse(th.is_alive())
        self.assertIn("error", result, result)
        self.assertEqual(self.stored(), {})

    def test_slow(self):
        srv = self.server("--slow", "1.5")
        t0 = time.monotonic()
        self.assertEqual(srv.get("/").status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)
        t0 = time.monotonic()
        self.assertEqual(srv.get("/app.js").status, 200)
        self.assertEqual(srv.state()["faults"]["slow"], 1.5)
        self.assertLess(time.monotonic() - t0, 1, "only the page itself is slow")
        srv.post("/control/fault", {"slow": 0})
        t0 = time.monotonic()
        self.assertEqual(srv.get("/").status, 200)
        self.assertLess(time.monotonic() - t0, 1)
        self.assertEqual(srv.state()["page_loads"], 2)

    def test_port_file(self):
        pf = os.path.join(self.tmp.name, "port")
        srv = self.server("--port-file", pf)
        with open(pf) as f:
            self.assertEqual(f.read(), f"{srv.port}\n")
        # A fixed port: the browser profile's storage is per port.
        port = srv.port
        srv.stop()
        srv2 = self.server("--port", str(port))
        self.assertEqual(srv2.url, f"http://127.0.0.1:{port}/")
        self.assertEqual(srv2.get("/app.css").status, 200)

    def test_stops_on_signals(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                srv = self.server()
                # An idle keep-alive connection does not hold it up.
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
                self.addCleanup(conn.close)
                conn.request("GET", "/control/state")
                conn.getresponse().read()
                t = time.monotonic()
                srv.proc.send_signal(sig)
                srv.proc.wait(2)
                self.assertLess(time.monotonic() - t, 2)
                self.assertEqual(srv.proc.returncode, 0, srv.log())
                self.assertEqual(srv.stop(), "", "stdout after the first line")
                self.assertIn("stopped", srv.log())
                with self.assertRaises(OSError):
                    http.client.HTTPConnection("127.0.0.1", srv.port, timeout=2).connect()

    def test_exit_with_parent(self):
        check_exits_with_parent(self, [SERVER, "--uploads", self.uploads])

    def test_bad_options(self):
        for args in ([], ["--uploads", self.uploads, "--qr-rotate", "0"],
                     ["--uploads", self.uploads, "--popup", "sometimes"],
                     ["--uploads", self.uploads, "--slow", "-1"],
                     ["--uploads", self.uploads, "--chats", " , "],
                     ["--uploads", self.uploads, "--port", "70000"],
                     ["--uploads", self.uploads, "--variant", "new"],
                     ["--uploads", self.uploads, "--send-popup", "sometimes"],
                     ["--uploads", self.uploads, "--logout-after", "-1"],
                     ["--uploads", self.uploads, "--logout-after", "1.5"]):
            with self.subTest(args=args):
                r = subprocess.run([SERVER] + args, capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")


class PageTest(unittest.TestCase):
    """The page itself in headless Chromium, for what only a browser shows: the restyled variant, the
    dialogs (and that they intercept clicks) and the logout after N sends. Only selectors that work on
    both variants (no id, no class) are used."""

    @classmethod
    def setUpClass(cls):
        for exe in (SERVER, CHROMEDRIVER, CHROMIUM):
            if not os.access(exe, os.X_OK):
                raise unittest.SkipTest(f"{exe}: not an executable")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="salesd-whatsapp-web-")
        self.addCleanup(self.tmp.cleanup)
        self.uploads = os.path.join(self.tmp.name, "uploads")

    def server(self, *options):
        s = Server(self.tmp.name, "--uploads", self.uploads, *options)
        self.addCleanup(s.stop)
        return s

    def browser(self):
        b = Browser(self.tmp.name)
        self.addCleanup(b.quit)
        return b

    def document(self, name=b"%PDF-1.4 test\n"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(b"%PDF-1.4\n" + bytes(range(256)))
        return path

    def assert_intercepted(self, b, el):
        with self.assertRaises(WebDriverError) as cm:
            b.click(el)
        self.assertEqual(cm.exception.error, "element click intercepted")

    def open_chat(self, b, chat):
        """Search for the chat, open it, open a document's preview: the Send button."""
        search = b.wait('[role="textbox"][contenteditable="true"][aria-label="Search input textbox"]')
        b.type(search, chat)
        b.click_css(f'[aria-label="Chat list"] span[title="{chat}"]')
        b.wait(f'header span[title="{chat}"]')
        b.click(b.wait('[aria-label="Attach"]'))
        b.type(b.wait('input[type="file"][accept="*"]'), self.document("Daily Sales.pdf"))
        return b.wait('[role="dialog"][aria-label="Preview"] [role="button"][aria-label="Send"]')

    def test_restyled_send_popup_logout(self):
        srv = self.server("--variant", "restyled", "--send-popup", "got-it", "--logout-after", "1")
        b = self.browser()
        b.go(srv.url)
        b.wait(QR)
        self.assertEqual(b.js("return document.querySelectorAll('[id]').length"), 0, "no id on the QR screen")
        srv.post("/control/scan")
        b.wait('[aria-label="Chat list"] span[title="Store Partners"]')
        # No ids, none of the default variant's class names, and wrappers between the landmarks.
        self.assertEqual(b.js("return document.querySelectorAll('[id]').length"), 0)
        for sel in ("#pane-side", "#side", "#main", "#app", "#root", ".chat-row", ".search", ".two"):
            self.assertEqual(b.find(sel), [], sel)
        self.assertIsNone(b.js("return document.querySelector('[role=\"grid\"]').parentElement"
                               ".querySelector(':scope > header')"))
        # The usual send, with the pop-up that covers Send: Send is intercepted until "Got it".
        send = self.open_chat(b, "Store Partners")
        popup = b.wait('[role="dialog"][aria-label="Send documents faster"]')
        b.type(b.wait('[role="textbox"][aria-label="Add a caption"]'), "Daily sales\ue008\ue007\ue000second line")
        self.assert_intercepted(b, send)
        b.type(popup, ESCAPE)
        self.assertTrue(b.find('[role="dialog"][aria-label="Send documents faster"]'), "Escape closed it")
        b.click(b.wait('//div[@role="dialog"]//*[@role="button"][normalize-space()="Got it"]', "xpath"))
        b.wait_gone('[role="dialog"][aria-label="Send documents faster"]')
        b.click(send)
        b.wait('[data-id^="true_"] span[title="Daily Sales.pdf"]')
        b.wait('[data-id^="true_"] span[data-icon="msg-check"]')
        st = srv.state()
        self.assertEqual([(u["chat"], u["filename"], u["caption"]) for u in st["uploads"]],
                         [("Store Partners", "Daily Sales.pdf", "Daily sales\nsecond line")])
        self.assertEqual((st["tokens"], st["forced_logouts"], st["sends_since_logout"]), (0, 1, 0))
        # Logged out by the send: back to the QR code, and there until a scan.
        b.wait(QR, timeout=5)
        time.sleep(1)
        self.assertTrue(b.find(QR))
        srv.post("/control/fault", {"upload": "fail", "logout_after": 0})
        srv.post("/control/scan")
        b.wait('[aria-label="Chat list"] span[title="Family"]')
        # The pop-up showed once per page load; a failed upload gets the failure mark.
        b.click(self.open_chat(b, "Family"))
        b.wait('[data-id^="true_"] span[data-icon="msg-error"]')
        self.assertEqual(srv.state()["uploads"][1:], [])

    def test_dialogs(self):
        srv = self.server("--popup", "ok-only", "--send-popup", "escape")
        b = self.browser()
        b.go(srv.url)
        b.wait(QR)
        srv.post("/control/scan")
        b.wait("#pane-side")    # the default variant keeps its ids
        dialog = b.wait('[role="dialog"][aria-label="What\'s new"]')
        chat = b.wait('[aria-label="Chat list"] span[title="Family"]')
        self.assert_intercepted(b, chat)
        b.type(dialog, ESCAPE)
        time.sleep(0.3)
        self.assertEqual(b.find('//div[@role="dialog"]//*[@role="button"][@aria-label="Close"]', "xpath"), [])
        b.click(b.wait('//div[@role="dialog"]//*[@role="button"][normalize-space()="OK"]', "xpath"))
        b.wait_gone('[role="dialog"][aria-label="What\'s new"]')
        # The pop-up that only Escape closes; the preview stays.
        send = self.open_chat(b, "Family")
        popup = b.wait('[role="dialog"][aria-label="Press Esc to close"]')
        self.assertEqual(b.find('[role="dialog"][aria-label="Press Esc to close"] [role="button"]'), [])
        self.assert_intercepted(b, send)
        b.type(b.wait('[role="textbox"][aria-label="Add a caption"]'), ESCAPE)
        b.wait_gone('[role="dialog"][aria-label="Press Esc to close"]')
        self.assertTrue(b.find('[role="dialog"][aria-label="Preview"]'), "Escape closed the preview too")
        b.click(send)
        b.wait('[data-id^="true_"] span[data-icon="msg-check"]')
        del popup
        # The dialog with no way out: no button, Escape changes nothing.
        srv.post("/control/fault", {"popup": "no-exit"})
        b.go(srv.url)
        dialog = b.wait('[role="dialog"][aria-label="Syncing your chats"]')
        self.assertEqual(b.find('[role="dialog"] [role="button"]'), [])
        b.type(dialog, ESCAPE)
        time.sleep(0.3)
        self.assertTrue(b.find('[role="dialog"][aria-label="Syncing your chats"]'))
        self.assert_intercepted(b, b.wait('[aria-label="Chat list"] span[title="Family"]'))


if __name__ == "__main__":
    unittest.main()
