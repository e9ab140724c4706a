"""Configuration: defaults < file (--config) < SIFA_<KEY> environment < --key flags; unknown keys
and bad values refused with where they came from; --help documents every key of the example file.

The effective values are observed through behaviour: the request-head limits answer 431 with the
limit in the error's details."""

import re
import socket
import subprocess
from pathlib import Path

import pytest

import conftest
from conftest import REPO_ROOT, cli, sifa_bin

EXAMPLE = REPO_ROOT / "sifa.conf.example"


def limits_of(server):
    """(max_header_bytes, max_headers) as the running server enforces them."""
    def refused(head):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(head)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        assert data.startswith(b"HTTP/1.1 431 "), data[:200]
        body = data.partition(b"\r\n\r\n")[2]
        return conftest.json.loads(body)["error"]["details"]

    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: " + b"a" * 300000 + b"\r\n\r\n"
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"".join(
        b"X-F%d: v\r\n" % i for i in range(97)) + b"\r\n"
    return refused(big)["limit"], refused(many)["limit"]


@pytest.fixture
def with_env(monkeypatch):
    """Lets the next server start with SIFA_* variables (the fixtures strip them otherwise)."""
    extra = {}
    original = conftest.server_env

    def env():
        e = original()
        e.update(extra)
        return e

    monkeypatch.setattr(conftest, "server_env", env)
    return extra


def test_defaults(server):
    assert limits_of(server) == (16384, 64)


def test_file_overrides_defaults(sifa, tmp_path):
    conf = tmp_path / "sifa.conf"
    conf.write_text("# 测试\nmax_header_bytes: 4096\nmax_headers: 30\n", encoding="utf-8")
    s = sifa.start("--config", conf)
    assert limits_of(s) == (4096, 30)


def test_environment_overrides_file_and_flag_overrides_both(sifa, tmp_path, with_env):
    conf = tmp_path / "sifa.conf"
    conf.write_text("max_header_bytes: 4096\nmax_headers: 30\n", encoding="utf-8")
    with_env.update({"SIFA_MAX_HEADER_BYTES": "3000", "SIFA_MAX_HEADERS": "25"})
    s = sifa.start("--max_headers", "20", "--config", conf)  # --config's position does not matter
    assert limits_of(s) == (3000, 20)


def serve_fails(*args, env=None):
    """Runs `sifa serve` expecting it to refuse its configuration; returns (exit code, stderr)."""
    e = conftest.server_env()
    e.update(env or {})
    r = subprocess.run([sifa_bin(), "serve", "--listen", "127.0.0.1:0", *map(str, args)], capture_output=True,
                       text=True, env=e, timeout=30)
    return r.returncode, r.stderr


def test_unknown_key_in_file(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("listen: 127.0.0.1:0\n\nmax_header_byte: 4096\n", encoding="utf-8")
    rc, err = serve_fails("--config", conf)
    assert rc == 2, err
    assert "%s:3:1" % conf in err and "max_header_byte" in err and "未知的配置项" in err, err


def test_unknown_flag():
    rc, err = serve_fails("--max_header_byte", "4096")
    assert rc == 2 and "max_header_byte" in err, err


@pytest.mark.parametrize("line,needle", [
    ("max_headers: 0", "1 到 100"),
    ("max_headers: 101", "1 到 100"),
    ("max_header_bytes: 500000", "1024 到 417792"),
    ("max_body_bytes: -1", "非负整数"),
    ("request_timeout_ms: 10s", "毫秒数"),
    ("synchronous_full: maybe", "true 或 false"),
    ("threads: 1.5", "非负整数"),
    ("listen: [a, b]", "一层"),
    ("threads: 100000", "0 到 1024"),
    ("request_timeout_ms: 0", "1 到"),
])
def test_bad_value_in_file(tmp_path, line, needle):
    conf = tmp_path / "bad.conf"
    conf.write_text("# 注释\n" + line + "\n", encoding="utf-8")
    rc, err = serve_fails("--config", conf)
    assert rc == 2, err
    assert str(conf) + ":2:" in err and needle in err, err


def test_bad_value_in_environment_and_flag():
    rc, err = serve_fails(env={"SIFA_MAX_HEADERS": "1000"})
    assert rc == 2 and "SIFA_MAX_HEADERS" in err and "1 到 100" in err, err
    rc, err = serve_fails("--max_header_bytes", "12x")
    assert rc == 2 and "--max_header_bytes" in err and "非负整数" in err, err


def test_duplicate_key_in_file(tmp_path):
    conf = tmp_path / "dup.conf"
    conf.write_text("listen: 127.0.0.1:0\nthreads: 2\nmax_headers: 30\nthreads: 4\n", encoding="utf-8")
    rc, err = serve_fails("--config", conf)
    assert rc == 2, err
    assert "%s:4:1" % conf in err and "%s:2:1" % conf in err and "重复" in err, err


def test_yaml_syntax_error(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("listen: 127.0.0.1:0\nthreads: [1\n", encoding="utf-8")
    rc, err = serve_fails("--config", conf)
    assert rc == 2 and str(conf) + ":" in err, err


def test_missing_config_file(tmp_path):
    rc, err = serve_fails("--config", tmp_path / "nope.conf")
    assert rc == 2 and "nope.conf" in err, err


def example_keys():
    """Every key the example file documents: set (key: value) or shown commented out (# key: value)."""
    keys = set()
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(?:# )?([a-z][a-z0-9]*(?:_[a-z0-9]+)*): \S", line)
        if m and (not line.startswith("#") or "_" in m.group(1)):
            keys.add(m.group(1))
    return keys


def help_keys(text):
    return set(re.findall(r"^  --([a-z_]+)\s", text, re.M)) - {"config", "db"}


def test_help_documents_every_key_of_the_example():
    keys = example_keys()
    assert {"listen", "database", "tls_certificate", "tls_key", "max_header_bytes", "max_headers"} <= keys, keys
    for args in (["--help"], ["serve", "--help"]):
        r = cli(*args)
        assert r.returncode == 0, r.stderr
        assert help_keys(r.stdout) == keys, (args, keys ^ help_keys(r.stdout))


def test_example_file_is_the_defaults(sifa, tmp_path):
    """The example parses, and serving with it changes nothing the tests can see (its values are
    the defaults)."""
    s = sifa.start("--config", EXAMPLE)
    assert limits_of(s) == (16384, 64)
    assert s.get("/healthz").status_code == 200


def test_a_port_in_use_is_refused_and_the_first_server_keeps_it(server):
    """SO_REUSEPORT would let a second sifa bind the same port and take half the connections."""
    args = server.args()
    args[args.index("--listen") + 1] = "127.0.0.1:%d" % server.port
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "address_in_use" in r.stderr and "端口已被占用" in r.stderr, r.stderr
    for _ in range(20):  # every connection still reaches the first server
        assert server.get("/healthz").status_code == 200
