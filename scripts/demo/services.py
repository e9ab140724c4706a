"""公共法律服务 of the demo county (慈溪市, 2021; the annual report 一(三)1 and 一(三)2):

- legal_aid_case: 1131 legal aid cases accepted in 2021 (and not refused), every case that came through
  the 政法一体化 platform handled collaboratively on it (100%);
- legal_consultation: 13,260 hotline and walk-in consultations answered, 10,968 of them on the 12348
  hotline (30 a day over the 365 days, non-working days included), 2,707 acts of legal help, and the
  online consultations besides;
- commercial_mediation_firm / commercial_mediation_case: 22 law firms in the commercial mediation
  centre, which opened in November 2021: 21 disputes accepted, 11 concluded, 8 successfully (6 of
  them taken to court for judicial confirmation): 72.73%;
- legal_checkup: 3,218 enterprises (3200余) given a legal check-up, with 926 acts of legal help (900余);
- mediation_committee_registry / mediator: 395 mediation organisations, 1,562 mediators in office at
  the end of 2021, every one of them certified.

And the records of 2020 (for 同比) and of January-February 2022 around them. Records are imported in the
state they had reached at the end of February 2022 (AS_OF) with their dates; the figures follow from
the records. Deterministic for a given rng."""

import datetime
from pathlib import Path

AS_OF = datetime.date(2022, 2, 28)  # the state of every record is the one it had reached by then

# ---- the report's figures (2021) ----
LEGAL_AID_CASES_2021 = 1131
LEGAL_AID_REFUSED_2021 = 38
HOTLINE_CONSULTATIONS_2021 = 10968      # 10968 / 365 = 30.05 → 30 件/日
WALK_IN_CONSULTATIONS_2021 = 13260 - HOTLINE_CONSULTATIONS_2021
ONLINE_CONSULTATIONS_2021 = 1385        # not part of 来电来访
LEGAL_HELP_2021 = {"duty_lawyer": 1480, "document_drafting": 690, "procedure_guidance": 402,
                   "application_assistance": 135}  # 2707
COMMERCIAL_FIRMS_2021 = 22
CHECKUP_ENTERPRISES_2021 = 3218         # 3200余家
CHECKUP_REPEATS_2021 = 172              # enterprises checked a second time in the year
CHECKUP_HELP_2021 = 926                 # 900余次
MEDIATORS_2021 = 1562

HOLIDAYS_DIR = Path(__file__).resolve().parents[2] / "data" / "holidays"

SURNAMES = ("王陈张李胡孙徐沈周黄吴杨岑叶邹施马罗朱励余戚潘袁蒋钱韩姚毛裘柴俞陆史方冯郑谢何赵邵金"
            "宋汪鲁蔡魏应童卢高严")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波林燕春梅飞斌宇浩凯鑫"
         "佳琪雨欣晨阳立新文亮成荣德良慧珍云峰永根宝康利群芬菊萍")
# Where applicants and callers come from: 慈溪 and Ningbo, and the provinces of the migrant workers.
ID_REGIONS = ["330282"] * 12 + ["330281", "330203", "330212", "342221", "412827", "511321", "522121",
                                 "362426", "431121", "452123"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "177", "180", "181", "182", "185", "186", "187", "188",
                   "189", "199"]

MATTERS = ["marriage_family", "labor", "debt", "contract", "traffic", "property", "land", "injury", "consumer",
           "enterprise", "criminal", "administrative", "other"]
MATTER_WEIGHTS = [18, 20, 14, 9, 8, 8, 5, 5, 4, 4, 2, 1, 2]
QUESTIONS = {
    "marriage_family": ["协议离婚后子女抚养费如何变更", "父母去世后房产如何继承", "婚前购房婚后共同还贷如何分割"],
    "labor": ["公司拖欠三个月工资如何维权", "未签劳动合同能否主张双倍工资", "工作中受伤如何申请工伤认定"],
    "debt": ["借条没有约定还款期限怎么办", "朋友借钱不还能否起诉", "担保人是否要承担还款责任"],
    "contract": ["装修合同违约如何索赔", "定金和订金有什么区别", "买卖合同对方不发货怎么办"],
    "traffic": ["交通事故对方全责保险公司拒赔", "交通事故误工费如何计算", "电动自行车事故责任认定"],
    "property": ["物业费能否因服务差拒交", "房屋租赁押金不退怎么办", "商品房延期交付如何维权"],
    "land": ["土地承包经营权能否流转", "宅基地纠纷如何处理", "征迁补偿标准如何确定"],
    "injury": ["邻居的狗咬伤人谁负责", "学生在校受伤学校是否担责", "人身损害赔偿项目有哪些"],
    "consumer": ["网购商品质量问题如何退货", "预付卡商家跑路怎么办", "美容服务纠纷如何投诉"],
    "enterprise": ["公司股东退出如何办理", "企业合同审查要注意什么", "员工竞业限制如何约定"],
    "criminal": ["家属被刑事拘留后如何委托律师", "取保候审的条件是什么", "刑事和解有哪些程序"],
    "administrative": ["对行政处罚不服如何申请复议", "政府信息公开申请如何提出", "行政诉讼起诉期限是多久"],
    "other": ["如何办理公证", "遗嘱如何订立才有效", "如何申请法律援助"],
}
ANSWERS = ["已解答相关法律规定并告知维权途径", "已告知可先行协商,协商不成可申请调解或起诉",
           "已释明法律规定,建议保留相关证据", "已告知申请法律援助的条件和所需材料",
           "已告知申请劳动仲裁的程序和时效", "已说明诉讼程序及所需材料"]
REFERRALS = ["legal_aid", "mediation", "arbitration", "litigation", "notary", "department"]


# ---------- calendar (data/holidays: the State Council's notices) ----------

class Calendar:
    def __init__(self, directory=HOLIDAYS_DIR):
        self.holidays, self.workdays = set(), set()
        for path in sorted(Path(directory).iterdir()):
            if not path.name.isdigit():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) < 2 or parts[0] not in ("holiday", "workday"):
                    continue
                first, _, last = parts[1].partition("..")
                d, end = _date(first), _date(last or first)
                while d <= end:
                    (self.holidays if parts[0] == "holiday" else self.workdays).add(d)
                    d += datetime.timedelta(days=1)

    def working(self, d):
        if d in self.workdays:
            return True
        return d not in self.holidays and d.weekday() < 5

    def add_working_days(self, d, n):
        while n > 0:
            d += datetime.timedelta(days=1)
            n -= self.working(d)
        return d


def _date(s):
    return datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))


def _days(start, end):
    """Every date from start to end inclusive."""
    return [start + datetime.timedelta(days=k) for k in range((end - start).days + 1)]


def _at(d, minutes):
    """China-time datetime text of day d plus minutes after midnight."""
    t = datetime.datetime.combine(d, datetime.time()) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _yuan(fen):
    return "%d.%02d" % divmod(fen, 100)


# ---------- people and organisations ----------

def _name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def _id_number(rng, born, male, region=None):
    """A citizen identity number (GB 11643-1999) with its ISO 7064 MOD 11-2 check character."""
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    body = "%s%s%03d" % (region or rng.choice(ID_REGIONS), born.strftime("%Y%m%d"), seq)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def _mobile(rng):
    return rng.choice(MOBILE_PREFIXES) + "%08d" % rng.randrange(100000000)


def _person(rng, born_from=1950, born_to=2000, with_id=True, with_phone=True, region=None):
    born = datetime.date(rng.randrange(born_from, born_to + 1), 1, 1) + datetime.timedelta(days=rng.randrange(365))
    p = {"name": _name(rng)}
    if with_id:
        p["id_number"] = _id_number(rng, born, rng.random() < 0.5, region)
    if with_phone:
        p["phone"] = _mobile(rng)
    return p


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_code(serial):
    """A 9-character organisation code (GB 11714): 8 digits and their check character."""
    body = "%08d" % serial
    r = 11 - sum(int(c) * w for c, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return body + ("X" if r == 10 else "0" if r == 11 else str(r))


def _uscc(kind, region, serial):
    """A unified social credit code (GB 32100): kind ("91" enterprise, "31" law firm), the division,
    the organisation code and the check character over the first 17 (weights 3^i mod 31)."""
    first = kind + region + _org_code(serial)
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first, weights))
    return first + USCC_ALPHABET[(31 - total % 31) % 31]


def _firm_uscc(k):
    return _uscc("31", "330282", 57210000 + 37 * k)


# ---------- legal aid (legal_aid_case) ----------

LEGAL_AID_CAUSES = {
    "criminal_defense": ["盗窃罪", "危险驾驶罪", "诈骗罪", "故意伤害罪", "帮助信息网络犯罪活动罪", "寻衅滋事罪",
                         "开设赌场罪", "交通肇事罪"],
    "criminal_victim": ["故意伤害案被害人代理", "交通肇事案被害人代理", "强奸案被害人代理"],
    "civil": ["劳动报酬纠纷", "工伤保险待遇纠纷", "提供劳务者受害责任纠纷", "机动车交通事故责任纠纷",
              "离婚纠纷", "抚养费纠纷", "赡养费纠纷", "民间借贷纠纷", "医疗损害责任纠纷"],
    "administrative": ["工伤认定行政诉讼", "社会保险行政诉讼"],
    "state_compensation": ["刑事赔偿"],
    "non_litigation": ["劳动争议仲裁代理", "工伤认定申请代理", "劳动人事争议调解代理"],
}
LEGAL_AID_REFUSALS = ["申请人经济状况不符合法律援助经济困难标准", "申请事项不属于法律援助范围",
                      "申请人提交的材料不能证明其主张的事实,且拒绝补充"]


def _legal_aid_year(rng, orgs, cal, lawyers, year, counts, platform_misses=0, months=(1, 12), on=None):
    """Cases accepted in the year (months from..to, or on the day given), counts: {category: n};
    refused ones separately."""
    center = orgs.DEPARTMENTS["legal_aid_center"][0]
    offices = [orgs.judicial_office(t[0]) for t in orgs.TOWNS]
    start = datetime.date(year, months[0], 1)
    end = (datetime.date(year, months[1] + 1, 1) if months[1] < 12 else datetime.date(year + 1, 1, 1)) - \
        datetime.timedelta(days=1)
    working = [d for d in _days(start, end) if cal.working(d)]
    out = []
    platform_cases = []
    for category, n in counts.items():
        for _ in range(n):
            accepted = on or rng.choice(working)
            notice = category == "criminal_defense"
            if notice:
                channel = "court_notice" if rng.random() < 0.78 else "detention"
            elif category == "criminal_victim":
                channel = "walk_in"
            else:
                channel = "online" if rng.random() < 0.15 else "walk_in"
            applied = accepted if notice else accepted - datetime.timedelta(days=rng.choice((0, 0, 0, 1, 2)))
            rec = {"handling_org": center if notice or rng.random() < 0.8 else rng.choice(offices),
                   "channel": channel, "category": category, "cause": rng.choice(LEGAL_AID_CAUSES[category]),
                   "applied_on": applied.isoformat(), "accepted_on": accepted.isoformat()}
            rec["applicant"] = _person(rng, 1955, 2003, with_phone=not notice or rng.random() < 0.3)
            if notice:
                rec["notice_received_on"] = accepted.isoformat()
                decided = accepted
                assigned = accepted + datetime.timedelta(days=rng.choice((0, 1, 1, 2, 2, 3)))
            else:
                if rng.random() < 0.08:
                    rec["supplement_days"] = rng.randrange(1, 6)
                decided = cal.add_working_days(accepted, rng.choice((0, 1, 1, 2, 3, 5)))
                assigned = decided + datetime.timedelta(days=rng.choice((0, 1, 1, 2)))
            if notice or channel == "online":
                rec["platform_received"] = True
                rec["platform_no"] = "ZFYTH%d%06d" % (year, rng.randrange(1000000))
                rec["platform_collaborated"] = True
                platform_cases.append(rec)
            firm = rng.randrange(len(lawyers))
            rec.update({"decided_on": decided.isoformat(), "lawyer": rng.choice(lawyers[firm]),
                        "law_firm_uscc": _firm_uscc(firm), "assigned_on": assigned.isoformat()})
            closed = assigned + datetime.timedelta(days=rng.randrange(20, 200))
            if assigned > AS_OF:  # accepted but not yet decided at the cut-off
                for k in ("decided_on", "lawyer", "law_firm_uscc", "assigned_on"):
                    rec.pop(k)
                rec["state"] = "accepted"
            elif closed > AS_OF:
                rec["state"] = "assigned"
            else:
                rec["state"] = "closed"
                rec["closed_on"] = closed.isoformat()
                if category in ("criminal_defense", "criminal_victim", "civil", "administrative"):
                    rec["hearing_attended"] = rng.random() < 0.9
                rec["satisfaction"] = rng.choice((5, 5, 5, 5, 4, 4, 3))
                if category in ("civil", "non_litigation", "criminal_victim") and rng.random() < 0.7:
                    rec["recovered_amount"] = _yuan(rng.randrange(5000, 300000) * 100)
                if rng.random() < 0.12:
                    rec["hearing_observed"] = True
                if category.startswith("criminal") and rng.random() < 0.3:
                    rec["judge_rating"] = rng.choice((5, 5, 4, 4, 3))
                checked = closed + datetime.timedelta(days=rng.randrange(10, 60))
                if rng.random() < 0.35 and checked <= AS_OF:
                    rec["quality_grade"] = rng.choices(["excellent", "good", "pass", "fail"], [30, 50, 19, 1])[0]
                    rec["quality_checked_on"] = checked.isoformat()
            out.append(rec)
    for rec in rng.sample(platform_cases, platform_misses):  # handled outside the platform
        rec["platform_collaborated"] = False
    return out


def _legal_aid_refused(rng, orgs, cal, year, n, months=(1, 12)):
    center = orgs.DEPARTMENTS["legal_aid_center"][0]
    out = []
    for _ in range(n):
        accepted = datetime.date(year, rng.randrange(months[0], months[1] + 1), rng.randrange(1, 29))
        while not cal.working(accepted):
            accepted += datetime.timedelta(days=1)
        decided = cal.add_working_days(accepted, rng.randrange(1, 7))
        out.append({"handling_org": center, "channel": rng.choice(["walk_in", "walk_in", "online"]),
                    "category": "civil", "cause": rng.choice(LEGAL_AID_CAUSES["civil"]),
                    "applicant": _person(rng, 1955, 2000), "applied_on": accepted.isoformat(),
                    "accepted_on": accepted.isoformat(), "decided_on": decided.isoformat(),
                    "refusal_reason": rng.choice(LEGAL_AID_REFUSALS), "state": "refused"})
    return out


def _split(total, shares):
    """total split by integer weights, exactly."""
    s = sum(shares.values())
    out = {k: total * v // s for k, v in shares.items()}
    first = next(iter(out))
    out[first] += total - sum(out.values())
    return out


def legal_aid(orgs, rng, cal, lawyers):
    shares = {"criminal_defense": 420, "criminal_victim": 25, "civil": 640, "administrative": 12,
              "state_compensation": 2, "non_litigation": 32}
    cases = _legal_aid_year(rng, orgs, cal, lawyers, 2021, _split(LEGAL_AID_CASES_2021, shares))
    cases += _legal_aid_refused(rng, orgs, cal, 2021, LEGAL_AID_REFUSED_2021)
    # 2020 (before the platform was used for every case: a few handled outside it) and Jan-Feb 2022
    cases += _legal_aid_year(rng, orgs, cal, lawyers, 2020, _split(1068, shares), platform_misses=9)
    cases += _legal_aid_refused(rng, orgs, cal, 2020, 41)
    cases += _legal_aid_year(rng, orgs, cal, lawyers, 2022, _split(176, shares), months=(1, 2))
    cases += _legal_aid_refused(rng, orgs, cal, 2022, 5, months=(1, 2))
    # applied for in the last days of 2021, accepted after the New Year holiday: 2022's cases
    late = _legal_aid_year(rng, orgs, cal, lawyers, 2022, {"civil": 6}, on=datetime.date(2022, 1, 4))
    for k, rec in enumerate(late):
        rec["applied_on"] = "2021-12-%d" % (27 + k % 4)
    cases += late
    cases.sort(key=lambda r: r["applied_on"])
    return cases


# ---------- consultations and legal help (legal_consultation) ----------

def _spread(rng, n, days, weight):
    """n dates drawn from days with the given weight function, sorted."""
    return sorted(rng.choices(days, weights=[weight(d) for d in days], k=n))


def _consultation(rng, cal, org, channel, service, day, help_form=None):
    matter = rng.choices(MATTERS, MATTER_WEIGHTS)[0]
    working = cal.working(day)
    if channel == "hotline":
        start = rng.randrange(8 * 60 + 30, 17 * 60 + 30) if working else rng.randrange(9 * 60, 17 * 60)
    elif channel == "online":
        start = rng.randrange(0, 24 * 60)
    else:
        start = rng.randrange(8 * 60 + 30, 16 * 60 + 45)
    rec = {"service_org": org, "channel": channel, "service_type": service, "matter": matter,
           "received_at": _at(day, start), "question": rng.choice(QUESTIONS[matter]),
           "staff": rng.choice(SURNAMES) + rng.choice(("律师", "律师", "老师"))}
    if help_form:
        rec["help_form"] = help_form
    if channel == "hotline":
        seconds = rng.randrange(90, 1200)
        rec["call_seconds"] = seconds
        rec["off_hours"] = not working
        answered = start + seconds // 60 + 1
        if rng.random() < 0.6:
            rec["requester"] = {"name": rng.choice(SURNAMES) + rng.choice(("先生", "女士")), "phone": _mobile(rng)}
    elif channel == "online":
        answered = start + rng.randrange(20, 23 * 60)
        if rng.random() < 0.015:  # a few online questions answered after the 24 hours
            answered = start + rng.randrange(24 * 60 + 10, 40 * 60)
        if rng.random() < 0.5:
            rec["requester"] = {"name": _name(rng), "phone": _mobile(rng)}
    else:
        answered = start + rng.randrange(10, 60)
        rec["requester"] = _person(rng, 1950, 2003, with_id=service == "legal_help" or rng.random() < 0.3)
    if matter == "labor" and rng.random() < 0.45:
        rec["special_group"] = "migrant_worker"
    elif rng.random() < 0.08:
        rec["special_group"] = rng.choice(["elderly", "disabled", "minor", "women", "veteran"])
    if service == "consultation" and rng.random() < 0.03:
        rec["state"] = "referred"
        rec["referred_to"] = "legal_aid" if matter in ("labor", "injury", "criminal") else rng.choice(REFERRALS)
    else:
        rec["state"] = "answered"
        rec["answer"] = rng.choice(ANSWERS)
    rec["answered_at"] = _at(day, answered)
    if rng.random() < 0.3:
        rec["satisfaction"] = rng.choice((5, 5, 5, 4, 4, 3))
    return rec


def consultations(orgs, rng, cal):
    hotline = orgs.DEPARTMENTS["hotline"][0]
    center = orgs.DEPARTMENTS["legal_aid_center"][0]
    offices = [orgs.judicial_office(t[0]) for t in orgs.TOWNS]
    out = []

    def period(start, end, hotline_n, walk_in_n, online_n, help_n, open_online=0, off_hours_service=True):
        days = _days(start, end)
        off_weight = 0.45 if off_hours_service else 0  # manual answering on non-working days since 2021
        for d in _spread(rng, hotline_n, days, lambda d: 1.25 if cal.working(d) else off_weight):
            out.append(_consultation(rng, cal, hotline, "hotline", "consultation", d))
        working = [d for d in days if cal.working(d)]
        for d in _spread(rng, walk_in_n, working, lambda d: 1):
            org = center if rng.random() < 0.48 else rng.choice(offices)
            out.append(_consultation(rng, cal, org, "walk_in", "consultation", d))
        for d in _spread(rng, online_n, days, lambda d: 1):
            out.append(_consultation(rng, cal, hotline, "online", "consultation", d))
        for form, n in help_n.items():
            for d in _spread(rng, n, working, lambda d: 1):
                if form == "duty_lawyer":
                    org, channel = center, "workstation"
                else:
                    org, channel = (center if rng.random() < 0.6 else rng.choice(offices)), "walk_in"
                out.append(_consultation(rng, cal, org, channel, "legal_help", d, help_form=form))
        for k in range(open_online):  # received at the cut-off, not answered yet
            rec = _consultation(rng, cal, hotline, "online", "consultation", end)
            for key in ("answer", "answered_at", "referred_to", "satisfaction"):
                rec.pop(key, None)
            rec["state"] = "received"
            out.append(rec)

    period(datetime.date(2021, 1, 1), datetime.date(2021, 12, 31), HOTLINE_CONSULTATIONS_2021,
           WALK_IN_CONSULTATIONS_2021, ONLINE_CONSULTATIONS_2021, LEGAL_HELP_2021)
    period(datetime.date(2020, 1, 1), datetime.date(2020, 12, 31), 9415, 2368, 1020,
           {"duty_lawyer": 1395, "document_drafting": 655, "procedure_guidance": 380, "application_assistance": 118},
           off_hours_service=False)
    period(datetime.date(2022, 1, 1), AS_OF, 1760, 350, 225,
           {"duty_lawyer": 220, "document_drafting": 105, "procedure_guidance": 60, "application_assistance": 20},
           open_online=7)
    out.sort(key=lambda r: r["received_at"])
    return out


# ---------- commercial mediation (commercial_mediation_firm, commercial_mediation_case) ----------

COMMERCIAL_TITLES = {
    "sale": "买卖合同纠纷", "loan": "金融借款合同纠纷", "private_loan": "企业借贷纠纷",
    "construction": "建设工程施工合同纠纷", "lease": "厂房租赁合同纠纷", "service": "服务合同纠纷",
    "processing": "加工合同纠纷", "transport": "运输合同纠纷", "equity": "股权转让纠纷",
    "partnership": "合伙协议纠纷", "ip": "商标侵权纠纷", "other": "商事纠纷"}


def commercial_mediation(orgs, rng, lawyers, enterprises):
    firms = orgs.law_firms()
    chosen = sorted(rng.sample(range(len(firms)), COMMERCIAL_FIRMS_2021 + 1))
    joining_2022 = chosen.pop(rng.randrange(len(chosen)))
    registry = []
    for k in chosen:
        joined = datetime.date(2021, 10, rng.randrange(11, 30))
        registry.append({"law_firm": firms[k], "firm_uscc": _firm_uscc(k), "agreement_no": "LX-SJ-2021-%03d" % (k + 1),
                         "joined_on": joined.isoformat(), "mediators": rng.randrange(2, 7),
                         "contact": lawyers[k][0], "state": "active"})
    gone = registry[rng.randrange(len(registry))]  # merged into another firm in 2022
    gone.update({"state": "withdrawn", "left_on": "2022-02-18", "leave_reason": "律师事务所合并,派驻律师转入合并后的律所"})
    registry.append({"law_firm": firms[joining_2022], "firm_uscc": _firm_uscc(joining_2022),
                     "agreement_no": "LX-SJ-2022-%03d" % (joining_2022 + 1), "joined_on": "2022-02-10",
                     "mediators": 3, "contact": lawyers[joining_2022][0], "state": "active"})
    registry.sort(key=lambda r: r["joined_on"])
    active_2021 = [r for r in registry if r["joined_on"] < "2022"]

    cases = []
    center_open = datetime.date(2021, 11, 1)

    def case(received, source):
        firm = rng.choice(active_2021)
        k = firms.index(firm["law_firm"])
        dtype = rng.choice(list(COMMERCIAL_TITLES))
        applicant, respondent = rng.sample(enterprises, 2)
        parties = [{"name": applicant[0], "party_type": "enterprise", "role": "applicant", "uscc": applicant[1]}]
        if rng.random() < 0.3:
            p = _person(rng, 1960, 1995)
            parties.append({"name": p["name"], "party_type": "natural_person", "role": "respondent",
                            "id_number": p["id_number"], "phone": p["phone"]})
        else:
            parties.append({"name": respondent[0], "party_type": "enterprise", "role": "respondent",
                            "uscc": respondent[1]})
        rec = {"law_firm": firm["law_firm"], "source": source, "dispute_type": dtype,
               "title": "%s与%s%s" % (applicant[0], parties[1]["name"], COMMERCIAL_TITLES[dtype]),
               "amount": _yuan(rng.randrange(30000, 2500000) * 100), "received_on": received.isoformat(),
               "mediator": rng.choice(lawyers[k]), "parties": parties}
        if source.startswith("court"):
            rec["court_case_no"] = "(%d)浙0282民诉前调%d号" % (received.year, rng.randrange(1000, 9999))
        return rec

    def accept(rec, accepted):
        rec["accepted_on"] = accepted.isoformat()
        rec["state"] = "accepted"

    def conclude(rec, concluded, outcome, confirmation=False):
        rec.update({"state": "concluded", "concluded_on": concluded.isoformat(), "outcome": outcome})
        if concluded > datetime.date.fromisoformat(rec["accepted_on"]) + datetime.timedelta(days=30):
            rec["extension_days"] = 30
        if outcome == "success":
            amount = int(rec["amount"].replace(".", ""))
            rec["agreement_amount"] = _yuan(amount * rng.randrange(60, 96) // 100)
            rec["fee"] = _yuan(max(50000, amount // 100) // 100 * 100)
        if confirmation:
            applied = concluded + datetime.timedelta(days=rng.randrange(1, 10))
            rec["confirmation_applied_on"] = applied.isoformat()
            ruled = applied + datetime.timedelta(days=rng.randrange(5, 15))
            if ruled <= AS_OF:
                rec["confirmation_result"] = "confirmed"
                rec["confirmation_ruled_on"] = ruled.isoformat()

    sources = ["court_delegated"] * 15 + ["court_entrusted"] * 3 + ["application"] * 4 + ["transferred"]
    rng.shuffle(sources)
    received_days = sorted(center_open + datetime.timedelta(days=rng.randrange(0, 57)) for _ in range(23))
    batch = [case(d, s) for d, s in zip(received_days, sources)]
    rejected = rng.sample(range(len(batch)), 2)
    for i in rejected:  # 不属于商事纠纷 / 已进入执行程序
        batch[i]["state"] = "rejected"
        batch[i].pop("mediator")
    accepted = [r for i, r in enumerate(batch) if i not in rejected]  # 21
    for rec in accepted:
        accept(rec, datetime.date.fromisoformat(rec["received_on"]) + datetime.timedelta(days=rng.randrange(0, 3)))
    # 11 concluded by the end of December (the earliest accepted), 8 of them successfully, 6 of those
    # taken to court for judicial confirmation; the other 10 concluded in January-February 2022
    accepted.sort(key=lambda r: r["accepted_on"])
    outcomes = ["success"] * 8 + ["failure"] * 2 + ["withdrawn"]
    rng.shuffle(outcomes)
    confirm = 6
    for rec, outcome in zip(accepted[:11], outcomes):
        start = datetime.date.fromisoformat(rec["accepted_on"])
        concluded = min(start + datetime.timedelta(days=rng.randrange(7, 29)), datetime.date(2021, 12, 31))
        conclude(rec, concluded, outcome, confirmation=outcome == "success" and confirm > 0)
        confirm -= outcome == "success"
    for rec in accepted[11:]:
        start = datetime.date.fromisoformat(rec["accepted_on"])
        concluded = max(start + datetime.timedelta(days=rng.randrange(15, 45)), datetime.date(2022, 1, 4))
        outcome = rng.choice(["success", "success", "success", "failure"])
        conclude(rec, concluded, outcome, confirmation=outcome == "success" and rng.random() < 0.5)
    cases += batch
    # January-February 2022
    for _ in range(9):
        received = datetime.date(2022, 1, 4) + datetime.timedelta(days=rng.randrange(0, 50))
        rec = case(received, rng.choice(["court_delegated", "court_delegated", "application"]))
        accept(rec, received + datetime.timedelta(days=1))
        concluded = received + datetime.timedelta(days=rng.randrange(10, 30))
        if concluded <= AS_OF:
            conclude(rec, concluded, rng.choice(["success", "success", "failure"]))
        cases.append(rec)
    cases.sort(key=lambda r: r["received_on"])
    return registry, cases


# ---------- enterprise legal check-ups (legal_checkup) ----------

FIRM_WORDS = "恒泰华盛鑫达宏远金源永信博达天成海利通亚美嘉安瑞祥昌隆兴旺富顺宝泽联创卓越晨光新锐正大"
INDUSTRY_WORDS = {"manufacturing": ["电器", "机械", "塑业", "五金", "轴承", "汽配", "纺织"],
                  "wholesale_retail": ["贸易", "商贸", "进出口"], "construction": ["建设", "建筑工程"],
                  "transport": ["物流", "运输"], "accommodation": ["餐饮管理", "酒店管理"],
                  "it": ["网络科技", "信息技术"], "real_estate": ["置业", "物业服务"],
                  "leasing_business": ["企业管理咨询", "商务服务"], "agriculture": ["农业发展", "果蔬专业合作"],
                  "other": ["实业", "文化传媒"]}
INDUSTRY_WEIGHTS = {"manufacturing": 46, "wholesale_retail": 18, "construction": 7, "transport": 5,
                    "accommodation": 4, "it": 5, "real_estate": 3, "leasing_business": 6, "agriculture": 3, "other": 3}
CHECKUP_FINDINGS = ["劳动合同条款不完善,建议补充保密和竞业限制条款", "应收账款催收不及时,存在诉讼时效风险",
                    "合同审查流程缺失,建议建立合同台账", "公司章程与现行公司法不一致,建议修订",
                    "安全生产责任制度不健全", "知识产权保护意识不足,建议注册商标"]


def _enterprises(rng, n):
    """n distinct enterprises: (name, uscc, industry, town index)."""
    names, out = set(), []
    industries = list(INDUSTRY_WEIGHTS)
    serial = 71300000
    while len(out) < n:
        industry = rng.choices(industries, [INDUSTRY_WEIGHTS[i] for i in industries])[0]
        name = "慈溪市%s%s%s有限公司" % (rng.choice(FIRM_WORDS), rng.choice(FIRM_WORDS),
                                     rng.choice(INDUSTRY_WORDS[industry]))
        if name in names:
            continue
        names.add(name)
        serial += rng.randrange(1, 400)
        out.append((name, _uscc("91", "330282", serial), industry, rng.randrange(19)))
    return out


def checkups(orgs, rng, lawyers, enterprises):
    firms = orgs.law_firms()
    lawyers_dept = orgs.DEPARTMENTS["lawyers"][0]
    out = []

    def visit(ent, day, state="checked"):
        name, uscc, industry, town = ent
        firm = rng.randrange(len(firms))
        organizer = orgs.judicial_office(orgs.TOWNS[town][0]) if rng.random() < 0.85 else lawyers_dept
        scheduled = day - datetime.timedelta(days=rng.randrange(3, 15))
        rec = {"organizer": organizer, "law_firm": firms[firm], "lawyer": rng.choice(lawyers[firm]),
               "enterprise": name, "enterprise_uscc": uscc, "industry": industry,
               "form": rng.choices(["onsite", "centralized", "online"], [60, 30, 10])[0],
               "scheduled_on": scheduled.isoformat(), "state": state}
        if rng.random() < 0.7:
            rec["contact"] = _person(rng, 1965, 1995, with_id=False)
        if state == "cancelled":
            rec.pop("lawyer")
            return rec
        rec.update({"checked_on": day.isoformat(), "risks_found": rng.randrange(0, 6),
                    "suggestions": rng.randrange(1, 8), "help_count": 0, "report_issued": rng.random() < 0.9})
        if rec["risks_found"]:
            rec["findings"] = rng.choice(CHECKUP_FINDINGS)
        followed = day + datetime.timedelta(days=rng.randrange(15, 60))
        if rng.random() < 0.7 and followed <= AS_OF:
            rec["state"] = "followed_up"
            rec["followed_up_on"] = followed.isoformat()
            rec["feedback"] = rng.choice(["已按建议整改", "已修订劳动合同文本", "正在整改中", "满意"])
        return rec

    def day_in(year, months, weights):
        month = rng.choices(months, weights)[0]
        return datetime.date(year, month, rng.randrange(1, 29))

    months, weights = list(range(1, 13)), [2, 3, 14, 14, 9, 6, 5, 5, 7, 6, 5, 4]  # 法雨春风: spring
    pool = rng.sample(enterprises, CHECKUP_ENTERPRISES_2021)
    year = [visit(e, day_in(2021, months, weights)) for e in pool]
    year += [visit(e, day_in(2021, months, weights)) for e in rng.sample(pool, CHECKUP_REPEATS_2021)]
    # legal help: 926 acts over the year's check-ups, once or twice each
    helped = rng.sample(range(len(year)), CHECKUP_HELP_2021 - 33)
    for i in helped:
        year[i]["help_count"] = 1
    for i in helped[:33]:
        year[i]["help_count"] = 2
    year += [visit(e, day_in(2021, months, weights), state="cancelled") for e in rng.sample(enterprises, 45)]
    out += year
    for e in rng.sample(enterprises, 1650):  # 2020
        rec = visit(e, day_in(2020, months[3:], weights[3:]))
        rec["help_count"] = rng.choice((0, 0, 0, 0, 1))
        out.append(rec)
    for e in rng.sample(enterprises, 240):  # January-February 2022
        day = datetime.date(2022, rng.choice((1, 2)), rng.randrange(1, 29))
        rec = visit(e, day, state="checked" if day <= datetime.date(2022, 2, 20) else "scheduled")
        if rec["state"] == "scheduled":
            for k in ("checked_on", "risks_found", "suggestions", "help_count", "report_issued", "findings"):
                rec.pop(k, None)
        else:
            rec["help_count"] = rng.choice((0, 0, 0, 1))
        out.append(rec)
    out.sort(key=lambda r: r["scheduled_on"])
    return out


# ---------- mediation organisations and mediators ----------

def committees(orgs):
    """[(code, name, level, town index or None, host unit, address)] of the 395 mediation organisations."""
    out = []
    for i, (town, tname, _) in enumerate(orgs.TOWNS):
        out.append((orgs.town_committee(town), tname + "人民调解委员会", "town", i,
                    tname + ("办事处" if tname.endswith("街道") else "人民政府"), tname + "社会矛盾纠纷调处化解中心"))
        for k, v in enumerate(orgs.village_committees(i)):
            out.append((v, "%s第%d村(社区)人民调解委员会" % (tname, k + 1), "village", i,
                        "%s第%d村(居)民委员会" % (tname, k + 1), "%s第%d村(社区)便民服务中心" % (tname, k + 1)))
    for code, name in zip(orgs.industry_committees(), orgs.INDUSTRY_COMMITTEES):
        out.append((code, "慈溪市" + name, "industry", None, "慈溪市司法局", "慈溪市公共法律服务中心"))
    return out


STUDIOS = {"浒山街道": "“五兄弟”调解工作室(省级金牌人民调解工作室)",
           "周巷镇": "“党员老娘舅”调解工作室(2021年度宁波市人民调解品牌工作室)"}


def registry(orgs, rng, directors):
    out = []
    for (code, name, level, town, host, address), director in zip(committees(orgs), directors):
        tname = orgs.TOWNS[town][1] if town is not None else None
        if level == "town":
            founded = datetime.date(rng.randrange(1985, 2002), rng.randrange(1, 13), 1)
        elif level == "village":
            founded = datetime.date(rng.randrange(1985, 2012), rng.randrange(1, 13), 1)
        else:
            founded = datetime.date(rng.randrange(2008, 2020), rng.randrange(1, 13), 1)
        # the town and village committees were re-elected in early 2021 (三年一届)
        term = datetime.date(2021, rng.choice((1, 2, 3, 4)), rng.randrange(1, 29)) if level != "industry" else \
            datetime.date(rng.choice((2019, 2020, 2021)), rng.randrange(1, 13), 1)
        rec = {"committee": code, "name": name, "level": level, "host_unit": host,
               "founded_on": founded.isoformat(),
               "registered_on": (datetime.date(2021, 5, 1) + datetime.timedelta(days=rng.randrange(0, 60))).isoformat(),
               "director": director, "members": rng.randrange(5, 10) if level != "village" else rng.randrange(3, 8),
               "term_started_on": term.isoformat(), "term_ends_on": term.replace(year=term.year + 3).isoformat(),
               "address": address, "office_phone": "0574-6%07d" % rng.randrange(10000000), "state": "active"}
        if level == "town" and tname in STUDIOS:
            rec["studio"] = STUDIOS[tname]
        out.append(rec)
    out.sort(key=lambda r: r["registered_on"])
    return out


def mediators(orgs, rng):
    """The mediators: every one in office at the end of 2021 certified; those who left at the 2021
    re-election of the village committees (换届: most re-elected, a fifth newly elected) or before; new
    ones of January-February 2022."""
    comms = committees(orgs)
    size = {}
    for code, _, level, *_ in comms:
        size[code] = {"town": 12, "industry": 6, "village": 3}[level]
    villages = [c[0] for c in comms if c[2] == "village"]
    for code in rng.sample(villages, MEDIATORS_2021 - sum(size.values())):
        size[code] += 1
    assert sum(size.values()) == MEDIATORS_2021
    out, directors = [], []
    serial = [0]

    def certificate(day):
        serial[0] += 1
        return "浙调证%d%05d" % (day.year, serial[0])

    for code, name, level, *_ in comms:
        for k in range(size[code]):
            position = "director" if k == 0 else "deputy_director" if k == 1 and level != "village" else \
                "member" if k < 5 or level == "village" else "appointed"
            person = _person(rng, 1955, 1992, region="330282")
            if level == "village":  # newly elected at the 2021 re-election, or re-elected
                appointed = datetime.date(2021, rng.randrange(1, 5), rng.randrange(1, 29)) if rng.random() < 0.2 \
                    else datetime.date(rng.randrange(2012, 2021), rng.randrange(1, 13), 1)
            else:
                appointed = datetime.date(rng.randrange(2010, 2022), rng.randrange(1, 13), rng.randrange(1, 29))
            # certificates from 2019 on, for all from March 2021 (全面推行持证上岗)
            campaign = datetime.date(2019, 6, 1) if rng.random() < 0.35 else datetime.date(2021, 3, 1)
            trained = max(appointed, campaign) + datetime.timedelta(days=rng.randrange(5, 40))
            certified = trained + datetime.timedelta(days=rng.randrange(7, 30))
            if certified > datetime.date(2021, 12, 28):  # appointed late in 2021: certified before the year's end
                trained, certified = datetime.date(2021, 12, 15), datetime.date(2021, 12, 28)
                appointed = min(appointed, datetime.date(2021, 12, 10))
            rec = {"committee": code, "person": person, "position": position,
                   "full_time": level == "town" and position == "appointed",
                   "appointed_on": appointed.isoformat(), "trained_on": trained.isoformat(),
                   "certificate_no": certificate(certified), "certified_on": certified.isoformat(),
                   "state": "certified"}
            if k == 0:
                directors.append(person["name"])
            out.append(rec)
    # honours named in the report
    town_committee = orgs.town_committee(orgs.TOWNS[0][0])
    first = next(r for r in out if r["committee"] == town_committee and r["position"] == "appointed")
    first["person"]["name"], first["honors"] = "黄新华", "宁波市首席人民调解员(2021)"
    family = orgs.industry_committees()[orgs.INDUSTRY_COMMITTEES.index("婚姻家庭纠纷人民调解委员会")]
    second = next(r for r in out if r["committee"] == family and r["position"] == "member")
    second["person"]["name"], second["honors"] = "岑银权", "宁波市婚姻家庭调解能手(2021)"
    # 8 of them leave in January-February 2022 (still in office at the end of 2021)
    for rec in rng.sample([r for r in out if r["position"] in ("member", "appointed") and "honors" not in r], 8):
        rec.update({"state": "left", "left_on": "2022-%02d-%02d" % (rng.choice((1, 2)), rng.randrange(1, 28)),
                    "leave_reason": rng.choice(["辞去调解员职务", "工作调动", "因病不能继续履职"])})
    # left at the 2021 re-election of the village committees, or earlier
    for _ in range(203):
        code = rng.choice(villages)
        appointed = datetime.date(rng.randrange(2008, 2018), rng.randrange(1, 13), 1)
        left = datetime.date(2021, rng.randrange(1, 5), rng.randrange(1, 29))
        rec = {"committee": code, "person": _person(rng, 1945, 1985, region="330282"), "position": "member",
               "appointed_on": appointed.isoformat(), "left_on": left.isoformat(), "leave_reason": "换届未连任",
               "state": "left"}
        out.append(rec)
    for _ in range(54):
        code = rng.choice([c[0] for c in comms])
        appointed = datetime.date(rng.randrange(2008, 2019), rng.randrange(1, 13), 1)
        left = datetime.date(2020, rng.randrange(1, 13), rng.randrange(1, 29))
        rec = {"committee": code, "person": _person(rng, 1945, 1985, region="330282"), "position": "member",
               "appointed_on": appointed.isoformat(), "left_on": left.isoformat(),
               "leave_reason": rng.choice(["辞去调解员职务", "年龄原因", "工作调动", "迁出本村"]), "state": "left"}
        if rng.random() < 0.4:
            certified = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(0, 30))
            if certified < left:
                rec["trained_on"] = (certified - datetime.timedelta(days=10)).isoformat()
                rec["certificate_no"] = certificate(certified)
                rec["certified_on"] = certified.isoformat()
        out.append(rec)
    # appointed in January-February 2022, not yet certified
    for _ in range(17):
        code = rng.choice([c[0] for c in comms])
        out.append({"committee": code, "person": _person(rng, 1960, 1995, region="330282"), "position": "appointed",
                    "appointed_on": "2022-%02d-%02d" % (rng.choice((1, 2)), rng.randrange(1, 28)),
                    "state": "appointed"})
    out.sort(key=lambda r: r["appointed_on"])
    return out, directors


# ---------- all of it ----------

def notary_verifications(orgs, rng, cal):
    """公证书核查: a request every few working days, most from banks and courts, answered within
    10 working days (a few late); one in twenty certificates is not what it claims to be."""
    handler = orgs.DEPARTMENTS["public_services"][0]
    kinds = [("bank", 40), ("court", 25), ("police", 10), ("government", 10), ("individual", 10), ("other", 5)]
    names = {"bank": "中国工商银行慈溪支行", "court": "慈溪市人民法院", "police": "慈溪市公安局",
             "government": "慈溪市不动产登记中心", "individual": "申请人本人", "other": "某保险公司"}
    out = []
    for d in _days(datetime.date(2020, 1, 2), AS_OF):
        if not cal.working(d) or rng.random() > 0.3:
            continue
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        rec = {"handler": handler, "requester": names[kind], "requester_kind": kind,
               "notary_office": rng.choice(["浙江省慈溪市公证处", "浙江省宁波市甬城公证处", "浙江省余姚市公证处"]),
               "certificate_no": "(%d)浙慈证字第%d号" % (d.year - rng.choice((0, 0, 1, 2)), rng.randrange(100, 9999)),
               "received_on": d.isoformat(), "state": "received"}
        replied = cal.add_working_days(d, rng.choice([1, 2, 3, 3, 5, 5, 7, 9, 10] * 4 + [12]))
        if replied <= AS_OF:
            rec.update(state="replied", replied_on=replied.isoformat(),
                       result=rng.choices(["genuine", "mismatch", "forged", "revoked", "unable"], [90, 4, 2, 1, 3])[0])
        out.append(rec)
    return out


def generate(orgs, rng):
    cal = Calendar()
    lawyers = [[_name(rng) for _ in range(rng.randrange(6, 25))] for _ in orgs.law_firms()]
    enterprises = _enterprises(rng, 4200)
    firms, cases = commercial_mediation(orgs, rng, lawyers, enterprises)
    people, directors = mediators(orgs, rng)
    return {
        "legal_aid_case": legal_aid(orgs, rng, cal, lawyers),
        "legal_consultation": consultations(orgs, rng, cal),
        "commercial_mediation_firm": firms,
        "commercial_mediation_case": cases,
        "legal_checkup": checkups(orgs, rng, lawyers, enterprises),
        "mediation_committee_registry": registry(orgs, rng, directors),
        "mediator": people,
        "notary_verification": notary_verifications(orgs, rng, cal),
    }
