"""`sifa import` (records of a module from JSON lines, through the record engine) and `sifa org
import` (org units from JSON lines): both all-or-nothing, with line numbers in their errors."""

import json
import sqlite3

import requests

RECORDS = "/api/v1/modules/mediation_case/records"


def write_lines(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def orgs(server, tmp_path):
    path = write_lines(tmp_path / "orgs.jsonl", [
        {"code": "c", "name": "慈溪市", "kind": "city", "division": "330282"},
        {"code": "t1", "name": "浒山街道", "kind": "street", "parent": "c", "division": "330282001"},
        "",
        {"code": "m1", "name": "浒山街道人民调解委员会", "kind": "mediation_committee", "parent": "t1"},
    ])
    r = server.cli("org", "import", path)
    assert r.returncode == 0, r.stderr
    assert "3" in r.stdout


def test_org_import_is_all_or_nothing(server, tmp_path):
    orgs(server, tmp_path)
    r = requests.get(server.url("/api/v1/orgs"), timeout=10)
    assert r.status_code == 200, r.text
    by_code = {o["code"]: o for o in r.json()["items"]}
    assert by_code["m1"]["path"] == "/c/t1/m1/" and by_code["t1"]["division_code"] == "330282001"
    bad = write_lines(tmp_path / "bad.jsonl", [
        {"code": "t2", "name": "宗汉街道", "kind": "street", "parent": "c"},
        {"code": "t3", "name": "坎墩街道", "kind": "no_such_kind", "parent": "c"},
    ])
    r = server.cli("org", "import", bad)
    assert r.returncode == 1
    assert "第 2 行" in r.stderr and "bad_org_kind" in r.stderr
    r = requests.get(server.url("/api/v1/orgs"), timeout=10)
    assert "t2" not in {o["code"] for o in r.json()["items"]}  # the good first line was not kept either
    r = server.cli("org", "import", write_lines(tmp_path / "junk.jsonl", ["{not json"]))
    assert r.returncode == 1 and "第 1 行" in r.stderr


def test_record_import_with_states_feeds_history_and_figures(server, tmp_path):
    orgs(server, tmp_path)
    rows = [
        {"committee": "m1", "source": "walk_in", "title": "已办结的旧案", "received_on": "2020-03-02",
         "accepted_on": "2020-03-03", "concluded_on": "2020-03-20", "outcome": "success", "amount": "1200.50",
         "state": "concluded"},
        {"committee": "m1", "source": "grid", "title": "仍在调解", "received_on": "2020-12-28",
         "accepted_on": "2020-12-29", "state": "accepted"},
        {"committee": "m1", "source": "walk_in", "title": "刚登记", "received_on": "2021-01-04"},
    ]
    r = server.cli("import", "--module", "mediation_case", write_lines(tmp_path / "m.jsonl", rows))
    assert r.returncode == 0, r.stderr
    page = requests.get(server.url(RECORDS), params={"sort": "id"}, timeout=10).json()
    assert [i["state"] for i in page["items"]] == ["concluded", "accepted", "registered"]
    assert page["items"][0]["case_no"] == "(2020)慈调字第00001号"
    history = requests.get(server.url("%s/%d/history" % (RECORDS, page["items"][0]["id"])), timeout=10).json()
    assert history["history"][0]["changes"]["state"] == {"old": None, "new": "concluded"}
    r = requests.get(server.url("/api/v1/indicators"),
                     params={"codes": "mediation_cases,mediation_amount", "period": "2020"}, timeout=10)
    got = {i["indicator"]: i for i in r.json()["items"]}
    assert got["mediation_cases"]["value"] == 1 and got["mediation_amount"]["text"] == "1200.50"
    # the reopened case can go on through the workflow like any other
    r = requests.post(server.url("%s/%d/transitions/conclude" % (RECORDS, page["items"][1]["id"])),
                      json={"outcome": "success", "concluded_on": "2021-01-10"}, timeout=10)
    assert r.status_code == 200, r.text
    r = server.cli("audit", "export")
    assert r.returncode == 0 and "record.import" in r.stdout


def test_record_import_refuses_everything_when_a_line_is_bad(server, tmp_path):
    orgs(server, tmp_path)
    rows = [
        {"committee": "m1", "source": "walk_in", "title": "好的一行", "received_on": "2021-01-04"},
        {"committee": "m1", "source": "walk_in", "title": "状态不对", "received_on": "2021-01-04", "state": "done"},
        {"committee": "m1", "source": "nowhere", "title": "来源不对", "received_on": "2021-13-04"},
        "{broken",
    ]
    r = server.cli("import", "--module", "mediation_case", write_lines(tmp_path / "bad.jsonl", rows))
    assert r.returncode == 1
    assert "第 2 行" in r.stderr and "unknown_state" in r.stderr
    assert "第 3 行" in r.stderr and "source" in r.stderr and "received_on" in r.stderr
    assert "第 4 行" in r.stderr and "bad_json" in r.stderr
    assert requests.get(server.url(RECORDS), timeout=10).json()["total"] == 0
    r = server.cli("import", "--module", "no_such_module", tmp_path / "bad.jsonl")
    assert r.returncode != 0


def test_a_large_import_keeps_file_order_through_the_reading_thread(server, tmp_path):
    """More lines than the reader's ring (1024) holds, blank lines among them, across batches: every
    record is written, and in file order — each case's number follows its line."""
    orgs(server, tmp_path)
    rows = []
    for i in range(3000):
        rows.append({"committee": "m1", "source": "walk_in", "title": "第%d行" % i, "received_on": "2021-05-06"})
        if i % 997 == 0:
            rows.append("")
    r = server.cli("import", "--module", "mediation_case", "--batch", "700", write_lines(tmp_path / "big.jsonl", rows))
    assert r.returncode == 0, r.stderr
    assert "3000" in r.stdout
    server.stop()
    with sqlite3.connect(str(server.paths["db"])) as db:
        got = db.execute("SELECT f_title, f_case_no FROM m_mediation_case ORDER BY id").fetchall()
    server.start()
    assert len(got) == 3000
    for i, (title, number) in enumerate(got):
        assert title == "第%d行" % i and number == "(2021)慈调字第%05d号" % (i + 1), (i, title, number)


def test_long_lines_are_read_ahead_within_a_memory_cap(server, tmp_path):
    """Lines of almost a MiB each (blank ones here) fill the reader's 32 MiB cap long before its
    1024 slots: the reader waits for the writer instead of holding them all, and nothing is lost."""
    orgs(server, tmp_path)
    rows = []
    for i in range(60):
        rows.append(" " * (1024 * 1024 - 2))
        rows.append({"committee": "m1", "source": "walk_in", "title": "长行之后%d" % i, "received_on": "2021-05-06"})
    r = server.cli("import", "--module", "mediation_case", write_lines(tmp_path / "long.jsonl", rows))
    assert r.returncode == 0, r.stderr
    assert "60" in r.stdout
    page = requests.get(server.url(RECORDS), params={"sort": "id", "page_size": 100}, timeout=10).json()
    assert [i["title"] for i in page["items"]] == ["长行之后%d" % i for i in range(60)]
