"""导出: GET /api/v1/modules/{code}/records/export?format=xlsx|csv with the list's filters
(src/api/export.c). The rows are the list's (scope, filters, search, sort), every page; cells are
for people (Chinese headers, enum labels, org names, money in 元, parties in one cell); personal
data is masked unless the caller holds <module>.personal; every export is audited; a result over
the cap (setting export.max_rows) is refused whole.

One server for the module: city c with towns ta and tb and village ta1 below ta; mediation cases
in each, a legal aid case with an applicant's personal data."""

import csv
import io
import re
import urllib.parse
import zipfile
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import Factory

MODULES = "/api/v1/modules"
PASSWORD = "Some-Long-Pass-2026"
MC = MODULES + "/mediation_case/records"
LA = MODULES + "/legal_aid_case/records"
VALID_ID = "11010519491231002X"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def login(server, user):
    s = requests.Session()
    r = s.post(server.url("/api/v1/auth/login"), json={"user": user, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return s


def token_for(server, user, scopes):
    r = server.cli("token", "create", "--user", user, "--name", "t", "--scopes", scopes)
    assert r.returncode == 0, r.stderr
    return {"Authorization": "Bearer " + r.stdout.strip()}


def mediation(title, committee, **kw):
    body = {"committee": committee, "source": "walk_in", "title": title, "received_on": "2024-03-05"}
    body.update(kw)
    return body


def col_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def xlsx_rows(data):
    """The first sheet as a list of rows of strings (numbers as Excel stores them)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
        shared = ["".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])) for si in root.findall("m:si", NS)]
    sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.find("m:sheetData", NS).findall("m:row", NS):
        cells = {}
        for c in row.findall("m:c", NS):
            kind = c.get("t")
            if kind == "s":
                text = shared[int(c.find("m:v", NS).text)]
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter("{%s}t" % NS["m"]))
            else:
                v = c.find("m:v", NS)
                text = v.text if v is not None else ""
            cells[col_index(c.get("r"))] = text
        width = max(cells) + 1 if cells else 0
        rows.append([cells.get(i, "") for i in range(width)])
    return rows


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def as_dicts(rows):
    header = rows[0]
    return [dict(zip(header, r + [""] * (len(header) - len(r)))) for r in rows[1:]]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    factory = Factory(tmp_path_factory.mktemp("export"))
    server = factory.start(name="export")
    try:
        for args in (("c", "--name", "慈溪市", "--kind", "city"),
                     ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                     ("tb", "--name", "乙镇", "--kind", "town", "--parent", "c"),
                     ("ta1", "--name", "甲镇一村", "--kind", "village", "--parent", "ta")):
            r = server.cli("org", "add", *args)
            assert r.returncode == 0, r.stderr
        for name, org, role in (("jo", "ta", "judicial_office"), ("insp", "c", "inspector"),
                                ("lead", "c", "leadership")):
            r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                           "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
            assert r.returncode == 0, r.stderr
        ids = {}
        cases = [
            ("ta", mediation("桂花巷噪音纠纷", "ta", amount=123456, dispute_type="neighborhood",
                             parties=[{"name": "张三", "role": "申请人"}, {"name": "李四", "role": "被申请人"}])),
            ("ta1", mediation("竹林村宅基地纠纷", "ta1", received_on="2024-04-01")),
            ("ta1b", mediation("=HYPERLINK(\"x\"),逗号\"引号\"", "ta1", received_on="2024-05-01")),
            ("tb", mediation("荷塘村灌溉纠纷", "tb")),
        ]
        for key, body in cases:
            r = requests.post(server.url(MC), json=body, timeout=10)
            assert r.status_code == 201, r.text
            ids[key] = r.json()["id"]
        body = {"handling_org": "ta", "applicant": {"name": "欧阳修", "id_number": VALID_ID, "phone": "13800138000"},
                "channel": "walk_in", "category": "civil", "applied_on": "2021-09-28", "cause": "劳动报酬纠纷"}
        r = requests.post(server.url(LA), json=body, timeout=10)
        assert r.status_code == 201, r.text
        ids["la"] = r.json()["id"]
        yield {"server": server, "ids": ids}
    finally:
        factory.finish()


def test_town_office_exports_only_its_town_and_matches_the_list(world):
    server, ids = world["server"], world["ids"]
    jo = login(server, "jo")
    listed = jo.get(server.url(MC), params={"page_size": 200}, timeout=10).json()
    r = jo.get(server.url(MC + "/export"), params={"format": "xlsx"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    disposition = r.headers["content-disposition"]
    name = urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"人民调解案件-\d{8}\.xlsx", name), disposition
    rows = xlsx_rows(r.content)
    header = rows[0]
    assert header[0] == "记录编号" and "纠纷名称" in header and "涉及金额(元)" in header and "状态" in header
    got = sorted(int(row[0]) for row in rows[1:])
    assert got == sorted(x["id"] for x in listed["items"]) == sorted([ids["ta"], ids["ta1"], ids["ta1b"]])
    assert len(got) == listed["total"]
    assert ids["tb"] not in got


def test_cells_are_for_people(world):
    server, ids = world["server"], world["ids"]
    lead = login(server, "lead")
    r = lead.get(server.url(MC + "/export"), params={"format": "xlsx", "title": "桂花巷噪音纠纷"}, timeout=30)
    assert r.status_code == 200, r.text
    rows = as_dicts(xlsx_rows(r.content))
    assert len(rows) == 1
    row = rows[0]
    assert row["记录编号"] == str(ids["ta"])
    assert row["调解委员会"] == "甲镇"                      # org name, not its code
    assert row["案件来源"] not in ("", "walk_in")             # enum label, not its code
    assert float(row["涉及金额(元)"]) == 1234.56               # fen → 元
    assert row["收案日期"] == "2024-03-05"                     # dates as text
    assert row["当事人"] == "张三(申请人); 李四(被申请人)"     # a group in one cell
    assert row["纠纷类型"] == "邻里纠纷"
    assert row["状态"] == "已登记"

    r = lead.get(server.url(MC + "/export"), params={"format": "csv", "title": "桂花巷噪音纠纷"}, timeout=30)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    crow = as_dicts(csv_rows(r.content))[0]
    assert crow["涉及金额(元)"] == "1234.56" and crow["当事人"] == "张三(申请人); 李四(被申请人)"
    assert crow["调解委员会"] == "甲镇" and crow["案件来源"] == row["案件来源"]


def test_csv_quotes_and_defuses(world):
    server, ids = world["server"], world["ids"]
    r = requests.get(server.url(MC + "/export"), params={"format": "csv", "committee": "ta1", "sort": "-id"},
                     timeout=30)
    assert r.status_code == 200, r.text
    rows = as_dicts(csv_rows(r.content))
    assert [int(x["记录编号"]) for x in rows] == [ids["ta1b"], ids["ta1"]]   # the list's sort
    assert rows[0]["纠纷名称"] == "'=HYPERLINK(\"x\"),逗号\"引号\""          # not run as a formula


def test_filters_and_search_are_the_lists(world):
    server = world["server"]
    for params in ({"received_on__gte": "2024-04-01"}, {"q": "纠纷", "committee": ["ta", "tb"]},
                   {"state": "registered", "sort": "-received_on"}):
        listed = requests.get(server.url(MC), params=dict(params, page_size=200), timeout=10).json()
        r = requests.get(server.url(MC + "/export"), params=dict(params, format="csv", page=1, page_size=1),
                         timeout=30)
        assert r.status_code == 200, r.text
        got = [int(x["记录编号"]) for x in as_dicts(csv_rows(r.content))]
        assert got == [x["id"] for x in listed["items"]], params
    bad = requests.get(server.url(MC + "/export"), params={"format": "csv", "nope": "1"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_filter"
    bad = requests.get(server.url(MC + "/export"), params={"format": "pdf"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_format"


def test_export_needs_the_export_permission(world):
    server = world["server"]
    insp = login(server, "insp")  # reads everything (audited) but may not export
    assert insp.get(server.url(MC), timeout=10).status_code == 200
    r = insp.get(server.url(MC + "/export"), params={"format": "xlsx"}, timeout=10)
    assert r.status_code == 403, r.text
    jo = login(server, "jo")  # the town office exports what it works, not reconsideration cases
    assert jo.get(server.url(MODULES + "/reconsideration_case/records"), timeout=10).status_code == 200
    r = jo.get(server.url(MODULES + "/reconsideration_case/records/export"), timeout=10)
    assert r.status_code == 403, r.text
    r = requests.get(server.url(MODULES + "/no_such_module/records/export"), timeout=10)
    assert r.status_code in (403, 404)


def test_personal_data_masked_unless_allowed_and_audited(world):
    server, ids = world["server"], world["ids"]
    masked_token = token_for(server, "admin", "legal_aid_case.read,legal_aid_case.export")
    r = requests.get(server.url(LA + "/export"), params={"format": "csv"}, headers=masked_token, timeout=30)
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8")
    assert VALID_ID not in text and "13800138000" not in text and "欧阳修" not in text
    assert "110105********002X" in text and "138****8000" in text

    r = requests.get(server.url(LA + "/export"), params={"format": "xlsx"}, timeout=30)  # admin: personal
    assert r.status_code == 200, r.text
    row = as_dicts(xlsx_rows(r.content))[0]
    assert row["记录编号"] == str(ids["la"])
    assert "欧阳修" in row["申请人"] and VALID_ID in row["申请人"] and "13800138000" in row["申请人"]

    audit = requests.get(server.url("/api/v1/audit"), params={"action": "records.export", "page_size": 100},
                         timeout=10).json()["items"]
    la = [e for e in audit if e["target"] == "legal_aid_case/export"]
    assert len(la) == 2
    clear, masked = la[0], la[1]  # newest first
    assert clear["details"]["personal"] is True and clear["details"]["format"] == "xlsx"
    assert masked["details"]["personal"] is False and masked["details"]["format"] == "csv"
    assert clear["details"]["rows"] == masked["details"]["rows"] == 1
    assert clear["details"]["module"] == "legal_aid_case" and clear["actor"] == "admin"
    filtered = [e for e in audit if e["target"] == "mediation_case/export" and e["details"]["filters"].get("committee")]
    assert filtered and filtered[-1]["details"]["filters"]["committee"] == "ta1"


def test_over_the_cap_is_refused_whole(world):
    server = world["server"]
    r = requests.put(server.url("/api/v1/system/settings/export.max_rows"), json={"value": "2"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    try:
        r = requests.get(server.url(MC + "/export"), params={"format": "xlsx"}, timeout=30)
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["code"] == "export_too_large" and err["details"] == {"total": 4, "max": 2}
        assert "缩小" in err["message"]
        r = requests.get(server.url(MC + "/export"), params={"format": "csv", "committee": "ta1"}, timeout=30)
        assert r.status_code == 200 and len(csv_rows(r.content)) == 3  # exactly at the cap: fine
    finally:
        requests.put(server.url("/api/v1/system/settings/export.max_rows"), json={"value": "100000"}, timeout=10)
