"""The record engine over HTTP: module definitions, CRUD with optimistic concurrency, validation,
Chinese search, filters, workflows with history, deadlines and numbering (src/api/records.c,
src/record/store.c, src/record/validate.c, modules/*.yaml)."""

import datetime
import json
import sqlite3

import pytest
import requests

from conftest import REPO_ROOT, assert_envelope


@pytest.fixture(autouse=True)
def _test_orgs(request):
    """The org units the records of this file belong to."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").add_orgs("town_a", "town_b", "town_c", "legal_center", "bureau_office")


MODULES = "/api/v1/modules"
VALID_ID = "11010519491231002X"
CHINA = datetime.timezone(datetime.timedelta(hours=8))


# ---------- helpers ----------

def id_number(first17):
    """A GB 11643 identity number: 17 digits plus the ISO 7064 MOD 11-2 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(first17):
    """A GB 32100 unified social credit code: 17 characters plus the mod-31 check character."""
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


def wrong_check(code, alphabet):
    return code[:-1] + (alphabet[0] if code[-1] != alphabet[0] else alphabet[1])


def china_today():
    return datetime.datetime.now(CHINA).date()


def iso(d):
    return d.isoformat()


def records_path(module, rid=None, tail=""):
    p = "%s/%s/records" % (MODULES, module)
    if rid is not None:
        p += "/%d" % rid
    return p + tail


def create(server, module, body):
    r = requests.post(server.url(records_path(module)), json=body, timeout=10)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert r.headers["Location"] == records_path(module, rec["id"])
    assert r.headers["ETag"] == '"1"'
    assert rec["version"] == 1
    return rec


def get(server, module, rid):
    return requests.get(server.url(records_path(module, rid)), timeout=10)


def patch(server, module, rid, body, if_match):
    headers = {} if if_match is None else {"If-Match": if_match}
    return requests.patch(server.url(records_path(module, rid)), json=body, headers=headers, timeout=10)


def transition(server, module, rid, name, body=None, if_match=None):
    headers = {} if if_match is None else {"If-Match": if_match}
    return requests.post(server.url(records_path(module, rid, "/transitions/" + name)), json=body, headers=headers,
                         timeout=10)


def fire(server, module, rid, name, body=None):
    r = transition(server, module, rid, name, body)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"%d"' % r.json()["version"]
    return r.json()


def listing(server, module, params=None):
    r = requests.get(server.url(records_path(module)), params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def ids(page):
    return [item["id"] for item in page["items"]]


def history(server, module, rid):
    r = requests.get(server.url(records_path(module, rid, "/history")), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["history"]


def steps(hist):
    return [(h["version"], h["action"], h["transition"]) for h in hist]


def deadline(rec, code):
    found = [d for d in rec["deadlines"] if d["code"] == code]
    assert len(found) == 1, rec["deadlines"]
    return found[0]


def mediation(title, received_on="2024-03-05", committee="town_a", **kw):
    body = {"committee": committee, "source": "walk_in", "title": title, "received_on": received_on}
    body.update(kw)
    return body


def legal_aid(name="王小明", applied_on="2021-09-27", org="legal_center", **kw):
    body = {"handling_org": org, "applicant": {"name": name, "id_number": VALID_ID, "phone": "13800138000"},
            "channel": "walk_in", "category": "civil", "cause": "劳动报酬纠纷", "applied_on": applied_on}
    body.update(kw)
    return body


def reconsideration(received_on="2024-01-08", org="bureau_office", **kw):
    body = {"intake_org": org, "intake": "bureau", "applicant": {"name": "某某公司法定代表人李某"},
            "respondent": "慈溪市市场监督管理局", "matter": "不服行政处罚决定书(慈市监罚〔2023〕12号)",
            "received_on": received_on}
    body.update(kw)
    return body


# ---------- definitions ----------

def test_modules_list_and_get(server):
    r = server.get(MODULES)
    assert r.status_code == 200, r.text
    modules = {m["code"]: m for m in r.json()["modules"]}
    assert set(modules) == {path.stem for path in (REPO_ROOT / "modules").glob("*.yaml")}
    assert {"mediation_case", "legal_aid_case", "reconsideration_case", "enforcement_action"} <= set(modules)

    med = modules["mediation_case"]
    assert med["name"] == "人民调解案件"
    assert med["org_field"] == "committee"
    assert med["initial_state"] == "registered"
    assert med["numbering"] == {"field": "case_no", "pattern": "({year})慈调字第{seq:05}号"}
    assert [f["code"] for f in med["fields"]] == [
        "case_no", "committee", "source", "committee_level", "dispute_type", "title", "summary", "amount",
        "received_on", "applied_at", "replied_at", "accepted_on", "concluded_on", "outcome", "agreement_form",
        "performed", "extension_days", "mediator", "agreement_file", "parties"]
    fields_by_code = {f["code"]: f for f in med["fields"]}
    assert fields_by_code["agreement_file"]["type"] == "attachment"
    assert fields_by_code["agreement_file"]["types"] == ["application/pdf", "image/jpeg", "image/png"]
    assert fields_by_code["agreement_file"]["max"] == 10485760
    fields = {f["code"]: f for f in med["fields"]}
    assert fields["title"] == {"code": "title", "name": "纠纷名称", "type": "text", "required": True,
                               "personal": False, "searchable": True, "max_length": 100}
    assert fields["amount"]["type"] == "money" and fields["amount"]["min"] == 0
    assert fields["dispute_type"]["codes"]["code"] == "dispute_type"
    assert {"code": "neighborhood", "label": "邻里纠纷"} in fields["dispute_type"]["codes"]["items"]
    assert fields["parties"]["type"] == "group" and fields["parties"]["max_items"] == 50
    assert [(f["code"], f["type"], f["personal"]) for f in fields["parties"]["fields"]] == [
        ("name", "text", False), ("id_number", "id_number", True), ("phone", "phone", True), ("role", "text", False)]
    assert [(s["code"], s["name"], s["initial"], s["final"]) for s in med["states"]] == [
        ("registered", "已登记", True, False), ("accepted", "已受理", False, False),
        ("concluded", "已办结", False, True), ("rejected", "不予受理", False, True)]
    assert med["transitions"] == [
        {"code": "accept", "name": "受理", "from": ["registered"], "to": "accepted", "requires": ["dispute_type"],
         "sets": ["accepted_on"]},
        {"code": "reject", "name": "不予受理", "from": ["registered"], "to": "rejected", "requires": [], "sets": []},
        {"code": "conclude", "name": "结案", "from": ["accepted"], "to": "concluded", "requires": ["outcome"],
         "sets": ["concluded_on"]},
        {"code": "reopen", "name": "重新调解", "from": ["concluded"], "to": "accepted", "requires": [], "sets": []}]
    assert med["deadlines"] == [
        {"code": "online_reply", "name": "网上申请72小时内答复", "from": "applied_at", "unit": "hours", "amount": 72,
         "until": ["accepted", "rejected", "concluded"]},
        {"code": "conclusion", "name": "受理后30日内办结", "from": "accepted_on", "unit": "natural_days", "amount": 30,
         "until": ["concluded"]}]

    la = modules["legal_aid_case"]
    assert la["name"] == "法律援助案件" and la["org_field"] == "handling_org" and la["initial_state"] == "applied"
    assert len(la["fields"]) == 26
    assert [s["code"] for s in la["states"]] == ["applied", "accepted", "approved", "refused", "assigned", "closed"]
    assert [(t["code"], t["from"], t["to"], t["requires"], t["sets"]) for t in la["transitions"]] == [
        ("accept", ["applied"], "accepted", [], ["accepted_on"]),
        ("approve", ["accepted"], "approved", [], ["decided_on"]),
        ("refuse", ["accepted"], "refused", ["refusal_reason"], ["decided_on"]),
        ("assign", ["approved"], "assigned", ["lawyer"], ["assigned_on"]),
        ("close", ["assigned"], "closed", [], ["closed_on"])]
    assert [(d["code"], d["unit"], d["amount"]) for d in la["deadlines"]] == [
        ("review", "working_days", 7), ("notice_assignment", "natural_days", 3)]

    rc = modules["reconsideration_case"]
    assert rc["name"] == "行政复议案件" and rc["org_field"] == "intake_org" and rc["initial_state"] == "received"
    assert len(rc["fields"]) == 13
    assert [(s["code"], s["final"]) for s in rc["states"]] == [
        ("received", False), ("accepted", False), ("not_accepted", True), ("decided", True)]
    assert [(t["code"], t["from"], t["to"], t["requires"]) for t in rc["transitions"]] == [
        ("accept", ["received"], "accepted", []), ("not_accept", ["received"], "not_accepted", []),
        ("decide", ["accepted"], "decided", ["outcome"])]
    assert [(d["code"], d["unit"], d["amount"]) for d in rc["deadlines"]] == [
        ("acceptance_review", "working_days", 5), ("decision", "natural_days", 60)]

    for code, m in modules.items():
        one = server.get(MODULES + "/" + code)
        assert one.status_code == 200
        assert one.json() == m

    err = assert_envelope(server.get(MODULES + "/no_such_module"), 404, "module_not_found")
    assert err["details"] == {"module": "no_such_module"}
    assert_envelope(server.get(records_path("no_such_module")), 404, "module_not_found")
    assert_envelope(requests.post(server.url(records_path("no_such_module")), json={}, timeout=10), 404,
                    "module_not_found")


# ---------- CRUD ----------

def test_crud_round_trip_mediation(server):
    body = mediation("张三与李四相邻通行纠纷", summary="张三家门前通道被李四堆放杂物堵塞,双方多次争吵。",
                     amount="1.5万元", dispute_type="neighborhood", applied_at="2024-03-05T09:30:00+08:00",
                     mediator="陈调解员",
                     parties=[{"name": "张三", "id_number": VALID_ID, "phone": "+86 138-0013-8000", "role": "申请人"},
                              {"name": "李四", "role": "被申请人"}])
    rec = create(server, "mediation_case", body)
    rid = rec["id"]
    assert rec["state"] == "registered" and rec["state_name"] == "已登记"
    assert rec["org"] == "town_a" and rec["committee"] == "town_a"
    assert rec["case_no"] == "(2024)慈调字第00001号"
    assert rec["title"] == "张三与李四相邻通行纠纷"
    assert rec["summary"] == "张三家门前通道被李四堆放杂物堵塞,双方多次争吵。"
    assert rec["amount"] == 1500000
    assert rec["applied_at"] == "2024-03-05T01:30:00Z"
    assert rec["parties"] == [{"name": "张三", "id_number": VALID_ID, "phone": "13800138000", "role": "申请人"},
                              {"name": "李四", "role": "被申请人"}]
    for empty in ("accepted_on", "concluded_on", "outcome", "agreement_form", "performed", "extension_days"):
        assert rec[empty] is None, empty
    assert rec["created_by"] == "admin" and rec["created_at"] == rec["updated_at"]
    assert deadline(rec, "online_reply") == {"code": "online_reply", "name": "网上申请72小时内答复", "met": False,
                                             "due": "2024-03-08T01:30:00Z", "overdue": True,
                                             "hours_left": deadline(rec, "online_reply")["hours_left"]}
    assert deadline(rec, "online_reply")["hours_left"] < 0
    assert deadline(rec, "conclusion") == {"code": "conclusion", "name": "受理后30日内办结", "met": False, "due": None,
                                           "overdue": False}

    r = get(server, "mediation_case", rid)
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert r.json() == rec

    r = patch(server, "mediation_case", rid, {"amount": "1.78亿元", "summary": "已清理部分杂物", "mediator": None},
              '"1"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    upd = r.json()
    assert upd["version"] == 2 and upd["amount"] == 17800000000 and upd["summary"] == "已清理部分杂物"
    assert upd["mediator"] is None
    assert upd["title"] == rec["title"] and upd["case_no"] == rec["case_no"] and upd["parties"] == rec["parties"]
    assert get(server, "mediation_case", rid).json() == upd

    r = requests.delete(server.url(records_path("mediation_case", rid)), timeout=10)
    assert r.status_code == 204, r.text
    assert r.content == b""
    err = assert_envelope(get(server, "mediation_case", rid), 404, "record_not_found")
    assert err["details"] == {"module": "mediation_case", "id": rid}
    assert listing(server, "mediation_case")["total"] == 0
    assert_envelope(patch(server, "mediation_case", rid, {"summary": "x"}, '"3"'), 404, "record_not_found")
    assert_envelope(requests.delete(server.url(records_path("mediation_case", rid)), timeout=10), 404,
                    "record_not_found")
    assert_envelope(transition(server, "mediation_case", rid, "reject"), 404, "record_not_found")
    assert_envelope(get(server, "mediation_case", 999), 404, "record_not_found")
    assert_envelope(server.get(records_path("mediation_case") + "/abc"), 404, "record_not_found")

    hist = history(server, "mediation_case", rid)
    assert steps(hist) == [(1, "create", None), (2, "update", None), (3, "delete", None)]
    assert all(h["actor"] == "admin" for h in hist)
    assert hist[0]["changes"]["title"] == {"old": None, "new": "张三与李四相邻通行纠纷"}
    assert hist[0]["changes"]["case_no"] == {"old": None, "new": "(2024)慈调字第00001号"}
    assert hist[0]["changes"]["amount"] == {"old": None, "new": 1500000}
    assert "accepted_on" not in hist[0]["changes"]
    assert hist[1]["changes"] == {"amount": {"old": 1500000, "new": 17800000000},
                                  "summary": {"old": "张三家门前通道被李四堆放杂物堵塞,双方多次争吵。", "new": "已清理部分杂物"},
                                  "mediator": {"old": "陈调解员", "new": None}}
    assert hist[2]["changes"] == {}
    for h in hist:
        datetime.datetime.strptime(h["at"], "%Y-%m-%dT%H:%M:%SZ")

    # a create's row keeps its values in one object; a row written before that, with a pair per
    # field, reads the same
    server.stop()
    with sqlite3.connect(str(server.paths["db"])) as db:
        (stored,) = db.execute("SELECT changes FROM record_history WHERE record_id = ? AND action = 'create'",
                               (rid,)).fetchone()
        stored = json.loads(stored)
        assert list(stored) == ["*created"] and stored["*created"]["title"] == "张三与李四相邻通行纠纷"
        pairs = {k: {"old": None, "new": v} for k, v in stored["*created"].items()}
        db.execute("UPDATE record_history SET changes = ? WHERE record_id = ? AND action = 'create'",
                   (json.dumps(pairs, ensure_ascii=False), rid))
    server.start()
    assert history(server, "mediation_case", rid) == hist


def test_create_invalid_lists_every_field_and_writes_nothing(server):
    create(server, "mediation_case", mediation("已有案件"))
    bad = {"bogus": 1, "committee": "town_a", "source": "letter", "dispute_type": "邻里纠纷",
           "received_on": "2024-02-30", "applied_at": "昨天上午", "amount": "1.234元", "extension_days": 31,
           "performed": "yes",
           "parties": [{"id_number": "110105194912310021", "phone": "12345", "nickname": "老张"},
                       {"name": "李四", "id_number": id_number("11010519900307123")}]}
    r = requests.post(server.url(records_path("mediation_case")), json=bad, timeout=10)
    err = assert_envelope(r, 422, "validation")
    got = {(d["field"], d["code"]) for d in err["details"]}
    assert got == {("bogus", "unknown_field"), ("source", "enum"), ("dispute_type", "enum"), ("title", "required"),
                   ("received_on", "date_invalid"), ("applied_at", "datetime_invalid"),
                   ("amount", "money_precision"), ("extension_days", "max"), ("performed", "type"),
                   ("parties[0].nickname", "unknown_field"), ("parties[0].name", "required"),
                   ("parties[0].id_number", "id_check_digit"), ("parties[0].phone", "phone_invalid")}
    assert len(err["details"]) == len(got)
    for d in err["details"]:
        assert set(d) == {"field", "code", "message"} and d["message"], d
    assert "13 处" in err["message"]

    r = requests.post(server.url(records_path("legal_aid_case")), timeout=10,
                      json={"handling_org": "法援中心", "applicant": {"id_number": "1101"}, "channel": "walk_in",
                            "applied_on": "2021-09-27", "satisfaction": 6, "recovered_amount": -5,
                            "law_firm_uscc": wrong_check(uscc("91330282MA2AAAAAA"), USCC_ALPHABET)})
    err = assert_envelope(r, 422, "validation")
    got = {(d["field"], d["code"]) for d in err["details"]}
    assert got == {("handling_org", "type"), ("applicant.name", "required"), ("applicant.id_number", "id_length"),
                   ("category", "required"), ("satisfaction", "max"), ("recovered_amount", "min"),
                   ("law_firm_uscc", "uscc_check_digit")}

    # nothing was written, no number was used
    assert listing(server, "mediation_case")["total"] == 1
    assert listing(server, "legal_aid_case")["total"] == 0
    assert create(server, "mediation_case", mediation("下一件"))["case_no"] == "(2024)慈调字第00002号"

    # an update is validated the same way, only on the members sent
    r = patch(server, "mediation_case", 1, {"title": "", "state": "concluded", "amount": "abc"}, '"1"')
    err = assert_envelope(r, 422, "validation")
    assert {(d["field"], d["code"]) for d in err["details"]} == {("title", "required"), ("state", "unknown_field"),
                                                                  ("amount", "money_invalid")}
    assert get(server, "mediation_case", 1).json()["version"] == 1

    assert_envelope(requests.post(server.url(records_path("mediation_case")), timeout=10), 400, "bad_json")


def test_values_are_normalised(server):
    other_id = id_number("33028219850615123")
    cases = [  # (member, sent, stored)
        ("amount", "3,200万元", 3200000000), ("amount", "12.50元", 1250), ("amount", "1.5万", 1500000),
        ("amount", "1.78亿元", 17800000000), ("amount", 0, 0),
        ("received_on", "2024年3月5日", "2024-03-05"),
        ("applied_at", "2024-03-05T09:30:00", "2024-03-05T01:30:00Z"),       # no zone: China time
        ("applied_at", "2024-03-05T09:30:00+08:00", "2024-03-05T01:30:00Z"),
        ("parties", [{"name": "甲", "id_number": VALID_ID.lower(), "phone": "+86 138-0013-8000"},
                     {"name": "乙", "id_number": other_id, "phone": "13900139000"}],
         [{"name": "甲", "id_number": VALID_ID, "phone": "13800138000"},
          {"name": "乙", "id_number": other_id, "phone": "13900139000"}]),
    ]
    for member, sent, stored in cases:
        rec = create(server, "mediation_case", mediation("规范化", **{member: sent}))
        assert rec[member] == stored, (member, sent)
        assert get(server, "mediation_case", rec["id"]).json()[member] == stored
    for member, sent, code in [("amount", 1.5, "type"), ("amount", "-5元", "money_negative"), ("amount", -5, "min"),
                               ("amount", "五块钱", "money_invalid"), ("received_on", "2024-3-5", "date_invalid"),
                               ("parties", [{"name": "丙", "phone": "23800138000"}], "phone_invalid"),
                               ("parties", "张三", "type")]:
        r = requests.post(server.url(records_path("mediation_case")), json=mediation("坏值", **{member: sent}),
                          timeout=10)
        err = assert_envelope(r, 422, "validation")
        assert [d["code"] for d in err["details"]] == [code], (member, sent, err["details"])


# ---------- search, filters, sort, paging ----------

def test_chinese_search(server):
    a = create(server, "mediation_case", mediation("张三与李四邻里纠纷", parties=[{"name": "张三"}, {"name": "李四"}]))
    b = create(server, "mediation_case", mediation("王五与赵六债务纠纷", summary="双方系邻里,因借款发生争执",
                                                   parties=[{"name": "王五", "phone": "13800138000"}]))
    c = create(server, "mediation_case", mediation("孙七与周八邻里纠纷", mediator="陈调解",
                                                   parties=[{"name": "孙七"}, {"name": "周八"}]))
    d = create(server, "mediation_case", mediation("吴九劳动报酬争议", committee="town_b",
                                                   parties=[{"name": "吴九"}, {"name": "张三", "id_number": VALID_ID}]))

    def found(q, **extra):
        params = {"q": q}
        params.update(extra)
        return ids(listing(server, "mediation_case", params))

    assert found("邻里纠纷") == [a["id"], c["id"]]          # trigram index (4 characters)
    assert found("张三") == [a["id"], d["id"]]               # two characters: LIKE, also inside parties
    assert found("邻里") == [a["id"], b["id"], c["id"]]      # summary is searchable too
    assert found("陈调解") == [c["id"]]                      # mediator, three characters
    assert found("劳动报酬") == [d["id"]]
    assert found("不存在的词语") == []
    assert found("李四邻") == [a["id"]]
    assert found("张三", org="town_b") == [d["id"]]
    # personal fields are not indexed
    assert found("13800138000") == []
    assert found(VALID_ID) == []
    err = assert_envelope(server.get(records_path("mediation_case") + "?q=张"), 400, "bad_filter")
    assert err["details"] == {"param": "q"}

    # the index follows updates and deletes
    r = patch(server, "mediation_case", a["id"], {"title": "张三与李四相邻关系纠纷"}, '"1"')
    assert r.status_code == 200, r.text
    assert found("邻里纠纷") == [c["id"]]
    assert found("相邻关系") == [a["id"]]
    assert requests.delete(server.url(records_path("mediation_case", c["id"])), timeout=10).status_code == 204
    assert found("邻里纠纷") == []
    assert found("邻里") == [b["id"]]
    r = fire(server, "mediation_case", d["id"], "accept", {"dispute_type": "labor", "mediator": "周调解"})
    assert found("周调解") == [d["id"]]
    assert found("张三", state="accepted") == [d["id"]]

    # legal aid and reconsideration search their own fields
    la = create(server, "legal_aid_case", legal_aid(cause="工伤赔偿纠纷"))
    create(server, "legal_aid_case", legal_aid(cause="离婚纠纷"))
    assert ids(listing(server, "legal_aid_case", {"q": "工伤赔偿"})) == [la["id"]]
    assert ids(listing(server, "legal_aid_case", {"q": "王小明"})) == []   # applicant is personal
    rc = create(server, "reconsideration_case", reconsideration())
    assert ids(listing(server, "reconsideration_case", {"q": "市场监督管理局"})) == [rc["id"]]
    assert ids(listing(server, "reconsideration_case", {"q": "行政处罚"})) == [rc["id"]]


def test_repeated_q_terms_are_combined(server):
    """Two q parameters: both terms must match (or the request is refused) — never a server error.
    Bug: src/record/store.c sifa_record_list frees the previous search pattern (free(search_pattern))
    while bounds[] still points at it, so a second q binds freed memory (heap-use-after-free)."""
    a = create(server, "mediation_case", mediation("张三与李四邻里纠纷", parties=[{"name": "张三"}]))
    create(server, "mediation_case", mediation("孙七与周八邻里纠纷"))
    create(server, "mediation_case", mediation("张三劳动报酬争议"))
    for params in ([("q", "邻里纠纷"), ("q", "张三")], [("q", "张三"), ("q", "邻里纠纷")],
                   [("q", "邻里纠纷"), ("q", "李四邻里")]):
        r = requests.get(server.url(records_path("mediation_case")), params=params, timeout=10)
        if r.status_code == 400:
            assert_envelope(r, 400, "bad_filter")
        else:
            assert r.status_code == 200, r.text
            assert ids(r.json()) == [a["id"]], (params, r.json())


def test_filters_sort_and_paging(server):
    specs = [  # title, committee, received_on, amount, dispute_type, performed
        ("甲案", "town_a", "2024-01-05", 500000, "neighborhood", True),
        ("乙案", "town_a", "2024-02-10", 120000, "debt", False),
        ("丙案", "town_b", "2024-02-11", None, "debt", None),
        ("丁案", "town_b", "2024-03-01", 9900, "labor", True),
        ("戊案", "town_c", "2024-03-15", 300000, None, None),
        ("己案", "town_a", "2024-04-20", 120000, "neighborhood", False),
        ("庚案", "town_c", "2024-05-02", None, "contract", None),
    ]
    recs = []
    for title, org, day, amount, dtype, performed in specs:
        body = mediation(title, received_on=day, committee=org)
        if amount is not None:
            body["amount"] = amount
        if dtype is not None:
            body["dispute_type"] = dtype
        if performed is not None:
            body["performed"] = performed
        recs.append(create(server, "mediation_case", body))
    by = {r["title"]: r["id"] for r in recs}

    def titles(params):
        page = listing(server, "mediation_case", params)
        idx = {v: k for k, v in by.items()}
        return page["total"], [idx[i] for i in ids(page)]

    everything = listing(server, "mediation_case")
    assert everything["total"] == 7 and everything["page"] == 1 and everything["page_size"] == 20
    assert ids(everything) == [r["id"] for r in recs]
    assert titles({"org": "town_a"}) == (3, ["甲案", "乙案", "己案"])
    assert titles([("org", "town_a"), ("org", "town_c")]) == (5, ["甲案", "乙案", "戊案", "己案", "庚案"])
    assert titles({"committee": "town_b"}) == (2, ["丙案", "丁案"])
    assert titles([("dispute_type", "debt"), ("dispute_type", "labor")]) == (3, ["乙案", "丙案", "丁案"])
    assert titles({"dispute_type__empty": "true"}) == (1, ["戊案"])
    assert titles({"dispute_type__empty": "false"})[0] == 6
    assert titles({"dispute_type__ne": "debt"}) == (4, ["甲案", "丁案", "己案", "庚案"])
    assert titles({"amount__gte": "120000"}) == (4, ["甲案", "乙案", "戊案", "己案"])
    assert titles({"amount__gt": "120000"}) == (2, ["甲案", "戊案"])
    assert titles({"amount__lt": "120000"}) == (1, ["丁案"])
    assert titles({"amount__lte": "120000", "amount__gte": "10000"}) == (2, ["乙案", "己案"])
    assert titles({"amount": "120000"}) == (2, ["乙案", "己案"])
    assert titles({"amount__empty": "true"}) == (2, ["丙案", "庚案"])
    assert titles({"received_on__gte": "2024-02-10", "received_on__lt": "2024-03-15"}) == (3, ["乙案", "丙案", "丁案"])
    assert titles({"performed": "true"}) == (2, ["甲案", "丁案"])
    assert titles({"performed": "false"}) == (2, ["乙案", "己案"])
    assert titles({"performed__empty": "true"}) == (3, ["丙案", "戊案", "庚案"])
    assert titles({"state": "registered", "org": "town_b", "amount__gte": "1"}) == (1, ["丁案"])
    assert titles({"case_no": "(2024)慈调字第00004号"}) == (1, ["丁案"])
    assert titles({"parties__empty": "true"})[0] == 7

    assert titles({"sort": "-received_on"})[1] == ["庚案", "己案", "戊案", "丁案", "丙案", "乙案", "甲案"]
    # ties broken by id in the same direction; NULL first ascending, last descending
    assert titles({"sort": "amount"})[1] == ["丙案", "庚案", "丁案", "乙案", "己案", "戊案", "甲案"]
    assert titles({"sort": "-amount"})[1] == ["甲案", "戊案", "己案", "乙案", "丁案", "庚案", "丙案"]
    assert titles({"sort": "-id"})[1] == ["庚案", "己案", "戊案", "丁案", "丙案", "乙案", "甲案"]
    assert titles({"sort": "title", "org": "town_a"})[1] == sorted(["甲案", "乙案", "己案"])

    seen = []
    for page in (1, 2, 3):
        p = listing(server, "mediation_case", {"sort": "-received_on", "page_size": "3", "page": str(page)})
        assert p["total"] == 7 and p["page"] == page and p["page_size"] == 3
        assert len(p["items"]) == (3 if page < 3 else 1)
        seen += ids(p)
    assert seen == [by[t] for t in ["庚案", "己案", "戊案", "丁案", "丙案", "乙案", "甲案"]]
    p = listing(server, "mediation_case", {"page": "4", "page_size": "3"})
    assert p["items"] == [] and p["total"] == 7
    assert listing(server, "mediation_case", {"page_size": "200"})["page_size"] == 200

    for query, param in [("colour=red", "colour"), ("amount__between=1", "amount__between"),
                         ("page_size=201", "page_size"), ("page=0", "page"), ("page_size=abc", "page_size"),
                         ("sort=colour", "sort"), ("sort=parties", "sort"), ("state=closed", "state"),
                         ("amount=abc", "amount"), ("performed=yes", "performed"),
                         ("dispute_type__empty=maybe", "dispute_type__empty"), ("parties=张三", "parties")]:
        err = assert_envelope(server.get(records_path("mediation_case") + "?" + query), 400, "bad_filter")
        assert err["details"] == {"param": param}, query


# ---------- optimistic concurrency ----------

def test_patch_requires_if_match_and_detects_stale_versions(server):
    rec = create(server, "mediation_case", mediation("李某与王某合同纠纷"))
    rid = rec["id"]

    err = assert_envelope(patch(server, "mediation_case", rid, {"summary": "第一次修改"}, None), 428,
                          "if_match_required")
    assert_envelope(patch(server, "mediation_case", rid, {"summary": "x"}, "abc"), 400, "bad_if_match")
    assert get(server, "mediation_case", rid).json()["version"] == 1

    r = patch(server, "mediation_case", rid, {"summary": "第一次修改"}, '"1"')
    assert r.status_code == 200 and r.headers["ETag"] == '"2"' and r.json()["version"] == 2
    r = patch(server, "mediation_case", rid, {"summary": "第二次修改"}, 'W/"2"')
    assert r.status_code == 200 and r.json()["version"] == 3
    r = patch(server, "mediation_case", rid, {"summary": "第三次修改"}, "3")
    assert r.status_code == 200 and r.json()["version"] == 4
    current = get(server, "mediation_case", rid).json()

    err = assert_envelope(patch(server, "mediation_case", rid, {"summary": "过时的修改"}, '"2"'), 409, "stale_version")
    assert err["details"] == {"current": current}
    assert err["details"]["current"]["version"] == 4 and err["details"]["current"]["summary"] == "第三次修改"
    err = assert_envelope(transition(server, "mediation_case", rid, "reject", if_match='"3"'), 409, "stale_version")
    assert err["details"]["current"] == current
    err = assert_envelope(requests.delete(server.url(records_path("mediation_case", rid)), headers={"If-Match": '"1"'},
                                          timeout=10), 409, "stale_version")
    assert err["details"]["current"] == current
    assert get(server, "mediation_case", rid).json() == current
    assert steps(history(server, "mediation_case", rid)) == [(1, "create", None), (2, "update", None),
                                                             (3, "update", None), (4, "update", None)]

    # a transition with the current If-Match goes through, a delete with it too
    assert transition(server, "mediation_case", rid, "reject", if_match='"4"').status_code == 200
    r = requests.delete(server.url(records_path("mediation_case", rid)), headers={"If-Match": '"5"'}, timeout=10)
    assert r.status_code == 204
    assert steps(history(server, "mediation_case", rid))[-2:] == [(5, "transition", "reject"), (6, "delete", None)]


# ---------- workflows ----------

def test_mediation_workflow(server):
    rec = create(server, "mediation_case", mediation("张某与刘某邻里纠纷", received_on="2024-03-05",
                                                     applied_at="2024-03-05T09:30:00+08:00"))
    rid = rec["id"]

    err = assert_envelope(transition(server, "mediation_case", rid, "accept"), 422, "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("dispute_type", "required")]
    err = assert_envelope(transition(server, "mediation_case", rid, "conclude"), 409, "illegal_transition")
    assert err["details"] == {"state": "registered", "transition": "conclude", "allowed": ["accept", "reject"]}
    err = assert_envelope(transition(server, "mediation_case", rid, "archive"), 404, "unknown_transition")
    assert err["details"] == {"transition": "archive", "defined": ["accept", "reject", "conclude", "reopen"]}
    err = assert_envelope(transition(server, "mediation_case", rid, "accept", {"dispute_type": "邻里"}), 422,
                          "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("dispute_type", "enum")]
    assert get(server, "mediation_case", rid).json()["version"] == 1

    rec = fire(server, "mediation_case", rid, "accept", {"dispute_type": "neighborhood", "accepted_on": "2024-03-06"})
    assert (rec["state"], rec["state_name"], rec["version"]) == ("accepted", "已受理", 2)
    assert rec["accepted_on"] == "2024-03-06" and rec["dispute_type"] == "neighborhood"
    assert deadline(rec, "conclusion") == {"code": "conclusion", "name": "受理后30日内办结", "met": False,
                                           "due": "2024-04-05", "overdue": True,
                                           "days_left": (datetime.date(2024, 4, 5) - china_today()).days}
    assert deadline(rec, "online_reply")["met"] is True and deadline(rec, "online_reply")["overdue"] is False

    err = assert_envelope(transition(server, "mediation_case", rid, "reject"), 409, "illegal_transition")
    assert err["details"]["allowed"] == ["conclude"] and err["details"]["state"] == "accepted"
    err = assert_envelope(transition(server, "mediation_case", rid, "conclude"), 422, "validation")
    assert err["details"] == [{"field": "outcome", "code": "required", "message": err["details"][0]["message"]}]

    r = patch(server, "mediation_case", rid, {"extension_days": 10}, '"2"')
    assert r.status_code == 200
    assert deadline(r.json(), "conclusion")["due"] == "2024-04-15"
    assert_envelope(patch(server, "mediation_case", rid, {"extension_days": 31}, '"3"'), 422, "validation")

    rec = fire(server, "mediation_case", rid, "conclude",
               {"outcome": "success", "agreement_form": "written", "concluded_on": "2024-04-01"})
    assert (rec["state"], rec["version"], rec["concluded_on"]) == ("concluded", 4, "2024-04-01")
    assert deadline(rec, "conclusion")["met"] is True and deadline(rec, "conclusion")["overdue"] is False
    err = assert_envelope(transition(server, "mediation_case", rid, "conclude"), 409, "illegal_transition")
    assert err["details"]["allowed"] == ["reopen"]

    rec = fire(server, "mediation_case", rid, "reopen")
    assert (rec["state"], rec["version"]) == ("accepted", 5)
    assert rec["outcome"] == "success" and rec["concluded_on"] == "2024-04-01"
    assert deadline(rec, "conclusion")["met"] is False and deadline(rec, "conclusion")["due"] == "2024-04-15"
    before = china_today()
    rec = fire(server, "mediation_case", rid, "conclude", {"outcome": "failure"})  # concluded_on: today
    assert rec["concluded_on"] in {iso(before), iso(china_today())}
    assert (rec["state"], rec["version"], rec["outcome"]) == ("concluded", 6, "failure")

    hist = history(server, "mediation_case", rid)
    assert steps(hist) == [(1, "create", None), (2, "transition", "accept"), (3, "update", None),
                           (4, "transition", "conclude"), (5, "transition", "reopen"), (6, "transition", "conclude")]
    assert hist[1]["changes"] == {"dispute_type": {"old": None, "new": "neighborhood"},
                                  "accepted_on": {"old": None, "new": "2024-03-06"},
                                  "state": {"old": "registered", "new": "accepted"}}
    assert hist[2]["changes"] == {"extension_days": {"old": None, "new": 10}}
    assert hist[3]["changes"] == {"outcome": {"old": None, "new": "success"},
                                  "agreement_form": {"old": None, "new": "written"},
                                  "concluded_on": {"old": None, "new": "2024-04-01"},
                                  "state": {"old": "accepted", "new": "concluded"}}
    assert hist[4]["changes"] == {"state": {"old": "concluded", "new": "accepted"}}
    assert hist[5]["changes"] == {"outcome": {"old": "success", "new": "failure"},
                                  "concluded_on": {"old": "2024-04-01", "new": rec["concluded_on"]},
                                  "state": {"old": "accepted", "new": "concluded"}}

    other = create(server, "mediation_case", mediation("不属于人民调解范围的纠纷"))
    rec = fire(server, "mediation_case", other["id"], "reject")
    assert (rec["state"], rec["state_name"], rec["version"]) == ("rejected", "不予受理", 2)
    err = assert_envelope(transition(server, "mediation_case", other["id"], "accept", {"dispute_type": "other"}), 409,
                          "illegal_transition")
    assert err["details"] == {"state": "rejected", "transition": "accept", "allowed": []}
    assert steps(history(server, "mediation_case", other["id"])) == [(1, "create", None), (2, "transition", "reject")]
    assert history(server, "mediation_case", other["id"])[1]["changes"] == {
        "state": {"old": "registered", "new": "rejected"}}

    assert titles_by_state(server) == {"concluded": [rid], "rejected": [other["id"]]}


def titles_by_state(server):
    out = {}
    for state in ("registered", "accepted", "concluded", "rejected"):
        got = ids(listing(server, "mediation_case", {"state": state}))
        if got:
            out[state] = got
    return out


def test_legal_aid_workflow_and_review_deadline(server):
    rec = create(server, "legal_aid_case", legal_aid())
    rid = rec["id"]
    assert rec["case_no"] == "(2021)慈法援字第0001号"
    assert rec["state"] == "applied" and rec["org"] == "legal_center"
    assert rec["applicant"] == {"name": "王小明", "id_number": VALID_ID, "phone": "13800138000"}
    assert deadline(rec, "review") == {"code": "review", "name": "受理后7个工作日内作出决定", "met": False, "due": None,
                                       "overdue": False}

    err = assert_envelope(transition(server, "legal_aid_case", rid, "approve"), 409, "illegal_transition")
    assert err["details"]["allowed"] == ["accept"]
    # National Day 2021-10-01..07 off, Sunday 2021-09-26 and Saturday 2021-10-09 are working days
    rec = fire(server, "legal_aid_case", rid, "accept", {"accepted_on": "2021-09-28"})
    assert rec["state"] == "accepted" and deadline(rec, "review")["due"] == "2021-10-13"
    assert deadline(rec, "review")["overdue"] is True
    r = patch(server, "legal_aid_case", rid, {"supplement_days": 2}, '"2"')
    assert r.status_code == 200
    assert deadline(r.json(), "review")["due"] == "2021-10-15"
    r = patch(server, "legal_aid_case", rid, {"supplement_days": 0}, '"3"')
    assert deadline(r.json(), "review")["due"] == "2021-10-13"

    err = assert_envelope(transition(server, "legal_aid_case", rid, "assign"), 409, "illegal_transition")
    assert err["details"]["allowed"] == ["approve", "refuse"]
    rec = fire(server, "legal_aid_case", rid, "approve", {"decided_on": "2021-10-08"})
    assert rec["state"] == "approved" and rec["decided_on"] == "2021-10-08"
    assert deadline(rec, "review") == {"code": "review", "name": "受理后7个工作日内作出决定", "met": True,
                                       "due": "2021-10-13", "overdue": False}
    err = assert_envelope(transition(server, "legal_aid_case", rid, "assign"), 422, "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("lawyer", "required")]
    rec = fire(server, "legal_aid_case", rid, "assign", {"lawyer": "李律师", "assigned_on": "2021-10-09"})
    assert (rec["state"], rec["lawyer"], rec["assigned_on"]) == ("assigned", "李律师", "2021-10-09")
    rec = fire(server, "legal_aid_case", rid, "close",
               {"closed_on": "2022-01-20", "recovered_amount": "3.2万元", "satisfaction": 5, "hearing_attended": True})
    assert (rec["state"], rec["state_name"]) == ("closed", "已结案")
    assert rec["recovered_amount"] == 3200000 and rec["hearing_attended"] is True
    err = assert_envelope(transition(server, "legal_aid_case", rid, "close"), 409, "illegal_transition")
    assert err["details"]["allowed"] == []
    assert steps(history(server, "legal_aid_case", rid)) == [
        (1, "create", None), (2, "transition", "accept"), (3, "update", None), (4, "update", None),
        (5, "transition", "approve"), (6, "transition", "assign"), (7, "transition", "close")]

    other = create(server, "legal_aid_case", legal_aid(name="赵大", applied_on="2021-11-02"))
    assert other["case_no"] == "(2021)慈法援字第0002号"
    fire(server, "legal_aid_case", other["id"], "accept", {"accepted_on": "2021-11-03"})
    err = assert_envelope(transition(server, "legal_aid_case", other["id"], "refuse"), 422, "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("refusal_reason", "required")]
    rec = fire(server, "legal_aid_case", other["id"], "refuse",
               {"refusal_reason": "申请人经济状况不符合法律援助条件", "decided_on": "2021-11-05"})
    assert (rec["state"], rec["state_name"]) == ("refused", "不予援助")
    assert deadline(rec, "review") == {"code": "review", "name": "受理后7个工作日内作出决定", "met": True,
                                       "due": "2021-11-12", "overdue": False}
    hist = history(server, "legal_aid_case", other["id"])
    assert steps(hist) == [(1, "create", None), (2, "transition", "accept"), (3, "transition", "refuse")]
    assert hist[2]["changes"] == {"refusal_reason": {"old": None, "new": "申请人经济状况不符合法律援助条件"},
                                  "decided_on": {"old": None, "new": "2021-11-05"},
                                  "state": {"old": "accepted", "new": "refused"}}


def test_reconsideration_workflow_and_decision_deadline(server):
    rec = create(server, "reconsideration_case",
                 reconsideration(respondent_uscc=uscc("11330282MB0123456").lower(), received_on="2024-01-08"))
    assert rec["respondent_uscc"] == uscc("11330282MB0123456")
    assert rec["case_no"] == "慈政复〔2024〕1号"
    assert rec["state"] == "received" and rec["state_name"] == "已收到" and rec["org"] == "bureau_office"
    rid = rec["id"]
    rec = fire(server, "reconsideration_case", rid, "accept", {"accepted_on": "2024-01-10"})
    assert rec["state"] == "accepted"
    assert deadline(rec, "decision")["due"] == "2024-03-10"      # 60 natural days, 2024 is a leap year
    r = patch(server, "reconsideration_case", rid, {"extension_days": 30}, '"2"')
    assert r.status_code == 200 and deadline(r.json(), "decision")["due"] == "2024-04-09"
    err = assert_envelope(patch(server, "reconsideration_case", rid, {"extension_days": 31}, '"3"'), 422, "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("extension_days", "max")]
    err = assert_envelope(transition(server, "reconsideration_case", rid, "not_accept"), 409, "illegal_transition")
    assert err["details"]["allowed"] == ["decide"]
    err = assert_envelope(transition(server, "reconsideration_case", rid, "decide"), 422, "validation")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("outcome", "required")]
    rec = fire(server, "reconsideration_case", rid, "decide", {"outcome": "revoked", "decided_on": "2024-04-01"})
    assert (rec["state"], rec["state_name"], rec["outcome"]) == ("decided", "已决定", "revoked")
    assert deadline(rec, "decision") == {"code": "decision", "name": "受理后60日内作出决定", "met": True,
                                         "due": "2024-04-09", "overdue": False}
    assert steps(history(server, "reconsideration_case", rid)) == [
        (1, "create", None), (2, "transition", "accept"), (3, "update", None), (4, "transition", "decide")]

    other = create(server, "reconsideration_case", reconsideration(received_on="2024-02-01"))
    assert other["case_no"] == "慈政复〔2024〕2号"
    rec = fire(server, "reconsideration_case", other["id"], "not_accept")
    assert (rec["state"], rec["state_name"]) == ("not_accepted", "不予受理")
    assert deadline(rec, "decision")["due"] is None
    err = assert_envelope(transition(server, "reconsideration_case", other["id"], "accept"), 409, "illegal_transition")
    assert err["details"] == {"state": "not_accepted", "transition": "accept", "allowed": []}
    assert steps(history(server, "reconsideration_case", other["id"])) == [
        (1, "create", None), (2, "transition", "not_accept")]


# ---------- deadlines across modules ----------

def make_deadline_records(server):
    today = china_today()
    la = create(server, "legal_aid_case", legal_aid(org="legal_center"))
    fire(server, "legal_aid_case", la["id"], "accept", {"accepted_on": "2021-09-28"})            # due 2021-10-13
    done = create(server, "legal_aid_case", legal_aid(org="legal_center", applied_on="2021-09-28"))
    fire(server, "legal_aid_case", done["id"], "accept", {"accepted_on": "2021-09-28"})
    fire(server, "legal_aid_case", done["id"], "approve")                                          # met
    soon = create(server, "mediation_case", mediation("即将到期的调解", received_on=iso(today), committee="town_b"))
    fire(server, "mediation_case", soon["id"], "accept",
         {"dispute_type": "debt", "accepted_on": iso(today - datetime.timedelta(days=29))})       # due today + 1
    later = create(server, "mediation_case", mediation("二十天后到期", received_on=iso(today), committee="town_a"))
    fire(server, "mediation_case", later["id"], "accept",
         {"dispute_type": "debt", "accepted_on": iso(today - datetime.timedelta(days=10))})       # due today + 20
    online = create(server, "mediation_case", mediation("网上申请未答复", received_on="2024-03-05", committee="town_b",
                                                        applied_at="2024-03-05T09:30:00+08:00"))
    rc = create(server, "reconsideration_case", reconsideration(received_on="2019-12-30", org="town_a"))
    fire(server, "reconsideration_case", rc["id"], "accept", {"accepted_on": "2020-01-01"})      # due 2020-03-01
    gone = create(server, "reconsideration_case", reconsideration(received_on="2019-12-30", org="town_a"))
    fire(server, "reconsideration_case", gone["id"], "accept", {"accepted_on": "2020-01-01"})
    assert requests.delete(server.url(records_path("reconsideration_case", gone["id"])), timeout=10).status_code == 204
    return {"la": la, "soon": soon, "later": later, "online": online, "rc": rc, "today": today}


def deadlines(server, **params):
    r = server.get("/api/v1/deadlines", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_deadlines_endpoint(server):
    recs = make_deadline_records(server)
    today = recs["today"]
    expected = {
        "la": {"module": "legal_aid_case", "module_name": "法律援助案件", "record_id": recs["la"]["id"],
               "number": "(2021)慈法援字第0001号", "deadline": "review", "name": "受理后7个工作日内作出决定",
               "due": "2021-10-13", "overdue": True},
        "soon": {"module": "mediation_case", "module_name": "人民调解案件", "record_id": recs["soon"]["id"],
                 "number": recs["soon"]["case_no"], "deadline": "conclusion", "name": "受理后30日内办结",
                 "due": iso(today + datetime.timedelta(days=1)), "overdue": False},
        "later": {"module": "mediation_case", "module_name": "人民调解案件", "record_id": recs["later"]["id"],
                  "number": recs["later"]["case_no"], "deadline": "conclusion", "name": "受理后30日内办结",
                  "due": iso(today + datetime.timedelta(days=20)), "overdue": False},
        "online": {"module": "mediation_case", "module_name": "人民调解案件", "record_id": recs["online"]["id"],
                   "number": recs["online"]["case_no"], "deadline": "online_reply", "name": "网上申请72小时内答复",
                   "due": "2024-03-08T01:30:00Z", "overdue": True},
        "rc": {"module": "reconsideration_case", "module_name": "行政复议案件", "record_id": recs["rc"]["id"],
               "number": "慈政复〔2019〕1号", "deadline": "decision", "name": "受理后60日内作出决定",
               "due": "2020-03-01", "overdue": True},
    }

    def keyset(items):
        return sorted((i["module"], i["record_id"], i["deadline"]) for i in items)

    got = deadlines(server, within_days=3)
    assert got["within_days"] == 3 and got["total"] == 4 and got["overdue"] == 3
    assert keyset(got["items"]) == keyset([expected[k] for k in ("la", "soon", "online", "rc")])
    for item in got["items"]:
        match = [e for e in expected.values() if e["record_id"] == item["record_id"] and e["module"] == item["module"]]
        assert [item] == match

    assert deadlines(server)["within_days"] == 3 and deadlines(server)["total"] == 4
    got = deadlines(server, within_days=0)
    assert got["total"] == 3 and got["overdue"] == 3
    got = deadlines(server, within_days=30)
    assert got["total"] == 5 and got["overdue"] == 3
    assert expected["later"] in got["items"]

    got = deadlines(server, within_days=30, org="town_a")
    assert keyset(got["items"]) == keyset([expected["later"], expected["rc"]])
    assert got["total"] == 2 and got["overdue"] == 1
    got = deadlines(server, within_days=30, org="town_b")
    assert keyset(got["items"]) == keyset([expected["soon"], expected["online"]])
    got = deadlines(server, within_days=3, org="legal_center")
    assert got["items"] == [expected["la"]] and got["overdue"] == 1
    assert deadlines(server, org="nobody") == {"items": [], "total": 0, "overdue": 0, "within_days": 3}

    # record-level deadline values agree
    soon = get(server, "mediation_case", recs["soon"]["id"]).json()
    assert deadline(soon, "conclusion") == {"code": "conclusion", "name": "受理后30日内办结", "met": False,
                                            "due": iso(today + datetime.timedelta(days=1)), "overdue": False,
                                            "days_left": 1}
    # answering the online application stops its clock; concluding stops the other
    fire(server, "mediation_case", recs["online"]["id"], "reject")
    fire(server, "mediation_case", recs["soon"]["id"], "conclude", {"outcome": "success"})
    got = deadlines(server, within_days=3)
    assert keyset(got["items"]) == keyset([expected["la"], expected["rc"]])

    for bad in ("-1", "3651", "abc"):
        assert_envelope(server.get("/api/v1/deadlines?within_days=" + bad), 400, "bad_filter")


def test_deadlines_endpoint_is_ordered_by_due(server):
    """record.h documents sifa_record_deadlines_due as "ordered by due". Bug: src/record/store.c
    sifa_record_deadlines_due appends module by module (legal aid, mediation, reconsideration) with
    no ORDER BY and never sorts the merged list, so an older reconsideration deadline comes last."""
    recs = make_deadline_records(server)
    got = deadlines(server, within_days=30)
    assert [(i["module"], i["due"]) for i in got["items"]] == [
        ("reconsideration_case", "2020-03-01"), ("legal_aid_case", "2021-10-13"),
        ("mediation_case", "2024-03-08T01:30:00Z"),
        ("mediation_case", iso(recs["today"] + datetime.timedelta(days=1))),
        ("mediation_case", iso(recs["today"] + datetime.timedelta(days=20)))]


# ---------- numbering ----------

def test_numbering_per_year_and_module(server):
    def med(day, org="town_a"):
        return create(server, "mediation_case", mediation("编号测试", received_on=day, committee=org))["case_no"]

    assert med("2023-12-31") == "(2023)慈调字第00001号"
    assert med("2024-01-01") == "(2024)慈调字第00001号"
    assert med("2024-06-30", org="town_b") == "(2024)慈调字第00002号"   # not per committee
    assert med("2023-05-01") == "(2023)慈调字第00002号"
    third_2024 = create(server, "mediation_case", mediation("将被删除", received_on="2024-02-02"))
    assert third_2024["case_no"] == "(2024)慈调字第00003号"
    assert requests.delete(server.url(records_path("mediation_case", third_2024["id"])), timeout=10).status_code == 204
    assert med("2024-02-03") == "(2024)慈调字第00004号"                # a deleted record keeps its number
    assert med("2025-01-02") == "(2025)慈调字第00001号"

    la = [create(server, "legal_aid_case", legal_aid(applied_on=d))["case_no"]
          for d in ("2021-09-27", "2021-12-31", "2022-01-01", "2021-06-01")]
    assert la == ["(2021)慈法援字第0001号", "(2021)慈法援字第0002号", "(2022)慈法援字第0001号", "(2021)慈法援字第0003号"]
    rc = [create(server, "reconsideration_case", reconsideration(received_on=d))["case_no"]
          for d in ("2023-11-11", "2024-01-08", "2023-12-01")]
    assert rc == ["慈政复〔2023〕1号", "慈政复〔2024〕1号", "慈政复〔2023〕2号"]

    # the number does not change with the year field later, and cannot be duplicated
    first = listing(server, "mediation_case", {"case_no": "(2023)慈调字第00001号"})["items"][0]
    r = patch(server, "mediation_case", first["id"], {"received_on": "2022-01-01"}, '"1"')
    assert r.status_code == 200 and r.json()["case_no"] == "(2023)慈调字第00001号"
    r = requests.post(server.url(records_path("mediation_case")), timeout=10,
                      json=mediation("重复案号", received_on="2024-01-01", case_no="(2024)慈调字第00001号"))
    err = assert_envelope(r, 409, "duplicate_number")
    assert err["details"] == {"field": "case_no"}
    assert med("2024-02-04") == "(2024)慈调字第00005号"


def test_typed_number_does_not_block_automatic_numbering(server):
    """Staff may type a case number. Bug: src/record/store.c next_number hands out the next sequence
    value without checking it is free, so once a typed number equals a future automatic one every
    later create of that module/year fails with 409 duplicate_number (the savepoint rolls the
    counter back, so it never gets past the taken number)."""
    assert create(server, "mediation_case", mediation("自动一", received_on="2024-03-01"))["case_no"] == \
        "(2024)慈调字第00001号"
    typed = create(server, "mediation_case", mediation("手工编号", received_on="2024-03-01",
                                                       case_no="(2024)慈调字第00002号"))
    assert typed["case_no"] == "(2024)慈调字第00002号"
    numbers = {"(2024)慈调字第00001号", "(2024)慈调字第00002号"}
    for i in range(2):
        r = requests.post(server.url(records_path("mediation_case")), timeout=10,
                          json=mediation("自动%d" % (i + 2), received_on="2024-03-02"))
        assert r.status_code == 201, r.text
        number = r.json()["case_no"]
        assert number not in numbers
        numbers.add(number)
    assert listing(server, "mediation_case")["total"] == 4


def test_org_under_filters_a_subtree(server):
    """org_under=CODE: the records of CODE and every unit below it, however many there are (org=
    matches codes exactly, so a subtree needed every code in the URL). Repeated: the union. An
    unknown code is 404 org_not_found, not an empty list. The caller's data scope still applies."""
    for args in (("c", "--name", "慈溪市", "--kind", "city"),
                 ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                 ("ta1", "--name", "甲镇一村", "--kind", "village", "--parent", "ta"),
                 ("ta11", "--name", "甲镇一村一组", "--kind", "other", "--parent", "ta1"),
                 ("tb", "--name", "乙镇", "--kind", "town", "--parent", "c"),
                 ("tab", "--name", "名字以ta开头的乙镇村", "--kind", "village", "--parent", "tb")):
        r = server.cli("org", "add", *args)
        assert r.returncode == 0, r.stderr
    made = {code: create(server, "mediation_case", mediation("纠纷 " + code, committee=code))["id"]
            for code in ("c", "ta", "ta1", "ta11", "tb", "tab", "town_a")}

    def under(*codes, **extra):
        return sorted(ids(listing(server, "mediation_case", dict(extra, org_under=list(codes), page_size=200))))

    assert under("ta") == sorted(made[k] for k in ("ta", "ta1", "ta11"))
    assert under("ta1") == sorted(made[k] for k in ("ta1", "ta11"))
    assert under("ta11") == [made["ta11"]]
    assert under("tb") == sorted([made["tb"], made["tab"]])  # a prefix of the code is not a subtree
    assert under("c") == sorted(made[k] for k in ("c", "ta", "ta1", "ta11", "tb", "tab"))
    assert under("ta1", "tb") == sorted(made[k] for k in ("ta1", "ta11", "tb", "tab"))
    # combined with the other filters (org= exact, fields)
    assert under("ta", org="ta1") == [made["ta1"]]
    assert under("c", title="纠纷 tab") == [made["tab"]]

    r = requests.get(server.url(records_path("mediation_case")), params={"org_under": "nowhere"}, timeout=10)
    err = assert_envelope(r, 404, "org_not_found")
    assert err["details"] == {"field": "org_under", "org": "nowhere"}
    # quotes and wildcards are parameters, never SQL
    for odd in ("ta' OR '1'='1", "%", "/c/"):
        r = requests.get(server.url(records_path("mediation_case")), params={"org_under": odd}, timeout=10)
        assert_envelope(r, 404, "org_not_found")

    # the caller's scope still applies: a town office user under the county root sees its town only
    r = server.cli("user", "add", "jo", "--display-name", "jo", "--org", "ta1", "--roles", "judicial_office",
                   "--password-stdin", "--no-change", input_text="Some-Long-Pass-2026\n")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    assert s.post(server.url("/api/v1/auth/login"), json={"user": "jo", "password": "Some-Long-Pass-2026"},
                  timeout=10).status_code == 200
    got = s.get(server.url(records_path("mediation_case")), params={"org_under": "c", "page_size": 200},
                headers={"Authorization": None}, timeout=10)
    assert got.status_code == 200, got.text
    assert sorted(ids(got.json())) == sorted(made[k] for k in ("ta1", "ta11"))

    # the export shares the list's query
    r = requests.get(server.url(records_path("mediation_case", tail="/export")),
                     params={"org_under": "ta1", "format": "csv"}, timeout=30)
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    assert "纠纷 ta11" in text and "纠纷 ta1" in text and "纠纷 ta\r" not in text and "纠纷 tb" not in text
    r = requests.get(server.url(records_path("mediation_case", tail="/export")),
                     params={"org_under": "nowhere", "format": "csv"}, timeout=30)
    assert_envelope(r, 404, "org_not_found")


def test_numbering_per_org_names_the_unit_and_counts_each_unit_apart(server):
    """town_legality_review numbers per org unit: each unit's sequence starts at 1 and its name is in
    the number, so two units' first numbers differ (they used to collide on the unique number)."""
    def review(org, day):
        return create(server, "town_legality_review", {"review_org": org, "matter_type": "normative_document",
                                                        "title": "合法性审查", "submitted_on": day})["review_no"]
    assert review("town_a", "2021-03-01") == "(2021)测试单位 town_a合审第0001号"
    assert review("town_b", "2021-03-02") == "(2021)测试单位 town_b合审第0001号"
    assert review("town_a", "2021-03-03") == "(2021)测试单位 town_a合审第0002号"
    assert review("town_a", "2022-01-04") == "(2022)测试单位 town_a合审第0001号"
