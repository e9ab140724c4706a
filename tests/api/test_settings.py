"""System settings: round trip, Unicode, listing, overwrite, persistence across a restart."""

import datetime

import requests

SETTING = "/api/v1/system/settings/"
CHINESE = "县司法局 · 人民调解委员会 — “测试” ✓ 𝄞 \n第二行\t制表"


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def test_round_trip_chinese(server):
    r = server.put_setting("bureau.name", CHINESE)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"key", "value", "updated_at"}
    assert body["key"] == "bureau.name" and body["value"] == CHINESE
    ts = parse_ts(body["updated_at"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds()) < 60

    r = server.get(SETTING + "bureau.name")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == body
    assert "县司法局".encode("utf-8") in r.content  # UTF-8 on the wire, not \u escapes only


def test_overwrite_and_list(server):
    assert server.put_setting("b.key", "1").status_code == 200
    assert server.put_setting("a.key", "甲").status_code == 200
    assert server.put_setting("b.key", "二").status_code == 200
    assert server.get(SETTING + "b.key").json()["value"] == "二"
    r = server.get("/api/v1/system/settings")
    assert r.status_code == 200
    listing = r.json()
    assert listing["total"] == 2
    items = {i["key"]: i["value"] for i in listing["items"]}
    assert items == {"a.key": "甲", "b.key": "二"}
    assert [i["key"] for i in listing["items"]] == sorted(items)


def test_empty_string_value(server):
    assert server.put_setting("empty.value", "").status_code == 200
    assert server.get(SETTING + "empty.value").json()["value"] == ""


def test_value_with_json_escapes(server):
    v = 'quote " backslash \\ nul-free \u0001 control'
    assert server.put_setting("esc", v).status_code == 200
    assert server.get(SETTING + "esc").json()["value"] == v


def test_persistence_across_restart(sifa):
    s = sifa.start()
    assert s.put_setting("persist.me", CHINESE).status_code == 200
    assert s.put_setting("persist.two", "2").status_code == 200
    s.restart()
    r = s.get(SETTING + "persist.me")
    assert r.status_code == 200 and r.json()["value"] == CHINESE
    assert s.get("/api/v1/system/settings").json()["total"] == 2


def test_keep_alive_session_many_puts(server):
    with requests.Session() as sess:
        for i in range(50):
            r = sess.put(server.url(SETTING + "k%d" % i), json={"value": "值%d" % i}, timeout=5)
            assert r.status_code == 200
        for i in range(50):
            assert sess.get(server.url(SETTING + "k%d" % i), timeout=5).json()["value"] == "值%d" % i
    assert server.get("/api/v1/system/settings").json()["total"] == 50


def test_a_change_is_audited_with_old_and_new_value(server):
    """Changing a system parameter is an admin action like a user or org change: audited with
    who, which key and the values, in the same transaction; a credential-like key's values stay
    out of the log."""
    assert server.put_setting("export.max_rows", "500").status_code == 200
    assert server.put_setting("export.max_rows", "800").status_code == 200
    assert server.put_setting("sms.api_token", "s3cr3t-value").status_code == 200
    r = server.get("/api/v1/audit", params={"action": "setting.update", "page_size": 10})
    assert r.status_code == 200, r.text
    entries = r.json()["items"]
    by_key = {}
    for e in entries:
        by_key.setdefault(e["target"], []).append(e)
    assert {e["actor"] for e in entries} == {"admin"}
    assert sorted(e["details"]["new"] for e in by_key["export.max_rows"]) == ["500", "800"]
    changed = [e["details"] for e in by_key["export.max_rows"] if e["details"]["new"] == "800"][0]
    assert changed == {"key": "export.max_rows", "old": "500", "new": "800"}
    first = [e["details"] for e in by_key["export.max_rows"] if e["details"]["new"] == "500"][0]
    assert "old" not in first or first["old"] is None
    (secret,) = by_key["sms.api_token"]
    assert secret["details"] == {"key": "sms.api_token", "secret": True, "created": True}
    assert "s3cr3t" not in r.text
    assert server.get("/api/v1/audit/verify").json()["ok"] is True
