"""Front-end files: built-in index, ETag/304, Cache-Control, gzip variants, SPA fallback, 404s."""

import gzip
import socket

import pytest
import requests

from conftest import assert_envelope

INDEX = "<!doctype html><html><head><title>司法</title></head><body><div id=app></div></body></html>\n".encode()
APP_JS = ("console.log('sifa 前端');\n" * 200).encode()
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def web(sifa, tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "app.js").write_bytes(APP_JS)
    (root / "assets" / "app.js.gz").write_bytes(gzip.compress(APP_JS, mtime=0))
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    return sifa.start(web_root=root, name="web")


def test_builtin_index_without_web_root(server):
    r = server.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-cache"
    assert "sifa 司法行政业务平台" in r.text
    assert "/healthz" in r.text


def test_builtin_index_with_empty_web_root(sifa, tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    s = sifa.start(web_root=root)
    r = s.get("/")
    assert r.status_code == 200 and "sifa 司法行政业务平台" in r.text


def test_index_html(web):
    r = web.get("/", headers=IDENTITY)
    assert r.status_code == 200
    assert r.content == INDEX
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-cache"
    etag = r.headers["ETag"]
    assert etag
    r2 = web.get("/", headers={"If-None-Match": etag, **IDENTITY})
    assert r2.status_code == 304
    assert r2.content == b""
    assert r2.headers["X-Request-Id"]
    r3 = web.get("/index.html", headers=IDENTITY)
    assert r3.status_code == 200 and r3.content == INDEX
    assert r3.headers["Cache-Control"] == "no-cache"


def test_asset_immutable_and_etag(web):
    r = web.get("/assets/app.js", headers=IDENTITY)
    assert r.status_code == 200
    assert r.content == APP_JS
    assert "Content-Encoding" not in r.headers
    assert "javascript" in r.headers["Content-Type"]
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = r.headers["ETag"]
    r2 = web.get("/assets/app.js", headers={"If-None-Match": etag, **IDENTITY})
    assert r2.status_code == 304
    r3 = web.get("/assets/app.js", headers={"If-None-Match": '"something-else"', **IDENTITY})
    assert r3.status_code == 200 and r3.content == APP_JS


def test_asset_gzip_variant(web):
    r = requests.get(web.url("/assets/app.js"), headers={"Accept-Encoding": "gzip"}, stream=True, timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in r.headers.get("Vary", "").lower()
    raw = r.raw.read(decode_content=False)
    assert raw == (web.paths["web_root"] / "assets" / "app.js.gz").read_bytes()
    assert gzip.decompress(raw) == APP_JS
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_spa_fallback(web):
    for path in ["/cases/123", "/mediation/list", "/a/b/c"]:
        r = web.get(path, headers=IDENTITY)
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.headers["Cache-Control"] == "no-cache"


def test_missing_asset_404_envelope(web):
    for path in ["/assets/x.js", "/missing.png"]:
        r = web.get(path, headers=IDENTITY)
        err = assert_envelope(r, 404, "not_found")
        assert "ETag" not in r.headers
        assert "Content-Encoding" not in r.headers
        assert err["request_id"]


def test_api_paths_never_fall_back(web):
    r = web.get("/api/v1/cases/123")
    assert_envelope(r, 404, "not_found")
    r = requests.post(web.url("/cases/123"), data=b"", timeout=5)
    assert r.status_code in (404, 405)
    assert r.headers["Content-Type"].startswith("application/json")


def test_static_metrics_route(web):
    before = web.metrics().get('sifa_http_requests_total{route="static",status="200"}', 0)
    web.get("/assets/app.js")
    web.get("/cases/1")
    after = web.metrics()
    assert after['sifa_http_requests_total{route="static",status="200"}'] == before + 2


def raw_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def test_no_path_traversal(web, tmp_path):
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    for path in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"]:
        data = raw_get(web.port, path)
        assert b"TOP-SECRET" not in data, path
        assert data.startswith(b"HTTP/1.1 "), data[:100]
