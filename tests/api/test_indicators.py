"""Indicators (issue 5): aggregates kept as records change, rolled up the org tree, read for any
period with 同比, drilled down to their records, exported as tables, verified and rebuilt.

World: city c with towns ta and tb; mediation committees ca (under ta) and cb (under tb). Users:
sa (mediation staff of ta), lead (leadership), law (legal-aid staff of ta, no mediation rights), jo (the
judicial office of ta: reads reconsideration cases but not administrative litigation)."""

import csv
import io
import random
import sqlite3
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest
import requests

from conftest import Factory, REPO_ROOT, assert_envelope

PASSWORD = "Some-Long-Pass-2026"
RECORDS = "/api/v1/modules/mediation_case/records"


def indicators(server, session=None, **params):
    r = (session or requests).get(server.url("/api/v1/indicators"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    return {item["indicator"]: item for item in r.json()["items"]}


def value(server, code, session=None, **params):
    return indicators(server, session, codes=code, **params)[code]["value"]


def login(server, user):
    s = requests.Session()
    r = s.post(server.url("/api/v1/auth/login"), json={"user": user, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def mediation_case(server, committee, concluded_on=None, outcome="success", amount="100.00", received_on="2021-02-01",
                   source="walk_in"):
    r = requests.post(server.url(RECORDS), json={"committee": committee, "source": source, "title": "纠纷",
                                                 "received_on": received_on, "amount": amount}, timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    if concluded_on is not None:
        r = requests.post(server.url("%s/%d/transitions/accept" % (RECORDS, rid)),
                          json={"dispute_type": "neighborhood", "accepted_on": received_on}, timeout=10)
        assert r.status_code == 200, r.text
        r = requests.post(server.url("%s/%d/transitions/conclude" % (RECORDS, rid)),
                          json={"outcome": outcome, "concluded_on": concluded_on}, timeout=10)
        assert r.status_code == 200, r.text
    return rid


def version_of(server, rid):
    r = requests.get(server.url("%s/%d" % (RECORDS, rid)), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["version"]


def patch(server, rid, body):
    r = requests.patch(server.url("%s/%d" % (RECORDS, rid)), json=body,
                       headers={"If-Match": '"%d"' % version_of(server, rid)}, timeout=10)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    factory = Factory(tmp_path_factory.mktemp("indicators"))
    server = factory.start(name="indicators")
    try:
        for args in (("c", "--name", "慈溪市", "--kind", "city"),
                     ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                     ("tb", "--name", "乙镇", "--kind", "town", "--parent", "c"),
                     ("ca", "--name", "甲镇调委会", "--kind", "mediation_committee", "--parent", "ta"),
                     ("cb", "--name", "乙镇调委会", "--kind", "mediation_committee", "--parent", "tb")):
            r = server.cli("org", "add", *args)
            assert r.returncode == 0, r.stderr
        for name, org, role in (("sa", "ta", "mediation_staff"), ("lead", "c", "leadership"),
                                ("law", "ta", "legal_aid_staff"), ("insp", "c", "inspector"),
                                ("jo", "ta", "judicial_office")):
            r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                           "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
            assert r.returncode == 0, r.stderr
        w = {"server": server, "ca": [], "cb": []}
        # ca: 11 concluded in March 2021, 8 of them successful (8/11 = 72.727…%)
        for i in range(11):
            w["ca"].append(mediation_case(server, "ca", "2021-03-%02d" % (i + 1), "success" if i < 8 else "failure",
                                          amount="%d.50" % (1000 + i)))
        # cb: 2 successful in 2021, 1 still open, 2 concluded in 2020 (for 同比)
        w["cb"] = [mediation_case(server, "cb", "2021-07-10"), mediation_case(server, "cb", "2021-12-31"),
                   mediation_case(server, "cb")]
        w["cb_2020"] = [mediation_case(server, "cb", "2020-05-05", received_on="2020-05-01"),
                        mediation_case(server, "ca", "2020-06-05", received_on="2020-06-01")]
        yield w
    finally:
        factory.finish()


def test_counts_sums_and_rates_roll_up_the_org_tree(world):
    s = world["server"]
    got = indicators(s, codes="mediation_cases,mediation_succeeded,mediation_success_rate,mediation_amount",
                     period="2021", org="ta")
    assert got["mediation_cases"]["value"] == 11 and got["mediation_cases"]["n"] == 11
    assert got["mediation_succeeded"]["value"] == 8
    # 8/11 = 72.727…% at the declared one digit, rounded half up
    assert got["mediation_success_rate"]["text"] == "72.7"
    assert got["mediation_success_rate"]["unit"] == "%"
    assert "÷" in got["mediation_success_rate"]["formula"]
    assert got["mediation_amount"]["text"] == "%.2f" % sum(1000.5 + i for i in range(11))
    assert got["mediation_cases"]["org_name"] == "甲镇"
    city = indicators(s, codes="mediation_cases,mediation_succeeded,mediation_success_rate", period="2021", org="c")
    assert city["mediation_cases"]["value"] == 13 and city["mediation_succeeded"]["value"] == 10
    assert city["mediation_success_rate"]["text"] == "76.9"  # 10/13 = 76.92…
    assert value(s, "mediation_cases", period="2021") == 13  # no org: everything the caller may see
    assert value(s, "mediation_cases", period="2021", org="ca") == 11  # the committee itself


def test_periods_quarter_month_range_and_no_data(world):
    s = world["server"]
    assert value(s, "mediation_cases", period="2021Q1", org="ta") == 11
    assert value(s, "mediation_cases", period="2021-03", org="ta") == 11
    assert value(s, "mediation_cases", period="2021-03-01..2021-03-05", org="ta") == 5
    assert value(s, "mediation_cases", period="2021-03-11", org="ta") == 1
    assert value(s, "mediation_cases", period="2021-07-01..2022-06-30") == 2
    empty = indicators(s, codes="mediation_cases,mediation_success_rate", period="2021Q2", org="ta")
    # a figure without data is flagged, never a silent 0
    assert empty["mediation_cases"]["value"] is None and empty["mediation_cases"]["reason"] == "no_data"
    assert empty["mediation_success_rate"]["value"] is None
    assert empty["mediation_cases"]["has_data"] is False
    for bad in ("2021Q5", "2021-13", "21", "2021-02-30", "2021-06-30..2021-01-01", "abc"):
        r = requests.get(s.url("/api/v1/indicators"), params={"period": bad}, timeout=10)
        assert_envelope(r, 400, "bad_period")


def test_per_day_and_year_on_year(world):
    s = world["server"]
    got = indicators(s, codes="mediation_cases,mediation_daily_average,mediation_cases_yoy", period="2021",
                     compare="yoy")
    cases = got["mediation_cases"]
    assert cases["previous"]["value"] == 2
    assert cases["change"]["text"] == "550.00" and cases["change"]["phrase"] == "同比上升550.00%"  # (13-2)/2
    assert got["mediation_cases_yoy"]["text"] == "550.00" and got["mediation_cases_yoy"]["phrase"] == "同比上升550.00%"
    assert got["mediation_daily_average"]["text"] == "0.0"  # 13 / 365 = 0.036 at one digit
    down = indicators(s, codes="mediation_cases", period="2020", compare="yoy")["mediation_cases"]
    assert down["previous"]["value"] is None and "change" not in down
    q = indicators(s, codes="mediation_cases", period="2021Q3", compare="pop")["mediation_cases"]
    assert q["value"] == 1 and q["previous"]["value"] is None  # Q2 had nothing


def test_deadline_conditions_give_on_time_rates(world):
    """{deadline: online_reply, on_time: true}: replied within 72 hours of the online application."""
    s = world["server"]
    for applied, replied in (("2021-04-01T09:00:00+08:00", "2021-04-02T09:00:00+08:00"),   # 24 h
                             ("2021-04-03T09:00:00+08:00", "2021-04-06T09:00:00+08:00"),   # exactly 72 h
                             ("2021-04-05T09:00:00+08:00", "2021-04-08T09:00:01+08:00"),   # late by a second
                             ("2021-04-07T09:00:00+08:00", None)):                         # not answered
        body = {"committee": "cb", "source": "online", "title": "网上申请", "received_on": applied[:10],
                "applied_at": applied}
        if replied:
            body["replied_at"] = replied
        r = requests.post(s.url(RECORDS), json=body, timeout=10)
        assert r.status_code == 201, r.text
        world.setdefault("online", []).append(r.json()["id"])
    got = indicators(s, codes="mediation_online_applications,mediation_online_replied_in_72h,"
                              "mediation_online_72h_response_rate", period="2021-04", org="tb")
    assert got["mediation_online_applications"]["value"] == 4
    assert got["mediation_online_replied_in_72h"]["value"] == 2
    assert got["mediation_online_72h_response_rate"]["text"] == "50"
    r = requests.get(s.url("/api/v1/indicators/mediation_online_replied_in_72h/records"),
                     params={"period": "2021-04"}, timeout=10)
    assert sorted(i["id"] for i in r.json()["items"]) == sorted(world["online"][:2])


def test_breakdown_by_an_enum_field(world):
    s = world["server"]
    r = requests.get(s.url("/api/v1/indicators"), params={"codes": "mediation_cases", "period": "2021",
                                                          "org": "ta", "by": "outcome"}, timeout=10)
    assert r.status_code == 200, r.text
    parts = {p["code"]: p["value"] for p in r.json()["items"][0]["breakdown"]}
    assert parts["success"] == 8 and parts["failure"] == 3 and parts["withdrawn"] is None
    r = requests.get(s.url("/api/v1/indicators"), params={"codes": "mediation_cases", "by": "title"}, timeout=10)
    assert_envelope(r, 400, "bad_breakdown")


def test_drill_down_lists_the_records_behind_a_figure(world):
    s = world["server"]
    r = requests.get(s.url("/api/v1/indicators/mediation_succeeded/records"),
                     params={"org": "ta", "period": "2021", "page_size": 50}, timeout=10)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 8 and sorted(i["id"] for i in page["items"]) == sorted(world["ca"][:8])
    # the denominator of the rate, and one line of a breakdown
    r = requests.get(s.url("/api/v1/indicators/mediation_success_rate/records"),
                     params={"org": "ta", "period": "2021", "part": "b", "page_size": 50}, timeout=10)
    assert r.json()["total"] == 11
    r = requests.get(s.url("/api/v1/indicators/mediation_cases/records"),
                     params={"org": "c", "period": "2021", "by": "outcome", "value": "failure"}, timeout=10)
    assert sorted(i["id"] for i in r.json()["items"]) == sorted(world["ca"][8:])
    r = requests.get(s.url("/api/v1/indicators/nope/records"), timeout=10)
    assert_envelope(r, 404, "indicator_not_found")


def test_row_scope_applies_to_figures_and_drill_down(world):
    s = world["server"]
    sa = login(s, "sa")
    assert value(s, "mediation_cases", sa, period="2021") == 11  # only ta's records
    got = indicators(s, sa, codes="mediation_cases", period="2021", org="c")["mediation_cases"]
    assert got["value"] == 11 and got["partial"] is True
    r = sa.get(s.url("/api/v1/indicators"), params={"codes": "mediation_cases", "org": "tb"}, timeout=10)
    assert_envelope(r, 404, "org_not_found")
    r = sa.get(s.url("/api/v1/indicators/mediation_cases/records"), params={"period": "2021", "page_size": 50},
               timeout=10)
    assert r.json()["total"] == 11
    law = login(s, "law")
    r = law.get(s.url("/api/v1/indicators"), params={"codes": "mediation_cases"}, timeout=10)
    assert_envelope(r, 403, "indicator_denied")
    mine = indicators(s, law, period="2021")  # without codes: only what the caller may read
    assert mine and all(code.startswith("legal_aid") for code in mine)
    r = law.get(s.url("/api/v1/indicators/mediation_cases/records"), timeout=10)
    assert_envelope(r, 403, "indicator_denied")
    lead = login(s, "lead")
    assert value(s, "mediation_cases", lead, period="2021", org="c") == 13


def test_tables_as_json_csv_and_xlsx_are_audited(world):
    s = world["server"]
    params = {"codes": "mediation_cases,mediation_success_rate", "period": "2021", "org": "c"}
    r = requests.get(s.url("/api/v1/indicators/table"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    t = r.json()
    assert [c["name"] for c in t["columns"]] == ["单位", "调处矛盾纠纷", "调处成功率"]
    assert t["rows"] == [["甲镇", 11, 72.7], ["乙镇", 2, 100.0], ["合计", 13, 76.9]]
    assert "2021" in t["subtitle"]
    r = requests.get(s.url("/api/v1/indicators/table"), params=dict(params, format="csv"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    name = urllib.parse.unquote(r.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == "慈溪市业务统计表-2021.csv", name
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[2] == ["单位", "调处矛盾纠纷(件)", "调处成功率(%)"]
    assert rows[3] == ["甲镇", "11", "72.7"] and rows[5] == ["合计", "13", "76.9"]
    r = requests.get(s.url("/api/v1/indicators/table"), params=dict(params, format="xlsx"), timeout=10)
    assert r.status_code == 200 and r.content.startswith(b"PK\x03\x04")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "慈溪市业务统计表" in strings and "调处矛盾纠纷" in strings and "<mergeCell " in sheet
    deadline = time.monotonic() + 5  # exports are audited by a write job queued after the response
    while True:
        r = requests.get(s.url("/api/v1/audit"), params={"action": "stats.export"}, timeout=10)
        assert r.status_code == 200, r.text
        if r.json()["total"] >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.json()["total"] == 3
    assert {e["details"]["format"] for e in r.json()["items"]} == {"json", "csv", "xlsx"}
    r = requests.get(s.url("/api/v1/indicators/table"), params=dict(params, format="pdf"), timeout=10)
    assert_envelope(r, 400, "bad_format")


def test_table_files_need_the_export_permission_of_every_module_counted(world):
    s = world["server"]
    params = {"codes": "mediation_cases,mediation_success_rate", "period": "2021", "org": "c"}
    insp = login(s, "insp")  # reads every line (audited) but holds no .export
    r = insp.get(s.url("/api/v1/indicators/table"), params=params, timeout=10)
    assert r.status_code == 200, r.text  # on screen: a read
    for fmt in ("csv", "xlsx"):
        r = insp.get(s.url("/api/v1/indicators/table"), params=dict(params, format=fmt), timeout=10)
        assert_envelope(r, 403, "export_denied")
        assert r.json()["error"]["details"]["module"] == "mediation_case"
    # a token limited to reading mediation cases: the same; with .export it may take the file
    r = s.cli("token", "create", "--user", "admin", "--name", "ro", "--scopes", "mediation_case.read")
    assert r.returncode == 0, r.stderr
    ro = {"Authorization": "Bearer " + r.stdout.strip()}
    r = requests.get(s.url("/api/v1/indicators/table"), params=dict(params, format="csv"), headers=ro, timeout=10)
    assert_envelope(r, 403, "export_denied")
    sa = login(s, "sa")  # mediation staff: mediation_case.* includes export
    r = sa.get(s.url("/api/v1/indicators/table"), params=dict(params, format="csv", org="ta"), timeout=10)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf"), r.text
    lead = login(s, "lead")  # leadership: *.export
    r = lead.get(s.url("/api/v1/indicators/table"), params=dict(params, format="xlsx"), timeout=10)
    assert r.status_code == 200 and r.content.startswith(b"PK\x03\x04")


def modules_counted(defs, code):
    d = defs[code]
    if d.get("module"):
        return {d["module"]}
    parts = d["of"] if isinstance(d["of"], list) else [d["of"]]
    return set().union(*(modules_counted(defs, p) for p in parts))


def test_a_derived_indicator_is_readable_only_when_every_base_under_it_is(world):
    """admin_disputes_yoy is a 同比 of a total over reconsideration cases and administrative
    litigation. Listing without codes leaves out what the caller may not read wholly (it used to
    check only the first base of a nested part, and the whole listing was refused with 403);
    naming such an indicator is refused."""
    s = world["server"]
    defs = {d["code"]: d for d in requests.get(s.url("/api/v1/indicators/definitions"), timeout=10).json()["indicators"]}
    assert modules_counted(defs, "admin_disputes_yoy") == {"reconsideration_case", "admin_litigation"}
    jo = login(s, "jo")  # judicial office: reconsideration_case.read, no admin_litigation
    mine = indicators(s, jo, period="2021")
    assert "reconsideration_cases" in mine and "mediation_cases" in mine
    assert "admin_disputes_yoy" not in mine and "admin_disputes" not in mine
    assert not any("admin_litigation" in modules_counted(defs, code) for code in mine)
    for code in ("admin_disputes_yoy", "admin_disputes"):
        r = jo.get(s.url("/api/v1/indicators"), params={"codes": code}, timeout=10)
        assert_envelope(r, 403, "indicator_denied")
        assert r.json()["error"]["details"]["module"] == "admin_litigation"
    sa = login(s, "sa")  # mediation rights only
    mine = indicators(s, sa, period="2021", compare="yoy")
    assert "mediation_cases_yoy" in mine
    assert all(modules_counted(defs, code) <= {"mediation_case", "mediation_committee_registry", "mediator",
                                               "mediation_incentive", "mediation_case_library"} for code in mine)
    r = sa.get(s.url("/api/v1/indicators"), params={"codes": "mediation_cases,admin_disputes_yoy"}, timeout=10)
    assert_envelope(r, 403, "indicator_denied")
    lead = login(s, "lead")
    assert "admin_disputes_yoy" in indicators(s, lead, period="2021")


def test_a_table_without_org_is_the_callers_own_scope(world):
    """Without org= a table is that of the highest units the caller may read: a town's staff get
    their town (its units and a total), leadership the city; it used to list the city's towns and
    refuse a town's staff (404 org_not_found) for the towns outside their scope."""
    s = world["server"]
    params = {"codes": "mediation_cases", "period": "2021"}
    sa = login(s, "sa")
    r = sa.get(s.url("/api/v1/indicators/table"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["title"] == "甲镇业务统计表" and "单位:甲镇" in t["subtitle"]
    assert t["rows"] == [["甲镇调委会", 11], ["合计", 11]]
    r = sa.get(s.url("/api/v1/indicators/table"), params=dict(params, format="csv"), timeout=10)
    assert r.status_code == 200, r.text
    assert "甲镇调委会" in r.content.decode("utf-8-sig") and "乙镇" not in r.content.decode("utf-8-sig")
    r = sa.get(s.url("/api/v1/indicators/table"), params=dict(params, org="c"), timeout=10)
    assert_envelope(r, 404, "org_not_found")  # naming the city still lists units outside the scope
    lead = login(s, "lead")
    r = lead.get(s.url("/api/v1/indicators/table"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "慈溪市业务统计表"
    assert r.json()["rows"] == [["甲镇", 11], ["乙镇", 2], ["合计", 13]]


def test_definitions_and_cli_show(world):
    s = world["server"]
    r = requests.get(s.url("/api/v1/indicators/definitions"), timeout=10)
    assert r.status_code == 200, r.text
    defs = {d["code"]: d for d in r.json()["indicators"]}
    assert defs["mediation_success_rate"]["kind"] == "ratio" and defs["mediation_success_rate"]["stale"] is False
    # the years with figures, newest first (a page opens on the newest past one, not on an empty year)
    years = r.json()["years"]
    assert years == sorted(years, reverse=True) and 2021 in years and 2020 in years, years
    assert 2019 not in years and all(isinstance(y, int) for y in years), years
    r = s.cli("stats", "show", "--period", "2021", "--org", "ta", "--codes", "mediation_cases,mediation_success_rate")
    assert r.returncode == 0, r.stderr
    assert "72.7" in r.stdout and "11" in r.stdout


def test_records_that_move_org_or_period_move_their_contribution(world):
    """Last in the module: it changes the world."""
    s = world["server"]
    rid = world["ca"][0]
    patch(s, rid, {"committee": "cb"})
    assert value(s, "mediation_cases", period="2021", org="ta") == 10
    assert value(s, "mediation_cases", period="2021", org="tb") == 3
    assert value(s, "mediation_amount", period="2021", org="tb") == pytest.approx(1000.5 + 200)
    patch(s, rid, {"concluded_on": "2022-01-05"})
    assert value(s, "mediation_cases", period="2021", org="tb") == 2
    assert value(s, "mediation_cases", period="2022", org="tb") == 1
    r = requests.delete(s.url("%s/%d" % (RECORDS, world["ca"][1])), timeout=10)
    assert r.status_code in (200, 204), r.text
    assert value(s, "mediation_cases", period="2021", org="ta") == 9
    assert value(s, "mediation_succeeded", period="2021", org="ta") == 6
    # reopening withdraws the case from the concluded figures
    r = requests.post(s.url("%s/%d/transitions/reopen" % (RECORDS, world["ca"][2])), json={}, timeout=10)
    assert r.status_code == 200, r.text
    assert value(s, "mediation_cases", period="2021", org="ta") == 8
    r = s.cli("stats", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "一致" in r.stdout


# ---------- a module of its own: stocks, distinct persons, definition changes, random writes ----------

MODULE = """
code: register_entry
name: 在册登记
org_field: unit
fields:
  - {code: unit, name: 所属单位, type: org, required: true}
  - {code: person, name: 人员编号, type: text, required: true, max_length: 32}
  - {code: kind, name: 类别, type: enum, codes: entry_kind, required: true}
  - {code: entered_on, name: 入册日期, type: date, required: true}
  - {code: left_on, name: 出册日期, type: date}
  - {code: people, name: 人数, type: integer, min: 0}
states:
  - {code: open, name: 在册, initial: true}
  - {code: closed, name: 已出册, final: true}
transitions:
  - {code: close, name: 出册, from: [open], to: closed, sets: [left_on]}
  - {code: reopen, name: 重新入册, from: [closed], to: open}
"""
CODES = """
code: entry_kind
name: 类别
items:
  - {code: probation, label: 缓刑}
  - {code: parole, label: 假释}
"""
INDICATORS = """
indicators:
  - {code: in_register, name: 在册人数, unit: 人, kind: stock, module: register_entry, date: entered_on, end: left_on}
  - {code: entries, name: 入册, unit: 人次, kind: count, module: register_entry, date: entered_on, by: [kind]}
  - {code: persons, name: 入册人员, unit: 人, kind: distinct, module: register_entry, date: entered_on, field: person}
  - {code: people_total, name: 涉及人数, unit: 人, kind: sum, module: register_entry, date: entered_on, field: people}
  - {code: probation_entries, name: 缓刑入册, unit: 人次, kind: count, module: register_entry, date: entered_on,
     where: [{field: kind, eq: probation}]}
  - {code: persons_share, name: 人员占入册比, unit: "%", kind: ratio, of: [persons, entries], digits: 2}
  - {code: net_change, name: 入册减缓刑, unit: 人次, kind: difference, of: [entries, probation_entries]}
"""
UNITS = ["u1", "u2", "u3", "u4"]


def write_definitions(root, indicators_text=INDICATORS):
    (root / "modules" / "codes").mkdir(parents=True, exist_ok=True)
    (root / "indicators").mkdir(parents=True, exist_ok=True)
    (root / "modules" / "register_entry.yaml").write_text(MODULE)
    (root / "modules" / "codes" / "entry_kind.yaml").write_text(CODES)
    (root / "indicators" / "register.yaml").write_text(indicators_text)


@pytest.fixture
def register(sifa, tmp_path):
    write_definitions(tmp_path)
    server = sifa.start(name="register", modules_dir=tmp_path / "modules", indicators_dir=tmp_path / "indicators")
    for args in (("city", "--name", "市", "--kind", "city"),
                 ("t1", "--name", "一镇", "--kind", "town", "--parent", "city"),
                 ("t2", "--name", "二镇", "--kind", "town", "--parent", "city"),
                 ("u1", "--name", "一镇甲", "--kind", "other", "--parent", "t1"),
                 ("u2", "--name", "一镇乙", "--kind", "other", "--parent", "t1"),
                 ("u3", "--name", "二镇甲", "--kind", "other", "--parent", "t2"),
                 ("u4", "--name", "二镇乙", "--kind", "other", "--parent", "t2")):
        r = server.cli("org", "add", *args)
        assert r.returncode == 0, r.stderr
    return server, tmp_path


REG = "/api/v1/modules/register_entry/records"


def entry(server, unit, person, entered, left=None, kind="probation", people=1):
    body = {"unit": unit, "person": person, "kind": kind, "entered_on": entered, "people": people}
    if left:
        body["left_on"] = left
    r = requests.post(server.url(REG), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_stock_balance_and_distinct_persons(register):
    s, _ = register
    entry(s, "u1", "P1", "2021-01-10")
    entry(s, "u1", "P2", "2021-01-10", left="2021-03-01")
    entry(s, "u2", "P3", "2021-01-10", kind="parole")
    entry(s, "u3", "P1", "2021-06-01", left="2022-02-01")  # P1 again: a second person-time
    entry(s, "u4", "P4", "2021-06-01", people=3)
    got = indicators(s, codes="in_register,entries,persons,people_total,persons_share,net_change", period="2021")
    assert got["in_register"]["value"] == 4
    assert got["in_register"]["balance"] == {"opening": 0, "in": 5, "out": 1, "closing": 4}
    assert got["entries"]["value"] == 5 and got["persons"]["value"] == 4 and got["people_total"]["value"] == 7
    assert got["persons_share"]["text"] == "80.00" and got["net_change"]["value"] == 1
    y22 = indicators(s, codes="in_register", period="2022")["in_register"]
    assert y22["balance"] == {"opening": 4, "in": 0, "out": 1, "closing": 3}
    assert value(s, "in_register", period="2021Q1") == 2  # P2 left on 2021-03-01
    assert value(s, "in_register", period="2021-02-28") == 3
    assert value(s, "persons", period="2021", org="t1") == 3 and value(s, "persons", period="2021", org="t2") == 2
    r = requests.get(s.url("/api/v1/indicators/in_register/records"), params={"period": "2021"}, timeout=10)
    assert sorted(i["person"] for i in r.json()["items"]) == ["P1", "P1", "P3", "P4"]
    r = requests.get(s.url("/api/v1/indicators/in_register/records"), params={"period": "2021", "series": "out"},
                     timeout=10)
    assert [i["person"] for i in r.json()["items"]] == ["P2"]


def direct_figures(db_path, year):
    """The same figures computed straight from the records table, by town."""
    con = sqlite3.connect(str(db_path))
    rows = con.execute("SELECT f_unit, f_person, f_kind, f_entered_on, f_left_on, f_people FROM m_register_entry "
                       "WHERE deleted_at IS NULL").fetchall()
    con.close()
    town = {"u1": "t1", "u2": "t1", "u3": "t2", "u4": "t2"}
    out = {}
    for org in ("city", "t1", "t2", "u1", "u3"):
        mine = [r for r in rows if org == "city" or r[0] == org or town[r[0]] == org]
        in_year = [r for r in mine if r[3].startswith(str(year))]
        end = "%d-12-31" % year
        out[org] = {
            "entries": len(in_year),
            "probation_entries": sum(1 for r in in_year if r[2] == "probation"),
            "persons": len({r[1] for r in in_year}),
            "people_total": sum(r[5] for r in in_year if r[5] is not None),
            "in_register": sum(1 for r in mine if r[3] <= end and (r[4] is None or r[4] > end)),
        }
    return out


def test_random_writes_keep_every_figure_equal_to_a_direct_count(register):
    """Property test: random creates, updates (org, day, kind), transitions and deletes; then
    `sifa stats verify` finds nothing and every figure equals a count over the records table."""
    s, _ = register
    rng = random.Random(20211231)
    session = requests.Session()
    live = []

    def day():
        return "%d-%02d-%02d" % (rng.choice([2020, 2021, 2022]), rng.randint(1, 12), rng.randint(1, 28))

    for _ in range(1500):
        op = rng.random()
        if op < 0.45 or not live:
            body = {"unit": rng.choice(UNITS), "person": "P%d" % rng.randint(1, 40),
                    "kind": rng.choice(["probation", "parole"]), "entered_on": day(), "people": rng.randint(0, 4)}
            r = session.post(s.url(REG), json=body, timeout=10)
            assert r.status_code == 201, r.text
            live.append(r.json()["id"])
            continue
        rid = rng.choice(live)
        current = session.get(s.url("%s/%d" % (REG, rid)), timeout=10).json()
        if op < 0.75:
            change = rng.choice([{"unit": rng.choice(UNITS)}, {"entered_on": day()}, {"kind": "parole"},
                                 {"left_on": max(current["entered_on"], day())}, {"left_on": None},
                                 {"person": "P%d" % rng.randint(1, 40)}, {"people": rng.randint(0, 9)}])
            r = session.patch(s.url("%s/%d" % (REG, rid)), json=change,
                              headers={"If-Match": '"%d"' % current["version"]}, timeout=10)
            assert r.status_code == 200, r.text
        elif op < 0.9:
            name = "close" if current["state"] == "open" else "reopen"
            body = {"left_on": max(current["entered_on"], day())} if name == "close" else {}
            r = session.post(s.url("%s/%d/transitions/%s" % (REG, rid, name)), json=body, timeout=10)
            assert r.status_code == 200, r.text
        else:
            r = session.delete(s.url("%s/%d" % (REG, rid)), timeout=10)
            assert r.status_code in (200, 204), r.text
            live.remove(rid)
    r = s.cli("stats", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    for year in (2020, 2021, 2022):
        expected = direct_figures(s.paths["db"], year)
        for org, figures in expected.items():
            got = indicators(s, codes=",".join(figures), period=str(year), org=org)
            for code, want in figures.items():
                have = got[code]["value"]
                assert (have if have is not None else 0) == want, (year, org, code, got[code])


def test_verify_reports_a_tampered_aggregate_and_rebuild_repairs_it(register):
    s, _ = register
    entry(s, "u1", "P1", "2021-01-10")
    entry(s, "u2", "P2", "2021-02-10")
    con = sqlite3.connect(str(s.paths["db"]))
    con.execute("UPDATE stat_values SET value = value + 5 WHERE indicator = 'entries' AND level = 'Y'")
    con.commit()
    con.close()
    r = s.cli("stats", "verify", "--year", "2021")
    assert r.returncode == 1, r.stdout
    assert "entries" in r.stdout and "2021" in r.stdout
    r = s.cli("stats", "rebuild")
    assert r.returncode == 0, r.stderr
    r = s.cli("stats", "verify")
    assert r.returncode == 0, r.stdout
    assert value(s, "entries", period="2021") == 2


def test_a_changed_definition_is_detected_at_start_and_rebuilt(register):
    s, root = register
    entry(s, "u1", "P1", "2021-01-10", kind="probation")
    entry(s, "u2", "P2", "2021-02-10", kind="parole")
    assert value(s, "probation_entries", period="2021") == 1
    s.stop()
    write_definitions(root, INDICATORS.replace("where: [{field: kind, eq: probation}]", "where: [{field: kind, eq: parole}]"))
    s.start()
    assert "probation_entries" in s.stderr() and "sifa stats rebuild" in s.stderr()
    defs = {d["code"]: d for d in requests.get(s.url("/api/v1/indicators/definitions"), timeout=10).json()["indicators"]}
    assert defs["probation_entries"]["stale"] is True and defs["entries"]["stale"] is False
    assert indicators(s, codes="probation_entries", period="2021")["probation_entries"]["stale"] is True
    r = s.cli("stats", "rebuild", "probation_entries")
    assert r.returncode == 0, r.stderr
    got = indicators(s, codes="probation_entries", period="2021")["probation_entries"]
    assert got["stale"] is False and got["value"] == 1  # now the parole entry
    r = s.cli("stats", "verify")
    assert r.returncode == 0, r.stdout


def test_declared_tables_monthly_enforcement(sifa, tmp_path):
    """indicators/enforcement.yaml declares 行政执法行为数据统计月报: one row per enforcement body
    (org kind gov_unit) below the requested unit, a total row, a column per declared indicator."""
    s = sifa.start(name="enforcement")
    for args in (("c", "--name", "慈溪市", "--kind", "city"),
                 ("g1", "--name", "市市场监管局", "--kind", "gov_unit", "--parent", "c"),
                 ("g2", "--name", "市综合执法局", "--kind", "gov_unit", "--parent", "c"),
                 ("t1", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                 ("g3", "--name", "甲镇综合执法队", "--kind", "gov_unit", "--parent", "t1")):
        assert s.cli("org", "add", *args).returncode == 0
    acts = [("g1", "penalty", "2021-07-02", "2000.00", True), ("g1", "penalty", "2021-07-20", "500.50", False),
            ("g1", "license", "2021-07-05", None, False), ("g2", "inspection", "2021-07-09", None, False),
            ("g3", "penalty", "2021-07-30", "100.00", True), ("g2", "penalty", "2021-08-01", "9999.00", False)]
    for agency, kind, day, fine, simple in acts:
        body = {"agency": agency, "action_type": kind, "matter": "执法事项", "decided_on": day,
                "simple_procedure": simple}
        if fine:
            body["fine_amount"] = fine
        r = requests.post(s.url("/api/v1/modules/enforcement_action/records"), json=body, timeout=10)
        assert r.status_code == 201, r.text
    r = requests.get(s.url("/api/v1/indicators/table"),
                     params={"table": "enforcement_monthly", "period": "2021-07", "org": "c"}, timeout=10)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["title"] == "慈溪市行政执法行为数据统计月报"
    names = [c["name"] for c in t["columns"]]
    assert names[:5] == ["单位", "行政许可", "行政处罚", "简易程序处罚", "罚没金额"]
    rows = {row[0]: dict(zip(names, row)) for row in t["rows"]}
    assert list(rows) == ["市市场监管局", "市综合执法局", "甲镇综合执法队", "合计"]
    assert rows["市市场监管局"]["行政处罚"] == 2 and rows["市市场监管局"]["罚没金额"] == 2500.5
    assert rows["市市场监管局"]["简易程序处罚"] == 1 and rows["市市场监管局"]["行政许可"] == 1
    # August's penalty is not July's: in July the unit did enforce (an inspection), so it imposed 0
    # penalties (a figure, not a gap); likewise 甲镇综合执法队 granted 0 licences
    assert rows["市综合执法局"]["行政检查"] == 1 and rows["市综合执法局"]["行政处罚"] == 0
    assert rows["甲镇综合执法队"]["行政许可"] == 0
    assert rows["合计"]["行政执法行为合计"] == 5 and rows["合计"]["罚没金额"] == 2600.5
    r = requests.get(s.url("/api/v1/indicators/table"), params={"table": "nope"}, timeout=10)
    assert_envelope(r, 404, "table_not_found")
    defs = requests.get(s.url("/api/v1/indicators/definitions"), timeout=10).json()
    assert {"code": "enforcement_monthly"}.items() <= next(x for x in defs["tables"] if x["code"] == "enforcement_monthly").items()
    out = tmp_path / "monthly.xlsx"
    r = s.cli("stats", "table", "--table", "enforcement_monthly", "--period", "2021-07", "--org", "c",
              "--format", "xlsx", "--out", out)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        assert "行政执法行为数据统计月报" in z.read("xl/sharedStrings.xml").decode()
    r = s.cli("stats", "table", "--table", "mediation_by_town", "--period", "2021", "--org", "c")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert rows[0][0] == "慈溪市人民调解工作统计表" and [row[0] for row in rows[3:7]] == ["市市场监管局", "市综合执法局", "甲镇", "合计"]
    assert rows[-1][0].startswith("注:受理矛盾纠纷")  # the note gives each column's formula
