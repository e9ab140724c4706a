"""The annual report (issue 7, generation): POST /api/v1/reports/annual as a background job with its
progress, GET /api/v1/reports/{id}/download, the narrative passages (GET/PUT
/api/v1/reports/annual/{year}/passages…) and `sifa report annual`; the golden test builds the demo
county once and finds every figure of tests/golden/cixi-2021-figures.tsv in the generated 2021 report,
in the form the value column gives.

The server reads its template from reports/annual.md under its working directory: each server here
gets a symlink to the repository's reports/ (or a broken template of its own)."""

import csv
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import (REPO_ROOT, ROLES_FILE, SANITIZER_MARKERS, Factory, Server, assert_envelope, key_file_for,
                      server_env, sifa_bin)

PASSWORD = "Some-Long-Pass-2026"
GOLDEN = REPO_ROOT / "tests" / "golden" / "cixi-2021-figures.tsv"
RECORDS = "/api/v1/modules/mediation_case/records"
LINK = re.compile(r"\[([^\]]*)\]\(/api/v1/indicators/([a-z0-9_]+)/records\?([^)]*)\)")


def link_template(server_dir):
    d = Path(server_dir)
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "reports").exists():
        os.symlink(REPO_ROOT / "reports", d / "reports")


def run_cli(server, *args, timeout=600):
    """A sifa subcommand on server's database with a long timeout (the demo county under ASan)."""
    r = subprocess.run([sifa_bin()] + [str(a) for a in args] +
                       ["--db", str(server.paths["db"]), "--key_file", str(key_file_for(server.paths["db"])),
                        "--roles_file", str(ROLES_FILE), "--modules_dir", str(server.modules_dir),
                        "--indicators_dir", str(server.indicators_dir),
                        "--holidays_dir", str(REPO_ROOT / "data" / "holidays")],
                       capture_output=True, text=True, env=server_env(), timeout=timeout, cwd=str(REPO_ROOT))
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    return r


def generate(server, session=None, timeout=120, **body):
    r = (session or requests).post(server.url("/api/v1/reports/annual"), json=body, timeout=10)
    assert r.status_code == 202, r.text
    return r.json()["job"]


def wait_job(server, job_id, timeout=120):
    """Polls GET /api/v1/jobs/{id} (the admin token may); returns the final job and the progress seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        r = server.get("/api/v1/jobs/" + job_id)
        assert r.status_code == 200, r.text
        job = r.json()["job"]
        if job["result"] is not None:
            seen.append(job["result"]["progress"])
        if job["state"] in ("done", "failed"):
            return job, seen
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def download(server, job_id, session=None, timeout=120):
    """Polls the download until the report is ready (409 before); returns the final response."""
    deadline = time.monotonic() + timeout
    while True:
        r = (session or requests).get(server.url("/api/v1/reports/%s/download" % job_id), timeout=10)
        if r.status_code != 409:
            return r
        err = r.json()["error"]
        assert err["code"] == "report_not_ready"
        assert err["details"]["state"] in ("queued", "running")
        assert 0 <= err["details"]["progress"] < 100
        assert time.monotonic() < deadline
        time.sleep(0.02)


def report_md(server, year=2021, session=None, **extra):
    job = generate(server, session, year=year, format="md", **extra)
    r = download(server, job["id"], session)
    assert r.status_code == 200, r.text
    return r.content.decode("utf-8")


def plain(md):
    """The report's text without link targets and Markdown marks."""
    text = LINK.sub(lambda m: m.group(1), md)
    return text.replace("**", "").replace("\\", "")


def figures_by_code(md):
    out = {}
    for text, code, _query in LINK.findall(md):
        out.setdefault(code, []).append(text.replace("**", "").replace("\\", ""))
    return out


def login(server, user):
    s = requests.Session()
    r = s.post(server.url("/api/v1/auth/login"), json={"user": user, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def audit_items(server, action, want=1, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        r = server.get("/api/v1/audit", params={"action": action, "page_size": 100})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        if len(items) >= want or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


# ---------- the golden test: the demo county's 2021 report ----------

NUMBER = r"(?<![0-9.])%s(?![0-9])"


def golden_rows():
    with open(GOLDEN, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def assert_figure(key, value, texts, body):
    """The figure of key (texts: its link texts in the report) has the value column's form."""
    assert texts, "%s: no figure in the report" % key
    text = texts[0]
    assert "无数据" not in text and "无权" not in text, (key, text)
    v = value.rstrip("%")
    if v.startswith("-"):  # a decrease: "下降14.88%"
        assert "下降" + v[1:] + ("%" if value.endswith("%") else "") in text, (key, value, text)
    elif v.startswith(">"):  # ">50000": more than it, or "超过5万"; ">80%": "80%以上" or a larger rate
        bound = float(v[1:])
        m = re.search(r"超过(\d+)万", text)
        if m:
            assert int(m.group(1)) * 10000 >= bound, (key, text)
        else:
            assert float(re.search(r"[0-9.]+", text).group(0)) >= bound, (key, text)
            if float(text) == bound:
                assert re.search(re.escape(text) + "%?以上", body), (key, text)
    elif v.endswith("+"):  # "50+": "50余"
        assert text == v[:-1] + "余", (key, value, text)
    else:
        assert text == v or text.startswith(v) and not text[len(v):len(v) + 1].isdigit(), (key, value, text)
        assert re.search(NUMBER % re.escape(v), body), (key, value)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo county (sifa demo), built once on a server's database before the server starts."""
    factory = Factory(tmp_path_factory.mktemp("report-demo"))
    d = factory.tmp_path / "demo"
    link_template(d)
    server = Server(d)
    r = run_cli(server, "demo", "--scripts_dir", REPO_ROOT / "scripts")
    assert r.returncode == 0, r.stdout + r.stderr
    factory.servers.append(server)
    server.start()
    try:
        yield server
    finally:
        factory.finish()


def test_golden_figures_through_the_api(demo):
    job = generate(demo, year=2021, format="md", date="2022-02-28")
    assert job["kind"] == "report.annual" and job["state"] == "queued"
    done, seen = wait_job(demo, job["id"])
    assert done["state"] == "done", done
    assert seen == sorted(seen) and seen[-1] == 100, seen
    result = done["result"]
    assert result["figures"] >= 80 and result["missing"] == [] and result["denied"] == [], result
    assert result["year"] == 2021 and result["format"] == "md"
    r = demo.get(result["download"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/markdown")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    md = r.content.decode("utf-8")
    assert len(r.content) == result["bytes"]
    body = plain(md)
    assert body.startswith("# 慈溪市司法局关于2021年度法治政府建设工作情况的报告\n\n市委、市政府:")
    for heading in ("## 一、主要举措和成效", "### (一)", "### (二)", "### (三)", "存在一些问题和不足",
                    "## 二、下步工作安排", "慈溪市司法局\n\n2022年2月28日"):
        assert heading in body, heading
    by_code = figures_by_code(md)
    rows = golden_rows()
    assert len(rows) == 80
    for row in rows:
        assert_figure(row["key"], row["value"], by_code.get(row["key"]), body)
    # the report's own wording for the rounded figures
    for phrase in ("重大行政决策50余件", "参与人数超过5万人", "涉及金额共计1.78亿元", "行政争议发案量同比下降14.88%",
                   "纠纷总数80%以上", "调处成功率99.9%", "败诉率4.40%", "法援协同率保持100%", "3200余家企业",
                   "法律帮助900余次", "250余名行政执法人员"):
        assert phrase in body, phrase
    # every figure links to its records
    for _text, code, query in LINK.findall(md):
        assert query == "period=2021", (code, query)
    r = demo.get("/api/v1/indicators/mediation_cases/records", params={"period": "2021", "page_size": 1})
    assert r.status_code == 200 and r.json()["total"] == 12033
    items = audit_items(demo, "report.generate")
    assert any(i["target"] == job["id"] for i in items), items


def test_golden_html_and_the_command_line(demo, tmp_path):
    out = tmp_path / "r.html"
    r = run_cli(demo, "report", "annual", "--year", "2021", "--format", "html", "--out", out,
                "--template", REPO_ROOT / "reports" / "annual.md", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "80 个数字" in r.stderr and "全部有数据" in r.stderr, r.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert 'class="figure missing"' not in html
    links = re.findall(r'<a class="figure" href="/api/v1/indicators/([a-z0-9_]+)/records\?period=2021" '
                       r'data-indicator="\1">([^<]*)</a>', html)
    by_code = {}
    for code, text in links:
        by_code.setdefault(code, []).append(text)
    body = re.sub(r"<[^>]+>", "", html)
    for row in golden_rows():
        assert_figure(row["key"], row["value"], by_code.get(row["key"]), body)
    # an org unit's report: its figures link to its records
    r = run_cli(demo, "report", "annual", "--year", "2021", "--org", "330282101", "--format", "md",
                "--template", REPO_ROOT / "reports" / "annual.md", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "&org=330282101)" in r.stdout
    assert "**[【无数据】]" in r.stdout  # a town lacks some county-wide figures: flagged, never 0
    # usage errors
    r = run_cli(demo, "report", "annual", "--year", "2021", timeout=30)
    assert r.returncode == 2 and "[usage]" in r.stderr
    r = run_cli(demo, "report", "annual", "--year", "2021", "--format", "md", "--org", "nowhere",
                "--template", REPO_ROOT / "reports" / "annual.md", timeout=30)
    assert r.returncode == 1 and "[org_not_found]" in r.stderr
    r = run_cli(demo, "report", "annual", "--year", "2021", "--format", "md", "--template", tmp_path / "none.md",
                timeout=30)
    assert r.returncode == 1 and "[template_missing]" in r.stderr


# ---------- a small world ----------

def mediation_case(server, committee, concluded_on, outcome="success", amount="100.00", received_on="2021-02-01"):
    r = requests.post(server.url(RECORDS), json={"committee": committee, "source": "walk_in", "title": "纠纷",
                                                 "received_on": received_on, "amount": amount}, timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = requests.post(server.url("%s/%d/transitions/accept" % (RECORDS, rid)),
                      json={"dispute_type": "neighborhood", "accepted_on": received_on}, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(server.url("%s/%d/transitions/conclude" % (RECORDS, rid)),
                      json={"outcome": outcome, "concluded_on": concluded_on}, timeout=10)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    factory = Factory(tmp_path_factory.mktemp("report-world"))
    link_template(factory.tmp_path / "world")
    server = factory.start(name="world")
    try:
        for args in (("c", "--name", "慈溪市", "--kind", "city"),
                     ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                     ("ca", "--name", "甲镇调委会", "--kind", "mediation_committee", "--parent", "ta")):
            r = server.cli("org", "add", *args)
            assert r.returncode == 0, r.stderr
        for name, org, role in (("lead", "c", "leadership"), ("sa", "ta", "mediation_staff"),
                                ("lg", "c", "lawgov_staff")):
            r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                           "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
            assert r.returncode == 0, r.stderr
        for i in range(3):  # 2021: 3 concluded, 2 successful, 1.5万元 in all
            mediation_case(server, "ca", "2021-03-%02d" % (i + 1), "success" if i < 2 else "failure", "5000.00")
        yield server
    finally:
        factory.finish()


def test_generate_for_a_small_world(world):
    job = generate(world, year=2021, format="md")
    assert set(job) == {"id", "kind", "state", "href", "download"}
    assert re.fullmatch(r"rep-[0-9a-f]{24}", job["id"])
    assert job["href"] == "/api/v1/reports/" + job["id"]  # not /api/v1/jobs/{id}: that needs system.admin
    assert job["download"] == "/api/v1/reports/%s/download" % job["id"]
    done, seen = wait_job(world, job["id"])
    assert done["state"] == "done", done
    assert seen == sorted(seen) and seen[-1] == 100
    assert done["result"]["created_by"] == "admin"
    md = download(world, job["id"]).content.decode("utf-8")
    figs = figures_by_code(md)
    assert figs["mediation_cases"] == ["3"]
    assert figs["mediation_succeeded"] == ["2"]
    assert figs["mediation_success_rate"] == ["66.7"]
    assert figs["mediation_amount"] == ["0.00亿元"]
    # no legal-aid records: the figure says so, it is not 0, and the job lists it
    assert figs["legal_aid_cases"] == ["【无数据】"]
    assert "**[【无数据】](/api/v1/indicators/legal_aid_cases/records?period=2021)**" in md
    assert "legal_aid_cases" in done["result"]["missing"]
    assert "[0](" not in md
    # its state for whoever asked for it, without system.admin
    status = world.get("/api/v1/reports/%s" % job["id"]).json()
    assert status["state"] == "done" and status["progress"] == 100 and status["format"] == "md"
    assert status["download"] == job["download"] and status["year"] == 2021
    # and what the job row has of the finished report: its figures and its file
    for key in ("figures", "missing", "denied", "filename", "bytes", "title"):
        assert status[key] == done["result"][key], key
    assert status["figures"] > 0 and "legal_aid_cases" in status["missing"] and status["denied"] == []
    assert status["filename"].endswith(".md") and status["bytes"] == len(md.encode("utf-8"))
    # the report belongs to whoever asked for it
    lead = login(world, "lead")
    assert_envelope(lead.get(world.url(job["download"]), timeout=10), 404, "not_found")
    assert_envelope(lead.get(world.url("/api/v1/reports/%s" % job["id"]), timeout=10), 404, "not_found")
    # HTML of an org unit
    job = generate(world, year=2021, format="html", org="ta")
    r = download(world, job["id"])
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    html = r.text
    assert ('<a class="figure" href="/api/v1/indicators/mediation_cases/records?period=2021&amp;org=ta" '
            'data-indicator="mediation_cases">3</a>') in html
    assert '<a class="figure missing" href="/api/v1/indicators/legal_aid_cases/records?period=2021&amp;org=ta"' in html
    audit = audit_items(world, "report.download", want=2)
    assert len(audit) >= 2


def test_create_is_validated(world):
    url = world.url("/api/v1/reports/annual")
    for body, field in (({"format": "md"}, "year"), ({"year": "2021", "format": "md"}, "year"),
                        ({"year": 1800, "format": "md"}, "year"), ({"year": 2021}, "format"),
                        ({"year": 2021, "format": "xls"}, "format"), ({"year": 2021, "format": "md", "org": 5}, "org"),
                        ({"year": 2021, "format": "md", "date": "2022-13-01"}, "date")):
        err = assert_envelope(requests.post(url, json=body, timeout=10), 422, "validation")
        assert err["details"][0]["field"] == field, (body, err)
    assert_envelope(requests.post(url, json=[2021], timeout=10), 400, "bad_json")
    err = assert_envelope(requests.post(url, json={"year": 2021, "format": "md", "org": "nowhere"}, timeout=10),
                          404, "org_not_found")
    assert err["details"] == {"org": "nowhere"}
    sa = login(world, "sa")  # mediation staff: no reports.generate
    assert_envelope(sa.post(url, json={"year": 2021, "format": "md"}, timeout=10), 403, "denied")
    for bad in ("nope", "rep-" + "0" * 24, "rep-" + "g" * 24, "job-0011223344556677"):
        assert_envelope(world.get("/api/v1/reports/%s/download" % bad), 404, "not_found")


def test_leadership_polls_the_download_and_a_token_sees_only_its_modules(world):
    lead = login(world, "lead")
    r = lead.post(world.url("/api/v1/reports/annual"), json={"year": 2021, "format": "md"}, timeout=10)
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert r.headers["Location"] == job["href"] == "/api/v1/reports/" + job["id"]
    assert_envelope(lead.get(world.url("/api/v1/jobs/" + job["id"]), timeout=10), 403, "denied")  # for admins
    r = download(world, job["id"], lead)
    assert r.status_code == 200, r.text
    # the link the answer gave is the caller's to poll: the figures and the file once done
    status = lead.get(world.url(job["href"]), timeout=10).json()
    assert status["state"] == "done" and status["figures"] > 0 and status["format"] == "md"
    assert "legal_aid_cases" in status["missing"] and status["bytes"] == len(r.content)
    assert figures_by_code(r.text)["mediation_cases"] == ["3"]
    # a token limited to reports and mediation: every other figure is shown as not visible
    r = world.cli("token", "create", "--user", "admin", "--name", "reports-only", "--scopes",
                  "reports.generate,mediation_case.read")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + r.stdout.strip()
    md = report_md(world, session=s)
    figs = figures_by_code(md)
    assert figs["mediation_cases"] == ["3"]
    assert figs["legal_aid_cases"] == ["【无权查看】"]


def test_a_failed_job_says_why(sifa):
    d = sifa.tmp_path / "broken"
    (d / "reports").mkdir(parents=True)
    (d / "reports" / "annual.md").write_text("# 报告\n\n共{{mediation_cases\n", encoding="utf-8")
    server = sifa.start(name="broken")
    job = generate(server, year=2021, format="md")
    done, _ = wait_job(server, job["id"])
    assert done["state"] == "failed"
    assert "reports/annual.md:3:2" in done["error"], done
    assert done["result"]["code"] == "template_syntax"
    err = assert_envelope(server.get(job["download"]), 422, "report_failed")
    assert err["details"]["cause"] == "template_syntax"
    status = server.get("/api/v1/reports/%s" % job["id"]).json()
    assert status["state"] == "failed" and "reports/annual.md:3:2" in status["error"] and "download" not in status
    assert_envelope(server.get("/api/v1/reports/annual/2021/passages"), 400, "template_syntax")
    (d / "reports" / "annual.md").unlink()
    assert_envelope(server.get("/api/v1/reports/annual/2021/passages"), 404, "template_missing")


def test_passages_edited_through_the_api_appear_in_the_next_report(world):
    r = world.get("/api/v1/reports/annual/2021/passages")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2021 and body["org"] is None
    items = {i["key"]: i for i in body["items"]}
    assert body["total"] == len(items) >= 10
    intro = items["intro"]
    assert intro["stored"] is False and intro["text"] == intro["default"]
    assert intro["default"].startswith("2021年是贯彻落实") and intro["updated_at"] is None
    assert "\n" in items["next_steps"]["default"]  # paragraphs

    lg = login(world, "lg")  # 法制业务人员: reports.edit
    url = world.url("/api/v1/reports/annual/2021/passages/intro")
    r = lg.put(url, json={"text": "二〇二一年,我局坚持依法行政。\n\n第二段说明。"}, timeout=10)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["stored"] is True and got["updated_by"] == "lg" and got["key"] == "intro"
    r = lg.put(world.url("/api/v1/reports/annual/2021/passages/problems"), json={"text": "一是问题甲;二是问题乙。"},
               timeout=10)
    assert r.status_code == 200, r.text
    r = lg.put(url, json={"text": "甲镇的引言。", "org": "ta"}, timeout=10)
    assert r.status_code == 200, r.text

    items = {i["key"]: i for i in world.get("/api/v1/reports/annual/2021/passages").json()["items"]}
    assert items["intro"]["stored"] is True and items["intro"]["text"].startswith("二〇二一年")
    assert items["intro"]["updated_by"] == "lg"
    ta = {i["key"]: i for i in world.get("/api/v1/reports/annual/2021/passages", params={"org": "ta"}).json()["items"]}
    assert ta["intro"]["text"] == "甲镇的引言。" and ta["problems"]["stored"] is False

    md = plain(report_md(world))
    assert "市委、市政府:\n\n二〇二一年,我局坚持依法行政。\n\n第二段说明。现将我局2021年度推进法治政府建设" in md
    assert "2021年是贯彻落实" not in md
    assert "但还存在一些问题和不足:一是问题甲;二是问题乙。" in md
    assert "甲镇的引言。现将我局" in plain(report_md(world, org="ta"))
    assert "二〇二一年" not in plain(report_md(world, year=2022))  # another year keeps the default

    # back to the default
    r = lg.put(url, json={"text": None}, timeout=10)
    assert r.status_code == 200 and r.json()["stored"] is False and r.json()["text"] == intro["default"]
    assert "2021年是贯彻落实" in plain(report_md(world))

    # refusals
    assert_envelope(lg.put(world.url("/api/v1/reports/annual/2021/passages/no_such"), json={"text": "x"}, timeout=10),
                    404, "passage_not_found")
    assert_envelope(lg.put(url, json={"text": "控制\u0001字符"}, timeout=10), 422, "validation")
    assert_envelope(lg.put(url, json={"text": 5}, timeout=10), 422, "validation")
    assert_envelope(lg.put(url, json={"text": "x" * 40000}, timeout=10), 413, "validation")
    assert_envelope(lg.put(url, json={"text": "x", "org": "nowhere"}, timeout=10), 404, "org_not_found")
    assert_envelope(lg.put(world.url("/api/v1/reports/annual/20x1/passages/intro"), json={"text": "x"}, timeout=10),
                    400, "bad_year")
    assert_envelope(world.get("/api/v1/reports/annual/1700/passages"), 400, "bad_year")
    lead = login(world, "lead")  # may generate, may not edit
    assert_envelope(lead.put(url, json={"text": "x"}, timeout=10), 403, "denied")
    assert lead.get(world.url("/api/v1/reports/annual/2021/passages"), timeout=10).status_code == 200

    entries = audit_items(world, "report.passage", want=4)
    assert len(entries) >= 4
    assert {e["target"] for e in entries} >= {"2021//intro", "2021//problems", "2021/ta/intro"}
    assert all(e["actor"] == "lg" for e in entries)
