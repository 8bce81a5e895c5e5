#!/usr/bin/env python3
"""tools/smtp-server, the SMTP fixture of salesd's e-mail tests and the demo,
proven with Python's smtplib over real sockets on 127.0.0.1.

Proven here: STARTTLS with AUTH LOGIN and PLAIN delivers a message to two
recipients, stored as NNNN.eml (the exact bytes sent) and NNNN.json (the
envelope: sender, recipients, AUTH user, TLS); AUTH and MAIL before STARTTLS
are refused, and AUTH is not offered; a wrong password gets 535; an untrusted
certificate does not hurt the server; each fault (--fail-first at DATA and at
MAIL, --reject-rcpt, --drop-after-data, --accept-then-drop, --hold-after-accept,
--slow, --greeting-fail, --max-size);
implicit TLS (smtps) with AUTH; plain SMTP without a certificate; --port and
--port-file; numbering continues in an existing maildir; it stops on SIGTERM
and SIGINT within 2 s and with --exit-with-parent, with no child left, and
prints nothing on stdout but its first line.

Environment: SMTP_SERVER may name the script (default: tools/smtp-server next
to this directory). Needs the openssl command.
"""
import base64
import json
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server as FixtureServer, check_exits_with_parent, children, make_ca  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.environ.get("SMTP_SERVER") or os.path.join(HERE, "..", "tools", "smtp-server")
USER, PASSWORD = "reports@example.com", "s3cret pass"
FROM = "reports@example.com"
TO = ["owner@example.com", "Manager <manager@example.org>"]
TO_ADDRS = ["owner@example.com", "manager@example.org"]


def message(subject="Daily sales"):
    """A message as salesd would send it: CRLF lines, 8-bit UTF-8, a line starting with a dot."""
    return (f"From: Sales Reports <{FROM}>\r\n"
            f"To: {', '.join(TO)}\r\n"
            f"Subject: {subject}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Sales for 23 Nov: \u20b9 12,34,567.89\r\n"
            ".a line that starts with a dot\r\n"
            "..and one with two\r\n"
            "\r\n").encode("utf-8")


class Server(FixtureServer):
    """tools/smtp-server on 127.0.0.1, its log in tmp; stop() it."""

    def __init__(self, tmp, *options):
        super().__init__("smtp-server", [SERVER, "--exit-with-parent"] + list(options), log_dir=tmp)


class SmtpServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(SERVER, os.X_OK):
            raise unittest.SkipTest(f"{SERVER}: not an executable")
        cls.certdir = tempfile.TemporaryDirectory(prefix="salesd-smtp-ca-")
        cls.addClassCleanup(cls.certdir.cleanup)
        d = cls.certdir.name

        # A private CA and a certificate for 127.0.0.1 and localhost it signed.
        cls.ca, cert, key = make_ca(d)
        cls.tls = ["--tls-cert", cert, "--tls-key", key]
        cls.auth = ["--username", USER, "--password", PASSWORD]

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="salesd-smtp-")
        self.addCleanup(self.tmp.cleanup)
        self.maildir = os.path.join(self.tmp.name, "mail")

    # helpers

    def server(self, *options):
        s = Server(self.tmp.name, *options)
        self.addCleanup(s.stop)
        return s

    def context(self):
        """A client context trusting only the test CA, checking the name."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def client(self, srv, timeout=10):
        c = smtplib.SMTP("127.0.0.1", srv.port, timeout=timeout)
        self.addCleanup(c.close)
        return c

    def tls_client(self, srv, login=True):
        """Connected, STARTTLS done, EHLO again, logged in."""
        c = self.client(srv)
        c.ehlo()
        c.starttls(context=self.context())
        c.ehlo()
        if login:
            c.login(USER, PASSWORD)
        return c

    def stored(self):
        """[(eml bytes, json dict)] in the maildir, in order; no temporary file left."""
        if not os.path.isdir(self.maildir):
            return []
        names = sorted(os.listdir(self.maildir))
        self.assertEqual([n for n in names if n.startswith(".")], [], "temporary files left")
        ids = sorted({n.split(".")[0] for n in names})
        self.assertEqual(names, sorted([i + ".eml" for i in ids] + [i + ".json" for i in ids]))
        out = []
        for i in ids:
            with open(os.path.join(self.maildir, i + ".eml"), "rb") as f:
                eml = f.read()
            with open(os.path.join(self.maildir, i + ".json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["id"], i)
            out.append((eml, meta))
        return out

    def assert_envelope(self, meta, eml, rcpts=TO_ADDRS, auth_user=USER, tls_mode="starttls"):
        self.assertEqual(meta["mail_from"], FROM)
        self.assertEqual(meta["rcpt_tos"], rcpts)
        self.assertEqual(meta["auth_user"], auth_user)
        self.assertIs(meta["tls"], tls_mode is not None)
        self.assertEqual(meta["tls_mode"], tls_mode)
        if tls_mode:
            self.assertIn(meta["tls_version"], ("TLSv1.2", "TLSv1.3"))
        else:
            self.assertIsNone(meta["tls_version"])
        self.assertEqual(meta["size"], len(eml))
        self.assertRegex(meta["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    # tests

    def test_starttls_auth_login_and_plain(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir)
        self.assertTrue(srv.url.startswith("smtp://127.0.0.1:"))
        sent = []
        for mech, initial in (("LOGIN", True), ("LOGIN", False), ("PLAIN", True), ("PLAIN", False)):
            with self.subTest(mech=mech, initial_response=initial):
                c = self.client(srv)
                c.ehlo("client.test")
                self.assertTrue(c.has_extn("starttls"))
                self.assertFalse(c.has_extn("auth"))
                c.starttls(context=self.context())
                c.ehlo("client.test")
                self.assertFalse(c.has_extn("starttls"))
                self.assertEqual(set(c.esmtp_features["auth"].split()), {"LOGIN", "PLAIN"})
                c.user, c.password = USER, PASSWORD
                method = c.auth_login if mech == "LOGIN" else c.auth_plain
                code, _ = c.auth(mech, method, initial_response_ok=initial)
                self.assertEqual(code, 235)
                msg = message(f"{mech} {initial}")
                self.assertEqual(c.sendmail(FROM, TO_ADDRS, msg), {})
                c.quit()
                sent.append(msg)
        got = self.stored()
        self.assertEqual([eml for eml, _ in got], sent)
        for (eml, meta), want in zip(got, ("0001", "0002", "0003", "0004")):
            self.assertEqual(meta["id"], want)
            self.assert_envelope(meta, eml)
            self.assertEqual(meta["helo"], "client.test")
        self.assertEqual(srv.stop(), "", "stdout after the first line")

    def test_auth_and_mail_before_starttls_refused(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir)
        c = self.client(srv)
        c.ehlo()
        self.assertFalse(c.has_extn("auth"))
        with self.assertRaises(smtplib.SMTPNotSupportedError):
            c.login(USER, PASSWORD)
        blob = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        self.assertEqual(c.docmd("AUTH", "PLAIN " + blob)[0], 530)
        self.assertEqual(c.docmd("AUTH", "LOGIN")[0], 530)
        self.assertEqual(c.docmd("MAIL", f"FROM:<{FROM}>")[0], 530)
        self.assertEqual(c.docmd("RCPT", f"TO:<{TO_ADDRS[0]}>")[0], 530)
        self.assertEqual(c.docmd("DATA")[0], 530)
        # After STARTTLS, still no mail without AUTH.
        c.starttls(context=self.context())
        c.ehlo()
        self.assertEqual(c.docmd("MAIL", f"FROM:<{FROM}>")[0], 530)
        self.assertEqual(self.stored(), [])

    def test_wrong_password_535(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir)
        for mech in ("LOGIN", "PLAIN"):
            with self.subTest(mech=mech):
                c = self.tls_client(srv, login=False)
                c.user, c.password = USER, "wrong"
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    c.auth(mech, c.auth_login if mech == "LOGIN" else c.auth_plain)
                self.assertEqual(cm.exception.smtp_code, 535)
                # A wrong user too.
                c.user, c.password = "nobody@example.com", PASSWORD
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    c.auth(mech, c.auth_login if mech == "LOGIN" else c.auth_plain)
                self.assertEqual(cm.exception.smtp_code, 535)
                with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                    c.sendmail(FROM, TO_ADDRS, message())
                self.assertEqual(cm.exception.smtp_code, 530)
                # The right one afterwards, on the same connection.
                c.login(USER, PASSWORD)
                self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        self.assertEqual(len(self.stored()), 2)

    def test_untrusted_certificate_does_not_hurt(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir)
        c = self.client(srv)
        c.ehlo()
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.starttls(context=ssl.create_default_context())     # the system's CAs only
        # The wrong name, though signed by the CA.
        ctx = self.context()
        c = smtplib.SMTP(timeout=10)
        self.addCleanup(c.close)
        c._host = "mail.example.com"
        c.connect("127.0.0.1", srv.port)
        c.ehlo()
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.starttls(context=ctx)
        c = self.tls_client(srv)
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        self.assertEqual(len(self.stored()), 1)

    def test_fail_first(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir, "--fail-first", "1")
        c = self.tls_client(srv)
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail(FROM, TO_ADDRS, message("first"))
        self.assertEqual(cm.exception.smtp_code, 451)
        self.assertEqual(cm.exception.smtp_error, b"4.3.0 Try again later")
        self.assertEqual(self.stored(), [])
        # The retry, on the same connection, then on a new one.
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message("second")), {})
        c.quit()
        c = self.tls_client(srv)
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message("third")), {})
        self.assertEqual([eml for eml, _ in self.stored()], [message("second"), message("third")])

    def test_fail_first_at_mail(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir, "--fail-first", "2",
                          "--fail-at", "mail")
        for _ in range(2):
            c = self.tls_client(srv)
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                c.sendmail(FROM, TO_ADDRS, message())
            self.assertEqual(cm.exception.smtp_code, 451)
            c.close()
        c = self.tls_client(srv)
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        self.assertEqual(len(self.stored()), 1)

    def test_reject_rcpt(self):
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir,
                          "--reject-rcpt", "gone@example.com", "--reject-rcpt", "Left@Example.NET")
        c = self.tls_client(srv)
        rcpts = [TO_ADDRS[0], "gone@example.com", TO_ADDRS[1], "left@example.net"]
        refused = c.sendmail(FROM, rcpts, message())
        self.assertEqual(refused, {"gone@example.com": (550, b"5.1.1 <gone@example.com>: user unknown"),
                                   "left@example.net": (550, b"5.1.1 <left@example.net>: user unknown")})
        # All refused: nothing sent.
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            c.sendmail(FROM, ["gone@example.com"], message())
        [(eml, meta)] = self.stored()
        self.assertEqual(eml, message())
        self.assert_envelope(meta, eml)

    def test_drop_after_data(self):
        for mode, opts in (("starttls", self.tls + self.auth), ("plain", [])):
            with self.subTest(mode=mode):
                maildir = os.path.join(self.tmp.name, mode)
                srv = self.server(*opts, "--maildir", maildir, "--drop-after-data", "1")
                c = self.tls_client(srv) if mode == "starttls" else self.client(srv)
                with self.assertRaises(smtplib.SMTPServerDisconnected):
                    c.sendmail(FROM, TO_ADDRS, message("dropped"))
                self.assertEqual(os.listdir(maildir), [])
                c = self.tls_client(srv) if mode == "starttls" else self.client(srv)
                self.assertEqual(c.sendmail(FROM, TO_ADDRS, message("kept")), {})
                self.assertEqual(sorted(os.listdir(maildir)), ["0001.eml", "0001.json"])
                with open(os.path.join(maildir, "0001.eml"), "rb") as f:
                    self.assertEqual(f.read(), message("kept"))

    def test_reply_lost_after_accepting(self):
        # --accept-then-drop: stored, and the 250 never comes; --hold-after-accept:
        # stored, and nothing comes until the client goes. Then accepted as usual.
        srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir, "--accept-then-drop", "1",
                          "--hold-after-accept", "1")
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            self.tls_client(srv).sendmail(FROM, TO_ADDRS, message("lost reply"))
        self.assertEqual(sorted(os.listdir(self.maildir)), ["0001.eml", "0001.json"])
        c = self.tls_client(srv)
        c.sock.settimeout(1.5)
        t = time.monotonic()
        with self.assertRaises(smtplib.SMTPServerDisconnected) as cm:   # smtplib's word for its time-out
            c.sendmail(FROM, TO_ADDRS, message("held"))
        self.assertIn("timed out", str(cm.exception))
        self.assertGreaterEqual(time.monotonic() - t, 1.4)
        self.assertEqual(len(os.listdir(self.maildir)), 4, "the held message is stored before the wait")
        c.close()
        self.assertEqual(self.tls_client(srv).sendmail(FROM, TO_ADDRS, message("kept")), {})
        got = [eml for eml, _ in self.stored()]
        self.assertEqual(got, [message("lost reply"), message("held"), message("kept")])

    def test_faults_combined(self):
        # Dropped first, then 451, then accepted; a rejected recipient throughout.
        srv = self.server("--maildir", self.maildir, "--drop-after-data", "1", "--fail-first", "1",
                          "--reject-rcpt", "gone@example.com")
        rcpts = TO_ADDRS + ["gone@example.com"]
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            self.client(srv).sendmail(FROM, rcpts, message())
        c = self.client(srv)
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail(FROM, rcpts, message())
        self.assertEqual(cm.exception.smtp_code, 451)
        self.assertEqual(set(c.sendmail(FROM, rcpts, message())), {"gone@example.com"})
        [(eml, meta)] = self.stored()
        self.assert_envelope(meta, eml, auth_user=None, tls_mode=None)

    def test_slow(self):
        srv = self.server("--slow", "400")
        t = time.monotonic()
        c = self.client(srv)
        self.assertGreaterEqual(time.monotonic() - t, 0.35)
        t = time.monotonic()
        c.ehlo()        # a multi-line reply: one wait, not one per line
        self.assertTrue(0.35 <= time.monotonic() - t < 1.2)
        t = time.monotonic()
        self.assertEqual(c.noop()[0], 250)
        self.assertGreaterEqual(time.monotonic() - t, 0.35)
        # A client that does not wait that long.
        with self.assertRaises((smtplib.SMTPServerDisconnected, socket.timeout)):
            smtplib.SMTP("127.0.0.1", srv.port, timeout=0.1)
        c.quit()

    def test_greeting_fail(self):
        srv = self.server(*self.tls, "--maildir", self.maildir, "--greeting-fail")
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        self.assertEqual(cm.exception.smtp_code, 554)
        # Raw: 554, then 503 to anything but QUIT.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            f = s.makefile("rwb")
            self.assertTrue(f.readline().startswith(b"554 "))
            f.write(b"EHLO x\r\n")
            f.flush()
            self.assertTrue(f.readline().startswith(b"503 "))
            f.write(b"QUIT\r\n")
            f.flush()
            self.assertTrue(f.readline().startswith(b"221 "))
            self.assertEqual(f.readline(), b"")
        self.assertEqual(self.stored(), [])

    def test_max_size(self):
        srv = self.server("--maildir", self.maildir, "--max-size", "1000")
        c = self.client(srv)
        c.ehlo()
        self.assertEqual(c.esmtp_features["size"], "1000")
        big = message() + b"x" * 1000 + b"\r\n"
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:      # SIZE= in MAIL FROM
            c.sendmail(FROM, TO_ADDRS, big)
        self.assertEqual(cm.exception.smtp_code, 552)
        c.esmtp_features.pop("size")                                    # no SIZE=: at the end of DATA
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail(FROM, TO_ADDRS, big)
        self.assertEqual(cm.exception.smtp_code, 552)
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        self.assertEqual(len(self.stored()), 1)

    def test_implicit_tls(self):
        srv = self.server(*self.tls, *self.auth, "--implicit-tls", "--maildir", self.maildir)
        self.assertTrue(srv.url.startswith("smtps://127.0.0.1:"))
        c = smtplib.SMTP_SSL("127.0.0.1", srv.port, timeout=10, context=self.context())
        self.addCleanup(c.close)
        c.ehlo()
        self.assertFalse(c.has_extn("starttls"))
        self.assertEqual(set(c.esmtp_features["auth"].split()), {"LOGIN", "PLAIN"})
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:       # AUTH required here too
            c.sendmail(FROM, TO_ADDRS, message())
        self.assertEqual(cm.exception.smtp_code, 530)
        c.login(USER, PASSWORD)
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        c.quit()
        [(eml, meta)] = self.stored()
        self.assertEqual(eml, message())
        self.assert_envelope(meta, eml, tls_mode="implicit")
        # A plain client gets no greeting it can read.
        with self.assertRaises((smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.timeout)):
            smtplib.SMTP("127.0.0.1", srv.port, timeout=2)

    def test_plain(self):
        srv = self.server("--maildir", self.maildir)
        self.assertTrue(srv.url.startswith("smtp://127.0.0.1:"))
        c = self.client(srv)
        c.ehlo()
        self.assertFalse(c.has_extn("starttls"))
        self.assertFalse(c.has_extn("auth"))
        with self.assertRaises(smtplib.SMTPNotSupportedError):
            c.starttls()
        self.assertEqual(c.docmd("AUTH", "PLAIN AHVAcA==")[0], 538)   # encryption required
        self.assertEqual(c.sendmail(FROM, TO_ADDRS, message()), {})
        c.quit()
        [(eml, meta)] = self.stored()
        self.assertEqual(eml, message())
        self.assert_envelope(meta, eml, auth_user=None, tls_mode=None)

    def test_port_options_and_numbering(self):
        # A port taken from the system, then given back for --port.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        os.makedirs(self.maildir)
        for name in ("0041.eml", "0041.json", "notes.txt"):
            open(os.path.join(self.maildir, name), "w").close()
        pf = os.path.join(self.tmp.name, "port")
        srv = self.server("--port", str(port), "--port-file", pf, "--maildir", self.maildir)
        self.assertEqual(srv.url, f"smtp://127.0.0.1:{port}")
        with open(pf) as f:
            self.assertEqual(f.read(), f"{port}\n")
        c = self.client(srv)
        c.sendmail(FROM, TO_ADDRS, message("a"))
        c.sendmail(FROM, TO_ADDRS, message("b"))
        self.assertEqual(sorted(os.listdir(self.maildir)),
                         ["0041.eml", "0041.json", "0042.eml", "0042.json", "0043.eml", "0043.json",
                          "notes.txt"])
        with open(os.path.join(self.maildir, "0043.eml"), "rb") as f:
            self.assertEqual(f.read(), message("b"))

    def test_stops_on_signals(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                srv = self.server(*self.tls, *self.auth, "--maildir", self.maildir)
                # An open session does not hold it up.
                c = self.tls_client(srv)
                self.assertEqual(children(srv.proc.pid), [])
                t = time.monotonic()
                srv.proc.send_signal(sig)
                srv.proc.wait(2)
                self.assertLess(time.monotonic() - t, 2)
                self.assertEqual(srv.proc.returncode, 0, srv.log())
                self.assertEqual(children(srv.proc.pid), [])
                self.assertEqual(srv.stop(), "")
                self.assertIn("stopped", srv.log())
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
                c.close()

    def test_exit_with_parent(self):
        check_exits_with_parent(self, [SERVER])

    def test_bad_options(self):
        for args in (["--tls-cert", self.tls[1]], ["--implicit-tls"], ["--username", "u"],
                     ["--fail-first", "-1"]):
            with self.subTest(args=args):
                r = subprocess.run([SERVER] + args, capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
