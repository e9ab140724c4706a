"""Division codes of org units (GB/T 2260 for the city, the statistical division codes below county
level): shape by kind, each code extends its nearest coded ancestor's, unique; enforced in the
auth layer, so the API (POST and PATCH /api/v1/orgs), `sifa org add|division` and `sifa org import`
all refuse the same things with the same codes."""
import json

import requests


def post(server, code, kind, parent=None, division=None):
    body = {"code": code, "name": "单位 " + code, "kind": kind}
    if parent:
        body["parent"] = parent
    if division is not None:
        body["division_code"] = division
    return requests.post(server.url("/api/v1/orgs"), json=body, timeout=10)


def patch(server, code, body):
    return requests.patch(server.url("/api/v1/orgs/" + code), json=body, timeout=10)


def error_code(r):
    return r.json()["error"]["code"]


def divisions(server):
    items = requests.get(server.url("/api/v1/orgs"), timeout=10).json()["items"]
    return {o["code"]: o["division_code"] for o in items}


def test_division_codes_checked_on_create(server):
    assert post(server, "c", "city", division="330282").status_code == 201
    assert post(server, "bureau", "bureau", "c").status_code == 201
    assert post(server, "t1", "street", "c", "330282001").status_code == 201
    assert post(server, "v1", "community", "t1", "330282001201").status_code == 201
    # a unit without a code between two coded ones: the village still extends the town above
    assert post(server, "office", "judicial_office", "t1").status_code == 201
    assert post(server, "other1", "other", "t1", "").status_code == 201  # "" from a form: none
    assert divisions(server)["other1"] is None

    # wrong shape: length, non-digits, "00…", the wrong length for the kind, a number
    for kind, code in [("town", "33028200"), ("town", "33028200A"), ("town", "３３０２８２００１"),
                       ("city", "000000"), ("town", "330282"), ("village", "330282001"), ("city", "330282001201")]:
        r = post(server, "bad", kind, "c", code)
        assert r.status_code == 400 and error_code(r) == "bad_division_code", (kind, code, r.text)
        assert "位" in r.json()["error"]["message"]
    r = post(server, "bad", "town", "c", 330282002)
    assert r.status_code == 400 and error_code(r) == "bad_division_code"
    # departments, offices, committees are not divisions
    r = post(server, "bad", "department", "bureau", "330282002")
    assert r.status_code == 400 and error_code(r) == "division_code_not_allowed"

    # must extend the nearest coded ancestor: the city's, or the town's through a unit without one
    r = post(server, "t9", "town", "c", "330281001")
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch", r.text
    assert "330282" in r.json()["error"]["message"] and "开头" in r.json()["error"]["message"]
    r = post(server, "v9", "village", "office", "330282002201")
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch"
    assert r.json()["error"]["details"]["ancestor"] == "t1"
    assert post(server, "v2", "village", "office", "330282001202").status_code == 201

    # unique
    r = post(server, "t1b", "town", "c", "330282001")
    assert r.status_code == 409 and error_code(r) == "division_code_exists"
    assert r.json()["error"]["details"]["org"] == "t1"
    assert "t9" not in divisions(server) and "t1b" not in divisions(server)


def test_patch_sets_changes_and_clears_division_codes(server):
    assert post(server, "c", "city", division="330282").status_code == 201
    assert post(server, "c2", "city", division="330281").status_code == 201
    assert post(server, "t1", "town", "c").status_code == 201
    assert post(server, "v1", "village", "t1", "330282001201").status_code == 201

    # set: the village below must extend the town's new code
    r = patch(server, "t1", {"division_code": "330282002"})
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch", r.text
    assert r.json()["error"]["details"]["org"] == "v1"
    assert divisions(server)["t1"] is None  # nothing of the refused change is left
    r = patch(server, "t1", {"division_code": "330282001"})
    assert r.status_code == 200, r.text
    assert divisions(server)["t1"] == "330282001"

    # change: refused when it breaks the chain, shape or uniqueness
    assert patch(server, "v1", {"division_code": "330282001209"}).status_code == 200
    r = patch(server, "v1", {"division_code": "330282002201"})
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch"
    r = patch(server, "v1", {"division_code": "3302820012"})
    assert r.status_code == 400 and error_code(r) == "bad_division_code"
    r = patch(server, "c2", {"division_code": "330282"})
    assert r.status_code == 409 and error_code(r) == "division_code_exists"
    r = patch(server, "t1", {"division_code": 330282001})
    assert r.status_code == 400 and error_code(r) == "bad_division_code"

    # a move checks the moved subtree against its new ancestors; moving and recoding together is
    # checked as it ends up
    r = patch(server, "t1", {"parent": "c2"})
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch"
    assert divisions(server)["t1"] == "330282001"
    r = patch(server, "t1", {"parent": "c2", "division_code": "330281001"})
    assert r.status_code == 400 and error_code(r) == "division_code_mismatch"  # the village still says 330282
    r = patch(server, "v1", {"division_code": None})
    assert r.status_code == 200 and divisions(server)["v1"] is None
    r = patch(server, "t1", {"parent": "c2", "division_code": "330281001"})
    assert r.status_code == 200, r.text
    assert divisions(server)["t1"] == "330281001"

    hist = requests.get(server.url("/api/v1/orgs/t1/history"), timeout=10).json()["items"]
    changes = [(h["change"], h["old"], h["new"]) for h in hist if h["change"] == "division"]
    assert changes == [("division", None, "330282001"), ("division", "330282001", "330281001")]


def test_cli_add_division_and_import_check_division_codes(server, tmp_path):
    r = server.cli("org", "add", "c", "--name", "慈溪市", "--kind", "city", "--division", "330282")
    assert r.returncode == 0, r.stderr
    r = server.cli("org", "add", "t1", "--name", "浒山街道", "--kind", "street", "--parent", "c", "--division", "330283001")
    assert r.returncode != 0 and "division_code_mismatch" in r.stderr + r.stdout
    r = server.cli("org", "add", "t1", "--name", "浒山街道", "--kind", "street", "--parent", "c", "--division", "330282001")
    assert r.returncode == 0, r.stderr
    r = server.cli("org", "division", "t1", "--division", "33028200x")
    assert r.returncode != 0 and "bad_division_code" in r.stderr + r.stdout

    lines = [{"code": "t2", "name": "白沙路街道", "kind": "street", "parent": "c", "division": "330282002"},
             {"code": "v2", "name": "某社区", "kind": "community", "parent": "t2", "division": "330282001201"}]
    path = tmp_path / "orgs.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    r = server.cli("org", "import", path)
    assert r.returncode != 0 and "division_code_mismatch" in r.stderr + r.stdout and "第 2 行" in r.stderr + r.stdout
    assert "t2" not in divisions(server)  # one transaction: nothing imported
    lines[1]["division"] = "330282002201"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    r = server.cli("org", "import", path)
    assert r.returncode == 0, r.stderr
    r = server.cli("org", "division", "t2", "--division", "")
    assert r.returncode == 0, r.stderr
    assert divisions(server) == {"c": "330282", "t1": "330282001", "t2": None, "v2": "330282002201"}

    # blank lines and CRLF endings are fine; a line over 4096 bytes is refused with its number
    good = json.dumps({"code": "t3", "name": "古塘街道", "kind": "street", "parent": "c"}, ensure_ascii=False)
    path.write_bytes(("\r\n  \r\n" + good + "\r\n\r\n").encode("utf-8"))
    r = server.cli("org", "import", path)
    assert r.returncode == 0 and "1 个机构" in r.stdout, r.stdout + r.stderr
    long_line = json.dumps({"code": "t4", "name": "长" * 1400, "kind": "street", "parent": "c"}, ensure_ascii=False)
    assert len(long_line.encode("utf-8")) > 4096
    path.write_text(json.dumps({"code": "t5", "name": "五", "kind": "street", "parent": "c"}) + "\n" + long_line + "\n",
                    encoding="utf-8")
    r = server.cli("org", "import", path)
    assert r.returncode != 0 and "line_too_long" in r.stderr + r.stdout and "第 2 行" in r.stderr + r.stdout
    assert "t5" not in divisions(server) and "t3" in divisions(server)
    # a spreadsheet's byte-order mark before the first line is skipped; a NUL inside a line is refused
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"code": "t6", "name": "六", "kind": "street", "parent": "c"}).encode() + b"\n")
    r = server.cli("org", "import", path)
    assert r.returncode == 0, r.stdout + r.stderr
    path.write_bytes(b'{"code": "t7", "name": "\xe4\xb8\x83", "kind": "street"}\x00{"x": 1}\n')
    r = server.cli("org", "import", path)
    assert r.returncode != 0 and "bad_line" in r.stderr + r.stdout and "第 1 行" in r.stderr + r.stdout
    assert "t6" in divisions(server) and "t7" not in divisions(server)
