"""Uploads, downloads and attachment fields: POST /api/v1/files, GET /api/v1/files/{id}[/content],
and a record's attachment field checked against the stored file's type and size."""
import hashlib
import sqlite3
import urllib.parse

import pytest
import requests


@pytest.fixture(autouse=True)
def _test_orgs(request):
    """The org units the records of this file belong to."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").add_orgs("330282001")


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(server, data, content_type, name):
    return requests.post(server.url("/api/v1/files?name=" + urllib.parse.quote(name)), data=data,
                         headers={"Content-Type": content_type})


def mediation(server, extra):
    body = {"committee": "330282001", "source": "walk_in", "title": "附件测试", "received_on": "2021-05-06"}
    body.update(extra)
    return requests.post(server.url("/api/v1/modules/mediation_case/records"), json=body)


def test_upload_and_download_round_trip(server):
    r = upload(server, PDF, "application/pdf", "调解协议书.pdf")
    assert r.status_code == 201
    f = r.json()
    assert f["name"] == "调解协议书.pdf"
    assert f["size"] == len(PDF)
    assert f["content_type"] == "application/pdf"
    assert f["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert len(f["id"]) == 24
    assert r.headers["Location"] == "/api/v1/files/" + f["id"]

    meta = requests.get(server.url("/api/v1/files/" + f["id"]))
    assert meta.status_code == 200 and meta.json() == f

    got = requests.get(server.url("/api/v1/files/%s/content" % f["id"]))
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''%E8%B0%83%E8%A7%A3%E5%8D%8F%E8%AE%AE%E4%B9%A6.pdf" in got.headers["Content-Disposition"]

    # the same bytes twice: two files, one stored copy
    again = upload(server, PDF, "application/pdf", "copy.pdf").json()
    assert again["id"] != f["id"] and again["sha256"] == f["sha256"]


def test_upload_refusals(server):
    r = upload(server, PDF, "image/png", "x.png")
    assert r.status_code == 415 and r.json()["error"]["code"] == "file_type"
    r = upload(server, b"MZ\x90\x00", "application/x-msdownload", "a.exe")
    assert r.status_code == 415 and r.json()["error"]["code"] == "file_type"
    r = upload(server, b"abc\x00def", "text/plain", "a.txt")
    assert r.status_code == 415
    r = requests.post(server.url("/api/v1/files"), data=PDF, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_name"
    r = upload(server, PDF, "application/pdf", "../../etc/passwd")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_name"
    r = upload(server, b"", "application/pdf", "empty.pdf")
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_file"
    r = upload(server, b"%PDF-" + b"x" * (20 * 1024 * 1024), "application/pdf", "big.pdf")
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert requests.get(server.url("/api/v1/files/0123456789abcdef01234567")).status_code == 404
    assert requests.get(server.url("/api/v1/files/nothex")).json()["error"]["code"] == "file_not_found"


def test_attachment_field_checks_the_stored_file(server):
    pdf = upload(server, PDF, "application/pdf", "协议.pdf").json()
    r = mediation(server, {"agreement_file": {"file_id": pdf["id"]}})
    assert r.status_code == 201, r.text
    assert r.json()["agreement_file"] == {"file_id": pdf["id"], "name": "协议.pdf", "size": len(PDF),
                                          "content_type": "application/pdf"}

    txt = upload(server, "调解记录".encode(), "text/plain", "记录.txt").json()
    r = mediation(server, {"agreement_file": {"file_id": txt["id"]}})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "agreement_file"
    assert "text/plain" in r.json()["error"]["details"][0]["message"]

    r = mediation(server, {"agreement_file": {"file_id": "0123456789abcdef01234567"}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "file"
    r = mediation(server, {"agreement_file": {"file_id": "../x"}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "type"

    png = upload(server, PNG, "image/png", "照片.png").json()
    rec = mediation(server, {}).json()
    r = requests.patch(server.url("/api/v1/modules/mediation_case/records/%d" % rec["id"]),
                       json={"agreement_file": {"file_id": png["id"]}}, headers={"If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["agreement_file"]["content_type"] == "image/png"


PASSWORD = "Some-Long-Pass-2026"


class User:
    """A signed-in user (cookie session; the CSRF token sent on writes)."""

    def __init__(self, server, name):
        self.server = server
        self.s = requests.Session()
        r = self.s.post(server.url("/api/v1/auth/login"), json={"user": name, "password": PASSWORD}, timeout=10)
        assert r.status_code == 200, r.text
        self.csrf = {"X-CSRF-Token": r.json()["csrf_token"]}

    def upload(self, data, content_type, name):
        r = self.s.post(self.server.url("/api/v1/files?name=" + urllib.parse.quote(name)), data=data,
                        headers=dict(self.csrf, **{"Content-Type": content_type}), timeout=10)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def case(self, committee, file_id):
        body = {"committee": committee, "source": "walk_in", "title": "附件范围", "received_on": "2021-05-06",
                "agreement_file": {"file_id": file_id}}
        r = self.s.post(self.server.url("/api/v1/modules/mediation_case/records"), json=body, headers=self.csrf,
                        timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def sees(self, file_id):
        """Status of the metadata and of the content (both must agree)."""
        meta = self.s.get(self.server.url("/api/v1/files/" + file_id), timeout=10)
        content = self.s.get(self.server.url("/api/v1/files/%s/content" % file_id), timeout=10)
        assert meta.status_code == content.status_code, (meta.text, content.status_code)
        if meta.status_code == 404:
            assert meta.json()["error"]["code"] == content.json()["error"]["code"] == "file_not_found"
        return meta.status_code


def test_downloads_follow_the_records_that_cite_the_file(server):
    for args in (("c", "--name", "慈溪市", "--kind", "city"),
                 ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                 ("tb", "--name", "乙镇", "--kind", "town", "--parent", "c")):
        r = server.cli("org", "add", *args)
        assert r.returncode == 0, r.stderr
    for name, org, role in (("sa", "ta", "mediation_staff"), ("sb", "tb", "mediation_staff"),
                            ("lead", "c", "leadership"), ("la", "ta", "legal_aid_staff"), ("insp", "c", "inspector")):
        r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                       "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    sa, sb, lead, la, insp = (User(server, n) for n in ("sa", "sb", "lead", "la", "insp"))

    # another town's attachment: 404 for sa, readable by sb (its record) and by leadership
    fb = sb.upload(PDF, "application/pdf", "乙镇协议.pdf")
    sb.case("tb", fb)
    assert sa.sees(fb) == 404
    assert sb.sees(fb) == 200 and lead.sees(fb) == 200
    assert la.sees(fb) == 404  # no mediation_case.read at all

    # an upload not yet attached: its uploader only
    fa = sa.upload(PNG, "image/png", "现场照片.png")
    assert sa.sees(fa) == 200
    assert sb.sees(fa) == 404 and lead.sees(fa) == 404
    # once a record cites it, the record decides
    sa.case("ta", fa)
    assert sa.sees(fa) == 200 and lead.sees(fa) == 200 and sb.sees(fa) == 404

    # knowing a file's id is not enough to cite it (citing makes it readable to the record's
    # readers): not another user's upload, not a file cited by a record the writer cannot read;
    # the uploader may cite its own upload once, and a record keeps the file it already has
    fx = sa.upload(PDF, "application/pdf", "转交.pdf")
    for who, body in ((sb, {"committee": "tb"}), (None, {"committee": "tb"}), (sb, {"committee": "tb", "fb": True})):
        file_id = fa if body.pop("fb", False) else fx
        body.update({"source": "walk_in", "title": "转交", "received_on": "2021-05-06",
                     "agreement_file": {"file_id": file_id}})
        if who is None:  # the admin's token: may read everything, but not an uncited upload of sa's
            r = requests.post(server.url("/api/v1/modules/mediation_case/records"), json=body, timeout=10)
        else:
            r = who.s.post(server.url("/api/v1/modules/mediation_case/records"), json=body, headers=who.csrf,
                           timeout=10)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"][0] == {"field": "agreement_file", "code": "file_not_citable",
                                                   "message": r.json()["error"]["details"][0]["message"]}
    assert sb.sees(fx) == 404 and sa.sees(fx) == 200
    rec = sa.case("ta", fx)
    r = sa.s.patch(server.url("/api/v1/modules/mediation_case/records/%d" % rec["id"]),
                   json={"title": "转交(改)", "agreement_file": {"file_id": fx}},
                   headers=dict(sa.csrf, **{"If-Match": '"1"'}), timeout=10)
    assert r.status_code == 200, r.text
    assert sa.sees("0123456789abcdef01234567") == 404

    # an inspector reads every line's files, each read audited before it is answered; others' are not
    def file_reads():
        r = requests.get(server.url("/api/v1/audit"), params={"action": "file.read", "page_size": 100}, timeout=10)
        assert r.status_code == 200, r.text
        return [(e["actor"], e["target"], e["details"]["part"]) for e in r.json()["items"]]
    assert file_reads() == []
    assert insp.sees(fb) == 200
    assert sorted(file_reads()) == [("insp", "files/" + fb, "content"), ("insp", "files/" + fb, "metadata")]
    got = insp.s.get(server.url("/api/v1/files/%s/content" % fb), timeout=10)
    assert got.status_code == 200 and got.content == PDF

    # the file index follows every write: a record moved to another town takes its file along, a
    # file detached or a record deleted stops showing it
    moved = sb.case("tb", sb.upload(PNG, "image/png", "移交.png"))
    fm = moved["agreement_file"]["file_id"]
    assert sa.sees(fm) == 404
    r = requests.patch(server.url("/api/v1/modules/mediation_case/records/%d" % moved["id"]), json={"committee": "ta"},
                       headers={"If-Match": '"1"'}, timeout=10)
    assert r.status_code == 200, r.text
    assert sa.sees(fm) == 200 and sb.sees(fm) == 404
    r = requests.patch(server.url("/api/v1/modules/mediation_case/records/%d" % moved["id"]),
                       json={"agreement_file": None}, headers={"If-Match": '"2"'}, timeout=10)
    assert r.status_code == 200, r.text
    assert sa.sees(fm) == 404 and lead.sees(fm) == 404
    deleted = sb.case("tb", sb.upload(PDF, "application/pdf", "将删除.pdf"))
    fd = deleted["agreement_file"]["file_id"]
    assert lead.sees(fd) == 200
    r = requests.delete(server.url("/api/v1/modules/mediation_case/records/%d" % deleted["id"]),
                        headers={"If-Match": '"1"'}, timeout=10)
    assert r.status_code == 204, r.text
    assert lead.sees(fd) == 404

    # a database from before the index: filled from the records at the next start
    server.stop()
    with sqlite3.connect(str(server.paths["db"])) as db:
        before = sorted(db.execute("SELECT file_id, module, record_id FROM record_files").fetchall())
        db.execute("DELETE FROM record_files")
        db.execute("DELETE FROM record_files_filled")
    server.start()
    sa, sb, lead = (User(server, n) for n in ("sa", "sb", "lead"))
    with sqlite3.connect(str(server.paths["db"])) as db:
        assert sorted(db.execute("SELECT file_id, module, record_id FROM record_files").fetchall()) == before
    assert sorted(f for f, _, _ in before) == sorted([fb, fa, fx])  # not the detached one, not the deleted one
    assert sb.sees(fb) == 200 and sa.sees(fb) == 404 and lead.sees(fd) == 404


def test_upload_needs_a_permission_that_writes_an_attachment(server):
    """Bug: POST /api/v1/files needed only a login, so a read-only inspector (or leadership, who
    only read and export) could fill the disk with files. Now the caller must hold create, update
    or a transition of a module with an attachment field; everyone else gets 403, nothing stored."""
    server.cli("org", "add", "c", "--name", "慈溪市", "--kind", "city")
    for name, role in (("sa", "mediation_staff"), ("lead", "leadership"), ("la", "legal_aid_staff"),
                       ("insp", "inspector")):
        r = server.cli("user", "add", name, "--display-name", name, "--org", "c", "--roles", role,
                       "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    sa, lead, la, insp = (User(server, n) for n in ("sa", "lead", "la", "insp"))
    assert sa.upload(PDF, "application/pdf", "协议.pdf")
    for who in (insp, lead, la):  # la writes legal aid cases only, which have no attachment field
        r = who.s.post(server.url("/api/v1/files?name=x.pdf"), data=PDF,
                       headers=dict(who.csrf, **{"Content-Type": "application/pdf"}), timeout=10)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "denied" and r.json()["error"]["details"]["permission"] == "attachments.write"
    # an API token is limited to its scopes: without one that writes an attachment field, refused
    tok = server.cli("token", "create", "--user", "sa", "--name", "t", "--scopes", "mediation_case.read")
    assert tok.returncode == 0, tok.stderr
    r = requests.post(server.url("/api/v1/files?name=x.pdf"), data=PDF, timeout=10,
                      headers={"Content-Type": "application/pdf", "Authorization": "Bearer " + tok.stdout.strip()})
    assert r.status_code == 403, r.text
