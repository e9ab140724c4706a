"""Who is calling: login and logout with the session cookie, CSRF, session expiry, lockout and
address throttling, API tokens, and the permission of every route (src/api/auth.c,
src/api/routes.c, src/auth/accounts.c)."""

import json
import re
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ADMIN_PASSWORD, assert_envelope

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
TOKENS = "/api/v1/auth/tokens"
RECORDS = "/api/v1/modules/mediation_case/records"
NO_AUTH = {"Authorization": None}  # requests drops a None header: no credentials at all
STAFF_PASSWORD = "Some-Long-Pass-2026"
TOKEN_TEXT = re.compile(r"^[A-Za-z0-9_-]{43}$")
COOKIE = re.compile(r"^sifa_session=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; SameSite=Strict$")
ISO_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def add_staff(server, name="zhang", org="t1", roles="mediation_staff"):
    if server.cli("org", "list").stdout.find('"code":"%s"' % org) < 0:
        r = server.cli("org", "add", org, "--name", "甲镇", "--kind", "town")
        assert r.returncode == 0, r.stderr
    r = server.cli("user", "add", name, "--display-name", "张", "--org", org, "--roles", roles, "--password-stdin", "--no-change",
                   input_text=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr


def login(server, user, password, **kw):
    return requests.post(server.url(LOGIN), json={"user": user, "password": password}, headers=NO_AUTH, timeout=10,
                         **kw)


def session_for(server, user, password):
    """A requests.Session holding the session cookie; returns (session, csrf_token)."""
    s = requests.Session()
    r = s.post(server.url(LOGIN), json={"user": user, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    assert s.cookies.get("sifa_session")
    return s, r.json()["csrf_token"]


def audit(server, **params):
    r = requests.get(server.url("/api/v1/audit"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


# ---------- login, me, logout ----------

def test_login_sets_session_cookie_and_me(server):
    r = login(server, "admin", ADMIN_PASSWORD)
    assert r.status_code == 200, r.text
    m = COOKIE.match(r.headers["Set-Cookie"])
    assert m, r.headers["Set-Cookie"]
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"user", "csrf_token", "must_change_password"}
    assert body["must_change_password"] is False
    assert TOKEN_TEXT.match(body["csrf_token"]) and body["csrf_token"] != m.group(1)
    user = body["user"]
    assert ISO_SECOND.match(user.pop("created_at"))
    assert user == {"name": "admin", "display_name": "系统管理员", "org": None, "disabled": False,
                    "must_change_password": False, "has_password": True, "roles": ["admin"]}

    # the cookie alone identifies the caller
    r = requests.get(server.url(ME), headers={"Cookie": "sifa_session=" + m.group(1), "Authorization": None},
                     timeout=10)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["name"] == "admin" and me["roles"] == ["admin"] and me["permissions"] == ["*"]
    assert me["via_token"] is False
    # the admin token of the tests: same user, via_token
    r = server.get(ME)
    assert r.status_code == 200, r.text
    assert r.json()["via_token"] is True and r.json()["name"] == "admin"

    # a staff member: roles and the permissions of those roles
    add_staff(server)
    s, csrf = session_for(server, "zhang", STAFF_PASSWORD)
    me = s.get(server.url(ME), timeout=10).json()
    assert ISO_SECOND.match(me.pop("created_at"))
    # a page reloaded in the browser gets the session's CSRF token back from /auth/me: the same
    # one login returned, and writes with it are accepted
    assert me.pop("csrf_token") == csrf
    assert me == {"name": "zhang", "display_name": "张", "org": "t1", "disabled": False, "must_change_password": False,
                  "has_password": True, "roles": ["mediation_staff"],
                  "permissions": ["modules.read", "mediation_case.*", "mediation_committee_registry.*", "mediator.*",
                                  "mediation_incentive.*", "mediation_case_library.*"],
                  "via_token": False, "read_only": False}
    # a token caller has no CSRF token to learn
    assert "csrf_token" not in server.get(ME).json()


def test_wrong_password_and_unknown_user_look_the_same(server):
    a = assert_envelope(login(server, "admin", "wrong-password-123"), 401, "invalid_credentials")
    b = assert_envelope(login(server, "nobody", "wrong-password-123"), 401, "invalid_credentials")
    assert a["message"] == b["message"] == "用户名或密码错误"
    assert a["details"] is None and b["details"] is None
    r = login(server, "admin", "wrong-password-123")
    assert "Set-Cookie" not in r.headers
    # malformed requests
    r = requests.post(server.url(LOGIN), json={"user": "admin"}, headers=NO_AUTH, timeout=10)
    assert_envelope(r, 400, "bad_login")
    r = requests.post(server.url(LOGIN), json={"user": "admin", "password": 5}, headers=NO_AUTH, timeout=10)
    assert_envelope(r, 400, "bad_login")


def test_no_or_bad_credentials_are_401(server):
    err = assert_envelope(requests.get(server.url(ME), headers=NO_AUTH, timeout=10), 401, "unauthenticated")
    assert err["message"] == "请先登录"
    assert_envelope(requests.get(server.url(ME), headers={"Authorization": "Bearer " + "A" * 43}, timeout=10),
                    401, "token_invalid")
    assert_envelope(requests.get(server.url(ME), headers={"Authorization": "Bearer nonsense"}, timeout=10),
                    401, "token_invalid")
    assert_envelope(requests.get(server.url(ME), headers={"Authorization": "Basic YWRtaW46eA=="}, timeout=10),
                    401, "unauthenticated")
    assert_envelope(requests.get(server.url(ME), headers={"Cookie": "sifa_session=" + "B" * 43, "Authorization": None},
                                 timeout=10), 401, "session_expired")
    assert_envelope(requests.get(server.url(RECORDS), headers=NO_AUTH, timeout=10), 401, "unauthenticated")


def test_csrf_required_for_cookie_writes(server):
    server.add_orgs("t1")
    s, csrf = session_for(server, "admin", ADMIN_PASSWORD)
    body = {"name": "脚本", "scopes": ["mediation_case.read"]}
    err = assert_envelope(s.post(server.url(TOKENS), json=body, timeout=10), 403, "csrf_failed")
    assert "X-CSRF-Token" in err["message"]
    wrong = ("y" if csrf[0] == "x" else "x") + csrf[1:]  # differs in one character, whatever the token
    assert_envelope(s.post(server.url(TOKENS), json=body, headers={"X-CSRF-Token": wrong}, timeout=10),
                    403, "csrf_failed")
    rec = {"committee": "t1", "source": "walk_in", "title": "跨站请求", "received_on": "2024-03-05"}
    assert_envelope(s.post(server.url(RECORDS), json=rec, timeout=10), 403, "csrf_failed")
    assert_envelope(s.post(server.url(LOGOUT), timeout=10), 403, "csrf_failed")
    # reads need none; the right token lets writes through
    assert s.get(server.url(RECORDS), timeout=10).status_code == 200
    r = s.post(server.url(RECORDS), json=rec, headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    r = s.post(server.url(TOKENS), json=body, headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    # a bearer token needs no CSRF token
    r = requests.post(server.url(RECORDS), json=rec, timeout=10)
    assert r.status_code == 201, r.text
    assert audit(server, action="auth.token_create", actor="admin")["total"] == 1


def test_logout_revokes_the_session(server):
    s, csrf = session_for(server, "admin", ADMIN_PASSWORD)
    cookie = s.cookies.get("sifa_session")
    r = s.post(server.url(LOGOUT), headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    assert r.headers["Set-Cookie"] == "sifa_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    r = requests.get(server.url(ME), headers={"Cookie": "sifa_session=" + cookie, "Authorization": None}, timeout=10)
    err = assert_envelope(r, 401, "session_expired")
    assert err["message"] == "登录已失效,请重新登录"
    r = requests.post(server.url(LOGOUT), headers={"Cookie": "sifa_session=" + cookie, "Authorization": None,
                                                   "X-CSRF-Token": csrf}, timeout=10)
    assert_envelope(r, 401, "session_expired")
    # a token is not a session
    assert_envelope(requests.post(server.url(LOGOUT), timeout=10), 400, "not_a_session")
    items = audit(server, action="auth.logout")["items"]
    assert [(e["actor"], e["address"], e["target"], e["details"]) for e in items] == \
        [("admin", "127.0.0.1", "admin", None)]


@pytest.mark.sifa_args("--session_idle_minutes", "0")
def test_idle_session_expires(server):
    s, _ = session_for(server, "admin", ADMIN_PASSWORD)
    time.sleep(1.1)  # idle limit 0: the session ends once a second has passed since its last use
    assert_envelope(s.get(server.url(ME), timeout=10), 401, "session_expired")
    # tokens have no idle limit
    assert server.get(ME).status_code == 200


def test_secure_cookie_under_tls(sifa, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    srv = sifa.start("--tls_certificate", str(cert), "--tls_key", str(key), name="tls")
    r = login(srv, "admin", ADMIN_PASSWORD, verify=False)
    assert r.status_code == 200, r.text
    assert re.match(r"^sifa_session=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Secure$",
                    r.headers["Set-Cookie"]), r.headers["Set-Cookie"]


def test_disabled_account(server):
    add_staff(server)
    s, _ = session_for(server, "zhang", STAFF_PASSWORD)
    r = server.cli("token", "create", "--user", "zhang", "--name", "x", "--scopes", "mediation_case.read")
    assert r.returncode == 0, r.stderr
    bearer = {"Authorization": "Bearer " + r.stdout.strip()}
    assert requests.get(server.url(ME), headers=bearer, timeout=10).status_code == 200
    r = server.cli("user", "disable", "zhang")
    assert r.returncode == 0, r.stderr
    assert_envelope(s.get(server.url(ME), timeout=10), 401, "session_expired")   # sessions are revoked
    assert_envelope(requests.get(server.url(ME), headers=bearer, timeout=10), 401, "account_disabled")
    assert_envelope(login(server, "zhang", STAFF_PASSWORD), 401, "invalid_credentials")
    r = server.cli("user", "enable", "zhang")
    assert r.returncode == 0, r.stderr
    assert requests.get(server.url(ME), headers=bearer, timeout=10).status_code == 200
    assert login(server, "zhang", STAFF_PASSWORD).status_code == 200


# ---------- throttling ----------

def test_lockout_after_five_failures(server):
    add_staff(server)
    for _ in range(5):
        assert_envelope(login(server, "zhang", "wrong-password-123"), 401, "invalid_credentials")
    for password in (STAFF_PASSWORD, "wrong-password-123"):  # the right password does not help now
        r = login(server, "zhang", password)
        err = assert_envelope(r, 429, "account_locked")
        assert r.headers["Retry-After"] == "900"
        assert err["details"] == {"retry_after_seconds": 900}
        assert err["message"] == "登录失败次数过多,请 15 分钟后再试"
    # only that account: admin still logs in from the same address
    assert login(server, "admin", ADMIN_PASSWORD).status_code == 200

    items = [e for e in audit(server)["items"] if e["action"].startswith("auth.")]
    got = [(e["action"], e["actor"], e["address"], e["target"], e["details"]) for e in items]
    assert got[:7] == [("auth.login", "admin", "127.0.0.1", "admin", None),
                       ("auth.lockout", None, "127.0.0.1", "zhang", {"failures": 5, "minutes": 15})] + \
        [("auth.login_failed", None, "127.0.0.1", "zhang", {"known_user": True})] * 5
    assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)


def test_lockout_holds_under_concurrent_attempts(server):
    """Ten wrong passwords sent at once: the account must still lock after five.
    Bug: src/api/auth.c sifa_api_login checks the failure count before the (slow) password check
    and login_record only adds the failure afterwards, so requests in flight together all pass
    the check: a guesser gets as many tries as it can send in parallel instead of five."""
    add_staff(server)
    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(lambda _: login(server, "zhang", "wrong-password-123").status_code, range(10)))
    assert (statuses.count(401), statuses.count(429)) == (5, 5), statuses
    # every attempt stays on record; the lockout once
    assert audit(server, action="auth.login_failed")["total"] == 10
    assert audit(server, action="auth.lockout")["total"] == 1
    assert_envelope(login(server, "zhang", STAFF_PASSWORD), 429, "account_locked")


def test_thirty_failures_from_one_address(server):
    # 30 failures spread over accounts, none of which reaches the per-account limit
    names = ["ghost%d" % (i % 8) for i in range(30)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: login(server, n, "wrong-password-123").status_code, names))
    assert statuses == [401] * 30
    r = login(server, "admin", ADMIN_PASSWORD)
    err = assert_envelope(r, 429, "too_many_attempts")
    assert r.headers["Retry-After"] == "900"
    assert err["details"] == {"retry_after_seconds": 900}
    assert audit(server, action="auth.login_failed")["total"] == 30
    assert audit(server, action="auth.lockout")["total"] == 0  # no account reached its own limit
    # the address lockout shuts out every account from there: on record once, naming the address
    got = [(e["actor"], e["address"], e["target"], e["details"])
           for e in audit(server, action="auth.lockout_address")["items"]]
    assert got == [(None, "127.0.0.1", "127.0.0.1", {"failures": 30, "minutes": 15})]
    # tokens are not affected
    assert server.get(ME).status_code == 200


# ---------- API tokens ----------

def test_api_tokens(server):
    add_staff(server)
    s, csrf = session_for(server, "zhang", STAFF_PASSWORD)
    h = {"X-CSRF-Token": csrf}
    before = int(time.time())
    r = s.post(server.url(TOKENS), json={"name": "报表脚本", "scopes": ["mediation_case.read"], "expires_in_days": 7},
               headers=h, timeout=10)
    after = int(time.time())
    assert r.status_code == 201, r.text
    t = r.json()
    assert set(t) == {"id", "token", "name", "scopes", "expires_at"}
    assert re.match(r"^[0-9a-f]{16}$", t["id"]) and TOKEN_TEXT.match(t["token"])
    assert t["name"] == "报表脚本" and t["scopes"] == ["mediation_case.read"]
    assert before + 7 * 86400 <= t["expires_at"] <= after + 7 * 86400

    # scopes the user does not hold, malformed requests
    r = s.post(server.url(TOKENS), json={"name": "x", "scopes": ["mediation_case.read", "audit.read"]}, headers=h,
               timeout=10)
    err = assert_envelope(r, 403, "scope_not_held")
    assert err["details"] == {"scope": "audit.read"}
    assert_envelope(s.post(server.url(TOKENS), json={"name": "x", "scopes": ["*"]}, headers=h, timeout=10),
                    403, "scope_not_held")
    for bad in ({"name": "x", "scopes": []}, {"name": "", "scopes": ["mediation_case.read"]},
                {"name": "x", "scopes": ["mediation_case.read"], "expires_in_days": 0},
                {"name": "x", "scopes": ["mediation_case.read"], "expires_in_days": 367},
                {"name": "x", "scopes": "mediation_case.read"}):
        assert_envelope(s.post(server.url(TOKENS), json=bad, headers=h, timeout=10), 400, "bad_token_request")

    # the list never shows the token text
    r = s.get(server.url(TOKENS), timeout=10)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1
    item = items[0]
    assert before <= item.pop("created_at") <= after
    assert item == {"id": t["id"], "user": "zhang", "name": "报表脚本", "scopes": ["mediation_case.read"],
                    "expires_at": t["expires_at"], "revoked_at": None}
    assert t["token"] not in r.text
    # the admin (tokens.manage) sees every token
    assert sorted(i["user"] for i in server.get(TOKENS).json()["items"]) == ["admin", "zhang"]

    # what the token may do: read, not write, not issue tokens
    bearer = {"Authorization": "Bearer " + t["token"]}
    me = requests.get(server.url(ME), headers=bearer, timeout=10).json()
    assert me["name"] == "zhang" and me["via_token"] is True
    r = requests.get(server.url(RECORDS), headers=bearer, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 0
    rec = {"committee": "t1", "source": "walk_in", "title": "令牌写入", "received_on": "2024-03-05"}
    err = assert_envelope(requests.post(server.url(RECORDS), json=rec, headers=bearer, timeout=10), 403, "denied")
    assert err["details"] == {"permission": "mediation_case.create"}
    r = s.post(server.url(RECORDS), json=rec, headers=h, timeout=10)  # the user can, through the session
    assert r.status_code == 201, r.text
    assert requests.get(server.url(RECORDS), headers=bearer, timeout=10).json()["total"] == 1
    r = requests.post(server.url(TOKENS), json={"name": "y", "scopes": ["mediation_case.read"]}, headers=bearer,
                      timeout=10)
    assert_envelope(r, 403, "denied")

    # someone else's token cannot be revoked by zhang
    admin_id = [i["id"] for i in server.get(TOKENS).json()["items"] if i["user"] == "admin"][0]
    assert_envelope(s.delete(server.url(TOKENS + "/" + admin_id), headers=h, timeout=10), 404, "token_not_found")
    assert server.get(ME).status_code == 200

    # revoke: 204, then the token is dead
    r = s.delete(server.url(TOKENS + "/" + t["id"]), headers=h, timeout=10)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_envelope(requests.get(server.url(RECORDS), headers=bearer, timeout=10), 401, "token_invalid")
    assert_envelope(s.delete(server.url(TOKENS + "/" + t["id"]), headers=h, timeout=10), 404, "token_not_found")
    item = s.get(server.url(TOKENS), timeout=10).json()["items"][0]
    assert isinstance(item["revoked_at"], int) and item["revoked_at"] >= before

    got = [(e["action"], e["actor"], e["target"], e["details"]) for e in audit(server, actor="zhang")["items"]
           if e["action"].startswith("auth.token")]
    assert got == [("auth.token_revoke", "zhang", t["id"], None),
                   ("auth.token_create", "zhang", t["id"], {"name": "报表脚本", "scopes": ["mediation_case.read"]})]


def test_cli_token_limited_to_read(server):
    add_staff(server)
    r = server.cli("token", "create", "--user", "zhang", "--name", "x", "--scopes", "mediation_case.read")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert TOKEN_TEXT.match(token)
    bearer = {"Authorization": "Bearer " + token}
    assert requests.get(server.url(RECORDS), headers=bearer, timeout=10).status_code == 200
    rec = {"committee": "t1", "source": "walk_in", "title": "令牌写入", "received_on": "2024-03-05"}
    assert_envelope(requests.post(server.url(RECORDS), json=rec, headers=bearer, timeout=10), 403, "denied")
    # the CLI refuses a scope the user does not hold
    r = server.cli("token", "create", "--user", "zhang", "--name", "x", "--scopes", "audit.read")
    assert r.returncode == 1 and r.stdout == ""


# ---------- every route has a rule ----------

def concrete(path):
    return path.replace("{code}", "mediation_case").replace("{id}", "1").replace("{name}", "accept") \
        .replace("{key}", "a.b")


def test_every_route_has_a_permission_and_refuses_strangers(server):
    r = requests.get(server.url("/api/v1/system/routes"), headers=NO_AUTH, timeout=10)
    assert r.status_code == 200, r.text
    routes = r.json()["routes"]
    assert len(routes) >= 30
    for route in routes:
        assert isinstance(route["permission"], str) and route["permission"].strip(), route
    public = sorted(rt["name"] for rt in routes if rt["permission"] == "public")
    assert public == ["auth.login", "healthz", "metrics", "openapi", "system.info", "system.routes"]
    perms = {rt["name"]: rt["permission"] for rt in routes}
    assert perms["audit.list"] == perms["audit.verify"] == "audit.read"
    assert perms["records.create"] == "{code}.create"
    assert perms["records.transition"] == "{code}.transition.{name}"
    assert perms["settings.put"] == "system.admin"

    checked = 0
    for route in routes:
        if route["permission"] == "public":
            continue
        kw = {"headers": dict(NO_AUTH), "timeout": 10}
        if route["json_body"]:
            kw["data"] = b"{}"
            kw["headers"]["Content-Type"] = "application/json"
        elif route["method"] in ("POST", "PUT", "PATCH"):
            kw["data"] = b"x"
            kw["headers"]["Content-Type"] = "application/octet-stream"
        r = requests.request(route["method"], server.url(concrete(route["path"])), **kw)
        err = assert_envelope(r, 401, "unauthenticated")
        assert err["message"] == "请先登录", route
        checked += 1
    assert checked == len(routes) - 6


# ---------- one-time passwords, session and token lifetimes, the user commands ----------

SELF_ROUTES = {"self.read", "self.password", "self.logout"}
ONE_TIME = "One-Time-Pass-2026"
OWN_PASSWORD = "My-Own-Pass-2026!"


def test_one_time_password_opens_only_the_password_change(server):
    """Bug: sifa_api_authorize let routes open to every signed-in user ("authenticated":
    deadlines, indicators, table export, reports/check, files) through before it looked at
    must_change_password, and self.tokens too, so a one-time password set by an administrator
    worked as a lasting one; and the "change" could keep the same password."""
    add_staff(server)
    r = server.cli("user", "passwd", "zhang", input_text=ONE_TIME + "\n")
    assert r.returncode == 0, r.stderr
    s, csrf = session_for(server, "zhang", ONE_TIME)
    assert s.get(server.url(ME), timeout=10).json()["must_change_password"] is True

    routes = requests.get(server.url("/api/v1/system/routes"), headers=NO_AUTH, timeout=10).json()["routes"]
    refused = 0
    for route in routes:
        if route["permission"] == "public" or route["permission"] in SELF_ROUTES:
            continue
        kw = {"headers": {"X-CSRF-Token": csrf}, "timeout": 10}
        if route["json_body"]:
            kw["data"] = b"{}"
            kw["headers"]["Content-Type"] = "application/json"
        elif route["method"] in ("POST", "PUT", "PATCH"):
            kw["data"] = b"x"
            kw["headers"]["Content-Type"] = "application/octet-stream"
        r = s.request(route["method"], server.url(concrete(route["path"])), **kw)
        err = assert_envelope(r, 403, "password_change_required")
        assert err["message"] == "请先修改初始密码", route
        refused += 1
    assert refused == len(routes) - 6 - len(SELF_ROUTES)

    # the same password again is no change
    r = s.post(server.url("/api/v1/auth/password"), json={"old_password": ONE_TIME, "new_password": ONE_TIME},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    err = assert_envelope(r, 400, "password_reused")
    assert err["message"] == "新密码不能与原密码相同"
    assert s.get(server.url(ME), timeout=10).json()["must_change_password"] is True
    r = s.post(server.url("/api/v1/auth/password"), json={"old_password": ONE_TIME, "new_password": OWN_PASSWORD},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 200, r.text
    assert s.get(server.url(ME), timeout=10).json()["must_change_password"] is False
    for path in (RECORDS, "/api/v1/deadlines", "/api/v1/orgs", "/api/v1/roles", "/api/v1/indicators/definitions"):
        assert s.get(server.url(path), timeout=10).status_code == 200, path
    r = s.post(server.url(TOKENS), json={"name": "x", "scopes": ["mediation_case.read"]},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    assert s.post(server.url(LOGOUT), headers={"X-CSRF-Token": csrf}, timeout=10).status_code == 200


def test_cli_user_add_password_is_one_time_unless_told(server):
    """`sifa user add --password-stdin`: whoever typed the password knows it, so (as with `sifa user
    passwd` and an administrator's create in the API) the user must change it at first login;
    `--no-change` makes it lasting. The audit entry says which."""
    add_staff(server)  # with --no-change
    r = server.cli("user", "add", "li", "--display-name", "李", "--org", "t1", "--roles", "mediation_staff",
                   "--password-stdin", input_text=ONE_TIME + "\n")
    assert r.returncode == 0, r.stderr
    r = login(server, "li", ONE_TIME)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    r = login(server, "zhang", STAFF_PASSWORD)
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    created = {e["target"]: e["details"]["must_change"] for e in audit(server, action="user.create")["items"]}
    assert created == {"li": True, "zhang": False}


def test_cli_user_list_roles_passwd(server):
    add_staff(server)
    r = server.cli("user", "list")
    assert r.returncode == 0, r.stderr
    users = {}
    for line in r.stdout.splitlines():
        u = json.loads(line)
        users[u["name"]] = u
    assert set(users) == {"admin", "zhang"}
    assert users["zhang"]["roles"] == ["mediation_staff"] and users["zhang"]["org"] == "t1"
    assert users["zhang"]["must_change_password"] is False

    r = server.cli("user", "roles", "zhang", "mediation_staff,inspector")
    assert r.returncode == 0, r.stderr
    s, csrf = session_for(server, "zhang", STAFF_PASSWORD)
    assert sorted(s.get(server.url(ME), timeout=10).json()["roles"]) == ["inspector", "mediation_staff"]
    r = server.cli("user", "roles", "nobody", "inspector")
    assert r.returncode != 0 and "nobody" in r.stderr
    r = server.cli("user", "roles", "zhang", "no_such_role")
    assert r.returncode != 0

    # passwd: the old password and its session and tokens end; the new one is one-time by default
    r = server.cli("token", "create", "--user", "zhang", "--name", "x", "--scopes", "mediation_case.read")
    bearer = {"Authorization": "Bearer " + r.stdout.strip()}
    assert requests.get(server.url(ME), headers=bearer, timeout=10).status_code == 200
    r = server.cli("user", "passwd", "zhang", input_text=ONE_TIME + "\n")
    assert r.returncode == 0, r.stderr
    assert_envelope(s.get(server.url(ME), timeout=10), 401, "session_expired")
    assert_envelope(requests.get(server.url(ME), headers=bearer, timeout=10), 401, "token_invalid")
    assert_envelope(login(server, "zhang", STAFF_PASSWORD), 401, "invalid_credentials")
    r = login(server, "zhang", ONE_TIME)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    # --no-change: the user's own password, nothing to change
    r = server.cli("user", "passwd", "zhang", "--no-change", input_text=OWN_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = login(server, "zhang", OWN_PASSWORD)
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    # a weak password is refused and changes nothing
    r = server.cli("user", "passwd", "zhang", input_text="1234567890\n")
    assert r.returncode != 0
    assert login(server, "zhang", OWN_PASSWORD).status_code == 200
    r = server.cli("user", "--help")
    assert "--no-change" in r.stdout + r.stderr
    got = [(e["action"], e["target"], e["details"]) for e in audit(server, action="user.password")["items"]]
    assert got == [("user.password", "zhang", {"must_change": False}), ("user.password", "zhang", {"must_change": True})]


@pytest.mark.sifa_args("--session_max_hours", "0")
def test_absolute_session_limit(server):
    """The absolute limit ends a session however busy it is (session_max_hours 0: once a second
    has passed since login; the idle limit stays 30 minutes)."""
    s, _ = session_for(server, "admin", ADMIN_PASSWORD)
    for _ in range(3):  # in use all along
        time.sleep(0.4)
        s.get(server.url(ME), timeout=10)
    time.sleep(0.4)
    assert_envelope(s.get(server.url(ME), timeout=10), 401, "session_expired")
    assert server.get(ME).status_code == 200  # tokens have their own expiry


def test_expired_token_is_401(server):
    add_staff(server)
    s, csrf = session_for(server, "zhang", STAFF_PASSWORD)
    r = s.post(server.url(TOKENS), json={"name": "x", "scopes": ["mediation_case.read"], "expires_in_days": 1},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    t = r.json()
    bearer = {"Authorization": "Bearer " + t["token"]}
    assert requests.get(server.url(RECORDS), headers=bearer, timeout=10).status_code == 200
    # the API allows no expiry in the past: age the token in the test's own database
    with sqlite3.connect(str(server.paths["db"]), timeout=10) as db:
        assert db.execute("UPDATE api_tokens SET expires_at = ? WHERE id = ?", (int(time.time()) - 1, t["id"])) \
            .rowcount == 1
    assert_envelope(requests.get(server.url(RECORDS), headers=bearer, timeout=10), 401, "token_invalid")
    assert_envelope(requests.get(server.url(ME), headers=bearer, timeout=10), 401, "token_invalid")


def test_password_reset_ends_sessions_and_tokens(server):
    """Bug: POST /api/v1/users/{name}/password revoked the user's sessions but not their API
    tokens, so a token issued by whoever had the old password kept working."""
    add_staff(server)
    s, csrf = session_for(server, "zhang", STAFF_PASSWORD)
    r = s.post(server.url(TOKENS), json={"name": "x", "scopes": ["mediation_case.read"]},
               headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    bearer = {"Authorization": "Bearer " + r.json()["token"]}
    assert requests.get(server.url(RECORDS), headers=bearer, timeout=10).status_code == 200
    admin_token = server.get(TOKENS).json()["items"]
    r = requests.post(server.url("/api/v1/users/zhang/password"), json={"password": ONE_TIME}, timeout=10)
    assert r.status_code == 200, r.text
    assert_envelope(s.get(server.url(ME), timeout=10), 401, "session_expired")
    assert_envelope(requests.get(server.url(RECORDS), headers=bearer, timeout=10), 401, "token_invalid")
    # only that user's: the admin's own token still works
    assert server.get(ME).status_code == 200 and len(admin_token) == 2
    r = login(server, "zhang", ONE_TIME)
    assert r.status_code == 200 and r.json()["must_change_password"] is True


def test_sessions_list_marks_the_callers_own_session_and_ending_it_logs_out(server):
    """GET /api/v1/sessions says which session is the caller's own ("current"), so the admin page
    can warn before an admin forces themselves out; ending it there is a logout: the answer
    clears the cookie and the session no longer works."""
    mine, csrf = session_for(server, "admin", ADMIN_PASSWORD)
    other, _ = session_for(server, "admin", ADMIN_PASSWORD)
    items = mine.get(server.url("/api/v1/sessions"), timeout=10).json()["items"]
    assert len(items) == 2 and all(isinstance(i["current"], bool) for i in items)
    (own,) = [i for i in items if i["current"]]
    # the other browser sees its own session as current, not this one
    seen_by_other = other.get(server.url("/api/v1/sessions"), timeout=10).json()["items"]
    (theirs,) = [i for i in seen_by_other if i["current"]]
    assert theirs["id"] != own["id"]
    # a bearer token has no session: nothing is current
    assert not any(i["current"] for i in server.get("/api/v1/sessions").json()["items"])

    # ending another session leaves this one's cookie alone
    r = mine.delete(server.url("/api/v1/sessions/" + theirs["id"]), headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 200 and "set-cookie" not in r.headers, r.headers
    assert_envelope(other.get(server.url(ME), timeout=10), 401, "session_expired")
    # ending one's own clears the cookie like a logout
    r = mine.delete(server.url("/api/v1/sessions/" + own["id"]), headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 200, r.text
    assert "Max-Age=0" in r.headers["set-cookie"] and r.headers["set-cookie"].startswith("sifa_session=;")
    assert not mine.cookies.get("sifa_session")
    assert mine.get(server.url(ME), headers=NO_AUTH, timeout=10).status_code == 401
