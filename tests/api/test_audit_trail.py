"""The audit trail: what logins, tokens and reads leave behind, the API auditors read it through,
and the hash chain catching edits, deletions and truncation (src/api/audit.c, src/auth/audit.c,
src/cli/accounts.c sifa_cli_audit)."""

import csv
import io
import os
import re
import shutil
import sqlite3
import time

import requests

from conftest import ADMIN_PASSWORD, ROLES_FILE, assert_envelope, cli, key_file_for, token_file_for

LOGIN = "/api/v1/auth/login"
NO_AUTH = {"Authorization": None}
AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PASSWORD = "Some-Long-Pass-2026"


def login(server, user, password):
    return requests.post(server.url(LOGIN), json={"user": user, "password": password}, headers=NO_AUTH, timeout=10)


def audit_page(server, **params):
    r = requests.get(server.url("/api/v1/audit"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def verify_db(db):
    """`sifa audit verify` on a database whose key file lies beside it."""
    return cli("audit", "verify", "--db", db, "--key_file", key_file_for(db), "--roles_file", ROLES_FILE)


def intact(n):
    return "sifa: 审计日志完整 audit log intact: %d 条 entries\n" % n


def broken(entry, reason):
    return "sifa: 审计日志已被破坏 BROKEN at entry %d (%s)\n" % (entry, reason)


def test_auth_events_are_listed_newest_first(server):
    s = requests.Session()
    r = s.post(server.url(LOGIN), json={"user": "admin", "password": ADMIN_PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    assert login(server, "admin", "wrong-password-123").status_code == 401
    assert login(server, "ghost", "wrong-password-123").status_code == 401
    r = s.post(server.url("/api/v1/auth/tokens"), json={"name": "统计报表", "scopes": ["audit.read"]},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    r = s.post(server.url("/api/v1/auth/logout"), headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 200, r.text

    page = audit_page(server)
    assert (page["total"], page["page"], page["page_size"]) == (6, 1, 50)
    items = page["items"]
    for e in items:
        assert set(e) == {"id", "at", "actor", "address", "action", "target", "details"}
        assert AT.match(e["at"]), e
    assert [e["at"] for e in items] == sorted((e["at"] for e in items), reverse=True)
    got = [(e["id"], e["action"], e["actor"], e["address"], e["target"], e["details"]) for e in items]
    cli_token = got[-1]
    assert cli_token[:4] == (1, "auth.token_create", "cli", "console")
    assert cli_token[5] == {"name": "api-tests", "scopes": ["*"], "user": "admin"}
    assert got[:-1] == [
        (6, "auth.logout", "admin", "127.0.0.1", "admin", None),
        (5, "auth.token_create", "admin", "127.0.0.1", token_id, {"name": "统计报表", "scopes": ["audit.read"]}),
        (4, "auth.login_failed", None, "127.0.0.1", "ghost", {"known_user": False}),
        (3, "auth.login_failed", None, "127.0.0.1", "admin", {"known_user": True}),
        (2, "auth.login", "admin", "127.0.0.1", "admin", None),
    ]

    # filters and paging
    assert [e["id"] for e in audit_page(server, action="auth.login_failed")["items"]] == [4, 3]
    assert [e["id"] for e in audit_page(server, actor="admin")["items"]] == [6, 5, 2]
    page = audit_page(server, page=2, page_size=2)
    assert [e["id"] for e in page["items"]] == [4, 3] and page["total"] == 6
    assert audit_page(server, since="2999")["items"] == []
    assert_envelope(requests.get(server.url("/api/v1/audit"), params={"page_size": 501}, timeout=10),
                    400, "audit_bad_filter")
    assert_envelope(requests.get(server.url("/api/v1/audit"), params={"since": "yesterday"}, timeout=10),
                    400, "audit_bad_filter")

    r = requests.get(server.url("/api/v1/audit/verify"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "checked": 6}

    # audit.read is needed: a token without it is refused
    r = server.cli("token", "create", "--user", "admin", "--name", "x", "--scopes", "mediation_case.read")
    assert r.returncode == 0, r.stderr
    bearer = {"Authorization": "Bearer " + r.stdout.strip()}
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        err = assert_envelope(requests.get(server.url(path), headers=bearer, timeout=10), 403, "denied")
        assert err["details"] == {"permission": "audit.read"}

    server.stop()
    r = server.cli("audit", "verify")
    assert (r.returncode, r.stdout) == (0, intact(7)), r.stderr


def test_inspector_reads_are_audited(server):
    server.add_orgs("ta")
    r = requests.post(server.url("/api/v1/modules/mediation_case/records"),
                      json={"committee": "ta", "source": "walk_in", "title": "督察抽查", "received_on": "2024-03-05"},
                      timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = server.cli("user", "add", "insp", "--display-name", "督察", "--roles", "inspector", "--password-stdin", "--no-change",
                   input_text=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    assert s.post(server.url(LOGIN), json={"user": "insp", "password": PASSWORD}, timeout=10).status_code == 200
    assert s.get(server.url("/api/v1/modules/mediation_case/records"), timeout=10).status_code == 200
    assert s.get(server.url("/api/v1/modules/mediation_case/records/%d" % rid), timeout=10).status_code == 200
    # an inspector holds audit.read
    assert s.get(server.url("/api/v1/audit"), timeout=10).status_code == 200

    deadline = time.monotonic() + 5  # written by the writer after the response
    while True:
        items = audit_page(server, action="record.read")["items"]
        if len(items) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    got = [(e["actor"], e["address"], e["target"], e["details"]) for e in items]
    assert got == [("insp", "127.0.0.1", "mediation_case/%d" % rid, {"ids": [rid]}),
                   ("insp", "127.0.0.1", "mediation_case/list", {"ids": [rid]})]
    # reads by others are not
    assert requests.get(server.url("/api/v1/modules/mediation_case/records"), timeout=10).status_code == 200
    time.sleep(0.1)
    assert audit_page(server, action="record.read")["total"] == 2


def copy_db(server, name):
    """A copy of the stopped server's database with its key and token files."""
    src = server.paths["db"]
    dst = server.paths["dir"] / name
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        if src.with_name(src.name + suffix).exists():
            shutil.copyfile(src.with_name(src.name + suffix), dst.with_name(dst.name + suffix))
    shutil.copyfile(key_file_for(src), key_file_for(dst))
    os.chmod(key_file_for(dst), 0o600)  # sifa refuses a key file others may read
    shutil.copyfile(token_file_for(src), token_file_for(dst))
    return dst


def tamper(db, sql):
    con = sqlite3.connect(str(db))
    try:
        assert con.execute(sql).rowcount == 1
        con.commit()
    finally:
        con.close()


def test_tampering_is_detected(sifa):
    server = sifa.start(name="orig")
    assert login(server, "admin", ADMIN_PASSWORD).status_code == 200                    # 2
    assert login(server, "admin", "wrong-password-123").status_code == 401             # 3
    assert login(server, "ghost", "wrong-password-123").status_code == 401             # 4
    assert [e["id"] for e in audit_page(server)["items"]] == [4, 3, 2, 1]
    server.stop()

    r = verify_db(server.paths["db"])
    assert (r.returncode, r.stdout) == (0, intact(4)), r.stderr

    edited = copy_db(server, "edited.db")
    tamper(edited, "UPDATE audit_log SET actor = 'intruder' WHERE id = 3")
    r = verify_db(edited)
    assert (r.returncode, r.stdout) == (1, broken(3, "hash_mismatch")), r.stderr
    assert "审计日志第 3 条被篡改" in r.stderr

    gap = copy_db(server, "gap.db")
    tamper(gap, "DELETE FROM audit_log WHERE id = 2")
    r = verify_db(gap)
    assert (r.returncode, r.stdout) == (1, broken(3, "id_gap")), r.stderr

    cut = copy_db(server, "cut.db")
    tamper(cut, "DELETE FROM audit_log WHERE id = 4")
    r = verify_db(cut)
    assert (r.returncode, r.stdout) == (1, broken(4, "truncated")), r.stderr

    # the original is untouched by all this
    r = verify_db(server.paths["db"])
    assert (r.returncode, r.stdout) == (0, intact(4)), r.stderr

    # the API reports the same break
    s2 = sifa.start(name="edited", db=edited)
    r = requests.get(s2.url("/api/v1/audit/verify"), timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ok", "checked", "problem", "message"}
    assert body["ok"] is False
    assert body["problem"] == {"id": 3, "reason": "hash_mismatch"}
    assert body["message"] == "审计日志第 3 条被篡改（哈希不符）"
    assert [e["actor"] for e in audit_page(s2)["items"] if e["id"] == 3] == ["intruder"]


def test_audit_list_refuses_malformed_paging(server):
    for params in ({"page": "abc"}, {"page_size": "10x"}, {"page": ""}):
        r = requests.get(server.url("/api/v1/audit"), params=params, timeout=10)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "audit_bad_filter"
    assert requests.get(server.url("/api/v1/audit"), params={"page": "1", "page_size": "5"}, timeout=10).status_code == 200


def audit_csv(server, **params):
    r = requests.get(server.url("/api/v1/audit/export"), params=params, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf") and r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content[3:].decode("utf-8"), newline="")))
    assert rows[0] == ["编号", "时间", "用户", "地址", "操作", "对象", "详情"]
    return rows[1:]


def test_login_log_search_and_filtered_export(server):
    server.add_orgs("ta")
    r = requests.post(server.url("/api/v1/modules/mediation_case/records"),
                      json={"committee": "ta", "source": "walk_in", "title": "登录日志", "received_on": "2024-03-05"},
                      timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert login(server, "admin", "wrong-password-456").status_code == 401  # the failed login just made

    # the login log: auth.* only, the failure first
    page = audit_page(server, action_prefix="auth.", page_size=500)
    assert page["items"] and all(e["action"].startswith("auth.") for e in page["items"])
    assert page["items"][0]["action"] == "auth.login_failed" and page["items"][0]["target"] == "admin"
    assert page["total"] < audit_page(server)["total"]  # the record.create is not in it
    # the admin's create answered with the module's personal fields in clear: a personal read too
    assert [e["action"] for e in audit_page(server, action_prefix="record.")["items"]] == \
        ["record.read_personal", "record.create"]
    # exact target, exact address, a keyword over the details
    assert [e["action"] for e in audit_page(server, target="mediation_case/%d" % rid)["items"]] == \
        ["record.read_personal", "record.create"]
    assert audit_page(server, target="mediation_case/")["total"] == 0
    assert audit_page(server, address="127.0.0.1", action="auth.login_failed")["total"] == 1
    assert audit_page(server, address="10.9.9.9")["total"] == 0
    assert [e["action"] for e in audit_page(server, keyword="known_user")["items"]] == ["auth.login_failed"]

    # the export takes the same filters: exactly the filtered rows, oldest first
    listed = audit_page(server, action_prefix="auth.", page_size=500)["items"]
    rows = audit_csv(server, action_prefix="auth.")
    assert [int(r[0]) for r in rows] == sorted(e["id"] for e in listed)
    assert {r[4] for r in rows} == {e["action"] for e in listed}
    rows = audit_csv(server, target="mediation_case/%d" % rid)
    assert [(r[4], r[5]) for r in rows] == [("record.create", "mediation_case/%d" % rid),
                                            ("record.read_personal", "mediation_case/%d" % rid)]
    # audited, with the filters and the count
    deadline = time.monotonic() + 5
    while True:
        exports = audit_page(server, action="audit.export")["items"]
        if len(exports) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert exports[0]["details"] == {"filters": {"target": "mediation_case/%d" % rid}, "rows": 2}
    assert exports[1]["details"]["filters"] == {"action_prefix": "auth."}

    # the cap: the whole log is more than 2 entries, refused whole
    r = requests.put(server.url("/api/v1/system/settings/export.max_rows"), json={"value": "2"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    r = requests.get(server.url("/api/v1/audit/export"), timeout=30)
    err = assert_envelope(r, 413, "audit_export_too_large")
    assert err["details"]["max"] == 2 and err["details"]["total"] > 2
    assert len(audit_csv(server, target="mediation_case/%d" % rid)) == 2  # within the cap: both entries


def test_malformed_audit_filters_are_refused(server):
    for params in ({"action_prefix": "Auth."}, {"action_prefix": "auth%"}, {"action_prefix": ""},
                   {"keyword": "x"}, {"keyword": "k" * 65}, {"target": "t" * 300}, {"since": "yesterday"},
                   {"until": "2024-05-01 08:00"}, {"actr": "admin"}, {"action": ["a.b", "c.d"]}):
        for path in ("/api/v1/audit", "/api/v1/audit/export"):
            r = requests.get(server.url(path), params=params, timeout=10)
            assert r.status_code == 400, (path, params, r.text)
            assert r.json()["error"]["code"] == "audit_bad_filter", (path, params)
    r = requests.get(server.url("/api/v1/audit/export"), params={"page": "2"}, timeout=10)
    assert_envelope(r, 400, "audit_bad_filter")  # an export takes every page


def test_inspector_reads_of_deadlines_and_figures_are_audited(server):
    r = server.cli("org", "add", "ta", "--name", "甲镇", "--kind", "town")
    assert r.returncode == 0, r.stderr
    r = requests.post(server.url("/api/v1/modules/mediation_case/records"),
                      json={"committee": "ta", "source": "walk_in", "title": "到期督察", "received_on": "2024-03-05",
                            "applied_at": "2024-03-05T09:30:00+08:00"}, timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for name, org, role in (("insp", "ta", "inspector"), ("staff", "ta", "mediation_staff")):
        r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                       "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    actions = ("deadlines.read", "stats.read", "stats.export")

    def entries(actor):
        return [e for a in actions for e in audit_page(server, action=a, actor=actor)["items"]]

    staff = requests.Session()
    assert staff.post(server.url(LOGIN), json={"user": "staff", "password": PASSWORD}, timeout=10).status_code == 200
    insp = requests.Session()
    assert insp.post(server.url(LOGIN), json={"user": "insp", "password": PASSWORD}, timeout=10).status_code == 200
    reads = (("/api/v1/deadlines", {"within_days": 0}),
             ("/api/v1/indicators", {"codes": "mediation_cases", "period": "2024"}),
             ("/api/v1/indicators/table", {"codes": "mediation_cases", "period": "2024", "org": "ta"}))
    for path, params in reads:
        r = staff.get(server.url(path), params=params, timeout=10)
        assert r.status_code == 200, (path, r.text)
    time.sleep(0.2)
    # a normal staff member's reads leave none (a table is audited for everyone, as before)
    assert [e["action"] for e in entries("staff")] == ["stats.export"]

    for path, params in reads:
        r = insp.get(server.url(path), params=params, timeout=10)
        assert r.status_code == 200, (path, r.text)
    # each was committed before its response was sent: no waiting needed
    got = {e["action"]: e for e in entries("insp")}
    assert set(got) == set(actions), got
    dl = got["deadlines.read"]
    assert dl["target"] == "deadlines" and dl["address"] == "127.0.0.1"
    assert dl["details"]["total"] >= 1 and "mediation_case/%d" % rid in dl["details"]["records"]
    assert got["stats.read"]["details"]["codes"] == "mediation_cases"
    assert got["stats.export"]["details"]["format"] == "json"
