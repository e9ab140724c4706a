"""Key rotation that can retire old keys: `sifa key rotate` adds a key, `sifa key reencrypt` moves
every sealed personal value (module tables: text and JSON columns, group members; record history)
to the current key in batches, resumably, audited; `sifa key retire` removes a key only when
nothing is encrypted under it any more, and the records still read back in clear."""
import re
import sqlite3

import requests

from conftest import key_file_for

VALID_ID = "11010519491231002X"
OTHER_ID = "330282199001011231"


def rows_by_key(db_path):
    """How many sealed values each key id has, over every column of every table."""
    counts = {}
    with sqlite3.connect(str(db_path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND (name LIKE 'm\\_%' ESCAPE '\\' OR name = 'record_history') "
                                           "AND name NOT LIKE '%fts%'")]
        for t in tables:
            cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % t)]
            for row in db.execute("SELECT * FROM %s" % t):
                for c, v in zip(cols, row):
                    if isinstance(v, str):
                        for k in re.findall(r"pd1:(\d+):", v):
                            counts[int(k)] = counts.get(int(k), 0) + 1
    return counts


def key_ids(server):
    text = key_file_for(server.paths["db"]).read_text()
    return [int(m) for m in re.findall(r"^key (\d+) ", text, re.M)]


def create(server, module, body):
    r = requests.post(server.url("/api/v1/modules/%s/records" % module), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_rotate_reencrypt_retire(server):
    server.add_orgs("ta", kind="town")
    la = create(server, "legal_aid_case", {
        "handling_org": "ta", "applicant": {"name": "欧阳修", "id_number": VALID_ID, "phone": "13800138000"},
        "channel": "walk_in", "category": "civil", "applied_on": "2021-09-28", "cause": "劳动报酬纠纷"})
    med = create(server, "mediation_case", {
        "committee": "ta", "source": "walk_in", "title": "邻里纠纷", "received_on": "2024-03-05",
        "parties": [{"name": "张三", "id_number": OTHER_ID, "phone": "13900139000"}]})
    cs = create(server, "correction_subject", {
        "office": "ta", "person": {"name": "李四", "id_number": VALID_ID}, "address": "浙江省慈溪市浒山街道某路 1 号",
        "kind": "probation", "decision_org": "慈溪市人民法院", "effective_on": "2021-03-01"})
    # an update puts old and new sealed values in the history
    r = requests.patch(server.url("/api/v1/modules/correction_subject/records/%d" % cs["id"]),
                       json={"address": "浙江省慈溪市白沙路街道某路 2 号"}, headers={"If-Match": '"%d"' % cs["version"]},
                       timeout=10)
    assert r.status_code == 200, r.text
    before = {m: requests.get(server.url("/api/v1/modules/%s/records/%d" % (m, rec["id"])), timeout=10).json()
              for m, rec in [("legal_aid_case", la), ("mediation_case", med), ("correction_subject", cs)]}
    server.stop()
    assert set(rows_by_key(server.paths["db"])) == {1}

    r = server.cli("key", "rotate")
    assert r.returncode == 0, r.stderr
    assert key_ids(server) == [1, 2]
    # nothing moved yet: key 1 cannot go, and the current key never can
    r = server.cli("key", "retire", "1")
    assert r.returncode != 0 and "key_in_use" in r.stderr and "sifa key reencrypt" in r.stderr, r.stderr
    assert key_ids(server) == [1, 2]
    r = server.cli("key", "retire", "2")
    assert r.returncode != 0 and "key_current" in r.stderr
    r = server.cli("key", "retire", "7")
    assert r.returncode != 0 and "key_not_found" in r.stderr
    r = server.cli("key", "list")
    assert r.returncode == 0 and re.search(r"key 1: [1-9]\d* ", r.stdout) and "key 2 (当前 current): 0 " in r.stdout

    # in batches of one row, so that every table takes several transactions
    n_before = sum(rows_by_key(server.paths["db"]).values())
    r = server.cli("key", "reencrypt", "--batch", "1")
    assert r.returncode == 0, r.stderr
    assert "re-encrypted %d values under key 2" % n_before in r.stdout, r.stdout
    assert rows_by_key(server.paths["db"]) == {2: n_before}
    # a second run has nothing to do (and an interrupted one would just go on)
    r = server.cli("key", "reencrypt")
    assert r.returncode == 0 and "re-encrypted 0 values" in r.stdout and "already current: %d" % n_before in r.stdout

    r = server.cli("key", "retire", "--older-than", "2")
    assert r.returncode == 0, r.stderr
    assert key_ids(server) == [2]
    assert "index " in key_file_for(server.paths["db"]).read_text()  # the other lines are kept

    server.start()
    for m, rec in [("legal_aid_case", la), ("mediation_case", med), ("correction_subject", cs)]:
        after = requests.get(server.url("/api/v1/modules/%s/records/%d" % (m, rec["id"])), timeout=10).json()
        assert after == before[m]
    assert before["legal_aid_case"]["applicant"]["id_number"] == VALID_ID
    assert before["mediation_case"]["parties"][0]["phone"] == "13900139000"
    hist = requests.get(server.url("/api/v1/modules/correction_subject/records/%d/history" % cs["id"]),
                        timeout=10).json()["history"]
    update = [h for h in hist if h["action"] == "update"][0]
    assert update["changes"]["address"] == {"old": "浙江省慈溪市浒山街道某路 1 号", "new": "浙江省慈溪市白沙路街道某路 2 号"}
    # blind-index search still finds the person (the index key is never rotated)
    r = requests.get(server.url("/api/v1/modules/legal_aid_case/records"), params={"applicant": VALID_ID.lower()},
                     timeout=10)
    assert r.status_code == 200 and r.json()["total"] == 1

    server.stop()
    r = server.cli("audit", "verify")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(str(server.paths["db"])) as db:
        actions = [a for (a,) in db.execute("SELECT action FROM audit_log WHERE action LIKE 'key.%' ORDER BY id")]
    assert actions == ["key.rotate", "key.reencrypt", "key.reencrypt", "key.retire"]


def test_retire_refused_by_the_audit_log_leaves_the_key_file_alone(server):
    server.stop()
    r = server.cli("key", "rotate")
    assert r.returncode == 0, r.stderr
    assert key_ids(server) == [1, 2]
    with sqlite3.connect(str(server.paths["db"])) as db:  # a tampered chain refuses every new entry
        db.execute("UPDATE audit_head SET last_hash = replace(last_hash, substr(last_hash, 1, 1), "
                   "CASE substr(last_hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END)")
    before = key_file_for(server.paths["db"]).read_bytes()
    r = server.cli("key", "retire", "1")
    assert r.returncode != 0 and "audit_broken" in r.stderr, r.stderr
    assert key_file_for(server.paths["db"]).read_bytes() == before
    assert key_ids(server) == [1, 2]


def test_key_help_documents_reencrypt_and_retire(server):
    r = server.cli("key", "--help")
    assert r.returncode == 0
    for word in ("rotate", "reencrypt", "retire", "--older-than", "--batch", "list"):
        assert word in r.stdout


def test_unreadable_values_are_reported_and_keep_their_key(server):
    server.add_orgs("ta", kind="town")
    create(server, "legal_aid_case", {
        "handling_org": "ta", "applicant": {"name": "欧阳修", "id_number": VALID_ID},
        "channel": "walk_in", "category": "civil", "applied_on": "2021-09-28", "cause": "劳动报酬纠纷"})
    server.stop()
    # a history value altered at rest: no key opens it any more
    with sqlite3.connect(str(server.paths["db"])) as db:
        hid, changes = db.execute("SELECT id, changes FROM record_history").fetchone()
        bad = re.sub(r'pd1:1:[A-Za-z0-9_-]+', "pd1:1:" + "A" * 80, changes, count=1)
        assert bad != changes
        db.execute("UPDATE record_history SET changes = ? WHERE id = ?", (bad, hid))
    assert server.cli("key", "rotate").returncode == 0
    r = server.cli("key", "reencrypt")
    assert r.returncode != 0 and "personal_unreadable" in r.stderr and "record_history#%d" % hid in r.stderr, r.stderr
    assert "unreadable: 1" in r.stdout
    assert rows_by_key(server.paths["db"])[1] == 1  # left as it was; everything else moved
    r = server.cli("key", "retire", "1")
    assert r.returncode != 0 and "key_in_use" in r.stderr and "record_history#%d" % hid in r.stderr
    assert key_ids(server) == [1, 2]
