"""POST /api/v1/reports/check and `sifa check-report` (src/report/check.c) against the demo county.

One server for the module: a database made by the conftest Factory, filled with the demo county
(scripts/demo_county.py, as scripts/run-tests.sh builds it: 慈溪市 in 2021, every record behind the
figures of its annual report). The report itself (tests/golden/check/cixi-2021.txt, a copy of
../shared/fixtures/000_1d178bebcc002d28.txt) is then checked: every claim that maps to an indicator
is OK except 调解成功率为72.72% (8 ÷ 11 = 72.73%), over the API and on the command line alike."""

import datetime
import io
import json
import subprocess
import sys
import zipfile

import pytest
import requests

from conftest import REPO_ROOT, ROLES_FILE, Factory, Server, assert_envelope, cli, key_file_for, server_env, sifa_bin

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from demo import orgs as demo_orgs  # noqa: E402

CHECK = "/api/v1/reports/check"
REPORT = REPO_ROOT / "tests" / "golden" / "check" / "cixi-2021.txt"
PASSWORD = "Check-Report-Pass-2026"
FLAGS = ["--modules_dir", str(REPO_ROOT / "modules"), "--indicators_dir", str(REPO_ROOT / "indicators"),
         "--holidays_dir", str(REPO_ROOT / "data" / "holidays"), "--roles_file", str(ROLES_FILE)]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    factory = Factory(tmp_path_factory.mktemp("check_report"))
    server = Server(factory.tmp_path / "county")  # sifa init and an admin token
    factory.servers.append(server)
    try:
        db = server.paths["db"]
        r = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "demo_county.py"), "--sifa", sifa_bin(),
                            "--db", str(db), "--key_file", str(key_file_for(db)), "--"] + FLAGS,
                           capture_output=True, text=True, env=server_env(), cwd=str(REPO_ROOT), timeout=1800)
        assert r.returncode == 0, r.stdout + r.stderr
        server.start()
        yield server
    finally:
        factory.finish()


def post(server, body, session=None, **params):
    if isinstance(body, str):
        body = body.encode("utf-8")
    return (session or requests).post(server.url(CHECK), params=params, data=body, timeout=120,
                                      headers={"Content-Type": "text/plain; charset=utf-8"})


def checked(server, body, **params):
    r = post(server, body, **params)
    assert r.status_code == 200, r.text
    return r.json()


def claim(result, text, line=None):
    found = [c for c in result["claims"] if c["text"] == text and (line is None or c["line"] == line)]
    assert found, (text, line)
    return found[0]


def indicator_check(c):
    checks = [k for k in c["checks"] if k["type"] == "indicator"]
    return checks[0] if checks else None


def test_every_mapped_claim_is_ok_but_the_reports_own_error(county):
    result = checked(county, REPORT.read_text(encoding="utf-8"), year=2021)
    assert result["year"] == 2021 and result["database"] is True
    assert result["mismatches"] == 1
    assert [c["text"] for c in result["claims"] if c["status"] == "MISMATCH"] == ["72.72%"]
    mapped = [c for c in result["claims"] if indicator_check(c) is not None]
    assert len(mapped) >= 30, [c["text"] for c in mapped]
    for c in mapped:
        k = indicator_check(c)
        if c["text"] == "72.72%":
            assert (k["status"], k["computed"], k["indicator"]) == ("MISMATCH", "72.73",
                                                                   "commercial_mediation_success_rate"), c
            assert c["computed"] == "72.73" and (c["line"], c["column"]) == (7, 449)
        else:
            assert k["status"] == "OK", c
    # figures the text alone cannot settle, settled by the indicators
    expected = {("634件", 6): "normdoc_cleaned", ("4.40%", 6): "litigation_loss_rate",
                ("14.88%", 6): "admin_disputes", ("1.78亿元", 7): "mediation_amount",
                ("12015件", 7): "mediation_succeeded", ("8件", 7): "commercial_mediation_succeeded",
                ("99.9%", 7): "mediation_success_rate", ("50余件", 6): "major_decisions_published",
                ("30件", 7): "hotline_daily_active", ("100%", 7): "legal_aid_collaboration_rate"}
    for (text, line), code in expected.items():
        c = claim(result, text, line)
        assert c["status"] == "OK", c
        assert indicator_check(c)["indicator"] == code, c
    assert claim(result, "14.88%")["value"] == "-14.88"
    # every mapped claim agrees with the report's figure list (tests/golden/cixi-2021-figures.tsv)
    spec = {}
    for row in (REPO_ROOT / "tests" / "golden" / "cixi-2021-figures.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if row.strip():
            spec[row.split("\t")[0]] = row.split("\t")[1]
    for c in mapped:
        code = indicator_check(c)["indicator"]
        if code in spec and c["text"] != "72.72%":
            assert spec[code].rstrip("%").lstrip(">").rstrip("+").rstrip("亿").lstrip("-") in c["text"], (c, spec[code])


def test_the_year_comes_from_the_reports_opening(county):
    """The real report's first line is "|" (its title page lost in conversion): the year is the
    first "YYYY年" of its opening ("2021年是……开局之年"), so that without ?year= the database
    still refutes its one error; it used to fall back to another year and every database
    comparison was UNVERIFIABLE. The answer says where the year came from."""
    text = REPORT.read_text(encoding="utf-8")
    assert text.splitlines()[0].strip() == "|"
    given = checked(county, text, year=2021)
    assert given["year_source"] == "given"
    found = checked(county, text)
    assert found["year"] == 2021 and found["year_source"] == "text", {k: found[k] for k in ("year", "year_source")}
    assert found["mismatches"] == 1
    keys = ("line", "column", "text", "status", "computed")
    assert [tuple(c[k] for k in keys) for c in found["claims"]] == [tuple(c[k] for k in keys) for c in given["claims"]]
    # no year in the opening: the year before this one (a report is about the year that ended)
    none = checked(county, "共清理规范性文件634件,其中保留361件,废止、修改273件。\n")
    china = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    assert none["year_source"] == "default" and none["year"] == china.year - 1
    r = cli("check-report", REPORT, "--json")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["year"] == 2021 and json.loads(r.stdout)["year_source"] == "text"


def test_the_command_line_gives_the_same(county):
    api = checked(county, REPORT.read_text(encoding="utf-8"), year=2021)
    db = county.paths["db"]
    r = cli("check-report", REPORT, "--year", "2021", "--json", "--db", db, "--key_file", key_file_for(db), *FLAGS)
    assert r.returncode == 1, r.stderr  # a MISMATCH
    got = json.loads(r.stdout)
    keys = ("line", "column", "text", "status", "computed")
    assert [tuple(c[k] for k in keys) for c in got["claims"]] == [tuple(c[k] for k in keys) for c in api["claims"]]
    assert got["mismatches"] == api["mismatches"] == 1
    # as text: one line per claim, then the summary
    r = cli("check-report", REPORT, "--year", "2021", "--db", db, "--key_file", key_file_for(db), *FLAGS)
    assert r.returncode == 1
    assert "7:449\tMISMATCH\t72.72%" in r.stdout
    assert "2021 年:共 %d 处数字" % len(api["claims"]) in r.stdout
    # without a database only the checks within the text run; the same error is found
    r = cli("check-report", REPORT, "--year", "2021", "--json")
    assert r.returncode == 1, r.stderr
    alone = json.loads(r.stdout)
    assert alone["database"] is False and alone["mismatches"] == 1
    # a correct text exits 0; usage errors exit 2
    ok = county.paths["dir"] / "ok.txt"
    ok.write_text("共清理规范性文件634件,其中保留361件,废止、修改273件。\n", encoding="utf-8")
    r = cli("check-report", ok, "--year", "2021", "--db", db, "--key_file", key_file_for(db), *FLAGS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert cli("check-report").returncode == 2
    assert cli("check-report", ok, "--year", "21").returncode == 2
    assert cli("check-report", ok, "--bogus").returncode == 2
    assert cli("check-report", county.paths["dir"] / "missing.txt").returncode == 2
    bad = county.paths["dir"] / "bad.txt"
    bad.write_bytes("第一行\n共12件".encode("utf-8") + b"\xff\n")
    r = cli("check-report", bad)
    assert r.returncode == 2 and "report_bad_utf8" in r.stderr and ":2:5" in r.stderr, r.stderr


def test_changed_figures_are_found_against_the_indicators(county):
    text = REPORT.read_text(encoding="utf-8")
    for old, new in (("共调处矛盾纠纷12033件", "共调处矛盾纠纷12043件"), ("涉及金额共计1.78亿元", "涉及金额共计1.87亿元"),
                     ("内聘公职律师94名", "内聘公职律师95名"), ("同比下降14.88%", "同比下降15.88%")):
        assert text.count(old) == 1
        text = text.replace(old, new)
    result = checked(county, text, year=2021)
    mism = {c["text"]: c for c in result["claims"] if c["status"] == "MISMATCH"}
    assert set(mism) == {"12043件", "1.87亿元", "95名", "15.88%", "72.72%"}, list(mism)
    assert mism["12043件"]["computed"] == "12033" and indicator_check(mism["12043件"])["indicator"] == "mediation_cases"
    assert mism["1.87亿元"]["computed"] == "1.78"
    assert mism["95名"]["computed"] == "94"
    assert mism["15.88%"]["computed"] == "-14.88"
    # 12015 of the written 12043 is 99.8%, not the 99.9% written: the text cannot name the rate's
    # figures with certainty, the indicator can, and agrees with 99.9%
    assert claim(result, "99.9%")["status"] == "OK"


def test_year_and_org(county):
    text = REPORT.read_text(encoding="utf-8")
    # a report whose opening names no year: last year, for which the county has no counts; a figure
    # that differs there (a stock at the end of last year) is no error, the year is only a guess
    yearless = "|\n" + "以下为报告正文。" * 80 + "\n" + text  # 640 characters before any year
    result = checked(county, yearless)
    assert result["year"] >= 2025 and result["year_source"] == "default"
    assert result["mismatches"] == 1  # the rate within the text
    assert all(indicator_check(c) is None or indicator_check(c)["status"] != "MISMATCH" for c in result["claims"])
    assert "没有该年度的数据" in indicator_check(claim(result, "12033件"))["explanation"]
    k = indicator_check(claim(result, "1225人"))
    assert k["status"] == "UNVERIFIABLE" and "指定年份" in k["explanation"], k
    # a title with the year
    result = checked(county, "慈溪市司法局2021年度法治政府建设工作情况报告\n" + yearless)
    assert result["year"] == 2021 and result["year_source"] == "text" and result["mismatches"] == 1
    assert claim(result, "12033件")["status"] == "OK"
    # a town's report is judged against the town's figures
    town = demo_orgs.TOWNS[0][0]
    r = requests.get(county.url("/api/v1/indicators"), params={"codes": "mediation_cases", "period": "2021", "org": town},
                     timeout=10)
    assert r.status_code == 200, r.text
    n = r.json()["items"][0]["value"]
    assert 10 < n < 12033
    result = checked(county, "2021年,全镇共调处矛盾纠纷%d件。\n2021年,全镇共调处矛盾纠纷%d件。" % (n, n + 1), year=2021, org=town)
    assert result["org"] == town
    assert indicator_check(claim(result, "%d件" % n))["status"] == "OK"
    k = indicator_check(claim(result, "%d件" % (n + 1)))
    assert k["status"] == "MISMATCH" and k["computed"] == str(n), k
    # the county's figure against the town's is too far off to be a typo: another figure, not an error
    result = checked(county, "2021年,全市各级人民调解组织共调处矛盾纠纷12033件。", year=2021, org=town)
    k = indicator_check(claim(result, "12033件"))
    assert k["status"] == "UNVERIFIABLE" and k["computed"] == str(n), k
    r = post(county, "共12件", org="no_such_org")
    assert_envelope(r, 404, "org_not_found")


def test_a_caller_sees_only_what_it_may_read(county):
    office = demo_orgs.DEPARTMENTS["mediation"][0]
    r = county.cli("user", "add", "tjk", "--display-name", "调解科", "--org", office, "--roles", "mediation_staff",
                   "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    r = s.post(county.url("/api/v1/auth/login"), json={"user": "tjk", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    r = post(county, REPORT.read_text(encoding="utf-8"), session=s, year=2021)
    assert r.status_code == 200, r.text
    result = r.json()
    # legal aid is not theirs to read: never read, never a mismatch
    k = indicator_check(claim(result, "1131件"))
    assert k is not None and k["status"] == "UNVERIFIABLE" and k["computed"] is None, k
    assert "无权" in k["explanation"]
    # nothing the caller reads with its narrower scope is called wrong
    assert [c["text"] for c in result["claims"] if c["status"] == "MISMATCH"] == ["72.72%"]
    # a town's judicial office reads its town's figures: they may confirm the county's report, never
    # refute it (unless the town is named as the report's org)
    town = demo_orgs.TOWNS[0][0]
    r = county.cli("user", "add", "hsjo", "--display-name", "浒山司法所", "--org", town, "--roles", "judicial_office",
                   "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    r = s.post(county.url("/api/v1/auth/login"), json={"user": "hsjo", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    r = post(county, REPORT.read_text(encoding="utf-8"), session=s, year=2021)
    assert r.status_code == 200, r.text
    result = r.json()
    assert [c["text"] for c in result["claims"] if c["status"] == "MISMATCH"] == ["72.72%"]
    k = indicator_check(claim(result, "12033件"))
    assert k["status"] == "UNVERIFIABLE" and int(k["computed"]) < 12033, k
    k = indicator_check(claim(result, "99.9%"))
    assert k["status"] != "MISMATCH", k


def test_docx_and_bad_input(county):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml",
                   '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>2021年,全市各级人民调解组织共调处矛盾纠纷'
                   '12033件,调解成功12015件,调处成功率99.8%。</w:t></w:r></w:p></w:body></w:document>')
    result = checked(county, buf.getvalue(), year=2021)
    assert [c["text"] for c in result["claims"]] == ["12033件", "12015件", "99.8%"]
    assert claim(result, "99.8%")["status"] == "MISMATCH" and claim(result, "99.8%")["computed"] == "99.9"
    assert_envelope(post(county, b"PK\x03\x04 not a zip"), 400, "docx_invalid")
    err = assert_envelope(post(county, "第一行\n共12件".encode("utf-8") + b"\xff"), 400, "report_bad_utf8")
    assert (err["details"]["line"], err["details"]["column"]) == (2, 5)
    assert_envelope(post(county, "共12件", year="21"), 400, "bad_year")
    assert_envelope(post(county, "共12件", year="abcd"), 400, "bad_year")
    r = requests.post(county.url(CHECK), data="共12件".encode("utf-8"), headers={"Authorization": "Bearer nope"},
                      timeout=10)
    assert r.status_code == 401
    r = post(county, b"")
    assert r.status_code == 200 and r.json()["claims"] == [] and r.json()["mismatches"] == 0
    r = post(county, b"a" * (8 * 1024 * 1024 + 1))
    assert r.status_code == 413, r.status_code


def test_the_generated_annual_report_checks_clean(county):
    """`sifa report annual` (src/report, another part of issue 7) writes every figure from the
    indicators; checked against the same indicators, none is wrong, whatever the format."""
    for fmt in ("md", "docx"):
        out = county.paths["dir"] / ("annual." + fmt)
        r = county.cli("report", "annual", "--year", "2021", "--format", fmt, "--out", out)
        assert r.returncode == 0, r.stderr[-300:]
        result = checked(county, out.read_bytes(), year=2021)
        assert result["mismatches"] == 0, [c for c in result["claims"] if c["status"] == "MISMATCH"]
        assert sum(1 for c in result["claims"] if indicator_check(c) and indicator_check(c)["status"] == "OK") >= 30
