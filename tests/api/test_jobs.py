"""Integrity check on a worker thread, backup jobs and the job resource."""

import os
import sqlite3
import time
from pathlib import Path

import requests

from conftest import Server, assert_envelope


def test_integrity(server):
    before = server.metrics()["sifa_worker_jobs_done_total"]
    r = server.get("/api/v1/system/integrity")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True
    assert isinstance(body["duration_ms"], int) and 0 <= body["duration_ms"] < 10000
    # the worker counts the job just after handing its result back: allow it that moment
    deadline = time.monotonic() + 3
    while server.metrics()["sifa_worker_jobs_done_total"] < before + 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.metrics()["sifa_worker_jobs_done_total"] == before + 1


def wait_job(server, href, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        r = server.get(href)
        assert r.status_code == 200
        job = r.json()["job"]
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_backup_job(server):
    assert server.put_setting("backup.marker", "备份前写入的参数").status_code == 200
    r = requests.post(server.url("/api/v1/system/backups"), timeout=10)
    assert r.status_code == 202
    job = r.json()["job"]
    assert set(job) == {"id", "kind", "state", "href"}
    assert job["kind"] == "backup" and job["state"] == "queued"
    assert job["href"] == "/api/v1/jobs/" + job["id"]
    assert r.headers["Location"] == job["href"]

    done = wait_job(server, job["href"])
    assert done["state"] == "done", done
    assert done["id"] == job["id"] and done["kind"] == "backup"
    assert done["error"] is None
    assert done["created_at"] <= done["finished_at"]
    path = Path(done["result"]["path"])
    if not path.is_absolute():
        path = server.paths["dir"] / path
    assert path.resolve().parent == server.paths["backup_dir"].resolve()
    assert path.stat().st_size == done["result"]["bytes"] > 0

    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        row = con.execute("SELECT value FROM kv_settings WHERE key = ?", ("backup.marker",)).fetchone()
        assert row == ("备份前写入的参数",)
    finally:
        con.close()
    assert server.metrics()["sifa_worker_jobs_done_total"] >= 1


def test_two_backups_distinct_files(server):
    hrefs = [requests.post(server.url("/api/v1/system/backups"), timeout=10).json()["job"]["href"] for _ in range(2)]
    assert hrefs[0] != hrefs[1]
    jobs = [wait_job(server, h) for h in hrefs]
    assert [j["state"] for j in jobs] == ["done", "done"]
    assert jobs[0]["result"]["path"] != jobs[1]["result"]["path"]


def test_unknown_job(server):
    err = assert_envelope(server.get("/api/v1/jobs/job-0000000000000000"), 404, "not_found")
    assert err["details"] == {"id": "job-0000000000000000"}


def test_loop_stays_responsive_during_a_long_backup(sifa, tmp_path):
    """Long work runs on the worker pool: while a backup of a ~200 MB database copies, /healthz (on
    the event loop, reading the same database) keeps answering well within a second. A generous
    bound, not a benchmark: a loop blocked by the job would wait for its whole duration."""
    s = Server(tmp_path / "big")
    con = sqlite3.connect(str(s.paths["db"]))
    try:
        con.execute("CREATE TABLE test_filler (id INTEGER PRIMARY KEY, b BLOB)")
        blob = os.urandom(4000)
        con.executemany("INSERT INTO test_filler (b) VALUES (?)", ((blob,) for _ in range(50000)))
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    sifa.servers.append(s)
    s.start()

    r = requests.post(s.url("/api/v1/system/backups"), timeout=10)
    assert r.status_code == 202
    href = r.json()["job"]["href"]
    latencies_while_running = []
    deadline = time.monotonic() + 60
    with requests.Session() as http:
        while time.monotonic() < deadline:
            state = http.get(s.url(href), timeout=5).json()["job"]["state"]
            if state in ("done", "failed"):
                break
            t0 = time.monotonic()
            assert http.get(s.url("/healthz"), timeout=5).status_code == 200
            elapsed = time.monotonic() - t0
            if http.get(s.url(href), timeout=5).json()["job"]["state"] == "running":
                latencies_while_running.append(elapsed)
            time.sleep(0.02)
    assert state == "done"
    assert len(latencies_while_running) >= 2, "the backup was too quick to observe"
    assert max(latencies_while_running) < 1.0, latencies_while_running
