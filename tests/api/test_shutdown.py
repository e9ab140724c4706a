"""Graceful shutdown: SIGTERM/SIGINT, idle keep-alive connections, a write in flight."""

import signal
import socket
import sqlite3
import threading
import time

import requests


def connect_refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except (ConnectionRefusedError, ConnectionResetError):  # reset: queued as the listener closed
        return True


def test_sigterm_exits_zero(sifa):
    s = sifa.start()
    assert s.get("/healthz").status_code == 200
    t0 = time.monotonic()
    err = s.stop(signal.SIGTERM)
    assert time.monotonic() - t0 < 3.0
    assert "服务已停止" in err
    assert connect_refused(s.port)


def test_sigint_exits_zero(sifa):
    s = sifa.start()
    assert s.get("/api/v1/system/info").status_code == 200
    err = s.stop(signal.SIGINT)
    assert "服务已停止" in err


def test_idle_keepalive_connections_do_not_delay_shutdown(sifa):
    s = sifa.start()
    sessions = [requests.Session() for _ in range(5)]
    try:
        for sess in sessions:
            assert sess.get(s.url("/healthz"), timeout=5).status_code == 200
        assert s.metrics()["sifa_http_open_connections"] >= 5
        t0 = time.monotonic()
        s.stop()
        # keep-alive timeout is 10 s by default: closing idle connections must not wait for it
        assert time.monotonic() - t0 < 2.5
    finally:
        for sess in sessions:
            sess.close()


def wait_metric(server, name, at_least, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.metrics().get(name, 0) >= at_least:
            return True
        time.sleep(0.02)
    return False


def test_shutdown_finishes_write_in_flight(sifa):
    s = sifa.start("--busy_timeout_ms", "8000")
    assert s.put_setting("before.lock", "1").status_code == 200

    lock = sqlite3.connect(str(s.paths["db"]), isolation_level=None, timeout=5)
    lock.execute("BEGIN IMMEDIATE")  # the writer's next transaction waits for this one
    result = {}

    def put():
        try:
            result["resp"] = s.put_setting("in.flight", "关机前的写入", timeout=20)
        except Exception as e:  # reported by the main thread
            result["exc"] = e

    t = threading.Thread(target=put)
    try:
        t.start()
        # the /metrics request counts itself: 2 means the PUT is being handled
        assert wait_metric(s, "sifa_http_requests_in_flight", 2)
        s.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3.0
        while not connect_refused(s.port):
            assert time.monotonic() < deadline, "listener still accepting after SIGTERM"
            time.sleep(0.02)
        assert s.process.poll() is None, "exited with a request in flight"
        assert "resp" not in result and "exc" not in result
    finally:
        lock.execute("COMMIT")
        lock.close()
    t.join(20)
    assert not t.is_alive()
    assert "exc" not in result, result.get("exc")
    r = result["resp"]
    assert r.status_code == 200, r.text
    assert r.json()["value"] == "关机前的写入"
    assert s.wait() == 0
    s.process = None
    err = s.stderr()
    s.check_stderr(err)
    assert "服务已停止" in err

    s.start()
    r = s.get("/api/v1/system/settings/in.flight")
    assert r.status_code == 200 and r.json()["value"] == "关机前的写入"


def test_sigterm_during_backup_job_completes(sifa):
    s = sifa.start()
    for i in range(20):
        assert s.put_setting("bk%d" % i, "x" * 1000).status_code == 200
    r = requests.post(s.url("/api/v1/system/backups"), timeout=5)
    assert r.status_code == 202
    s.stop()
    s.start()
    job = s.get(r.json()["job"]["href"]).json()["job"]
    # a queued or running job is finished (or marked failed) before exit, never left dangling
    assert job["state"] in ("done", "failed"), job
    if job["state"] == "done":
        assert job["result"]["bytes"] > 0
