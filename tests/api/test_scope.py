"""Data scope (数据范围): which records each role sees and may touch (roles/roles.yaml,
src/api/auth.c sifa_api_scope_build, src/record/store.c scope_sql / check_org_scope).

One server for the module: city c with towns ta and tb, village ta1 below ta. The admin creates a
mediation case in each of ta, ta1 and tb (with an online application, so each has an
online_reply deadline); staff of ta and a mediator in ta1 create one case each in ta1."""

import pytest
import requests

from conftest import Factory, assert_envelope

MODULES = "/api/v1/modules"
PASSWORD = "Some-Long-Pass-2026"
APPLIED = "2024-03-05T09:30:00+08:00"


def rpath(module="mediation_case", rid=None, tail=""):
    p = "%s/%s/records" % (MODULES, module)
    if rid is not None:
        p += "/%d" % rid
    return p + tail


def mediation(title, committee, **kw):
    body = {"committee": committee, "source": "walk_in", "title": title, "received_on": "2024-03-05"}
    body.update(kw)
    return body


def legal_aid(org, cause):
    return {"handling_org": org, "applicant": {"name": "王小明", "phone": "13800138000"}, "channel": "walk_in",
            "category": "civil", "cause": cause, "applied_on": "2021-09-27"}


class Caller:
    """A logged-in user (cookie session, CSRF token sent on every write) or a bearer token."""

    def __init__(self, server, user=None, token=None):
        self.server = server
        self.s = requests.Session()
        self.write_headers = {}
        if token is not None:
            self.s.headers["Authorization"] = "Bearer " + token
        else:
            r = self.s.post(server.url("/api/v1/auth/login"), json={"user": user, "password": PASSWORD}, timeout=10)
            assert r.status_code == 200, r.text
            self.write_headers = {"X-CSRF-Token": r.json()["csrf_token"]}

    def get(self, path, **kw):
        return self.s.get(self.server.url(path), timeout=10, **kw)

    def send(self, method, path, body=None, headers=None):
        h = dict(self.write_headers)
        h.update(headers or {})
        return self.s.request(method, self.server.url(path), json=body, headers=h, timeout=10)

    def ids(self, module="mediation_case", **params):
        r = self.get(rpath(module), params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == len(page["items"]), page
        return sorted(item["id"] for item in page["items"])

    def deadlines(self, **params):
        """(module, record_id, deadline) of everything due now, sorted."""
        r = self.get("/api/v1/deadlines", params=dict(within_days=0, **params))
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == len(page["items"]) == page["overdue"], page
        return sorted((i["module"], i["record_id"], i["deadline"]) for i in page["items"])


def admin_create(server, module, body):
    r = requests.post(server.url(rpath(module)), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    factory = Factory(tmp_path_factory.mktemp("scope"))
    server = factory.start(name="scope")
    try:
        for args in (("c", "--name", "慈溪市", "--kind", "city"),
                     ("ta", "--name", "甲镇", "--kind", "town", "--parent", "c"),
                     ("tb", "--name", "乙镇", "--kind", "town", "--parent", "c"),
                     ("ta1", "--name", "甲镇一村", "--kind", "village", "--parent", "ta")):
            r = server.cli("org", "add", *args)
            assert r.returncode == 0, r.stderr
        for name, org, role in (("sa", "ta", "mediation_staff"), ("sb", "tb", "mediation_staff"),
                                ("med", "ta1", "mediator"), ("lead", "c", "leadership"),
                                ("jo", "ta", "judicial_office")):
            r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", role,
                           "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
            assert r.returncode == 0, r.stderr
        w = {"server": server}
        w["a_ta"] = admin_create(server, "mediation_case", mediation("桂花巷噪音纠纷", "ta", applied_at=APPLIED))
        w["a_ta1"] = admin_create(server, "mediation_case", mediation("竹林村宅基地纠纷", "ta1", applied_at=APPLIED))
        w["a_tb"] = admin_create(server, "mediation_case", mediation("荷塘村灌溉纠纷", "tb", applied_at=APPLIED))
        w["la_ta"] = admin_create(server, "legal_aid_case", legal_aid("ta", "劳动报酬纠纷"))
        w["la_tb"] = admin_create(server, "legal_aid_case", legal_aid("tb", "工伤赔偿纠纷"))
        for la in ("la_ta", "la_tb"):  # accepted in 2021: the review deadline is long past
            r = requests.post(server.url(rpath("legal_aid_case", w[la], "/transitions/accept")),
                              json={"accepted_on": "2021-09-28"}, timeout=10)
            assert r.status_code == 200, r.text
        for name in ("sa", "sb", "med", "lead", "jo"):
            w[name] = Caller(server, name)
        r = w["sa"].send("POST", rpath(), mediation("石桥村相邻通行纠纷", "ta1"))
        assert r.status_code == 201, r.text
        w["s_ta1"] = r.json()["id"]
        r = w["med"].send("POST", rpath(), mediation("调解员自办借款纠纷", "ta1"))
        assert r.status_code == 201, r.text
        w["m_ta1"] = r.json()["id"]
        yield w
    finally:
        factory.finish()


def test_staff_lists_only_own_org_and_below(world):
    sa, w = world["sa"], world
    mine = sorted([w["a_ta"], w["a_ta1"], w["s_ta1"], w["m_ta1"]])
    assert sa.ids() == mine
    r = sa.get(rpath(), params={"page_size": 2})
    assert r.json()["total"] == 4 and len(r.json()["items"]) == 2
    assert sa.ids(org="tb") == []
    assert sa.ids(org="ta1") == sorted([w["a_ta1"], w["s_ta1"], w["m_ta1"]])
    # the staff of tb sees tb only
    assert world["sb"].ids() == [w["a_tb"]]
    # a bearer token of the same user has the same scope
    r = w["server"].cli("token", "create", "--user", "sa", "--name", "x", "--scopes", "mediation_case.read")
    assert r.returncode == 0, r.stderr
    tok = Caller(w["server"], token=r.stdout.strip())
    assert tok.ids() == mine


def test_search_does_not_leak_other_orgs(world):
    sa, w = world["sa"], world
    admin = Caller(w["server"], token=w["server"].token)
    assert admin.ids(q="荷塘村") == [w["a_tb"]]     # three characters: the trigram index
    assert admin.ids(q="灌溉") == [w["a_tb"]]       # two characters: LIKE
    assert sa.ids(q="荷塘村") == []
    assert sa.ids(q="灌溉") == []
    assert sa.ids(q="纠纷") == sorted([w["a_ta"], w["a_ta1"], w["s_ta1"], w["m_ta1"]])
    assert sa.ids(q="桂花巷") == [w["a_ta"]]
    assert world["sb"].ids(q="纠纷") == [w["a_tb"]]
    assert world["sb"].ids(q="桂花巷") == []


def test_out_of_scope_record_is_not_found(world):
    sa, w = world["sa"], world
    tb = w["a_tb"]
    for r in (sa.get(rpath(rid=tb)), sa.get(rpath(rid=tb, tail="/history")),
              sa.send("PATCH", rpath(rid=tb), {"title": "越权修改"}, {"If-Match": '"1"'}),
              sa.send("POST", rpath(rid=tb, tail="/transitions/accept"), {"dispute_type": "neighborhood"}),
              sa.send("POST", rpath(rid=tb, tail="/transitions/reject"), None, {"If-Match": '"1"'}),
              sa.send("DELETE", rpath(rid=tb), None, {"If-Match": '"1"'}),
              sa.send("DELETE", rpath(rid=tb))):
        err = assert_envelope(r, 404, "record_not_found")
        assert err["details"] == {"module": "mediation_case", "id": tb}, err
    # nothing happened to it
    r = requests.get(w["server"].url(rpath(rid=tb)), timeout=10)
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["state"], r.json()["title"]) == (1, "registered", "荷塘村灌溉纠纷")
    hist = requests.get(w["server"].url(rpath(rid=tb, tail="/history")), timeout=10).json()["history"]
    assert [h["action"] for h in hist] == ["create"]
    # and the other way round
    assert_envelope(world["sb"].get(rpath(rid=w["a_ta"])), 404, "record_not_found")
    assert_envelope(world["sb"].get(rpath(rid=w["a_ta1"], tail="/history")), 404, "record_not_found")


def test_writes_may_not_leave_the_scope(world):
    sa, w = world["sa"], world
    r = sa.send("POST", rpath(), mediation("越权登记", "tb"))
    err = assert_envelope(r, 403, "org_out_of_scope")
    assert err["details"] == {"field": "committee", "org": "tb"}
    assert_envelope(sa.send("POST", rpath(), mediation("上级机构", "c")), 403, "org_out_of_scope")
    assert_envelope(sa.send("POST", rpath(), mediation("不存在的机构", "nowhere")), 403, "org_out_of_scope")
    # moving an own record to tb
    rec = sa.get(rpath(rid=w["a_ta"])).json()
    r = sa.send("PATCH", rpath(rid=w["a_ta"]), {"committee": "tb"}, {"If-Match": '"%d"' % rec["version"]})
    err = assert_envelope(r, 403, "org_out_of_scope")
    assert err["details"] == {"field": "committee", "org": "tb"}
    after = sa.get(rpath(rid=w["a_ta"])).json()
    assert (after["committee"], after["version"]) == ("ta", rec["version"])
    assert world["sb"].ids() == [w["a_tb"]]
    # within the scope the same request goes through (own org to a village below it and back)
    r = sa.send("PATCH", rpath(rid=w["s_ta1"]), {"committee": "ta"}, {"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["committee"] == "ta"
    r = sa.send("PATCH", rpath(rid=w["s_ta1"]), {"committee": "ta1"}, {"If-Match": '"2"'})
    assert r.status_code == 200, r.text
    # a module without any permission
    err = assert_envelope(sa.get(rpath("legal_aid_case")), 403, "denied")
    assert err["details"] == {"permission": "legal_aid_case.read"}
    assert_envelope(sa.send("POST", rpath("legal_aid_case"), legal_aid("ta", "越权")), 403, "denied")


def test_deadlines_follow_the_scope(world):
    w = world

    def med(*keys):
        return [("mediation_case", w[k], "online_reply") for k in keys]

    def la(*keys):
        return [("legal_aid_case", w[k], "review") for k in keys]

    # staff of ta: its own subtree, and no legal aid at all (no legal_aid_case.read)
    assert w["sa"].deadlines() == sorted(med("a_ta", "a_ta1"))
    assert w["sa"].deadlines(org="tb") == []
    assert w["sb"].deadlines() == sorted(med("a_tb"))
    assert w["med"].deadlines() == []
    assert w["jo"].deadlines() == sorted(med("a_ta", "a_ta1") + la("la_ta"))
    assert w["lead"].deadlines() == sorted(med("a_ta", "a_ta1", "a_tb") + la("la_ta", "la_tb"))
    admin = Caller(w["server"], token=w["server"].token)
    assert admin.deadlines() == w["lead"].deadlines()


def test_mediator_sees_only_own_records(world):
    med, w = world["med"], world
    assert med.ids() == [w["m_ta1"]]
    assert med.ids(q="纠纷") == [w["m_ta1"]]
    assert_envelope(med.get(rpath(rid=w["a_ta1"])), 404, "record_not_found")   # same village, not its own
    assert_envelope(med.send("PATCH", rpath(rid=w["a_ta1"]), {"title": "改"}, {"If-Match": '"1"'}),
                    404, "record_not_found")
    r = med.get(rpath(rid=w["m_ta1"]))
    assert r.status_code == 200 and r.json()["created_by"] == "med"
    assert_envelope(med.send("DELETE", rpath(rid=w["m_ta1"]), None, {"If-Match": '"1"'}), 403, "denied")


def test_leadership_reads_everything_and_writes_nothing(world):
    lead, w = world["lead"], world
    assert lead.ids() == sorted([w["a_ta"], w["a_ta1"], w["a_tb"], w["s_ta1"], w["m_ta1"]])
    assert lead.ids(q="荷塘村") == [w["a_tb"]]
    assert lead.ids("legal_aid_case") == sorted([w["la_ta"], w["la_tb"]])
    assert lead.get(rpath(rid=w["a_tb"])).status_code == 200
    err = assert_envelope(lead.send("POST", rpath(), mediation("领导登记", "ta")), 403, "denied")
    assert err["details"] == {"permission": "mediation_case.create"}
    err = assert_envelope(lead.send("PATCH", rpath(rid=w["a_tb"]), {"title": "改"}, {"If-Match": '"1"'}),
                          403, "denied")
    assert err["details"] == {"permission": "mediation_case.update"}


def test_leadership_does_not_read_the_audit_log(world):
    """局领导 holds "*.read", which roles/roles.yaml describes as the read action of every module;
    the audit log is a system permission (audit.read, granted explicitly to inspector and admin).
    Bug: src/auth/roles.c sifa_permission_match treats "*.read" as "anything ending in .read" and
    so grants audit.read (and any future <system>.read) to leadership and to "*.read" tokens."""
    lead = world["lead"]
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        err = assert_envelope(lead.get(path), 403, "denied")
        assert err["details"] == {"permission": "audit.read"}
    assert "audit.read" not in [p for p in lead.get("/api/v1/auth/me").json()["permissions"]]


def test_judicial_office_scope_per_module(world):
    jo, w = world["jo"], world
    assert jo.ids() == sorted([w["a_ta"], w["a_ta1"], w["s_ta1"], w["m_ta1"]])
    assert jo.ids("legal_aid_case") == [w["la_ta"]]
    assert_envelope(jo.get(rpath("legal_aid_case", w["la_tb"])), 404, "record_not_found")
    assert_envelope(jo.send("POST", rpath("legal_aid_case"), legal_aid("tb", "越权")), 403, "org_out_of_scope")
    err = assert_envelope(jo.send("DELETE", rpath(rid=w["a_ta"]), None, {"If-Match": '"1"'}), 403, "denied")
    assert err["details"] == {"permission": "mediation_case.delete"}


def test_user_without_org_sees_nothing(world):
    server = world["server"]
    r = server.cli("user", "add", "drifter", "--display-name", "无机构", "--roles", "mediation_staff",
                   "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    nobody = Caller(server, "drifter")
    assert nobody.ids() == []
    assert nobody.deadlines() == []
    assert_envelope(nobody.get(rpath(rid=world["a_ta"])), 404, "record_not_found")
    assert_envelope(nobody.send("POST", rpath(), mediation("无机构登记", "ta")), 403, "org_out_of_scope")


def test_moving_an_org_moves_its_records_between_scopes(world):
    """Runs last: moves village ta1 from ta to tb, then back."""
    server, w = world["server"], world
    ta1 = sorted([w["a_ta1"], w["s_ta1"], w["m_ta1"]])
    r = server.cli("org", "move", "ta1", "--parent", "tb")
    assert r.returncode == 0, r.stderr
    try:
        assert w["sa"].ids() == [w["a_ta"]]
        assert w["sb"].ids() == sorted([w["a_tb"]] + ta1)
        assert w["sb"].deadlines() == sorted(("mediation_case", w[k], "online_reply") for k in ("a_tb", "a_ta1"))
        assert_envelope(w["sa"].get(rpath(rid=w["a_ta1"])), 404, "record_not_found")
    finally:
        r = server.cli("org", "move", "ta1", "--parent", "ta")
        assert r.returncode == 0, r.stderr
    assert w["sa"].ids() == sorted([w["a_ta"]] + ta1)
    assert w["sb"].ids() == [w["a_tb"]]


def _version(caller, rid):
    r = caller.get(rpath(rid=rid))
    assert r.status_code == 200, r.text
    return {"If-Match": '"%d"' % r.json()["version"]}


def test_self_scope_writes_stay_in_own_subtree(world):
    """Bug: scope_allows_org allowed any org whenever a self grant (仅本人) was present, so a
    mediator could file cases in any town, and a user holding judicial_office + mediator lost the
    write check of the org-based role. Now a self grant puts records only in the user's own org
    unit and below; grants add up, none widens another. Cleans up what it creates."""
    server, med, w = world["server"], world["med"], world
    created = []
    try:
        err = assert_envelope(med.send("POST", rpath(), mediation("调解员越权登记", "tb")), 403, "org_out_of_scope")
        assert err["details"] == {"field": "committee", "org": "tb"}
        # above the mediator's own village is outside it too
        assert_envelope(med.send("POST", rpath(), mediation("调解员登记到镇", "ta")), 403, "org_out_of_scope")
        r = med.send("POST", rpath(), mediation("调解员本村登记", "ta1"))
        assert r.status_code == 201, r.text
        mine = r.json()["id"]
        created.append(mine)
        assert med.get(rpath(rid=mine)).status_code == 200
        r = med.send("PATCH", rpath(rid=mine), {"title": "调解员本村登记(补正)"}, _version(med, mine))
        assert r.status_code == 200, r.text
        err = assert_envelope(med.send("PATCH", rpath(rid=mine), {"committee": "tb"}, _version(med, mine)),
                              403, "org_out_of_scope")
        assert err["details"] == {"field": "committee", "org": "tb"}

        r = server.cli("user", "add", "jm", "--display-name", "所员兼调解员", "--org", "ta", "--roles",
                       "judicial_office,mediator", "--password-stdin", "--no-change", input_text=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
        jm = Caller(server, "jm")
        r = jm.send("POST", rpath(), mediation("所员登记", "ta"))
        assert r.status_code == 201, r.text
        own = r.json()["id"]
        created.append(own)
        assert_envelope(jm.send("POST", rpath(), mediation("所员越权登记", "tb")), 403, "org_out_of_scope")
        for rid in (own, w["a_ta"]):  # its own record or the town's: neither may go to tb
            assert_envelope(jm.send("PATCH", rpath(rid=rid), {"committee": "tb"}, _version(jm, rid)),
                            403, "org_out_of_scope")
        r = jm.send("PATCH", rpath(rid=own), {"committee": "ta1"}, _version(jm, own))
        assert r.status_code == 200, r.text

        # an applicant (citizen: self scope, file_with_any_org, no org unit) files with the
        # office of their choice, and still sees only their own
        r = server.cli("user", "add", "cit", "--display-name", "申请人", "--roles", "citizen", "--password-stdin", "--no-change",
                       input_text=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
        cit = Caller(server, "cit")
        r = cit.send("POST", rpath(), mediation("网上申请调解", "tb", applied_at=APPLIED))
        assert r.status_code == 201, r.text
        created.append(r.json()["id"])
        assert cit.ids() == [r.json()["id"]]
    finally:
        for rid in created:
            r = requests.get(server.url(rpath(rid=rid)), timeout=10)
            r = requests.delete(server.url(rpath(rid=rid)), headers={"If-Match": '"%d"' % r.json()["version"]},
                                timeout=10)
            assert r.status_code in (200, 204), r.text
