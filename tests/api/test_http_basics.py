"""Health, system info, route table, metrics, request ids and the access log."""

import datetime
import os
import re
import time

import requests

from conftest import assert_envelope, parse_metrics

ROUTE_NAMES = ["healthz", "metrics", "system.info", "system.routes", "openapi", "system.integrity", "settings.list",
               "settings.get", "settings.put", "backups.create", "jobs.get"]
GENERATED_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok", "database": "ok"}
    assert GENERATED_ID.match(r.headers["X-Request-Id"])


def healthz_on_every_loop(server, n=8):
    """n fresh connections, so that each event loop (each with its own database connection) answers."""
    return [requests.get(server.url("/healthz"), headers={"Connection": "close"}, timeout=5) for _ in range(n)]


def test_healthz_reads_the_database_file(server):
    """The server holds the database open in WAL mode with its pages cached, so a query may answer
    from the cache after the file under it went bad. The health check must read the file itself."""
    db = server.paths["db"]
    assert all(r.status_code == 200 for r in healthz_on_every_loop(server))  # warm every cache
    saved = db.read_bytes()
    try:
        with open(db, "r+b") as f:  # zeros over the first page: same size, same inode
            f.write(b"\0" * 4096)
        for r in healthz_on_every_loop(server):
            err = assert_envelope(r, 503, "database_unavailable")
            assert err["details"]["cause"] == "db_unreadable", err
        os.truncate(db, 0)
        for r in healthz_on_every_loop(server):
            assert_envelope(r, 503, "database_unavailable")
    finally:
        with open(db, "r+b") as f:  # put the same bytes back into the same file
            f.write(saved)
    assert all(r.status_code == 200 for r in healthz_on_every_loop(server))


def test_healthz_notices_a_replaced_database_file(server):
    db = server.paths["db"]
    moved = db.with_name("moved.db")
    os.rename(db, moved)
    try:
        err = assert_envelope(server.get("/healthz"), 503, "database_unavailable")
        assert err["details"]["cause"] == "db_replaced", err
    finally:
        os.rename(moved, db)
    assert server.get("/healthz").status_code == 200


def test_head_healthz_has_no_body(server):
    r = requests.head(server.url("/healthz"), timeout=5)
    assert r.status_code == 200
    assert r.content == b""


def test_system_info(server):
    r = server.get("/api/v1/system/info")
    assert r.status_code == 200
    info = r.json()
    assert info["name"] == "sifa"
    assert "司法" in info["title"]
    assert re.match(r"^\d+\.\d+\.\d+", info["version"])
    assert isinstance(info["uptime_seconds"], int) and 0 <= info["uptime_seconds"] < 60


def test_route_table(server):
    r = server.get("/api/v1/system/routes")
    assert r.status_code == 200
    routes = r.json()["routes"]
    names = [x["name"] for x in routes]
    assert len(set(names)) == len(names)
    assert [n for n in names if n in ROUTE_NAMES] == ROUTE_NAMES  # later modules add more routes
    by_name = {x["name"]: x for x in routes}
    for x in routes:
        assert set(x) == {"method", "path", "name", "permission", "max_body", "json_body"}
    assert by_name["settings.put"] == {"method": "PUT", "path": "/api/v1/system/settings/{key}",
                                       "name": "settings.put", "permission": "system.admin",
                                       "max_body": 65536, "json_body": True}
    assert by_name["healthz"]["permission"] == "public"
    assert by_name["jobs.get"]["path"] == "/api/v1/jobs/{id}"
    assert by_name["backups.create"]["method"] == "POST"
    assert all(by_name[n]["permission"] == "system.admin"
               for n in ["system.integrity", "settings.list", "settings.get", "settings.put", "backups.create",
                         "jobs.get"])


def test_metrics_content(server):
    server.get("/healthz")
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    for family, kind in [("sifa_http_requests_total", "counter"),
                         ("sifa_http_request_duration_seconds", "histogram"),
                         ("sifa_http_open_connections", "gauge"),
                         ("sifa_http_requests_in_flight", "gauge"),
                         ("sifa_db_statements_prepared_total", "counter"),
                         ("sifa_db_statement_cache_hits_total", "counter"),
                         ("sifa_db_commits_total", "counter"),
                         ("sifa_db_write_jobs_total", "counter"),
                         ("sifa_db_commit_batch_max", "gauge"),
                         ("sifa_db_checkpoints_total", "counter"),
                         ("sifa_db_checkpoint_pages_total", "counter"),
                         ("sifa_db_wal_pages", "gauge"),
                         ("sifa_worker_jobs_done_total", "counter")]:
        assert "# TYPE %s %s\n" % (family, kind) in text, family
    m = parse_metrics(text)
    assert m['sifa_http_requests_total{route="healthz",status="200"}'] >= 2  # readiness probe + ours
    assert m['sifa_http_request_duration_seconds_bucket{route="healthz",le="+Inf"}'] == \
        m['sifa_http_request_duration_seconds_count{route="healthz"}']
    assert m['sifa_http_request_duration_seconds_sum{route="healthz"}'] > 0
    assert m["sifa_http_requests_in_flight"] >= 1  # this /metrics request itself
    assert server.settled_in_flight() == 1
    assert m["sifa_http_open_connections"] >= 1
    assert m['sifa_db_checkpoints_total{thread="checkpointer"}'] >= 0 and m['sifa_db_checkpoints_total{thread="writer"}'] >= 0
    # buckets are cumulative
    buckets = [(k, v) for k, v in m.items() if k.startswith('sifa_http_request_duration_seconds_bucket{route="healthz"')]
    assert len(buckets) >= 10
    values = [v for _, v in buckets]
    assert values == sorted(values)


def settled_metrics(server, timeout=3.0):
    """(metrics, polls): /metrics once every earlier request has been counted — h2o logs (counts) a
    request as it disposes it, just after the client has read the answer, so a request of the test
    before may still be uncounted, and the one just answered too. Settled when only the /metrics
    request itself is in flight; polls is how many /metrics requests that took."""
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        m = server.metrics()
        polls += 1
        if m["sifa_http_requests_in_flight"] == 1 or time.monotonic() > deadline:
            return m, polls
        time.sleep(0.05)


def test_metrics_counters_increase(server):
    before, _ = settled_metrics(server)
    hz = 'sifa_http_requests_total{route="healthz",status="200"}'
    with requests.Session() as s:
        for _ in range(5):
            assert s.get(server.url("/healthz"), timeout=5).status_code == 200
        assert s.get(server.url("/api/v1/nope"), timeout=5).status_code == 404
        assert s.put(server.url("/api/v1/system/settings/metrics.test"), json={"value": "1"}, timeout=5).status_code == 200
        assert s.put(server.url("/api/v1/system/settings/metrics.test"), data="{", timeout=5,
                     headers={"Content-Type": "application/json"}).status_code == 400
        assert s.get(server.url("/api/v1/system/settings/metrics.test"), timeout=5).status_code == 200
        assert s.get(server.url("/api/v1/system/settings/metrics.test"), timeout=5).status_code == 200
    after, polls = settled_metrics(server)

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)

    assert delta(hz) == 5
    assert delta('sifa_http_request_duration_seconds_count{route="healthz"}') == 5
    assert delta('sifa_http_requests_total{route="unmatched",status="404"}') == 1
    assert delta('sifa_http_requests_total{route="settings.put",status="200"}') == 1
    assert delta('sifa_http_requests_total{route="settings.put",status="400"}') == 1
    assert delta('sifa_http_requests_total{route="settings.get",status="200"}') == 2
    assert delta('sifa_http_requests_total{route="metrics",status="200"}') == polls  # `before`'s and all but the last
    assert delta("sifa_db_write_jobs_total") == 1
    assert delta("sifa_db_commits_total") == 1
    # the second identical GET reuses the prepared statement
    assert delta("sifa_db_statement_cache_hits_total") >= 1


def test_request_ids_unique(server):
    ids = []
    with requests.Session() as s:
        for path in ["/healthz", "/api/v1/system/info", "/api/v1/nope", "/metrics"] * 10:
            r = s.get(server.url(path), timeout=5)
            rid = r.headers["X-Request-Id"]
            assert GENERATED_ID.match(rid), rid
            ids.append(rid)
    assert len(set(ids)) == len(ids)


def test_request_id_echoed(server):
    for rid in ["abc", "A.b_c-9", "x" * 64]:
        r = server.get("/healthz", headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid
    r = server.get("/api/v1/nope", headers={"X-Request-Id": "trace-404"})
    assert r.headers["X-Request-Id"] == "trace-404"
    assert r.json()["error"]["request_id"] == "trace-404"


def test_invalid_request_id_replaced(server):
    for bad in ["has space", "x" * 65, "semi;colon", "中文", ""]:
        r = server.get("/healthz", headers={"X-Request-Id": bad.encode("utf-8")})
        assert r.status_code == 200
        rid = r.headers["X-Request-Id"]
        assert rid != bad and GENERATED_ID.match(rid), (bad, rid)


def test_access_log(server):
    cases = [("GET", "/api/v1/system/info", None, 200),
             ("PUT", "/api/v1/system/settings/log.test", {"value": "日志"}, 200),
             ("GET", "/api/v1/system/settings/no.such", None, 404),
             ("DELETE", "/healthz", None, 405),
             ("GET", "/api/v1/system/info?x=1", None, 200)]
    expected = {}
    with requests.Session() as s:
        for i, (method, path, body, status) in enumerate(cases):
            rid = "log-%d" % i
            r = s.request(method, server.url(path), json=body, headers={"X-Request-Id": rid}, timeout=5)
            assert r.status_code == status
            expected[rid] = (method, path.split("?")[0], status, len(r.content))
        # not logged
        s.get(server.url("/healthz"), headers={"X-Request-Id": "log-health"}, timeout=5)
        s.get(server.url("/metrics"), headers={"X-Request-Id": "log-metrics"}, timeout=5)
        s.get(server.url("/api/v1/system/info"), headers={"X-Request-Id": "log-last"}, timeout=5)
    entries = server.access_log_entries(want="log-last")
    by_id = {e["request_id"]: e for e in entries}
    assert "log-health" not in by_id and "log-metrics" not in by_id
    assert all(e["path"] not in ("/healthz", "/metrics") or e["status"] != 200 for e in entries)
    for rid, (method, path, status, nbytes) in expected.items():
        e = by_id[rid]
        assert set(e) == {"time", "request_id", "method", "path", "status", "bytes", "duration_ms", "user"}, e
        assert e["method"] == method and e["path"] == path and e["status"] == status, e
        assert e["bytes"] == nbytes, e
        # requests carry the tests' admin token; public routes still identify nobody
        assert e["user"] == ("admin" if path.startswith("/api/v1/system/settings") else None), e
        assert isinstance(e["duration_ms"], (int, float)) and 0 <= e["duration_ms"] < 5000
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 60
    order = [e["request_id"] for e in entries if e["request_id"].startswith("log-")]
    assert order == ["log-0", "log-1", "log-2", "log-3", "log-4", "log-last"]
