"""Every business line in modules/, driven only by its definition (GET /api/v1/modules): a valid
record is created from the field types and bounds, an invalid one is refused with every bad field
named, every transition is fired on a record brought to one of its from-states, and the history
has one entry per change. A new module needs no new test to be covered here."""

from collections import deque

import requests

from conftest import REPO_ROOT

MODULES = "/api/v1/modules"
ORG = "t_every"


def gb11643(prefix17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(c) * w for c, w in zip(prefix17, weights)) % 11]


def gb32100(prefix17):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    c = 31 - sum(alphabet.index(ch) * w for ch, w in zip(prefix17, weights)) % 31
    return prefix17 + alphabet[0 if c == 31 else c]


def good_value(field, refs):
    """A valid value for a field, from its type and bounds."""
    t = field["type"]
    lo = field.get("min")
    if t in ("text", "longtext"):
        if field.get("pattern"):
            return "0574-63010000"
        return "测试内容"[: max(1, min(4, field.get("max_length") or 4))]
    if t == "integer":
        return lo if lo is not None else 1
    if t == "decimal":
        return float(lo) if lo is not None else 1.5
    if t == "money":
        fen = max(lo or 0, 12345)
        if field.get("max") is not None:
            fen = min(fen, field["max"])
        return "%d.%02d" % divmod(fen, 100)
    if t == "date":
        return "2021-06-01"
    if t == "datetime":
        return "2021-06-01T09:30:00+08:00"
    if t == "bool":
        return True
    if t == "enum":
        return field["codes"]["items"][0]["code"]
    if t == "org":
        return ORG
    if t == "user":
        return "admin"
    if t == "ref":
        return refs[field["module"]]
    if t == "person":
        return {"name": "张测试", "id_number": gb11643("33028219900101123"), "phone": "13800138000"}
    if t == "id_number":
        return gb11643("33028219900101123")
    if t == "uscc":
        return gb32100("91330282MA2AB1CD2")
    if t == "phone":
        return "13800138000"
    if t == "group":
        return [{sub["code"]: good_value(sub, refs) for sub in field["fields"] if sub.get("required")}]
    return None  # attachments: only when required (none is)


BAD = {"integer": "十二", "decimal": "很多", "money": "12.345", "date": "2021-02-30", "datetime": "昨天",
       "bool": "是", "enum": "no_such_code", "id_number": "330282199001011234", "uscc": "91330282MA2AB1CD2Z",
       "phone": "12345"}
# checked against the database when the record is written, after the field checks
MISSING = {"org": "no_such_org", "ref": 999999999}


def valid_body(module, refs):
    body = {}
    for f in module["fields"]:
        if f.get("required") or f["type"] in ("date", "enum", "org"):
            v = good_value(f, refs)
            if v is not None:
                body[f["code"]] = v
    return body


def path_to(module, target_states):
    """The shortest list of transitions from the initial state to one of target_states."""
    start = module["initial_state"]
    seen, queue = {start: []}, deque([start])
    while queue:
        state = queue.popleft()
        if state in target_states:
            return seen[state]
        for t in module["transitions"]:
            if state in t["from"] and t["to"] not in seen:
                seen[t["to"]] = seen[state] + [t]
                queue.append(t["to"])
    return None


def by_dependency(modules):
    """Modules whose ref fields point at others come after them."""
    done, out, pending = set(), [], list(modules)
    while pending:
        progress = False
        for m in list(pending):
            targets = {f["module"] for f in m["fields"] if f["type"] == "ref"} - {m["code"]}
            if targets <= done:
                out.append(m)
                done.add(m["code"])
                pending.remove(m)
                progress = True
        assert progress, "circular references between modules: %s" % [m["code"] for m in pending]
    return out


def test_every_module_creates_refuses_moves_and_remembers(server):
    r = server.cli("org", "add", ORG, "--name", "测试单位", "--kind", "other")
    assert r.returncode == 0, r.stderr
    modules = requests.get(server.url(MODULES), timeout=10).json()["modules"]
    assert {m["code"] for m in modules} == {p.stem for p in (REPO_ROOT / "modules").glob("*.yaml")}
    refs = {}
    fired = 0
    for m in by_dependency(modules):
        records = server.url("%s/%s/records" % (MODULES, m["code"]))
        body = valid_body(m, refs)
        r = requests.post(records, json=body, timeout=10)
        assert r.status_code == 201, (m["code"], body, r.text)
        first = r.json()
        refs[m["code"]] = first["id"]
        assert first["state"] == m["initial_state"] and first["version"] == 1

        # every bad value at once: refused, each field named, nothing written
        bad = dict(body)
        bad_fields = set()
        for f in m["fields"]:
            if f["type"] in BAD:
                bad[f["code"]] = BAD[f["type"]]
                bad_fields.add(f["code"])
            elif f["type"] in ("text", "longtext") and f.get("max_length"):
                bad[f["code"]] = "长" * (f["max_length"] + 1)
                bad_fields.add(f["code"])
        if bad_fields:
            total_before = requests.get(records, timeout=10).json()["total"]
            r = requests.post(records, json=bad, timeout=10)
            assert r.status_code == 422, (m["code"], r.text)
            named = {d["field"].split("[")[0].split(".")[0] for d in r.json()["error"]["details"]}
            assert bad_fields <= named, (m["code"], bad_fields - named)
            assert requests.get(records, timeout=10).json()["total"] == total_before
        for f in m["fields"]:
            if f["type"] in MISSING:
                r = requests.post(records, json=dict(body, **{f["code"]: MISSING[f["type"]]}), timeout=10)
                assert r.status_code in (404, 422), (m["code"], f["code"], r.text)
                assert f["code"] in r.text, (m["code"], f["code"], r.text)

        # every transition, on a record brought to one of its from-states
        for t in m["transitions"]:
            path = path_to(m, set(t["from"]))
            assert path is not None, "%s: transition %s cannot be reached" % (m["code"], t["code"])
            r = requests.post(records, json=body, timeout=10)
            assert r.status_code == 201, (m["code"], r.text)
            rid = r.json()["id"]
            fields = {f["code"]: f for f in m["fields"]}
            for step in path + [t]:
                extra = {code: good_value(fields[code], refs) for code in step["requires"]}
                r = requests.post("%s/%d/transitions/%s" % (records, rid, step["code"]), json=extra, timeout=10)
                assert r.status_code == 200, (m["code"], step["code"], r.text)
                assert r.json()["state"] == step["to"]
                fired += 1
            history = requests.get("%s/%d/history" % (records, rid), timeout=10).json()["history"]
            assert len(history) == 1 + len(path) + 1, (m["code"], t["code"])
            assert [h["transition"] for h in history[1:]] == [s["code"] for s in path + [t]]
    assert fired >= sum(len(m["transitions"]) for m in modules)
