"""HTTP/2 over TLS (ALPN) and h2c with prior knowledge, checked with the curl CLI."""

import json
import socket
import struct
import subprocess
import time

import pytest


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    return cert, key


def curl(*args):
    r = subprocess.run(["curl", "-s", "--max-time", "10"] + list(args), capture_output=True, timeout=20)
    assert r.returncode == 0, r
    return r.stdout.decode()


def curl_version_and_body(*args):
    out = curl("-w", "\n%{http_version} %{http_code}", *args)
    body, _, tail = out.rpartition("\n")
    version, code = tail.split()
    return version, int(code), body


@pytest.fixture
def tls_server(sifa, tls_files):
    cert, key = tls_files
    return sifa.start("--tls_certificate", str(cert), "--tls_key", str(key), name="tls")


def test_http2_over_tls(tls_server):
    url = tls_server.url("/healthz")
    assert url.startswith("https://")
    assert curl("--http2", "-k", "-o", "/dev/null", "-w", "%{http_version}", url) == "2"
    version, code, body = curl_version_and_body("--http2", "-k", url)
    assert (version, code) == ("2", 200)
    assert json.loads(body) == {"status": "ok", "database": "ok"}


def test_http2_tls_api_and_errors(tls_server, tls_files):
    cert, _ = tls_files
    base = tls_server.base_url
    auth = "Authorization: Bearer " + tls_server.token
    version, code, body = curl_version_and_body("--http2", "--cacert", str(cert), "-X", "PUT", "-H", auth,
                                                "-H", "Content-Type: application/json",
                                                "--data-binary", '{"value":"加密传输"}',
                                                base + "/api/v1/system/settings/tls.test")
    assert (version, code) == ("2", 200)
    assert json.loads(body)["value"] == "加密传输"
    version, code, body = curl_version_and_body("--http2", "-k", "-H", auth, base + "/api/v1/system/settings/tls.test")
    assert (version, code) == ("2", 200) and json.loads(body)["value"] == "加密传输"
    version, code, body = curl_version_and_body("--http2", "-k", base + "/api/v1/nope")
    assert (version, code) == ("2", 404)
    assert json.loads(body)["error"]["code"] == "not_found"
    headers = curl("--http2", "-k", "-D", "-", "-o", "/dev/null", "-H", "X-Request-Id: h2-trace", base + "/healthz")
    assert "x-request-id: h2-trace" in headers.lower()


def test_http11_over_tls(tls_server):
    version, code, body = curl_version_and_body("--http1.1", "-k", tls_server.url("/api/v1/system/info"))
    assert (version, code) == ("1.1", 200)
    assert json.loads(body)["name"] == "sifa"


def test_plain_http_refused_on_tls_port(tls_server):
    r = subprocess.run(["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/healthz" % tls_server.port], capture_output=True, timeout=20)
    assert r.stdout.decode() in ("000", "400")
    version, code, _ = curl_version_and_body("--http2", "-k", tls_server.url("/healthz"))
    assert (version, code) == ("2", 200)


def test_h2c_prior_knowledge(server):
    url = server.url("/healthz")
    assert curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}", url) == "2"
    version, code, body = curl_version_and_body("--http2-prior-knowledge", url)
    assert (version, code) == ("2", 200)
    assert json.loads(body) == {"status": "ok", "database": "ok"}
    version, code, body = curl_version_and_body("--http2-prior-knowledge", "-X", "PUT",
                                                "-H", "Authorization: Bearer " + server.token,
                                                "-H", "Content-Type: application/json",
                                                "--data-binary", '{\n"value": x}',
                                                server.url("/api/v1/system/settings/h2c"))
    assert (version, code) == ("2", 400)
    d = json.loads(body)["error"]["details"]
    assert (d["line"], d["column"]) == (2, 10)


def h2_frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def h2_get(stream, path):
    def literal(index, value):  # literal header field without indexing, indexed name, no Huffman
        v = value.encode()
        return bytes([index, len(v)]) + v
    block = b"\x82\x86" + literal(4, path) + literal(1, "127.0.0.1")  # :method GET, :scheme http
    return h2_frame(1, 0x5, stream, block)  # HEADERS, END_STREAM | END_HEADERS


def test_h2c_many_streams_one_connection(server):
    # curl 7.88.1 cannot reuse a prior-knowledge connection (curl/curl#10634), so speak HTTP/2 directly.
    streams = list(range(1, 41, 2))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0) +
                  b"".join(h2_get(sid, "/healthz") for sid in streams))
        buf, status, bodies, done = b"", {}, {}, set()
        deadline = time.monotonic() + 5
        while done != set(streams) and time.monotonic() < deadline:
            chunk = s.recv(65536)
            assert chunk, "connection closed early"
            buf += chunk
            while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
                length, ftype, flags = int.from_bytes(buf[:3], "big"), buf[3], buf[4]
                sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                payload, buf = buf[9:9 + length], buf[9 + length:]
                assert ftype not in (3, 7), "RST_STREAM/GOAWAY: %r" % payload
                if ftype == 4 and not flags & 1:
                    s.sendall(h2_frame(4, 1, 0))  # SETTINGS ACK
                if ftype == 1:
                    status[sid] = payload[0]
                if ftype == 0:
                    bodies[sid] = bodies.get(sid, b"") + payload
                if ftype in (0, 1) and flags & 1:
                    done.add(sid)
    assert done == set(streams)
    assert all(status[sid] == 0x88 for sid in streams)  # HPACK static index 8 = ":status 200"
    assert all(json.loads(bodies[sid]) == {"status": "ok", "database": "ok"} for sid in streams)
