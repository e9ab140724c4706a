"""The business lines added after the report's figures (issue 6): correction commendations,
mediation incentives and the case library, notary verification requests, random inspections of
law firms, rule-of-law assessments and inspections with rectification until closed. Each is a
definition only; these tests drive them through the generic API and check that their indicators
count what the definitions say (deadlines in working days, person-times vs persons, sums of money,
shares), and that the roles granted to them reach their own unit's records only."""

import requests

from test_every_module import valid_body

PASSWORD = "Some-Long-Pass-2026"


def records(module):
    return "/api/v1/modules/%s/records" % module


def create(server, module, body, session=None):
    r = (session or requests).post(server.url(records(module)), json=body, timeout=10)
    assert r.status_code == 201, (module, r.text)
    return r.json()["id"]


def fire(server, module, rid, transition, body=None, session=None, status=200):
    r = (session or requests).post(server.url("%s/%d/transitions/%s" % (records(module), rid, transition)),
                                   json=body or {}, timeout=10)
    assert r.status_code == status, (module, transition, r.text)
    return r.json()


def figures(server, period, *codes, session=None, **params):
    r = (session or requests).get(server.url("/api/v1/indicators"), params=dict(codes=",".join(codes), period=period,
                                                                                 **params), timeout=10)
    assert r.status_code == 200, r.text
    return {item["indicator"]: item["value"] for item in r.json()["items"]}


def orgs(server, *rows):
    for code, name, kind, parent in rows:
        args = ["org", "add", code, "--name", name, "--kind", kind] + (["--parent", parent] if parent else [])
        r = server.cli(*args)
        assert r.returncode == 0, r.stderr


def login(server, name, org, roles):
    r = server.cli("user", "add", name, "--display-name", name, "--org", org, "--roles", roles, "--password-stdin", "--no-change",
                   input_text=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    s = requests.Session()
    r = s.post(server.url("/api/v1/auth/login"), json={"user": name, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    s.headers["Authorization"] = None
    return s


def test_notary_verification_replies_within_ten_working_days(server):
    orgs(server, ("gg", "公共法律服务管理科", "department", None))

    def request(received):
        return create(server, "notary_verification", {
            "handler": "gg", "requester": "慈溪市人民法院", "requester_kind": "court",
            "notary_office": "浙江省慈溪市公证处", "certificate_no": "(2021)浙慈证字第1号", "received_on": received})

    # 10 working days from 2021-09-28 cross the National Day holiday and the 10-09 make-up day:
    # the reply is due on 2021-10-18
    on_time, late, pending = request("2021-09-28"), request("2021-09-28"), request("2021-09-28")
    body = fire(server, "notary_verification", on_time, "reply", {"result": "genuine", "replied_on": "2021-10-18"})
    assert body["state"] == "replied" and body["request_no"] == "(2021)慈司公核字第0001号"
    fire(server, "notary_verification", late, "reply", {"result": "forged", "replied_on": "2021-10-19"})
    deadline = requests.get(server.url("%s/%d" % (records("notary_verification"), pending)), timeout=10).json()
    reply = next(d for d in deadline["deadlines"] if d["code"] == "reply")
    assert reply["due"] == "2021-10-18" and reply["overdue"] is True

    got = figures(server, "2021", "notary_verifications", "notary_verifications_replied_in_time",
                  "notary_verification_reply_rate", "notary_certificates_not_genuine")
    assert got == {"notary_verifications": 3, "notary_verifications_replied_in_time": 1,
                   "notary_verification_reply_rate": 33.3, "notary_certificates_not_genuine": 1}

    # November: one request, answered late. None on time is 0 (and a rate of 0%), not "no data":
    # the month has requests. December has none: no data, never 0.
    fire(server, "notary_verification", request("2021-11-01"), "reply", {"result": "genuine", "replied_on": "2021-12-01"})
    nov = figures(server, "2021-11", "notary_verifications", "notary_verifications_replied_in_time",
                  "notary_verification_reply_rate")
    assert nov == {"notary_verifications": 1, "notary_verifications_replied_in_time": 0,
                   "notary_verification_reply_rate": 0}
    dec = figures(server, "2021-12", "notary_verifications", "notary_verifications_replied_in_time",
                  "notary_verification_reply_rate")
    assert dec == {"notary_verifications": None, "notary_verifications_replied_in_time": None,
                   "notary_verification_reply_rate": None}


def test_lawyer_random_inspection_rectified_in_time_and_scoped_to_the_bureau(server):
    orgs(server, ("c", "慈溪市", "city", None), ("lf1", "第一律师事务所", "law_firm", "c"),
         ("lf2", "第二律师事务所", "law_firm", "c"), ("ls", "律师工作管理科", "department", "c"))
    staff = login(server, "lvshi", "ls", "lawyer_affairs_staff")

    def inspect(firm, problems, ordered, rectified):
        rid = create(server, "lawyer_random_inspection", {"firm": firm, "plan": "2021年上半年双随机抽查",
                                                          "inspected_on": "2021-05-06"}, session=staff)
        if problems:
            fire(server, "lawyer_random_inspection", rid, "order_rectification",
                 {"problems": problems, "rectification_ordered_on": ordered}, session=staff)
            fire(server, "lawyer_random_inspection", rid, "close",
                 {"result": "rectified", "rectified_on": rectified}, session=staff)
        else:
            fire(server, "lawyer_random_inspection", rid, "close", {"result": "compliant"}, session=staff)
        return rid

    inspect("lf1", 3, "2021-05-10", "2021-06-09")   # 30 days: on time
    inspect("lf2", 2, "2021-05-10", "2021-06-10")   # a day late
    inspect("lf2", 0, None, None)
    got = figures(server, "2021", "lawyer_firms_inspected", "lawyer_inspection_problems",
                  "lawyer_inspections_rectified_in_time", session=staff)
    assert got == {"lawyer_firms_inspected": 3, "lawyer_inspection_problems": 5,
                   "lawyer_inspections_rectified_in_time": 1}
    # a firm's clerk sees neither the inspections nor may create one
    clerk = login(server, "clerk", "lf1", "law_firm_clerk")
    r = clerk.post(server.url(records("lawyer_random_inspection")), json={"firm": "lf1", "plan": "自查",
                                                                           "inspected_on": "2021-05-06"}, timeout=10)
    assert r.status_code == 403, r.text


def test_rule_of_law_inspection_until_closed_with_the_unit_reporting_back(server):
    orgs(server, ("c", "慈溪市", "city", None), ("g1", "市场监管局", "gov_unit", "c"), ("g2", "交通运输局", "gov_unit", "c"))
    rid = create(server, "rule_of_law_inspection", {"unit": "g1", "title": "行政执法三项制度落实情况",
                                                    "inspection_type": "special", "inspected_on": "2021-03-02"})
    other = create(server, "rule_of_law_inspection", {"unit": "g2", "title": "规范性文件合法性审核",
                                                      "inspection_type": "routine", "inspected_on": "2021-04-02"})
    fire(server, "rule_of_law_inspection", rid, "notify", {"problems": 3, "notice_no": "慈法督〔2021〕1号",
                                                           "notified_on": "2021-03-10"})
    fire(server, "rule_of_law_inspection", other, "notify", {"problems": 1, "notice_no": "慈法督〔2021〕2号",
                                                             "notified_on": "2021-04-10"})
    # the inspected unit's filer reports on its own matter, and cannot see the other unit's
    filer = login(server, "filer", "g1", "department_filer")
    fire(server, "rule_of_law_inspection", rid, "report", {"reported_on": "2021-04-20"}, session=filer)
    r = filer.post(server.url("%s/%d/transitions/report" % (records("rule_of_law_inspection"), other)), json={},
                   timeout=10)
    assert r.status_code == 404, r.text
    r = filer.post(server.url("%s/%d/transitions/close" % (records("rule_of_law_inspection"), rid)), json={},
                   timeout=10)
    assert r.status_code == 403, r.text
    # rectification not good enough: back to the unit, then closed
    fire(server, "rule_of_law_inspection", rid, "reopen")
    fire(server, "rule_of_law_inspection", rid, "report", {"reported_on": "2021-05-06"}, session=filer)
    assert fire(server, "rule_of_law_inspection", rid, "close", {"closed_on": "2021-05-20"})["state"] == "closed"
    fire(server, "rule_of_law_inspection", other, "report", {"reported_on": "2021-04-30"})
    history = requests.get(server.url("%s/%d/history" % (records("rule_of_law_inspection"), rid)), timeout=10).json()
    assert [h.get("transition") for h in history["history"]].count("report") == 2, history

    got = figures(server, "2021", "rol_inspections", "rol_inspection_problems", "rol_inspections_closed",
                  "rol_rectification_reported_in_time")
    # the first matter's last report on 2021-05-06 is 57 days after its notice: late; the other's
    # came 20 days after
    assert got == {"rol_inspections": 2, "rol_inspection_problems": 4, "rol_inspections_closed": 1,
                   "rol_rectification_reported_in_time": 1}


def test_commendations_count_person_times_and_persons(server):
    orgs(server, ("c", "慈溪市", "city", None), ("jo", "浒山街道司法所", "judicial_office", "c"))
    modules = {m["code"]: m for m in requests.get(server.url("/api/v1/modules"), timeout=10).json()["modules"]}
    subject_body = valid_body(modules["correction_subject"], {})
    subject_body.update({f["code"]: "jo" for f in modules["correction_subject"]["fields"] if f["type"] == "org"})
    subject = create(server, "correction_subject", subject_body)

    def commendation(proposed, decided, grant=True):
        rid = create(server, "correction_subject_commendation", {"subject": subject, "office": "jo",
                                                                 "proposed_on": proposed, "reason": "表现突出"})
        if grant:
            fire(server, "correction_subject_commendation", rid, "commend",
                 {"document_no": "慈司矫表字〔2021〕%d号" % rid, "decided_on": decided})
        else:
            fire(server, "correction_subject_commendation", rid, "reject",
                 {"rejection_reason": "有迟报情形", "decided_on": decided})
        return rid

    commendation("2021-03-01", "2021-03-10")
    commendation("2021-09-01", "2021-09-12")
    commendation("2021-10-01", "2021-10-09", grant=False)
    commendation("2021-12-25", "2022-01-05")
    got = figures(server, "2021", "correction_commendations", "correction_commended_persons")
    assert got == {"correction_commendations": 2, "correction_commended_persons": 1}
    # a commendation needs its decision's document number
    rid = create(server, "correction_subject_commendation", {"subject": subject, "office": "jo",
                                                             "proposed_on": "2021-11-01", "reason": "表现突出"})
    fire(server, "correction_subject_commendation", rid, "commend", {"decided_on": "2021-11-05"}, status=422)


def test_mediation_incentives_sum_paid_money_and_the_case_library_counts_selections(server):
    orgs(server, ("c", "慈溪市", "city", None), ("tw", "某镇调委会", "mediation_committee", "c"))
    case = create(server, "mediation_case", {"committee": "tw", "source": "walk_in", "title": "邻里纠纷",
                                             "received_on": "2021-02-01"})

    def incentive(amount, pay):
        rid = create(server, "mediation_incentive", {"committee": "tw", "incentive_type": "case_subsidy", "case": case,
                                                     "applied_on": "2021-03-01"})
        fire(server, "mediation_incentive", rid, "approve", {"amount": amount, "approved_on": "2021-03-20"})
        if pay:
            fire(server, "mediation_incentive", rid, "pay", {"paid_on": "2021-04-15"})

    incentive("80.00", True)
    incentive("150.50", True)
    incentive("300.00", False)   # approved, not yet paid: counted, not summed
    rejected = create(server, "mediation_incentive", {"committee": "tw", "incentive_type": "case_subsidy",
                                                      "applied_on": "2021-03-02"})
    fire(server, "mediation_incentive", rejected, "reject", {"rejection_reason": "协议未履行"})

    for title, select in (("邻里纠纷典型案例", "province"), ("借贷纠纷案例", None)):
        rid = create(server, "mediation_case_library", {"committee": "tw", "case": case, "title": title,
                                                        "submitted_on": "2021-05-01"})
        if select:
            fire(server, "mediation_case_library", rid, "select", {"level": select, "selected_on": "2021-06-01"})
        else:
            fire(server, "mediation_case_library", rid, "reject")
    got = figures(server, "2021", "mediation_incentives_approved", "mediation_incentive_amount",
                  "mediation_library_submitted", "mediation_library_selected")
    assert got == {"mediation_incentives_approved": 3, "mediation_incentive_amount": 230.5,
                   "mediation_library_submitted": 2, "mediation_library_selected": 1}


def test_assessment_scores_and_the_share_of_excellent_units(server):
    orgs(server, ("c", "慈溪市", "city", None), ("sfj", "司法局", "bureau", "c"), ("t1", "甲镇", "town", "c"),
         ("t2", "乙镇", "town", "c"), ("t3", "丙镇", "town", "c"))
    plan = create(server, "assessment_plan", {"issuer": "sfj", "year": 2020, "title": "2020年度法治建设考核方案",
                                              "total_score": 100})
    fire(server, "assessment_plan", plan, "issue", {"issued_on": "2020-03-15"})
    for unit, score, grade in (("t1", 93.5, "excellent"), ("t2", 84, "good"), ("t3", 71.5, "pass")):
        rid = create(server, "assessment_score", {"plan": plan, "unit": unit, "score": score,
                                                  "scored_on": "2021-01-10"})
        if unit == "t3":  # objects first, then confirmed after review
            fire(server, "assessment_score", rid, "object", {"objection": "对扣分有异议"})
        fire(server, "assessment_score", rid, "confirm", {"grade": grade, "confirmed_on": "2021-01-20"})
    got = figures(server, "2021", "assessment_units_scored", "assessment_units_excellent", "assessment_excellent_share")
    assert got == {"assessment_units_scored": 3, "assessment_units_excellent": 1, "assessment_excellent_share": 33.3}
    r = requests.post(server.url(records("assessment_score")), json={"plan": plan, "unit": "t1", "score": 1001,
                                                                     "scored_on": "2021-01-10"}, timeout=10)
    assert r.status_code == 422 and "score" in r.text
