"""Shared pieces of the Python integration suites (test_etl.py,
test_reports.py, the fixture servers' suites): psql against the ctest
PostgreSQL cluster, the POS API simulator on 127.0.0.1, salesgen's CSV for a
day, and the --exit-with-parent check of a fixture server.

Environment (set by ctest): SALESD_BIN, SALESGEN, SALES_API_SIM, SALESD_PGHOST.
"""
import glob
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

SALESD = os.environ.get("SALESD_BIN", "")
SALESGEN = os.environ.get("SALESGEN", "")
SIM = os.environ.get("SALES_API_SIM", "")
PGHOST = os.environ.get("SALESD_PGHOST", "")


def require_env(test):
    """Fail a test that was not started by ctest, with what is missing."""
    for name, v in (("SALESD_BIN", SALESD), ("SALESGEN", SALESGEN), ("SALES_API_SIM", SIM),
                    ("SALESD_PGHOST", PGHOST)):
        if not v:
            test.fail(f"{name} is not set: run this test through ctest")


def psql(db, sql):
    """Rows of a query as lists of strings (NULL as an empty string)."""
    args = ["psql", "-X", "-q", "-h", PGHOST, "-U", "salesd_test", "-d", db, "-A", "-t",
            "-F", "\x1f", "-R", "\x1e", "-v", "ON_ERROR_STOP=1", "-c", sql]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rows = []
    for rec in out.split("\x1e"):
        rec = rec.strip("\n")
        if rec:
            rows.append(rec.split("\x1f"))
    return rows


def generate(gen, day, order_type, extra=()):
    """The CSV the simulator serves for (day, order type) with salesgen options gen."""
    args = [SALESGEN] + list(gen) + list(extra) + ["--from", day, "--to", day, "--order-type", order_type]
    return subprocess.run(args, check=True, capture_output=True).stdout


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    """Pids whose parent is pid."""
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(stat.split("/")[2]))
    return out


def check_exits_with_parent(test, argv):
    """A parent starts the server argv (with --exit-with-parent; it prints one line once it listens)
    and is then killed: the server must go within 5 s."""
    code = ("import json, subprocess, sys, time\n"
            "p = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
            "p.stdout.readline()\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code, json.dumps(list(argv) + ["--exit-with-parent"])],
                              stdout=subprocess.PIPE, text=True)
    test.addCleanup(lambda: parent.poll() is None and (parent.kill(), parent.wait()))
    pid = int(parent.stdout.readline())
    parent.stdout.close()
    test.addCleanup(lambda: alive(pid) and os.kill(pid, signal.SIGKILL))
    test.assertTrue(alive(pid))
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    test.assertFalse(alive(pid), "the server outlived its parent")


def stop_process(proc):
    """Stop a server the test started: SIGTERM, then SIGKILL after 5 s; reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Server:
    """A fixture server on 127.0.0.1 (argv) that prints "listening on URL" once it listens (within 15 s).
    Its stderr goes to a log file (log()) in log_dir, or in /tmp and removed by stop(). stop() it."""

    def __init__(self, name, argv, log_dir=None):
        fd, self.errpath = tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=log_dir)
        self.own_log = log_dir is None
        self.err = os.fdopen(fd, "w")
        self.rest = None
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        m = re.fullmatch(r"listening on (\S+?:(\d+)/?)\n?", line)
        if m is None:
            stop_process(self.proc)
            log = self.log()
            self.stop()
            raise RuntimeError(f"{name} did not start: {line!r}\n{log}")
        self.url, self.port = m.group(1), int(m.group(2))

    def log(self):
        with open(self.errpath) as f:
            return f.read()

    def stop(self):
        """Stop it (SIGTERM, then SIGKILL); what it printed on stdout after the first line."""
        stop_process(self.proc)
        if self.rest is None and self.proc.stdout:
            self.rest = self.proc.stdout.read()
            self.proc.stdout.close()
        self.err.close()
        if self.own_log and os.path.exists(self.errpath):
            os.unlink(self.errpath)
        return self.rest


class Sim(Server):
    """The POS API simulator on 127.0.0.1 serving salesgen options gen; stop() it."""

    def __init__(self, gen, *options):
        super().__init__("sales-api-sim", [sys.executable, SIM, "--salesgen", SALESGEN, "--exit-with-parent"] +
                         list(gen) + list(options))


class Smtp(Server):
    """tools/smtp-server ($SMTP_SERVER) on 127.0.0.1 keeping what it receives in maildir; stop() it."""

    def __init__(self, maildir, *options):
        smtp = os.environ.get("SMTP_SERVER", "")
        if not smtp:
            raise AssertionError("SMTP_SERVER is not set: run this test through ctest")
        super().__init__("smtp-server", ["/usr/bin/python3", smtp, "--exit-with-parent", "--maildir", maildir] +
                         list(options))


def make_ca(d):
    """A private CA and a server certificate for 127.0.0.1 and localhost it signed, in
    directory d: returns (ca.pem, server cert, server key)."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "2",
         "-subj", "/CN=salesd test CA")
    ossl("req", *ec, "-keyout", f"{d}/srv.key", "-out", f"{d}/srv.csr", "-subj", "/CN=127.0.0.1")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", f"{d}/srv.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
         "-CAcreateserial", "-out", f"{d}/srv.pem", "-days", "2", "-extfile", f"{d}/ext")
    return f"{d}/ca.pem", f"{d}/srv.pem", f"{d}/srv.key"


def money(v):
    """Minor units as the reports print them: ₹12,34,567.89 (Indian grouping)."""
    sign, v = ("-", -v) if v < 0 else ("", v)
    whole, frac = divmod(v, 100)
    s = str(whole)
    if len(s) > 3:
        head, tail = s[:-3], s[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        s = ",".join(groups + [tail])
    return f"{sign}₹{s}.{frac:02d}"
