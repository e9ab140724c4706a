"""Personal data (sealed at rest, blind-index lookups, masking, audited clear reads) and the
admin API (org units, users, passwords, online sessions)."""
import sqlite3

import requests

VALID_ID = "11010519491231002X"
LA = "/api/v1/modules/legal_aid_case/records"


def org(server, code, name, kind, parent=None):
    body = {"code": code, "name": name, "kind": kind}
    if parent:
        body["parent"] = parent
    r = requests.post(server.url("/api/v1/orgs"), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r


def legal_aid(server, applicant, org_code="ta", headers=None):
    body = {"handling_org": org_code, "applicant": applicant, "channel": "walk_in", "category": "civil",
            "applied_on": "2021-09-28", "cause": "劳动报酬纠纷"}
    return requests.post(server.url(LA), json=body, headers=headers or {}, timeout=10)


def token_for(server, user, scopes):
    r = server.cli("token", "create", "--user", user, "--name", "t", "--scopes", scopes)
    assert r.returncode == 0, r.stderr
    return {"Authorization": "Bearer " + r.stdout.strip()}


def add_user(server, name, org_code, roles, password=None):
    body = {"name": name, "display_name": name.upper(), "org": org_code, "roles": roles}
    if password:
        body["password"] = password
    r = requests.post(server.url("/api/v1/users"), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_personal_data_sealed_found_masked_and_audited(server):
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")
    applicant = {"name": "欧阳修", "id_number": VALID_ID, "phone": "13800138000"}
    r = legal_aid(server, applicant)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["applicant"] == applicant  # the admin token holds legal_aid_case.personal

    # at rest: the record column and the history are sealed, never in clear
    server.stop()
    with sqlite3.connect(str(server.paths["db"])) as db:
        stored, hashed = db.execute("SELECT f_applicant, h_applicant FROM m_legal_aid_case").fetchone()
        history = db.execute("SELECT changes FROM record_history WHERE module = 'legal_aid_case'").fetchone()[0]
    assert stored.startswith('"pd1:') and "欧阳修" not in stored and VALID_ID not in stored
    assert len(hashed) == 32 and VALID_ID not in hashed
    assert "欧阳修" not in history and VALID_ID not in history and "13800138000" not in history
    server.start()

    # exact match through the keyed hash, whatever the case of the check character
    for q in (VALID_ID, VALID_ID.lower()):
        got = requests.get(server.url(LA), params={"applicant": q}, timeout=10).json()
        assert [x["id"] for x in got["items"]] == [rec["id"]]
    assert requests.get(server.url(LA), params={"applicant": "110105194912310021"}, timeout=10).json()["total"] == 0
    bad = requests.get(server.url(LA), params={"applicant__gte": "1"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_filter"

    # a judicial office clerk may read legal aid cases but not personal data: masked, everywhere
    add_user(server, "clerk", "ta", ["judicial_office"])
    clerk = token_for(server, "clerk", "legal_aid_case.read")
    masked = {"name": "欧**", "id_number": "110105********002X", "phone": "138****8000"}
    one = requests.get(server.url("%s/%d" % (LA, rec["id"])), headers=clerk, timeout=10).json()
    assert one["applicant"] == masked
    listed = requests.get(server.url(LA), headers=clerk, timeout=10).json()["items"]
    assert [x["applicant"] for x in listed] == [masked]
    hist = requests.get(server.url("%s/%d/history" % (LA, rec["id"])), headers=clerk, timeout=10).json()["history"]
    assert hist[0]["changes"]["applicant"] == {"old": None, "new": masked}

    # a change by someone who sees the masked value never writes the mask back
    r = requests.patch(server.url("%s/%d" % (LA, rec["id"])), json={"cause": "追索劳动报酬"},
                       headers={"If-Match": '"1"'}, timeout=10)
    assert r.status_code == 200 and r.json()["applicant"] == applicant
    staff = token_for(server, "admin", "legal_aid_case.read,legal_aid_case.update")
    r = requests.patch(server.url("%s/%d" % (LA, rec["id"])), json={"lawyer": "王律师"},
                       headers=dict(staff, **{"If-Match": '"2"'}), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["applicant"] == masked  # the token lacks legal_aid_case.personal
    assert requests.get(server.url("%s/%d" % (LA, rec["id"])), timeout=10).json()["applicant"] == applicant

    # clear reads are audited, masked ones are not
    audit = requests.get(server.url("/api/v1/audit"), params={"action": "record.read_personal", "page_size": 100},
                         timeout=10).json()["items"]
    assert audit and all(e["actor"] == "admin" for e in audit)
    assert any(e["target"] == "legal_aid_case/%d" % rec["id"] and e["details"] == {"ids": [rec["id"]]} for e in audit)
    changes = requests.get(server.url("/api/v1/audit"), params={"action": "record.update"}, timeout=10).json()["items"]
    assert [e["details"]["fields"] for e in changes] == [["lawyer"], ["cause"]]
    assert requests.get(server.url("/api/v1/audit/verify"), timeout=30).json()["ok"] is True


def test_admin_api_users_passwords_sessions(server):
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")
    org(server, "tb", "乙镇", "town", "c")
    org(server, "v1", "某村", "village", "ta")
    u = add_user(server, "wang", "ta", ["mediation_staff"], password="Initial-Pass-2026")
    assert u["roles"] == ["mediation_staff"] and u["must_change_password"] is True and u["org"] == "ta"
    r = requests.post(server.url("/api/v1/users"), json={"name": "li", "display_name": "李", "roles": ["nope"]},
                      timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_role"
    r = requests.post(server.url("/api/v1/users"), json={"name": "zhao", "display_name": "赵", "password": "1234567890"},
                      timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] in ("password_common", "password_trivial")

    # moving a unit moves its subtree and keeps the history
    r = requests.patch(server.url("/api/v1/orgs/ta"), json={"parent": "tb"}, timeout=10)
    assert r.status_code == 200
    paths = {o["code"]: o["path"] for o in requests.get(server.url("/api/v1/orgs"), timeout=10).json()["items"]}
    assert paths == {"c": "/c/", "tb": "/c/tb/", "ta": "/c/tb/ta/", "v1": "/c/tb/ta/v1/"}
    hist = requests.get(server.url("/api/v1/orgs/ta/history"), timeout=10).json()["items"]
    assert [(h["change"], h["old"], h["new"]) for h in hist] == [("create", None, "/c/ta/"), ("move", "/c/ta/", "/c/tb/ta/")]
    r = requests.patch(server.url("/api/v1/orgs/c"), json={"parent": "v1"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "org_cycle"

    # first login: only the password change is allowed
    s = requests.Session()
    r = s.post(server.url("/api/v1/auth/login"), json={"user": "wang", "password": "Initial-Pass-2026"}, timeout=10)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    r = s.get(server.url("/api/v1/modules/mediation_case/records"), timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    r = s.post(server.url("/api/v1/auth/password"), json={"old_password": "wrong-old-pass", "new_password": "Second-Pass-2026"},
               headers=csrf, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_password"
    r = s.post(server.url("/api/v1/auth/password"),
               json={"old_password": "Initial-Pass-2026", "new_password": "Second-Pass-2026"}, headers=csrf, timeout=10)
    assert r.status_code == 200, r.text
    assert s.get(server.url("/api/v1/modules/mediation_case/records"), timeout=10).status_code == 200

    # online users, forced logout
    online = requests.get(server.url("/api/v1/sessions"), timeout=10).json()["items"]
    mine = [x for x in online if x["user"] == "wang"]
    assert len(mine) == 1 and mine[0]["address"] == "127.0.0.1"
    assert requests.delete(server.url("/api/v1/sessions/" + mine[0]["id"]), timeout=10).status_code == 200
    assert s.get(server.url("/api/v1/auth/me"), timeout=10).status_code == 401

    # disabling an account ends its sessions and its logins
    s2 = requests.Session()
    r = s2.post(server.url("/api/v1/auth/login"), json={"user": "wang", "password": "Second-Pass-2026"}, timeout=10)
    assert r.status_code == 200
    r = requests.patch(server.url("/api/v1/users/wang"), json={"disabled": True}, timeout=10)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert s2.get(server.url("/api/v1/auth/me"), timeout=10).status_code == 401
    r = requests.post(server.url("/api/v1/auth/login"), json={"user": "wang", "password": "Second-Pass-2026"},
                      headers={"Authorization": "none"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = requests.patch(server.url("/api/v1/users/admin"), json={"disabled": True}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_lockout"
    actions = [e["action"] for e in requests.get(server.url("/api/v1/audit"), params={"page_size": 200},
                                                 timeout=10).json()["items"]]
    for a in ("org.create", "org.update", "user.create", "user.password_change", "session.revoke", "user.update",
              "auth.login", "auth.login_failed"):
        assert a in actions, a


def test_clear_personal_data_in_write_answers_is_audited(server):
    """Bug: the answer to a create, update or transition carries the record with its personal
    data in clear (for a role that may see it) but left no record.read_personal entry, so reading
    an applicant's identity number through a write went unrecorded. Now each such answer is
    audited once, in the write's transaction; a masked answer is not."""
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")

    def personal_reads():
        return requests.get(server.url("/api/v1/audit"), params={"action": "record.read_personal", "page_size": 100},
                            timeout=10).json()["items"]

    applicant = {"name": "欧阳修", "id_number": VALID_ID, "phone": "13800138000"}
    r = legal_aid(server, applicant)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["applicant"] == applicant
    got = [(e["actor"], e["target"], e["details"]) for e in personal_reads()]
    assert got == [("admin", "legal_aid_case/%d" % rec["id"], {"ids": [rec["id"]], "via": "record.create"})]

    # an update that does not touch the applicant still answers with it in clear: audited too
    r = requests.patch(server.url("%s/%d" % (LA, rec["id"])), json={"cause": "追索劳动报酬"},
                       headers={"If-Match": '"1"'}, timeout=10)
    assert r.status_code == 200 and r.json()["applicant"] == applicant
    got = [(e["target"], e["details"]) for e in personal_reads()]
    assert got[0] == ("legal_aid_case/%d" % rec["id"], {"ids": [rec["id"]], "via": "record.update"})
    assert len(got) == 2

    # a caller without legal_aid_case.personal gets it masked: nothing to audit
    staff = token_for(server, "admin", "legal_aid_case.read,legal_aid_case.update")
    r = requests.patch(server.url("%s/%d" % (LA, rec["id"])), json={"lawyer": "王律师"},
                       headers=dict(staff, **{"If-Match": '"2"'}), timeout=10)
    assert r.status_code == 200 and r.json()["applicant"]["id_number"] == "110105********002X"
    assert len(personal_reads()) == 2
    # a refused write leaves no entry either
    r = requests.patch(server.url("%s/%d" % (LA, rec["id"])), json={"cause": "x"}, headers={"If-Match": '"1"'},
                       timeout=10)
    assert r.status_code == 409, r.text
    assert len(personal_reads()) == 2
    assert requests.get(server.url("/api/v1/audit/verify"), timeout=30).json()["ok"] is True


def test_masked_echo_keeps_the_stored_personal_value(server):
    """A caller who sees personal data masked and sends the masks back (a form does) changes
    nothing: the stored values stay, no history entry names them. A new value still replaces the
    stored one; a mask that is no stored value's mask is refused, never stored."""
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")
    applicant = {"name": "欧阳修", "id_number": VALID_ID, "phone": "13800138000"}
    r = legal_aid(server, applicant)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    one = "%s/%d" % (LA, rid)
    staff = token_for(server, "admin", "legal_aid_case.read,legal_aid_case.update")
    masked = requests.get(server.url(one), headers=staff, timeout=10).json()["applicant"]
    assert masked == {"name": "欧**", "id_number": "110105********002X", "phone": "138****8000"}

    # the whole masked person sent back with another change: the person is kept as stored
    r = requests.patch(server.url(one), json={"applicant": masked, "cause": "追索劳动报酬"},
                       headers=dict(staff, **{"If-Match": '"1"'}), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["applicant"] == masked and r.json()["version"] == 2
    assert requests.get(server.url(one), timeout=10).json()["applicant"] == applicant  # admin sees it in clear
    hist = requests.get(server.url(one + "/history"), timeout=10).json()["history"]
    assert list(hist[-1]["changes"]) == ["cause"]

    # only the mask: no change at all, no new version, and the answer is still masked
    r = requests.patch(server.url(one), json={"applicant": masked}, headers=dict(staff, **{"If-Match": '"2"'}),
                       timeout=10)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["applicant"] == masked, r.text
    assert len(requests.get(server.url(one + "/history"), timeout=10).json()["history"]) == 2

    # a new name replaces the stored one; the masked identity number and phone beside it are kept
    r = requests.patch(server.url(one), json={"applicant": dict(masked, name="欧阳询")},
                       headers=dict(staff, **{"If-Match": '"2"'}), timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(one), timeout=10).json()["applicant"] == dict(applicant, name="欧阳询")

    # a masked identity number that is not the stored one's mask is refused, not stored
    r = requests.patch(server.url(one), json={"applicant": dict(masked, id_number="330282********1234")},
                       headers=dict(staff, **{"If-Match": '"3"'}), timeout=10)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "masked_value", r.text
    # and one who may see the data cannot send masks at all (there is no echo to resolve)
    r = requests.patch(server.url(one), json={"applicant": dict(applicant, id_number="110105********002X")},
                       headers={"If-Match": '"3"'}, timeout=10)
    assert r.status_code == 422, r.text

    # group rows: each row's masked members stand for that row's stored values, also after a
    # row above was removed
    mc = "/api/v1/modules/mediation_case/records"
    parties = [{"name": "甲", "id_number": VALID_ID, "phone": "13800138000", "role": "申请人"},
               {"name": "乙", "id_number": "110105194912310038", "phone": "13900139000", "role": "被申请人"}]
    r = requests.post(server.url(mc), json={"committee": "ta", "source": "walk_in", "title": "邻里纠纷",
                                            "received_on": "2021-09-28", "parties": parties}, timeout=10)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    case = "%s/%d" % (mc, cid)
    staff = token_for(server, "admin", "mediation_case.read,mediation_case.update")
    shown = requests.get(server.url(case), headers=staff, timeout=10).json()["parties"]
    assert shown[1]["id_number"] == "110105********0038" and shown[1]["phone"] == "139****9000"
    r = requests.patch(server.url(case), json={"parties": shown, "title": "邻里纠纷(续)"},
                       headers=dict(staff, **{"If-Match": '"1"'}), timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(case), timeout=10).json()["parties"] == parties
    assert list(requests.get(server.url(case + "/history"), timeout=10).json()["history"][-1]["changes"]) == ["title"]
    r = requests.patch(server.url(case), json={"parties": shown[1:]}, headers=dict(staff, **{"If-Match": '"2"'}),
                       timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(case), timeout=10).json()["parties"] == parties[1:]


def test_masked_echo_of_personal_text_fields(server):
    """Names and free text pass validation masked: the echo must not overwrite them."""
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")
    cs = "/api/v1/modules/correction_subject/records"
    body = {"office": "ta", "person": {"name": "张三丰", "id_number": VALID_ID}, "address": "甲镇某村五组12号",
            "kind": "probation", "crime": "盗窃罪", "decision_org": "慈溪市人民法院", "effective_on": "2021-03-01"}
    r = requests.post(server.url(cs), json=body, timeout=10)
    assert r.status_code == 201, r.text
    one = "%s/%d" % (cs, r.json()["id"])
    staff = token_for(server, "admin", "correction_subject.read,correction_subject.update")
    shown = requests.get(server.url(one), headers=staff, timeout=10).json()
    assert shown["person"]["name"] == "张**" and shown["address"] != body["address"]
    # the masked texts (they pass validation: this is what once overwrote the data)
    echo = {k: shown[k] for k in ("address", "crime")}
    r = requests.patch(server.url(one), json=dict(echo, remarks="按时报到"), headers=dict(staff, **{"If-Match": '"1"'}),
                       timeout=10)
    assert r.status_code == 200, r.text
    stored = requests.get(server.url(one), timeout=10).json()
    assert stored["address"] == body["address"] and stored["crime"] == "盗窃罪"
    assert list(requests.get(server.url(one + "/history"), timeout=10).json()["history"][-1]["changes"]) == ["remarks"]
    # the whole masked person with them
    echo["person"] = shown["person"]
    r = requests.patch(server.url(one), json=dict(echo, remarks="按时报到,已谈话"),
                       headers=dict(staff, **{"If-Match": '"2"'}), timeout=10)
    assert r.status_code == 200, r.text
    stored = requests.get(server.url(one), timeout=10).json()
    assert stored["person"] == body["person"] and stored["address"] == body["address"]
    assert list(requests.get(server.url(one + "/history"), timeout=10).json()["history"][-1]["changes"]) == ["remarks"]
    # a different value replaces the stored one as before
    r = requests.patch(server.url(one), json={"address": "乙镇某路8号"}, headers=dict(staff, **{"If-Match": '"3"'}),
                       timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(one), timeout=10).json()["address"] == "乙镇某路8号"


def test_masked_echo_in_group_rows_with_the_same_mask(server):
    """Two parties whose phones mask alike (138****8000): a row keeps its own phone when it is the
    same party (its other members agree); when rows moved and the party cannot be told, the mask
    is refused rather than one party given the other's phone."""
    org(server, "c", "慈溪市", "city")
    org(server, "ta", "甲镇", "town", "c")
    mc = "/api/v1/modules/mediation_case/records"
    parties = [{"name": "甲", "phone": "13800138000", "role": "申请人"},
               {"name": "乙", "phone": "13811118000", "role": "被申请人"}]
    r = requests.post(server.url(mc), json={"committee": "ta", "source": "walk_in", "title": "同掩码",
                                            "received_on": "2021-09-28", "parties": parties}, timeout=10)
    assert r.status_code == 201, r.text
    case = "%s/%d" % (mc, r.json()["id"])
    staff = token_for(server, "admin", "mediation_case.read,mediation_case.update")
    shown = requests.get(server.url(case), headers=staff, timeout=10).json()["parties"]
    assert [p["phone"] for p in shown] == ["138****8000", "138****8000"]
    # rows in place, one role changed: each keeps its own phone
    edited = [dict(shown[0]), dict(shown[1], role="第三人")]
    r = requests.patch(server.url(case), json={"parties": edited}, headers=dict(staff, **{"If-Match": '"1"'}),
                       timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(case), timeout=10).json()["parties"] == [parties[0], dict(parties[1], role="第三人")]
    # the first row removed: the second moves up and is no longer the party at its index
    r = requests.patch(server.url(case), json={"parties": [edited[1]]}, headers=dict(staff, **{"If-Match": '"2"'}),
                       timeout=10)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0] == {"field": "parties[0].phone", "code": "masked_value_ambiguous",
                                               "message": r.json()["error"]["details"][0]["message"]}
    assert requests.get(server.url(case), timeout=10).json()["version"] == 2
    # the last row removed: the first is still the same party at the same place
    r = requests.patch(server.url(case), json={"parties": [edited[0]]}, headers=dict(staff, **{"If-Match": '"2"'}),
                       timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(server.url(case), timeout=10).json()["parties"] == [parties[0]]
