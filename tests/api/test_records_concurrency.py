"""Records under concurrent clients: gap-free unique numbering, optimistic concurrency with
If-Match, and transitions that fire exactly once (src/api/records.c, src/record/store.c)."""

import collections
import threading

import pytest
import requests

from conftest import assert_envelope


@pytest.fixture(autouse=True)
def _test_orgs(request):
    """The org units the records of this file belong to."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").add_orgs("town_a")


RECORDS = "/api/v1/modules/mediation_case/records"


def mediation(title, received_on="2024-03-05"):
    return {"committee": "town_a", "source": "walk_in", "title": title, "received_on": received_on}


def run_together(n, fn):
    """Runs fn(i) in n threads released at once; returns the results in index order."""
    barrier = threading.Barrier(n, timeout=30)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            with requests.Session() as s:
                barrier.wait()
                results[i] = fn(s, i)
        except Exception as e:  # reported below, with the index
            errors.append("worker %d: %r" % (i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    return results


def test_50_concurrent_creates_get_gap_free_unique_numbers(server):
    def create(s, i):
        r = s.post(server.url(RECORDS), json=mediation("并发收案第%d件" % i), timeout=30)
        return r.status_code, r.json()

    results = run_together(50, create)
    assert [status for status, _ in results] == [201] * 50, [body for status, body in results if status != 201]
    numbers = sorted(body["case_no"] for _, body in results)
    assert numbers == ["(2024)慈调字第%05d号" % n for n in range(1, 51)]
    assert len({body["id"] for _, body in results}) == 50
    # each number belongs to the record that was created with it
    for _, body in results:
        got = server.get(RECORDS + "/%d" % body["id"]).json()
        assert (got["case_no"], got["title"]) == (body["case_no"], body["title"])
    listing = server.get(RECORDS, params={"page_size": 200, "sort": "case_no"}).json()
    assert listing["total"] == 50
    assert [item["case_no"] for item in listing["items"]] == numbers
    nxt = requests.post(server.url(RECORDS), json=mediation("之后的一件"), timeout=10)
    assert nxt.status_code == 201 and nxt.json()["case_no"] == "(2024)慈调字第00051号"


def test_concurrent_creates_in_two_years_number_each_year_separately(server):
    def create(s, i):
        year = 2023 if i % 2 else 2024
        r = s.post(server.url(RECORDS), json=mediation("跨年并发%d" % i, received_on="%d-12-01" % year), timeout=30)
        assert r.status_code == 201, r.text
        return year, r.json()["case_no"]

    results = run_together(30, create)
    by_year = collections.defaultdict(list)
    for year, number in results:
        by_year[year].append(number)
    for year in (2023, 2024):
        assert sorted(by_year[year]) == ["(%d)慈调字第%05d号" % (year, n) for n in range(1, 16)]


def test_two_concurrent_patches_with_the_same_if_match(server):
    created = requests.post(server.url(RECORDS), json=mediation("两人同时修改"), timeout=10)
    assert created.status_code == 201
    rid = created.json()["id"]

    def update(s, i):
        r = s.patch(server.url(RECORDS + "/%d" % rid), json={"summary": "修改者%d的版本" % i},
                    headers={"If-Match": '"1"'}, timeout=30)
        return r

    results = run_together(2, update)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.text for r in results]
    ok = next(r for r in results if r.status_code == 200)
    lost = next(r for r in results if r.status_code == 409)
    err = assert_envelope(lost, 409, "stale_version")
    assert ok.json()["version"] == 2 and ok.headers["ETag"] == '"2"'
    current = server.get(RECORDS + "/%d" % rid).json()
    assert current == ok.json()
    assert err["details"] == {"current": current}
    history = server.get(RECORDS + "/%d/history" % rid).json()["history"]
    assert [(h["version"], h["action"]) for h in history] == [(1, "create"), (2, "update")]
    assert history[1]["changes"] == {"summary": {"old": None, "new": current["summary"]}}


def test_20_concurrent_transitions_fire_once(server):
    created = requests.post(server.url(RECORDS), json=mediation("二十人同时受理"), timeout=10)
    rid = created.json()["id"]

    def accept(s, i):
        return s.post(server.url(RECORDS + "/%d/transitions/accept" % rid),
                      json={"dispute_type": "debt", "accepted_on": "2024-03-%02d" % (i + 6)}, timeout=30)

    results = run_together(20, accept)
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) == 1, [r.status_code for r in results]
    for r in results:
        if r.status_code != 200:
            err = assert_envelope(r, 409, "illegal_transition")
            assert err["details"] == {"state": "accepted", "transition": "accept", "allowed": ["conclude"]}
    current = server.get(RECORDS + "/%d" % rid).json()
    assert current == ok[0].json()
    assert (current["state"], current["version"]) == ("accepted", 2)
    history = server.get(RECORDS + "/%d/history" % rid).json()["history"]
    assert [(h["version"], h["action"], h["transition"]) for h in history] == [
        (1, "create", None), (2, "transition", "accept")]
    assert history[1]["changes"]["accepted_on"] == {"old": None, "new": current["accepted_on"]}

    # the same with If-Match: one wins, the others are told the version moved on
    def conclude(s, i):
        return s.post(server.url(RECORDS + "/%d/transitions/conclude" % rid), json={"outcome": "success"},
                      headers={"If-Match": '"2"'}, timeout=30)

    results = run_together(20, conclude)
    assert sorted(r.status_code for r in results) == [200] + [409] * 19
    for r in results:
        if r.status_code == 409:
            err = assert_envelope(r, 409, "stale_version")
            assert err["details"]["current"]["version"] == 3
    assert server.get(RECORDS + "/%d" % rid).json()["state"] == "concluded"
    assert len(server.get(RECORDS + "/%d/history" % rid).json()["history"]) == 3


def test_creates_beside_failing_changes(server):
    """Creates sharing group commits with changes that fail (a stale version, a record that does
    not exist, a transition not allowed) all succeed once, numbered without a gap; the failures
    get their own answers. Failures found before a row is changed leave the batch running: no
    batch is run a second time for them (sifa_db_write_batches_run_again_total)."""
    created = requests.post(server.url(RECORDS), json=mediation("被并发修改的纠纷"), timeout=10)
    assert created.status_code == 201
    rid = created.json()["id"]
    first_no = int(created.json()["case_no"][len("(2024)慈调字第"):-1])
    again_before = server.metrics()["sifa_db_write_batches_run_again_total"]

    def work(s, i):
        if i % 4 == 1:  # stale: the record is at version 1
            return s.patch(server.url(RECORDS + "/%d" % rid), json={"summary": "过时的修改"},
                           headers={"If-Match": '"7"'}, timeout=30)
        if i % 4 == 2:
            return s.patch(server.url(RECORDS + "/999999"), json={"summary": "不存在"}, headers={"If-Match": '"1"'},
                           timeout=30)
        if i % 4 == 3:  # registered → conclude is not allowed
            return s.post(server.url(RECORDS + "/%d/transitions/conclude" % rid), json={"outcome": "success"},
                          timeout=30)
        return s.post(server.url(RECORDS), json=mediation("并发收案%d" % i), timeout=30)

    results = run_together(60, work)
    for i, r in enumerate(results):
        if i % 4 == 0:
            assert r.status_code == 201, r.text
        elif i % 4 == 1:
            assert_envelope(r, 409, "stale_version")
        elif i % 4 == 2:
            assert_envelope(r, 404, "record_not_found")
        else:
            assert_envelope(r, 409, "illegal_transition")
    numbers = sorted(int(r.json()["case_no"][len("(2024)慈调字第"):-1]) for i, r in enumerate(results) if i % 4 == 0)
    assert numbers == list(range(first_no + 1, first_no + 16))
    listed = server.get(RECORDS, params={"title": "被并发修改的纠纷"}).json()
    assert listed["total"] == 1 and listed["items"][0]["version"] == 1
    assert server.metrics()["sifa_db_write_batches_run_again_total"] == again_before
