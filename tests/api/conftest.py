"""Fixtures for the API tests: each test boots the real sifa binary on a free loopback port.

The binary comes from $SIFA_BIN (default ./sifa, relative to the repository root). Every server gets a
fresh temporary database (sifa init), access log, backup directory and stderr file. On teardown the
server receives SIGTERM and must exit 0 with no sanitizer report on stderr.

    def test_x(server):                      # default flags
    @pytest.mark.sifa_args("--request_timeout_ms", "1000")
    def test_y(server): ...                  # extra flags for the `server` fixture
    def test_z(sifa): s = sifa.start(...)    # factory: several servers, restarts
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # self-signed test certificates

REPO_ROOT = Path(__file__).resolve().parents[2]
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error", "ThreadSanitizer")
STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 20.0


def sifa_bin():
    p = Path(os.environ.get("SIFA_BIN", "./sifa"))
    if not p.is_absolute():
        p = REPO_ROOT / p
    return str(p)


def free_port():
    """A loopback port nobody listens on right now (the server itself cannot report port 0 yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env():
    env = dict(os.environ)
    # libh2o 2.2.5 leaks at exit (see lsan.supp); sifa's own leaks are still reported.
    supp = "suppressions=%s:print_suppressions=0" % (Path(__file__).with_name("lsan.supp"))
    env["LSAN_OPTIONS"] = (env["LSAN_OPTIONS"] + ":" + supp) if env.get("LSAN_OPTIONS") else supp
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    for k in list(env):
        if k.startswith("SIFA_"):  # config comes from flags only
            del env[k]
    return env


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': float} (labels exactly as printed)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


ADMIN_PASSWORD = "Sifa-测试管理员-2026"
ROLES_FILE = REPO_ROOT / "roles" / "roles.yaml"

# base URL -> the admin token of that server; requests to it carry the token unless the test set
# an Authorization header itself, or sets no_auth=True on the server (auth tests do).
_TOKENS = {}


def key_file_for(db_path):
    return Path(str(db_path) + ".key")


def token_file_for(db_path):
    return Path(str(db_path) + ".token")


def cli(*args, input_text=None):
    """Runs a sifa subcommand; returns the CompletedProcess (asserting no sanitizer report)."""
    r = subprocess.run([sifa_bin()] + [str(a) for a in args], capture_output=True, text=True, env=server_env(),
                       timeout=60, input=input_text)
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    return r


def init_db(db_path):
    """sifa init (key file beside the database, admin with a known password), then an admin API
    token for the tests, kept beside the database so restarts on the same database reuse it."""
    common = ["--db", db_path, "--key_file", key_file_for(db_path), "--roles_file", ROLES_FILE]
    r = cli("init", *common, "--admin-password-stdin", input_text=ADMIN_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = cli("token", "create", "--user", "admin", "--name", "api-tests", "--scopes", "*", *common)
    assert r.returncode == 0, r.stderr
    token_file_for(db_path).write_text(r.stdout.strip())


_original_request = requests.sessions.Session.request


def _request_with_token(self, method, url, *args, **kwargs):
    for base, token in _TOKENS.items():
        if isinstance(url, str) and url.startswith(base):
            headers = dict(kwargs.get("headers") or {})
            if not any(k.lower() == "authorization" for k in headers) and "Authorization" not in self.headers \
                    and not self.cookies:
                headers["Authorization"] = "Bearer " + token
                kwargs["headers"] = headers
            break
    return _original_request(self, method, url, *args, **kwargs)


requests.sessions.Session.request = _request_with_token


class Server:
    def __init__(self, workdir, extra_args=(), db=None, web_root=None, modules_dir=None, indicators_dir=None):
        self.modules_dir = Path(modules_dir) if modules_dir else REPO_ROOT / "modules"
        self.indicators_dir = Path(indicators_dir) if indicators_dir else REPO_ROOT / "indicators"
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.paths = {
            "dir": self.dir,
            "db": Path(db) if db else self.dir / "sifa.db",
            "access_log": self.dir / "access.log",
            "backup_dir": self.dir / "backups",
            "web_root": Path(web_root) if web_root else self.dir / "no-web-root",
            "stderr": self.dir / "stderr.txt",
        }
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None
        self.scheme = "http"
        self.returncode = None
        self._stderr_file = None
        self.no_auth = False  # True: requests carry no token unless the test adds one
        if not self.paths["db"].exists():
            init_db(self.paths["db"])

    @property
    def token(self):
        """The admin API token of this server's database."""
        return token_file_for(self.paths["db"]).read_text().strip()

    def cli(self, *args, input_text=None):
        """A sifa subcommand on this server's database and key file."""
        return cli(*args, "--db", self.paths["db"], "--key_file", key_file_for(self.paths["db"]),
                   "--roles_file", ROLES_FILE, "--modules_dir", self.modules_dir,
                   "--indicators_dir", self.indicators_dir, "--holidays_dir", REPO_ROOT / "data" / "holidays",
                   input_text=input_text)

    def add_orgs(self, *codes, kind="other"):
        """Creates org units (roots of kind `kind`) for tests whose records name them: a record of
        an org unit that does not exist is refused."""
        path = self.dir / ("orgs-%d.jsonl" % len(codes))
        with open(path, "w", encoding="utf-8") as f:
            for code in codes:
                f.write(json.dumps({"code": code, "name": "测试单位 " + code, "kind": kind}, ensure_ascii=False) + "\n")
        r = self.cli("org", "import", path)
        assert r.returncode == 0, r.stderr

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def url(self, path):
        return self.base_url + path

    def args(self):
        a = [sifa_bin(), "serve",
             "--db", str(self.paths["db"]),
             "--listen", "127.0.0.1:%d" % self.port,
             "--access_log", str(self.paths["access_log"]),
             "--backup_dir", str(self.paths["backup_dir"]),
             "--web_root", str(self.paths["web_root"]),
             "--modules_dir", str(self.modules_dir),
             "--indicators_dir", str(self.indicators_dir),
             "--key_file", str(key_file_for(self.paths["db"])),
             "--roles_file", str(ROLES_FILE),
             "--files_dir", str(self.dir / "files"),
             "--holidays_dir", str(REPO_ROOT / "data" / "holidays"),
             "--threads", "2"]
        return a + self.extra_args

    def start(self):
        assert self.process is None
        if "--tls_certificate" in self.extra_args:
            self.scheme = "https"
        last_err = None
        for _attempt in range(3):  # another process may grab the port between probe and bind
            self.port = free_port()
            self._stderr_file = open(self.paths["stderr"], "ab")
            self.process = subprocess.Popen(self.args(), cwd=str(self.dir), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=self._stderr_file,
                                            env=server_env())
            try:
                self._wait_ready()
                if not self.no_auth:
                    _TOKENS[self.base_url] = self.token
                return self
            except RuntimeError as e:
                last_err = e
                if self.process.poll() is None:
                    self.process.kill()
                self.process.wait()
                self.process = None
                self._stderr_file.close()
        raise last_err

    def _wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("sifa exited with %s during startup:\n%s" % (self.process.returncode, self.stderr()))
            try:
                r = requests.get(self.url("/healthz"), timeout=1, verify=False)
                if r.status_code == 200:
                    assert "服务已启动" in self.stderr()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.01)
        raise RuntimeError("sifa did not become ready:\n" + self.stderr())

    def stderr(self):
        try:
            return self.paths["stderr"].read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def send_signal(self, sig):
        self.process.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT_S):
        try:
            self.returncode = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._stderr_file.close()
        return self.returncode

    def stop(self, sig=signal.SIGTERM):
        """Graceful stop; asserts a clean exit. Returns stderr."""
        if self.process is None:
            return self.stderr()
        if self.process.poll() is None:
            self.send_signal(sig)
        rc = self.wait()
        self.process = None
        err = self.stderr()
        self.check_stderr(err)
        assert rc == 0, "sifa exited with %s:\n%s" % (rc, err)
        assert "服务已停止" in err, err
        return err

    def restart(self):
        self.stop()
        return self.start()

    @staticmethod
    def check_stderr(err):
        for marker in SANITIZER_MARKERS:
            assert marker not in err, "sanitizer report on stderr:\n" + err

    def kill_quietly(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._stderr_file is not None:
            self._stderr_file.close()

    # ---- helpers used by many tests ----
    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.get(self.url(path), **kw)

    def put_setting(self, key, value, session=None, **kw):
        kw.setdefault("timeout", 10)
        return (session or requests).put(self.url("/api/v1/system/settings/" + key), json={"value": value}, **kw)

    def metrics(self):
        r = self.get("/metrics")
        assert r.status_code == 200
        return parse_metrics(r.text)

    def settled_in_flight(self, timeout=3.0):
        """The in-flight gauge once it has settled at our own /metrics request (h2o disposes a request
        just after the client has read its response, so the previous one may still be counted)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.metrics()["sifa_http_requests_in_flight"]
            if value == 1 or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def access_log_entries(self, want=None, timeout=5.0):
        """Parsed access-log lines; waits until a line with request_id `want` appears."""
        deadline = time.monotonic() + timeout
        while True:
            path = self.paths["access_log"]
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            entries = [json.loads(line) for line in lines if line.strip()]
            if want is None or any(e.get("request_id") == want for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.02)


class Factory:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.servers = []

    def start(self, *extra_args, name=None, **kw):
        s = Server(self.tmp_path / (name or "srv%d" % len(self.servers)), extra_args, **kw)
        self.servers.append(s)
        return s.start()

    def finish(self):
        errors = []
        for s in self.servers:
            try:
                s.stop()
            except AssertionError as e:  # report every server, not only the first
                errors.append(str(e))
            finally:
                s.kill_quietly()
        assert not errors, "\n".join(errors)


def pytest_configure(config):
    config.addinivalue_line("markers", "sifa_args(*flags): extra command-line flags for the server fixture")
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def sifa(tmp_path):
    f = Factory(tmp_path)
    yield f
    f.finish()


@pytest.fixture
def server(request, sifa):
    marker = request.node.get_closest_marker("sifa_args")
    extra = list(marker.args) if marker else []
    return sifa.start(*extra, name="server")


ERROR_KEYS = {"code", "message", "details", "request_id"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_envelope(resp, status, code):
    """The error envelope with the given HTTP status and code; returns the error object."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == ERROR_KEYS, err
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and CJK.search(err["message"]), err
    assert err["request_id"] == resp.headers["X-Request-Id"], (err, resp.headers)
    return err
