"""人民调解案件 of the demo county: 12,033 disputes concluded in 2021 (12,015 successfully, 99.9%),
1.78亿元 involved, every online application answered within 72 hours, more than 80% of the
town and village committees' disputes resolved in the grid; and the 2020 cases for 同比.

Each case is imported in the state it reached (concluded, or accepted for the ones still open at
the end of 2021) with its dates; the figures follow from the records."""

import datetime

SOURCES_NON_GRID = ["walk_in", "referral", "proactive"]
TYPES = ["marriage_family", "neighborhood", "property", "debt", "contract", "labor", "damage", "other"]
TITLES = {"marriage_family": "婚姻家庭纠纷", "neighborhood": "邻里纠纷", "property": "房屋宅基地纠纷",
          "debt": "借贷纠纷", "contract": "合同纠纷", "labor": "劳动争议", "damage": "损害赔偿纠纷", "other": "其他纠纷"}

# 2021, concluded: the report's figures
CONCLUDED_2021 = 12033
SUCCEEDED_2021 = 12015
AMOUNT_2021_FEN = 17803642000        # 178,036,420.00 元: 1.78亿元
INDUSTRY_2021 = 960                   # by industry committees; the rest by town and village ones
GRID_2021 = 9102                      # of the 11,073 town and village cases: 82.2%
ONLINE_2021 = 612                     # online applications, all answered within 72 hours
CONCLUDED_2020 = 11472
OPEN_AT_END_2021 = 230                # accepted in December 2021, concluded in January 2022


def _day(rng, year, month_from=1, month_to=12):
    start = datetime.date(year, month_from, 1)
    end = datetime.date(year, month_to, 28)
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def _committees(orgs):
    town = [orgs.town_committee(t[0]) for t in orgs.TOWNS]
    village = [v for i in range(len(orgs.TOWNS)) for v in orgs.village_committees(i)]
    return town, village, orgs.industry_committees()


def _case(rng, committee, level, source, concluded, outcome, amount_fen, state="concluded", year=None):
    dtype = rng.choice(TYPES)
    accepted = concluded - datetime.timedelta(days=rng.randrange(0, 28))
    received = accepted - datetime.timedelta(days=rng.randrange(0, 3))
    rec = {"committee": committee, "committee_level": level, "source": source, "dispute_type": dtype,
           "title": "%s%s" % (committee[-3:], TITLES[dtype]), "received_on": received.isoformat(),
           "accepted_on": accepted.isoformat(), "amount": "%d.%02d" % divmod(amount_fen, 100), "state": state}
    if state == "concluded":
        rec["concluded_on"] = concluded.isoformat()
        rec["outcome"] = outcome
        rec["agreement_form"] = "written" if amount_fen > 500000 else "oral"
    if source == "online":
        applied = datetime.datetime.combine(received, datetime.time(9 + rng.randrange(8), rng.randrange(60)))
        replied = applied + datetime.timedelta(hours=rng.randrange(2, 71))
        rec["applied_at"] = applied.strftime("%Y-%m-%dT%H:%M:00+08:00")
        rec["replied_at"] = replied.strftime("%Y-%m-%dT%H:%M:00+08:00")
    return rec


def _amounts(rng, n, total_fen):
    """n amounts in fen (most disputes small, a few large) adding up to total_fen exactly."""
    raw = [rng.paretovariate(1.6) for _ in range(n)]
    scale = total_fen / sum(raw)
    out = [int(x * scale) // 100 * 100 for x in raw]
    out[0] += total_fen - sum(out)
    return out


def _year(rng, orgs, year, concluded_n, succeeded_n, industry_n, grid_n, online_n, total_fen):
    town, village, industry = _committees(orgs)
    local = town + village
    amounts = _amounts(rng, concluded_n, total_fen)
    outcomes = ["success"] * succeeded_n + ["failure"] * ((concluded_n - succeeded_n + 1) // 2)
    outcomes += ["withdrawn"] * (concluded_n - len(outcomes))
    rng.shuffle(outcomes)
    cases = []
    for k in range(concluded_n):
        if k < industry_n:
            committee, level = industry[k % len(industry)], "industry"
            source = "online" if k < online_n // 3 else rng.choice(["walk_in", "referral"])
        else:
            j = k - industry_n
            committee = local[j % len(local)]
            level = "town" if committee in town else "village"
            if j < grid_n:
                source = "grid"
            elif j < grid_n + online_n - online_n // 3:
                source = "online"
            else:
                source = rng.choice(SOURCES_NON_GRID)
        concluded = _day(rng, year)
        cases.append(_case(rng, committee, level, source, concluded, outcomes[k], amounts[k]))
    return cases


def _incentives(rng, orgs, cases):
    """以奖代补: a subsidy for some successfully mediated written agreements (80-500 元 by amount,
    the county's scale), and each year's commendations of committees and mediators. Case ids are
    positions in `cases` (mediation_case is imported before mediation_incentive: code order)."""
    out = []
    for cid, case in enumerate(cases, start=1):
        if case["state"] != "concluded" or case.get("outcome") != "success" or case.get("agreement_form") != "written":
            continue
        if rng.random() > 0.05:
            continue
        concluded = datetime.date.fromisoformat(case["concluded_on"])
        applied = concluded + datetime.timedelta(days=rng.randrange(5, 40))
        approved = applied + datetime.timedelta(days=rng.randrange(7, 30))
        paid = approved + datetime.timedelta(days=rng.randrange(10, 45))
        yuan = float(case["amount"])
        fen = 8000 if yuan < 10000 else 15000 if yuan < 100000 else 30000 if yuan < 1000000 else 50000
        rec = {"committee": case["committee"], "incentive_type": "case_subsidy", "case": cid,
               "applied_on": applied.isoformat(), "reason": "调解成功并达成书面协议:" + case["title"],
               "amount": "%d.%02d" % divmod(fen, 100), "state": "applied"}
        if approved <= SNAPSHOT:
            rec.update(state="approved", approved_on=approved.isoformat())
            if paid <= SNAPSHOT:
                rec.update(state="paid", paid_on=paid.isoformat())
        out.append(rec)
    town, village, industry = _committees(orgs)
    for year in (2020, 2021):
        for k, committee in enumerate(rng.sample(town + village + industry, 12)):
            kind = "committee_commendation" if k < 5 else "mediator_commendation"
            applied = datetime.date(year, 11, 1 + k)
            rec = {"committee": committee, "incentive_type": kind, "applied_on": applied.isoformat(),
                   "reason": "%d年度人民调解工作成绩突出" % year, "amount": "2000.00" if k < 5 else "1000.00",
                   "state": "paid", "approved_on": datetime.date(year, 12, 10).isoformat(),
                   "paid_on": datetime.date(year + 1, 1, 15).isoformat()}
            if kind == "mediator_commendation":
                rec["mediator"] = "调解员%d号" % (k + 1)
            out.append(rec)
    return out


def _library(rng, cases):
    """典型案例: a few large or unusual successful cases submitted a month after conclusion; the
    bureau selects about half, some at the city or province level."""
    out = []
    for cid, case in enumerate(cases, start=1):
        if case["state"] != "concluded" or case.get("outcome") != "success" or rng.random() > 0.004:
            continue
        submitted = datetime.date.fromisoformat(case["concluded_on"]) + datetime.timedelta(days=rng.randrange(10, 60))
        if submitted > SNAPSHOT:
            continue
        rec = {"committee": case["committee"], "case": cid, "title": case["title"] + "典型案例",
               "dispute_type": case["dispute_type"], "submitted_on": submitted.isoformat(),
               "summary": "当事人因%s诉至调委会,调解员多次上门释法说理,促成双方达成协议。" % TITLES[case["dispute_type"]],
               "state": "submitted"}
        selected = submitted + datetime.timedelta(days=rng.randrange(20, 90))
        if selected <= SNAPSHOT:
            if rng.random() < 0.5:
                rec.update(state="selected", selected_on=selected.isoformat(),
                           level=rng.choice(["county"] * 6 + ["city"] * 3 + ["province"]))
            else:
                rec["state"] = "rejected"
        out.append(rec)
    return out


SNAPSHOT = datetime.date(2022, 2, 28)  # the day the demo database "was exported" (as community.py)


def generate(orgs, rng):
    cases = _year(rng, orgs, 2021, CONCLUDED_2021, SUCCEEDED_2021, INDUSTRY_2021, GRID_2021, ONLINE_2021,
                  AMOUNT_2021_FEN)
    cases += _year(rng, orgs, 2020, CONCLUDED_2020, CONCLUDED_2020 - 15, 900, 8600, 540, 16500000000)
    town, village, _ = _committees(orgs)
    for k in range(OPEN_AT_END_2021):  # still being mediated at the end of 2021
        committee = (town + village)[k * 7 % (len(town) + len(village))]
        rec = _case(rng, committee, "town" if committee in town else "village", "walk_in",
                    datetime.date(2021, 12, 31), None, 100000 + k * 100, state="accepted")
        rec["accepted_on"] = "2021-12-%02d" % (1 + k % 28)
        rec["received_on"] = rec["accepted_on"]
        cases.append(rec)
    for k in range(120):  # concluded in January 2022: not 2021's
        committee = village[k % len(village)]
        cases.append(_case(rng, committee, "village", "grid", datetime.date(2022, 1, 1 + k % 28), "success",
                           50000 + k * 10))
    return {"mediation_case": cases, "mediation_incentive": _incentives(rng, orgs, cases),
            "mediation_case_library": _library(rng, cases)}
