"""Area lawgov: the rule-of-law lines of the demo county — 普法 activities and law-culture venues,
rule-of-law innovation projects and demonstration titles (report 一(一)), and 一(二)1: major
administrative decision catalogs and items, normative documents and their cleanup campaigns,
legislative drafts sent for comments, legality review in the towns, external legal advisors,
public lawyers and the legal affairs they take part in.

The records of 2021 reproduce the report's figures exactly (../shared/spec/cixi-2021-figures.tsv);
records of 2020 and of early 2022 stand beside them, some straddling the year's edges (a draft
received in December and answered in January, a review submitted before New Year), so that a
figure that took the wrong date or period would show. Deterministic for a given rng."""

import datetime as dt

Y = 2021
LAST = dt.date(2022, 3, 31)  # the demo database is as of the end of March 2022

# ---- the report's figures for 2021 (what the records below must add up to) ----
RADIO_EPISODES = 12
HOLIDAY_EVENTS = 52
CONSTITUTION_PARTICIPANTS = 53816  # “参与人数超过5万人”
ROUTES = ["崇德尚法·“莲”牢“红色根脉”法治文旅线路", "法治引领追寻英雄足迹法治文旅线路", "“古韵青瓷”法治文旅线路"]
INNOVATION_APPLIED, INNOVATION_APPROVED, INNOVATION_COMMENDED = 51, 30, 27
DEMO_TOWNS = ["胜山镇", "长河镇"]
DEMOCRACY_VILLAGES = 14
MAJOR_DECISIONS = 56  # “50余件”
BUREAU_MAJOR_DECISIONS = 2
# cleanup campaigns of 2021: topic -> (title, launched, concluded, documents cleaned)
CLEANUPS_2021 = [
    ("burden_enterprises", "涉“烦企扰民”规定专项清理", "2021-03-10", "2021-05-28", 212),
    ("yangtze_protection", "涉及长江流域保护的规范性文件专项清理", "2021-04-20", "2021-06-25", 48),
    ("civil_code", "涉及《民法典》的规范性文件专项清理(第二批)", "2021-05-10", "2021-07-30", 125),
    ("admin_penalty_law", "涉及《行政处罚法》的规范性文件专项清理", "2021-07-20", "2021-09-29", 186),
    ("birth_policy", "涉及优化生育政策的规范性文件专项清理", "2021-08-30", "2021-11-19", 63),
]
NORMDOC_KEPT, NORMDOC_CHANGED = 361, 273  # 634 in all
BUREAU_NORMDOC = {"keep": 4, "repeal": 1}
LEGISLATION_DRAFTS, LEGISLATION_COMMENTS = 14, 45
TOWN_REVIEWS = 477
ADVISORS_END = 87
ADVISOR_AFFAIRS = 642
PUBLIC_LAWYERS_END = 94
PUBLIC_LAWYER_AFFAIRS = 11608
PUBLIC_LAWYERS_NEW = 58

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邹孟熊秦邱江尹薛段雷侯史陶贺顾毛郝龚邵钱严戴莫孔汤岑胡")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉力海波宁斌鹏飞慧红云燕晶萍琳雪梅浩宇婷佳俊晓东"


def d(s):
    return dt.date.fromisoformat(s)


def iso(x):
    return x.isoformat()


def add(x, days):
    return x + dt.timedelta(days=days)


def rand_day(rng, start, end):
    """A day in [start, end] (dates or ISO strings)."""
    a, b = (d(start) if isinstance(start, str) else start), (d(end) if isinstance(end, str) else end)
    return add(a, rng.randrange((b - a).days + 1))


def rand_workday(rng, start, end):
    for _ in range(50):
        x = rand_day(rng, start, end)
        if x.weekday() < 5:
            return x
    return x


def name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def split(rng, total, parts, low=0):
    """total split into parts non-negative integers of at least low each, at random."""
    rest = total - low * parts
    assert rest >= 0
    cuts = sorted(rng.randrange(rest + 1) for _ in range(parts - 1))
    out, prev = [], 0
    for c in cuts + [rest]:
        out.append(low + c - prev)
        prev = c
    return out


def weighted_spread(rng, total, keys, weights):
    """total items spread over keys in proportion to weights (exact total)."""
    s = float(sum(weights))
    counts = [int(total * w / s) for w in weights]
    while sum(counts) < total:
        counts[rng.randrange(len(counts))] += 1
    return dict(zip(keys, counts))


class County:
    """The demo county's units as this area uses them."""

    def __init__(self, orgs):
        self.o = orgs
        self.bureau = orgs.BUREAU
        self.pufa = orgs.DEPARTMENTS["pufa"][0]
        self.legislation = orgs.DEPARTMENTS["legislation"][0]
        self.towns = [t[0] for t in orgs.TOWNS]
        self.town_name = {t[0]: t[1] for t in orgs.TOWNS}
        self.gov = orgs.gov_units()
        self.gov_name = dict(zip(self.gov, orgs.GOV_UNITS))
        self.by_name = {n: c for c, n in self.gov_name.items()}
        self.by_name.update({t[1]: t[0] for t in orgs.TOWNS})
        self.unit_name = dict(self.gov_name)
        self.unit_name.update(self.town_name)
        self.unit_name[self.bureau] = "市司法局"
        # the units that enforce laws (and so popularize them: “谁执法谁普法”)
        self.enforcers = [self.by_name[n] for n in (
            "市公安局", "市市场监督管理局", "市生态环境局", "市交通运输局", "市卫生健康局", "市人力资源和社会保障局",
            "市自然资源和规划局", "市住房和城乡建设局", "市农业农村局", "市应急管理局", "市综合行政执法局", "市税务局",
            "市文化和广电旅游体育局", "市教育局", "市水利局", "市民政局", "市医疗保障局", "市消防救援大队")]

    def short(self, code):
        """“慈溪市教育局” style abbreviation for document numbers: 慈教, 慈政办, 慈司, 浒政."""
        if code == self.bureau:
            return "慈司"
        if code in self.town_name:
            return self.town_name[code][:2] + "政"
        n = self.gov_name[code]
        if n == "市政府办公室":
            return "慈政办"
        return "慈" + n[1]

    def judicial_office(self, town):
        return self.o.judicial_office(town)


# ------------------------------------------------------------------------------------------------
# 普法活动 and 法治文化阵地

HOLIDAYS = {  # “节日法相伴”: a festival and the law it carries
    2020: [("2020-10-01", "国庆节", "国旗法、国徽法"), ("2020-10-25", "重阳节", "老年人权益保障法"),
           ("2020-11-09", "消防日", "消防法"), ("2020-12-04", "宪法日", "宪法")],
    2021: [("2021-01-01", "元旦", "民法典"), ("2021-02-12", "春节", "烟花爆竹安全管理条例"),
           ("2021-02-26", "元宵节", "治安管理处罚法"), ("2021-03-08", "妇女节", "妇女权益保障法"),
           ("2021-03-15", "消费者权益日", "消费者权益保护法"), ("2021-04-04", "清明节", "森林防火条例"),
           ("2021-05-01", "劳动节", "劳动合同法"), ("2021-05-04", "青年节", "未成年人保护法"),
           ("2021-06-14", "端午节", "水上交通安全法规"), ("2021-07-01", "建党节", "党内法规"),
           ("2021-08-01", "建军节", "国防法、兵役法"), ("2021-09-21", "中秋节", "食品安全法"),
           ("2021-10-01", "国庆节", "国旗法、国徽法"), ("2021-10-14", "重阳节", "老年人权益保障法")],
    2022: [("2022-01-01", "元旦", "民法典"), ("2022-02-01", "春节", "烟花爆竹安全管理条例"),
           ("2022-02-15", "元宵节", "治安管理处罚法")],
}

CONSTITUTION_EVENTS = [  # (title, type, online)
    ("宪法“七进”集中宣传·进机关", "lecture", False), ("宪法“七进”集中宣传·进乡村", "lecture", False),
    ("宪法“七进”集中宣传·进社区", "consultation", False), ("宪法“七进”集中宣传·进学校", "lecture", False),
    ("宪法“七进”集中宣传·进企业", "lecture", False), ("宪法网络知识竞赛", "contest", True),
    ("宪法宣誓微视频接力", "micro_video", True), ("“宪见”对话访谈直播", "livestream", True),
    ("国家宪法日主题宣传活动", "consultation", False), ("宪法宣传周“云课堂”", "livestream", True),
    ("“宪法伴我成长”青少年宪法晨读", "oath", True),
]


def pufa(c, rng):
    recs = []

    def rec(organizer, title, campaign, typ, held, state="verified", **kw):
        r = {"organizer": organizer, "title": title, "campaign": campaign, "activity_type": typ,
             "planned_on": iso(add(held, -rng.randrange(5, 30))), "state": state}
        if state in ("held", "verified"):
            r["held_on"] = iso(held)
        if state == "verified":
            r["verified_on"] = iso(add(held, rng.randrange(20, 40)))
        r.update(kw)
        recs.append(r)

    # 《法治建设月月谈》: monthly from January 2021; it goes on in 2022
    for k in range(1, RADIO_EPISODES + 3):
        month = dt.date(Y + (k - 1) // 12, (k - 1) % 12 + 1, 1)
        held = rand_workday(rng, add(month, 9), add(month, 20))
        state = "verified" if k <= RADIO_EPISODES + 1 else "held"
        rec(c.bureau, "《法治建设月月谈》第%d期" % k, "monthly_talk", "radio", held, state, episode=k,
            venue="慈溪人民广播电台", audience="public", online=False,
            summary="法治督察员走进直播间,围绕法治建设重点工作开展督察访谈")
    rec(c.bureau, "《法治建设月月谈》第%d期" % (RADIO_EPISODES + 3), "monthly_talk", "radio", d("2022-03-15"),
        "planned", episode=RADIO_EPISODES + 3, venue="慈溪人民广播电台")

    # “节日法相伴”: 52 in 2021, spread over the festivals; some of 2020 and 2022
    def holiday_series(year, total, cancelled=0):
        fests = HOLIDAYS[year]
        counts = weighted_spread(rng, total, range(len(fests)), [1] * len(fests))
        for i, (day, fest, law) in enumerate(fests):
            for _ in range(counts[i]):
                org = rng.choice(c.enforcers + [c.judicial_office(t) for t in c.towns])
                held = add(d(day), rng.choice((0, 0, 0, 1, 2)))  # never into the year before
                state = "held" if held.month == 12 or (year == 2022 and held.month == 2) else "verified"
                rec(org, "“节日法相伴”%s·%s宣传" % (fest, law), "holiday_law",
                    rng.choice(("consultation", "consultation", "lecture", "performance", "micro_video")), held,
                    state, law_topics=law, audience=rng.choice(("public", "public", "villagers", "elderly")),
                    participants=rng.randrange(40, 600), materials_given=rng.randrange(100, 1500),
                    town=rng.choice(c.towns))
        for _ in range(cancelled):  # called off (rain, epidemic control): not counted
            day, fest, law = rng.choice(fests)
            rec(rng.choice(c.enforcers), "“节日法相伴”%s·%s宣传" % (fest, law), "holiday_law", "consultation",
                d(day), "cancelled", cancel_reason="疫情防控需要,活动取消")

    holiday_series(2020, 22)
    holiday_series(Y, HOLIDAY_EVENTS, cancelled=2)
    holiday_series(2022, 9)
    rec(rng.choice(c.enforcers), "“节日法相伴”清明节·森林防火条例宣传", "holiday_law", "consultation",
        d("2022-04-05"), "planned")

    # “12·4”: 2021 participants add up to CONSTITUTION_PARTICIPANTS
    def constitution(year, total, events):
        shares = [20 if online else 1 for _, _, online in events]
        parts = weighted_spread(rng, total - 150 * len(events), range(len(events)), shares)
        for i, (title, typ, online) in enumerate(events):
            held = rand_day(rng, "%d-11-29" % year, "%d-12-08" % year)
            if "宪法日" in title:
                held = d("%d-12-04" % year)
            org = c.pufa if online else rng.choice(c.gov + [c.judicial_office(t) for t in c.towns])
            rec(org, "%d年%s" % (year, title), "constitution_day", typ, held, "held" if held.month == 12 else "verified",
                online=online, participants=150 + parts[i], law_topics="宪法",
                audience="youth" if "青少年" in title else "public",
                venue="“慈溪普法”微信公众号" if online else None)

    constitution(2020, 31240, CONSTITUTION_EVENTS[5:9] + CONSTITUTION_EVENTS[:2])
    constitution(Y, CONSTITUTION_PARTICIPANTS, CONSTITUTION_EVENTS)

    # other series: not in the report's figures, but there
    for k, t in enumerate(c.towns):
        rec(c.judicial_office(t), "%s村(社区)两委“法治第一课”轮训" % c.town_name[t], "first_lesson", "training",
            rand_workday(rng, "2021-04-10", "2021-06-30"), audience="villagers", participants=rng.randrange(80, 260))
    for held in ("2021-04-22", "2021-11-18"):
        rec(c.by_name["市政府办公室"], "“市长学法日”专题学法", "mayor_law_day", "lecture", d(held),
            audience="leading_cadres", participants=rng.randrange(60, 120), law_topics="行政处罚法")
    for _ in range(8):
        rec(c.by_name["市教育局"], "“七彩法治梦”法治教育进校园", "colorful_dream", rng.choice(("lecture", "contest")),
            rand_workday(rng, "2021-03-01", "2021-11-30"), audience="youth", participants=rng.randrange(200, 1200))
    rec(c.pufa, "直播解读《习近平法治思想的核心要义》", "xi_thought", "livestream", d("2021-03-26"), online=True,
        participants=8650, audience="leading_cadres")
    rec(c.pufa, "《宁波市法治乡村建设促进条例》研讨会", "rural_regulation", "interview", d("2021-05-20"),
        participants=85, audience="villagers")
    rec(c.pufa, "“法治的阳光照进村庄”之《条例》主题访谈会", "rural_regulation", "interview", d("2021-06-17"),
        participants=120, audience="villagers")
    for year, start, end, n in ((2020, "2020-10-08", "2020-12-25", 10), (Y, "2021-01-05", "2021-12-28", 40),
                                (2022, "2022-01-04", "2022-03-10", 8)):
        for _ in range(n):
            held = rand_workday(rng, start, end)
            rec(rng.choice(c.enforcers), "“谁执法谁普法”以案释法进企业", "daily", rng.choice(("lecture", "consultation")),
                held, "held" if held.month in (12, 2, 3) else "verified", audience="enterprises",
                participants=rng.randrange(30, 300))
    for r in recs:
        for k in [k for k, v in r.items() if v is None]:
            del r[k]
    return recs


def venues(c, rng):
    recs = []

    def rec(builder, name_, typ, town, opened, state="opened", **kw):
        r = {"builder": builder, "name": name_, "venue_type": typ, "town": town, "state": state}
        if opened:
            r["opened_on"] = opened
            r["started_on"] = iso(add(d(opened), -rng.randrange(60, 200)))
        r.update(kw)
        recs.append(r)

    # the three routes of 2021 (towns as the demo attributes them)
    for (name_, town, sites, opened) in zip(ROUTES, ("330282004", "330282103", "330282109"), (6, 5, 7),
                                            ("2021-06-28", "2021-09-15", "2021-11-12")):
        rec(c.pufa, name_, "route", town, opened, sites=sites, length_km=round(rng.uniform(8, 30), 1),
            partners="市文化和广电旅游体育局、%s" % c.town_name[town], theme="串联红色教育、法治文化和乡村旅游点位")
    rec(c.pufa, "习近平法治思想主题展馆", "theme_hall", "330282004", "2021-10-28",
        partners="宁波市司法局、白沙路街道", address="白沙路街道")
    rec(c.pufa, "慈孝文化法治文旅线路", "route", "330282101", "2020-09-30", sites=4, length_km=12.5)
    rec(c.pufa, "海塘围垦法治文旅线路", "route", "330282114", "2022-03-18", sites=5, length_km=18.0)
    rec(c.pufa, "上林湖越窑法治文化线路(二期)", "route", "330282109", None, "planning")
    for k, t in enumerate(c.towns):
        typ = ("park", "corridor", "village_stage", "education_base")[k % 4]
        opened = iso(rand_day(rng, "2019-03-01", "2021-12-20"))
        label = {"park": "法治文化公园", "corridor": "法治长廊", "village_stage": "法治书屋",
                 "education_base": "法治宣传教育基地"}[typ]
        rec(c.judicial_office(t), "%s%s" % (c.town_name[t], label), typ, t, opened)
    recs[-1].update(opened_on="2019-05-20", started_on="2018-12-10", state="closed", closed_on="2021-08-31",
                    close_reason="所在地块征迁,另址重建")
    return recs


# ------------------------------------------------------------------------------------------------
# 法治建设创新项目 and 示范创建

INNOVATION_THEMES = [
    "合法性审查“三色”分级管理", "行政执法“简案快办”机制", "涉企“综合查一次”改革", "“法治体检”护航民营企业",
    "基层“法治带头人”培育工程", "村规民约合法性审查全覆盖", "“枫桥式”司法所标准化建设", "行政争议实质性化解中心",
    "数字化执法监督应用场景", "重大行政决策“全链条”管理", "“一村一法律顾问”提质增效", "矛盾纠纷“网格融调”机制",
    "“法治小区”创建", "校园法治副校长“五个一”机制", "知识产权纠纷多元化解", "劳动争议“一站式”调处",
    "“以案释法”进企业", "行政复议“繁简分流”", "社区矫正“智慧矫正”应用", "公共法律服务“法务E站”",
    "“执法+普法”融合机制", "安全生产“法治+”监管", "生态环境损害赔偿磋商", "“民主法治村”动态管理",
    "法律明白人“积分制”管理", "涉外法律服务港", "物业纠纷“前端化解”", "交通事故纠纷“一站式”处理",
    "“最多跑一次”证明事项告知承诺", "医疗纠纷“调赔分离”", "法治文化“一镇一品”",
]


def innovation(c, rng):
    recs = []
    applicants = c.gov + c.towns
    nongye = c.by_name["市农业农村局"]
    order = [nongye] + rng.sample([a for a in applicants if a != nongye], INNOVATION_APPLIED - 1)
    # first batch, 2021: 51 applied; 30 approved; 27 commended, 1 failed the preliminary, 1 not
    # commended at the final evaluation, 1 withdrawn
    fates = (["commended"] * INNOVATION_COMMENDED + ["fail_prelim", "not_commended", "withdrawn"]
             + ["not_approved"] * (INNOVATION_APPLIED - INNOVATION_APPROVED))
    assert len(fates) == INNOVATION_APPLIED and INNOVATION_COMMENDED + 3 == INNOVATION_APPROVED
    for k, (org, fate) in enumerate(zip(order, fates)):
        title = ("舌尖上的安全——“智慧监管”农安码" if k == 0
                 else "%s%s" % (c.unit_name[org].lstrip("市"), INNOVATION_THEMES[k % len(INNOVATION_THEMES)]))
        r = {"applicant_org": org, "title": title, "batch": 1,
             "category": rng.choice(("practice", "practice", "institution", "mechanism")),
             "field_area": rng.choice(("business_environment", "grassroots_governance", "digital_rule_of_law",
                                       "law_enforcement", "decision_making", "public_legal_service")),
             "leader": name(rng), "applied_on": iso(rand_workday(rng, "2021-04-06", "2021-04-30"))}
        if fate == "not_approved":
            r.update(state="not_approved", rejection_reason="创新性和可推广性不足,建议完善后下一批次申报")
        else:
            r["approved_on"] = "2021-05-28"
            if fate == "withdrawn":
                r.update(state="withdrawn", withdraw_reason="项目牵头单位职能调整,申请撤项")
            else:
                r.update(preliminary_on="2021-11-10", preliminary_score=round(rng.uniform(60, 95), 1))
                if fate == "fail_prelim":
                    r.update(state="not_commended", preliminary_score=55.5)
                else:
                    r.update(final_on="2021-12-08", final_score=round(rng.uniform(70, 96), 1))
                    if fate == "commended":
                        r.update(state="commended", commended_on="2021-12-24",
                                 commendation_doc="关于表彰2021年度慈溪市法治建设优秀创新项目的通报")
                    else:
                        r.update(state="not_commended")
        recs.append(r)
    # second batch, applications of early 2022
    for org in rng.sample(applicants, 14):
        recs.append({"applicant_org": org, "title": "%s%s" % (c.unit_name[org].lstrip("市"), rng.choice(INNOVATION_THEMES)),
                     "batch": 2, "category": rng.choice(("practice", "institution", "mechanism")),
                     "leader": name(rng), "applied_on": iso(rand_workday(rng, "2022-03-01", "2022-03-25"))})
    return recs


def demo_units(c, rng):
    recs = []

    def rec(town, unit, title, year, recommended, selected=None, state="selected", doc=None, **kw):
        r = {"town": town, "unit_name": unit, "title": title, "creation_year": year, "recommended_on": recommended,
             "state": state}
        if selected:
            r.update(selected_on=selected, naming_doc=doc)
        r.update(kw)
        recs.append(r)

    by = c.by_name
    for t in DEMO_TOWNS:
        rec(by[t], t, "ningbo_demo_town", Y, "2021-08-16", "2021-11-26", doc="第一批宁波市法治建设示范乡镇(街道)名单")
        rec(by[t], t, "reform_pilot", Y, "2021-08-16", "2021-11-26", doc="宁波市法治化综合改革试点单位名单")
    for t in ("周巷镇", "坎墩街道"):
        rec(by[t], t, "ningbo_demo_town", Y, "2021-08-16", state="not_selected", not_selected_on="2021-11-26")
    rec(by["观海卫镇"], "观海卫镇司法所", "fengqiao_judicial_office", Y, "2021-05-10", "2021-09-30",
        doc="浙江省“枫桥式”司法所名单")
    rec(by["桥头镇"], "桥头镇司法所", "ningbo_model_judicial_office", Y, "2021-05-10", "2021-10-15",
        doc="宁波市文明规范公正司法所名单")

    def villages(year, n, recommended, selected, not_selected, first=None):
        towns = rng.sample(c.towns, n) if n <= len(c.towns) else [rng.choice(c.towns) for _ in range(n)]
        used = set()
        for i, t in enumerate(towns):
            if i == 0 and first:
                t, unit = by[first[0]], first[1]
            else:
                idx = c.towns.index(t)
                k = rng.randrange(1, c.o.VILLAGE_COMMITTEES_PER_TOWN[idx] + 1)
                while (t, k) in used:
                    k = rng.randrange(1, c.o.VILLAGE_COMMITTEES_PER_TOWN[idx] + 1)
                used.add((t, k))
                unit = "%s第%d村(社区)" % (c.town_name[t], k)
            if i < n - not_selected:
                rec(t, unit, "provincial_democracy_village", year, recommended, selected,
                    doc="%d年度省级民主法治村(社区)名单" % year)
            else:
                rec(t, unit, "provincial_democracy_village", year, recommended, state="not_selected",
                    not_selected_on=selected)

    villages(2020, 11 + 2, "2020-07-20", "2020-12-18", 2)
    villages(Y, DEMOCRACY_VILLAGES + 3, "2021-07-19", "2021-12-17", 3, first=("新浦镇", "新浦镇腰塘村"))
    villages(2022, 5, "2022-03-21", None, 0)
    for r in recs[-5:]:  # 2022: only recommended so far
        r.update(state="recommended")
        r.pop("selected_on", None)
        r.pop("naming_doc", None)
    # a title of 2019 withdrawn in 2021: it counts in 2019 only
    rec(by["崇寿镇"], "崇寿镇第3村(社区)", "provincial_democracy_village", 2019, "2019-07-22", "2019-12-20",
        state="revoked", doc="2019年度省级民主法治村(社区)名单", revoked_on="2021-06-30",
        revoke_reason="村干部违纪违法,按规定撤销命名")
    return recs


# ------------------------------------------------------------------------------------------------
# 重大行政决策 (catalogs and items)

DECISION_TOPICS = [
    ("public_policy", "出台《慈溪市%s管理办法》"), ("development_plan", "编制慈溪市“十四五”%s发展规划"),
    ("public_policy", "制定%s扶持政策"), ("public_project", "实施%s重大建设项目"),
    ("resources", "制定%s资源保护利用措施"), ("public_interest", "调整%s收费(价格)标准"),
]
DECISION_SUBJECTS = ["城市供水", "教育事业", "养老服务", "住房保障", "农村生活污水治理", "公共停车", "菜市场改造",
                     "医疗卫生", "数字经济", "乡村振兴", "全域旅游", "水资源", "海塘安澜", "生活垃圾分类", "公交出行",
                     "体育设施", "文物保护", "低效工业用地", "人才", "科技创新"]


def major_decisions(c, rng):
    catalogs, items = [], []
    units = c.gov + [c.bureau]
    # 2021 items per unit: the bureau 2, the others 54 over 27 units
    with_items = rng.sample(c.gov, 27)
    per = dict.fromkeys(units, 0)
    for u, n in zip(with_items, split(rng, MAJOR_DECISIONS - BUREAU_MAJOR_DECISIONS, 27, low=1)):
        per[u] = n
    per[c.bureau] = BUREAU_MAJOR_DECISIONS

    def catalog(unit, year, notified, n_items, published=True, late=False):
        compiled = add(d(notified), rng.randrange(34, 50) if late else rng.randrange(8, 29))
        r = {"unit": unit, "catalog_year": year, "notified_on": notified, "compiled_on": iso(compiled),
             "standard_done": True, "item_count": n_items, "state": "compiled"}
        if published:
            r.update(reviewed_on=iso(add(compiled, 3)), approved_on=iso(add(compiled, 7)),
                     published_on=iso(min(add(compiled, rng.randrange(10, 20)), LAST)), state="published",
                     publish_url="http://www.cixi.gov.cn/zdxzjc/%d/%s" % (year, unit))
        catalogs.append(r)
        return r

    def item(unit, year, listed, fate, title=None, category=None):
        """fate: the last step the item reached by the end of March 2022 (or removed)."""
        cat, pattern = rng.choice(DECISION_TOPICS)
        r = {"decision_org": unit, "catalog_year": year, "category": category or cat,
             "title": title or pattern % rng.choice(DECISION_SUBJECTS), "host_dept": "政策法规科",
             "planned_by": "%d-12-31" % year, "state": "listed"}
        if listed:
            r["listed_published_on"] = listed
        day = d(listed) if listed else d("%d-04-01" % year)
        steps = [("consulting", 10, 40), ("argued", 35, 50), ("assessed", 5, 20), ("reviewing", 5, 20),
                 ("reviewed", 6, 20), ("decided", 7, 30), ("published", 3, 15)]
        stop = {"published": 7, "decided": 6, "reviewing": 4, "consulting": 1, "listed": 0, "removed": 0}[fate]
        for s, lo, hi in steps[:stop]:
            day = add(day, rng.randrange(lo, hi))
            if day > LAST:
                break
            if s == "consulting":
                r.update(comment_from=iso(day), comment_days=30, comments_received=rng.randrange(0, 60))
            elif s == "argued":
                r["expert_argued_on"] = iso(day)
            elif s == "assessed":
                r.update(risk_assessed_on=iso(day), risk_level=rng.choice(("low", "low", "medium")))
            elif s == "reviewing":
                r["legality_submitted_on"] = iso(day)
            elif s == "reviewed":
                r.update(legality_reviewed_on=iso(day), legality_opinion=rng.choice(("legal", "legal_with_changes")))
            elif s == "decided":
                r.update(decided_on=iso(day), meeting="市政府常务会议" if unit != c.bureau else "局长办公会议")
            elif s == "published":
                r["published_on"] = iso(day)
            r["state"] = s
        if fate == "removed":
            r.update(state="removed", removal_reason="上级政策调整,本年度不再实施", removed_on=iso(add(day, 90)))
        items.append(r)

    # 2020: 40 units, 48 items
    units_2020 = rng.sample(units, 40)
    per2020 = dict(zip(units_2020, split(rng, 48, 40)))
    for u in units_2020:
        cat = catalog(u, 2020, "2020-03-02", per2020[u], late=rng.random() < 0.1)
        for _ in range(per2020[u]):
            item(u, 2020, cat["published_on"], rng.choice(("published", "published", "decided", "removed")))
    # 2021: all 46 units, on time; the bureau's two items
    bureau_titles = ["编制《慈溪市法治社会建设实施方案(2021—2025年)》", "制定《慈溪市公共法律服务体系建设三年行动计划》"]
    for u in units:
        published = rng.random() < 0.93 or u == c.bureau or per[u] > 0
        cat = catalog(u, Y, "2021-02-22", per[u], published=published)
        fates = [rng.choice(("published", "published", "published", "decided", "reviewing", "consulting", "removed"))
                 for _ in range(per[u])]
        for i in range(per[u]):
            if u == c.bureau:
                item(u, Y, cat["published_on"], "published", bureau_titles[i], "public_policy")
            else:
                item(u, Y, cat["published_on"], fates[i])
    # 2022: notified in February; 20 catalogs compiled by mid-March, 12 of them published
    for k, u in enumerate(rng.sample(units, 20)):
        n = rng.randrange(0, 3)
        notified = "2022-02-18"
        cat = catalog(u, 2022, notified, n, published=k < 12)
        for _ in range(n):
            item(u, 2022, cat.get("published_on"), "listed")
    # catalogs not yet compiled in 2022
    for u in [u for u in units if not any(x["unit"] == u and x["catalog_year"] == 2022 for x in catalogs)][:10]:
        catalogs.append({"unit": u, "catalog_year": 2022, "notified_on": "2022-02-18", "state": "drafting"})
    return catalogs, items


# ------------------------------------------------------------------------------------------------
# 规范性文件: the register, cleanups and their items

DOC_SUBJECTS = ["城镇住房保障", "农村宅基地审批", "企业技术改造", "就业创业补贴", "养老服务补贴", "生活垃圾分类",
                "建设工程质量", "安全生产", "农村集体资产", "海塘工程管理", "河道保洁", "公共租赁住房", "人才引进",
                "工业用地", "物业管理", "文物保护", "城市道路占用", "户外广告设置", "农业补贴", "殡葬管理",
                "计划生育奖励扶助", "行政处罚裁量基准", "野生动物保护", "水资源管理", "商贸发展扶持", "义务教育招生"]
DOC_FORMS = ["管理办法", "实施意见", "实施细则", "若干规定", "暂行办法", "的通知"]


def doc_title(rng, subject=None):
    s = subject or rng.choice(DOC_SUBJECTS)
    f = rng.choice(DOC_FORMS)
    return "关于印发慈溪市%s%s" % (s, f) if f != "的通知" else "关于加强%s工作的通知" % s


def doc_no(c, rng, org, year):
    return "%s发〔%d〕%d号" % (c.short(org), year, rng.randrange(1, 120))


def normative_documents(c, rng):
    recs = []
    issuers = [c.by_name["市政府办公室"]] * 6 + c.gov + c.towns
    for year, start, end, n in ((2020, "2020-01-06", "2020-12-20", 48), (Y, "2021-01-05", "2021-12-24", 62),
                                (2022, "2022-01-04", "2022-03-25", 12)):
        for k in range(n):
            org = c.bureau if (year == Y and k < 2) else rng.choice(issuers)
            sub = rand_workday(rng, start, end)
            r = {"issuing_org": org, "title": doc_title(rng), "drafting_dept": "政策法规科",
                 "submitted_on": iso(sub), "state": "submitted"}
            reviewed = add(sub, rng.randrange(6, 20))
            if reviewed > d("2022-03-31"):
                recs.append(r)
                continue
            r.update(reviewed_on=iso(reviewed), review_opinion=rng.choice(("legal", "legal_with_changes")),
                     state="approved")
            published = add(reviewed, rng.randrange(5, 20))
            if published > d("2022-03-31"):
                recs.append(r)
                continue
            r.update(published_on=iso(published), effective_on=iso(add(published, 30)),
                     valid_until=iso(add(published, 5 * 365)), doc_no=doc_no(c, rng, org, published.year),
                     state="published")
            filed = add(published, rng.randrange(5, 45) if rng.random() < 0.1 else rng.randrange(5, 26))
            if filed <= d("2022-03-31"):
                r.update(filed_on=iso(filed), state="filed")
            recs.append(r)
    return recs


def cleanups(c, rng):
    campaigns, items = [], []

    def campaign(topic, title, launched, concluded, basis, state="concluded", **kw):
        r = {"organizer": c.legislation, "title": title, "topic": topic, "launched_on": launched,
             "due_on": iso(add(d(launched), 60)), "basis_doc": basis, "state": state,
             "units_involved": rng.randrange(30, 65)}
        if state == "concluded":
            r.update(concluded_on=concluded, result_doc="关于公布%s结果的通知" % title)
        r.update(kw)
        campaigns.append(r)

    issuers = [c.by_name["市政府办公室"]] * 8 + c.gov + c.towns

    def item(topic, year, org, outcome, proposed, confirmed, state="confirmed"):
        issued = rand_day(rng, "2005-01-01", "%d-12-31" % (year - 1))
        r = {"issuing_org": org, "topic": topic, "campaign_year": year, "doc_title": doc_title(rng),
             "doc_no": doc_no(c, rng, org, issued.year), "issued_on": iso(issued), "outcome": outcome,
             "proposed_on": proposed, "state": state}
        if state == "confirmed":
            r["confirmed_on"] = confirmed
        if outcome != "keep":
            r["reason"] = {"amend": "部分条款与上位法不一致,予以修改", "repeal": "与上位法相抵触,予以废止",
                           "invalidate": "调整对象已消失,宣布失效"}[outcome]
            if outcome == "amend":
                r["follow_up_doc"] = "关于修改部分行政规范性文件的决定"
        items.append(r)

    def items_for(topic, year, launched, concluded, outcomes, bureau=()):
        """outcomes: a list of outcome codes for the non-bureau items; bureau: the bureau's."""
        for o in bureau:
            p = rand_day(rng, add(d(launched), 10), add(d(concluded), -10))
            item(topic, year, c.bureau, o, iso(p), concluded)
        for o in outcomes:
            org = rng.choice([u for u in issuers if u != c.bureau])
            p = rand_day(rng, add(d(launched), 10), add(d(concluded), -10))
            item(topic, year, org, o, iso(p), concluded)

    # 2020
    campaign("wildlife_protection", "涉及野生动物保护的规范性文件专项清理", "2020-03-02", "2020-05-15",
             "全国人大常委会关于全面禁止非法野生动物交易的决定")
    items_for("wildlife_protection", 2020, "2020-03-02", "2020-05-15", ["keep"] * 22 + ["amend"] * 8 + ["repeal"] * 5)
    campaign("civil_code", "涉及《民法典》的规范性文件专项清理", "2020-06-15", "2020-11-27", "《民法典》")
    items_for("civil_code", 2020, "2020-06-15", "2020-11-27",
              ["keep"] * 120 + ["amend"] * 38 + ["repeal"] * 17 + ["invalidate"] * 6, bureau=["keep", "amend"])

    # 2021: five campaigns, 634 documents: 361 kept, 273 amended, repealed or declared invalid
    bureau_plan = {"burden_enterprises": ["keep", "keep"], "admin_penalty_law": ["keep", "keep", "repeal"]}
    assert sum(len(v) for v in bureau_plan.values()) == sum(BUREAU_NORMDOC.values())
    sizes = [n for *_, n in CLEANUPS_2021]
    assert sum(sizes) == NORMDOC_KEPT + NORMDOC_CHANGED
    others = [n - len(bureau_plan.get(t, ())) for t, *_, n in CLEANUPS_2021]
    kept_other = NORMDOC_KEPT - BUREAU_NORMDOC["keep"]
    kept_split = weighted_spread(rng, kept_other, range(5), others)
    changed_left = NORMDOC_CHANGED - (sum(BUREAU_NORMDOC.values()) - BUREAU_NORMDOC["keep"])
    bases = {"burden_enterprises": "浙江省“烦企扰民”问题专项整治部署", "yangtze_protection": "《长江保护法》",
             "civil_code": "《民法典》", "admin_penalty_law": "新修订的《行政处罚法》",
             "birth_policy": "《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》"}
    for i, (topic, title, launched, concluded, n) in enumerate(CLEANUPS_2021):
        campaign(topic, title, launched, concluded, bases[topic])
        keep = kept_split[i]
        changed = others[i] - keep
        changed_left -= changed
        amend = changed * 6 // 10
        invalid = changed // 10
        outcomes = ["keep"] * keep + ["amend"] * amend + ["invalidate"] * invalid + ["repeal"] * (changed - amend - invalid)
        items_for(topic, Y, launched, concluded, outcomes, bureau=bureau_plan.get(topic, ()))
    assert changed_left == 0
    # proposals withdrawn before confirmation (the document turned out to be outside the scope)
    for topic, title, launched, concluded, n in CLEANUPS_2021[:3]:
        item(topic, Y, rng.choice(issuers), "amend", iso(add(d(launched), 20)), None, state="withdrawn")
    campaign("other", "涉及行政执法主体调整的规范性文件清理", "2021-10-11", None, "慈溪市综合行政执法改革方案",
             state="cancelled", cancel_reason="并入《行政处罚法》专项清理一并开展")

    # 2022: one concluded in February, one under way
    campaign("other", "涉企行政检查规范性文件专项清理", "2022-01-10", "2022-02-25", "慈溪市优化营商环境“十项举措”")
    items_for("other", 2022, "2022-01-10", "2022-02-25", ["keep"] * 18 + ["amend"] * 7 + ["repeal"] * 3)
    campaign("fair_competition", "妨碍统一市场和公平竞争的政策措施专项清理", "2022-03-01", None,
             "《中共中央 国务院关于加快建设全国统一大市场的意见》", state="launched")
    for _ in range(25):
        item("fair_competition", 2022, rng.choice(issuers), rng.choice(("keep", "keep", "amend")),
             iso(rand_workday(rng, "2022-03-10", "2022-03-30")), None, state="proposed")
    return campaigns, items


# ------------------------------------------------------------------------------------------------
# 立法征求意见 and 镇(街道)合法性审查

DRAFTS = [
    ("law", "npc_lac", "《中华人民共和国法律援助法(草案二次审议稿)》"),
    ("admin_regulation", "ministry_of_justice", "《行政复议法实施条例(修订)(征求意见稿)》"),
    ("local_regulation", "zj_npc", "《浙江省公共数据条例(草案)》"),
    ("local_regulation", "zj_npc", "《浙江省乡村振兴促进条例(草案)》"),
    ("gov_rule", "zj_justice", "《浙江省行政规范性文件管理办法(修订草案)》"),
    ("gov_rule", "zj_justice", "《浙江省行政程序办法(修订草案)》"),
    ("local_regulation", "zj_npc", "《浙江省社会信用条例(草案)》"),
    ("local_regulation", "nb_npc", "《宁波市文明行为促进条例(修订草案)》"),
    ("local_regulation", "nb_npc", "《宁波市居家养老服务条例(修订草案)》"),
    ("gov_rule", "nb_justice", "《宁波市生活垃圾分类管理条例实施办法(草案)》"),
    ("gov_rule", "nb_justice", "《宁波市重大行政决策程序实施规定(修订草案)》"),
    ("local_regulation", "nb_npc", "《宁波市海塘管理条例(草案)》"),
    ("other", "nb_justice", "《宁波市行政执法证据规则指引(征求意见稿)》"),
    ("local_regulation", "zj_npc", "《浙江省数字经济促进条例实施细则(草案)》"),
    ("local_regulation", "zj_npc", "《浙江省电动自行车管理条例(修订草案)》"),
    ("gov_rule", "zj_justice", "《浙江省行政执法监督规定(草案)》"),
    ("local_regulation", "nb_npc", "《宁波市物业管理条例(修订草案)》"),
]


def legislation(c, rng):
    recs = []

    def rec(kind, requester, title, received, replied, comments, extension=0):
        r = {"handling_org": c.legislation, "title": title, "draft_kind": kind, "requester": requester,
             "received_on": received, "request_doc": "征求意见函", "state": "received"}
        if extension:
            r["extension_days"] = extension
        if replied:
            r.update(distributed_on=iso(add(d(received), 2)), units_consulted=rng.randrange(3, 15),
                     replied_on=replied, comments_collected=comments, reply_doc="慈司函〔%s〕%d号" % (replied[:4],
                                                                                              rng.randrange(1, 90)),
                     state="replied")
            if comments == 0:
                r["comments"] = "经征求相关单位意见,无修改意见"
        recs.append(r)

    pool = rng.sample(DRAFTS, len(DRAFTS))
    # 2020: eight drafts answered in 2020, one received in December 2020 and answered in January 2021
    for k in range(8):
        recv = rand_workday(rng, "2020-02-01", "2020-11-20")
        rec("local_regulation", rng.choice(("zj_npc", "nb_npc", "zj_justice")),
            "《%s(草案)》" % rng.choice(("浙江省民营企业发展促进条例", "宁波市城市管理条例", "浙江省优化营商环境条例",
                                         "宁波市农村生活垃圾分类管理条例", "浙江省消防条例", "宁波市慈善条例",
                                         "浙江省电力条例", "宁波市科技创新促进条例")),
            iso(recv), iso(add(recv, rng.randrange(7, 15))), rng.randrange(0, 6))
    comments = split(rng, LEGISLATION_COMMENTS, LEGISLATION_DRAFTS)
    for k in range(LEGISLATION_DRAFTS):
        kind, requester, title = pool[k]
        if k == 0:
            rec(kind, requester, title, "2020-12-21", "2021-01-06", comments[k], extension=10)
            continue
        recv = rand_workday(rng, "2021-01-10", "2021-12-01")
        ext = rng.choice((0, 0, 0, 15))
        replied = add(recv, rng.randrange(6, 14 + ext))
        rec(kind, requester, title, iso(recv), iso(replied), comments[k], extension=ext)
    # received in December 2021, answered in January 2022: counts in 2022
    kind, requester, title = pool[LEGISLATION_DRAFTS]
    rec(kind, requester, title, "2021-12-20", "2022-01-05", 4, extension=10)
    kind, requester, title = pool[LEGISLATION_DRAFTS + 1]
    rec(kind, requester, title, "2022-02-14", "2022-02-25", 2)
    kind, requester, title = pool[LEGISLATION_DRAFTS + 2]
    rec(kind, requester, title, "2022-03-21", None, 0)
    recs[-1].update(state="consulting", distributed_on="2022-03-23", units_consulted=6)
    return recs


REVIEW_TITLES = {
    "contract": ["%s村级道路提升工程施工合同", "%s农贸市场委托经营协议", "%s物业管理服务合同", "%s土地征收补偿协议",
                 "%s老旧小区改造工程设计合同", "%s垃圾清运服务采购合同"],
    "normative_document": ["%s农村建房管理实施细则", "%s集体经济组织财务管理办法", "%s安全生产网格化管理办法"],
    "major_decision": ["%s小城镇环境综合整治方案", "%s城中村改造实施方案"],
    "enforcement_decision": ["%s违法建筑强制拆除决定", "%s综合行政执法重大处罚决定"],
    "other": ["%s信访事项答复意见", "%s行政复议答复书", "%s招商引资协议条款"],
}


def town_reviews(c, rng):
    recs = []
    types = ["contract"] * 55 + ["enforcement_decision"] * 20 + ["other"] * 12 + ["normative_document"] * 8 + \
            ["major_decision"] * 5

    def rec(town, submitted, reviewed, state="reviewed"):
        typ = rng.choice(types)
        r = {"review_org": c.judicial_office(town), "matter_type": typ,
             "title": rng.choice(REVIEW_TITLES[typ]) % c.town_name[town], "submitting_dept": "镇(街道)党政办",
             "submitted_on": iso(submitted), "state": state, "reviewer": name(rng)}
        if typ == "contract":
            r["contract_amount"] = "%d.00" % rng.randrange(50000, 8000000)
        if state == "reviewed":
            r.update(reviewed_on=iso(reviewed),
                     opinion=rng.choice(("legal",) * 12 + ("legal_with_changes",) * 7 + ("illegal",)),
                     advisor_involved=rng.random() < 0.4, adopted=True)
        elif state == "withdrawn":
            r["withdraw_reason"] = "送审单位撤回,事项暂缓"
        recs.append(r)

    weights = [rng.randrange(12, 40) for _ in c.towns]

    def gap():
        return rng.randrange(2, 12) if rng.random() < 0.97 else rng.randrange(24, 30)

    # 2021: 477 reviews completed, up to 6 of them submitted in December 2020
    per = weighted_spread(rng, TOWN_REVIEWS, c.towns, weights)
    straddle = 6
    for t in c.towns:
        for _ in range(per[t]):
            if straddle and rng.random() < 0.05:
                straddle -= 1
                sub = rand_workday(rng, "2020-12-24", "2020-12-30")
                rec(t, sub, rand_day(rng, "2021-01-04", "2021-01-08"))
                continue
            rev = rand_workday(rng, "2021-01-04", "2021-12-30")
            rec(t, add(rev, -gap()), rev)
    # 2020 (the last quarter), early 2022 (incl. submitted in December 2021), withdrawn ones
    for start, end, n in (("2020-10-08", "2020-12-23", 110), ("2022-01-04", "2022-03-31", 96)):
        for t, k in weighted_spread(rng, n, c.towns, weights).items():
            for _ in range(k):
                rev = rand_workday(rng, start, end)
                rec(t, add(rev, -gap()), rev)
    for _ in range(7):
        rec(rng.choice(c.towns), rand_workday(rng, "2021-12-20", "2021-12-30"),
            rand_workday(rng, "2022-01-04", "2022-01-10"))
    for _ in range(5):
        rec(rng.choice(c.towns), rand_workday(rng, "2021-03-01", "2021-11-30"), None, state="withdrawn")
    for _ in range(9):
        rec(rng.choice(c.towns), rand_workday(rng, "2022-03-25", "2022-03-31"), None, state="submitted")
    return recs


# ------------------------------------------------------------------------------------------------
# 外聘法律顾问, 公职律师 and the legal affairs they take part in

SCHOLAR_EMPLOYERS = ["浙江万里学院", "宁波大学法学院", "宁波工程学院", "浙大宁波理工学院"]


def advisors(c, rng, firm_names):
    """Engagements, so that 87 are in register on 2021-12-31: 72 on 2020-12-31 (78 engaged, 6
    left before), 9 leave in 2021 and 24 are engaged; 2 of the 87 leave in early 2022."""
    recs = []
    engagers = c.gov + c.towns

    def rec(engaged, left=None, reason=None):
        kind = "scholar" if rng.random() < 0.12 else "lawyer"
        r = {"engaging_org": rng.choice(engagers), "advisor": {"name": name(rng)}, "advisor_kind": kind,
             "employer": rng.choice(SCHOLAR_EMPLOYERS) if kind == "scholar" else rng.choice(firm_names),
             "engaged_on": iso(engaged), "term_ends_on": iso(add(engaged, 3 * 365 - 1)),
             "fee": "%d.00" % rng.choice((30000, 40000, 50000, 60000, 80000)), "state": "engaged",
             "contract_no": "FLGW-%d-%03d" % (engaged.year, rng.randrange(1, 999))}
        if left:
            r.update(left_on=iso(left), leave_reason=reason or "聘期届满不再续聘", state="left")
        recs.append(r)

    old = [rand_day(rng, "2017-01-01", "2020-12-15") for _ in range(78)]
    for k, e in enumerate(sorted(old)):
        if k < 6:
            rec(e, rand_day(rng, max(add(e, 200), d("2019-01-01")), "2020-12-20"))
        elif k < 15:
            rec(e, rand_day(rng, "2021-01-10", "2021-12-20"))
        elif k < 17:
            rec(e, rand_day(rng, "2022-01-10", "2022-03-20"), "因个人原因辞去法律顾问")
        else:
            rec(e)
    for _ in range(24):
        rec(rand_day(rng, "2021-01-10", "2021-12-20"))
    for _ in range(3):
        rec(rand_day(rng, "2022-01-10", "2022-03-20"))
    assert sum(1 for r in recs if r["engaged_on"] <= "2021-12-31" and r.get("left_on", "9999") > "2021-12-31") \
        == ADVISORS_END
    return recs


def public_lawyers(c, rng):
    """94 licensed on 2021-12-31: 42 on 2020-12-31 (45 licensed, 3 cancelled before), 6 cancelled
    in 2021, 58 newly assessed and licensed in 2021; 3 failed the 2021 assessment."""
    recs = []
    works = c.gov + c.towns + [c.bureau]

    def rec(applied, assessed=None, licensed=None, cancelled=None, failed=False):
        r = {"work_org": rng.choice(works), "lawyer": {"name": name(rng)},
             "staffing": rng.choice(("civil_servant",) * 6 + ("civil_servant_managed",) * 2 + ("institution",)),
             "position": rng.choice(("科员", "一级科员", "四级主任科员", "科长", "副科长", "法制员")),
             "qualification_no": "A%d3302%06d" % (applied.year - 2, rng.randrange(1, 999999)),
             "applied_on": iso(applied), "state": "applied"}
        if failed or assessed:
            r["trained_on"] = iso(add(assessed or add(applied, 60), -rng.randrange(7, 20)))
        if failed:
            r["state"] = "failed"
        if assessed:
            r.update(assessed_on=iso(assessed), state="assessed")
        if licensed:
            r.update(licensed_on=iso(licensed), state="licensed",
                     license_no="1330220%d1%07d" % (licensed.year, rng.randrange(1, 9999999)))
        if cancelled:
            r.update(cancelled_on=iso(cancelled), state="cancelled", cancel_reason="调离公职律师岗位")
        recs.append(r)

    for k, applied in enumerate(sorted(rand_day(rng, "2018-03-01", "2020-06-30") for _ in range(45))):
        assessed = add(applied, rng.randrange(60, 120))
        licensed = add(assessed, rng.randrange(20, 60))
        cancelled = None
        if k < 3:
            cancelled = rand_day(rng, add(licensed, 90), "2020-12-20")
        elif k < 9:
            cancelled = rand_day(rng, "2021-01-10", "2021-12-20")
        elif k == 9:
            cancelled = d("2022-02-16")
        rec(applied, assessed, licensed, cancelled)
    for _ in range(PUBLIC_LAWYERS_NEW):
        applied = rand_day(rng, "2021-04-01", "2021-06-15")
        assessed = rand_workday(rng, "2021-08-16", "2021-08-27")
        rec(applied, assessed, rand_workday(rng, "2021-10-11", "2021-11-26"))
    for _ in range(3):
        rec(rand_day(rng, "2021-04-01", "2021-06-15"), failed=True)
    for k in range(8):  # the 2022 intake: applied in February, two assessed in March
        rec(rand_day(rng, "2022-02-07", "2022-02-28"), d("2022-03-18") if k < 2 else None)
    in_register = [r for r in recs if r.get("licensed_on", "9999") <= "2021-12-31"
                   and r.get("cancelled_on", "9999") > "2021-12-31"]
    assert len(in_register) == PUBLIC_LAWYERS_END
    return recs


AFFAIR_SUBJECTS = {
    "major_decision": "%s重大行政决策事项论证", "contract_review": "%s重大合同合法性审查",
    "normative_document": "%s规范性文件合法性审查", "enforcement_review": "%s重大执法决定法制审核",
    "litigation": "%s行政诉讼(复议)案件代理", "dispute": "%s信访积案化解", "consultation": "%s法律咨询",
    "training": "%s法治培训授课", "other": "%s其他法律事务",
}


def affairs(c, rng, advisor_recs, lawyer_recs):
    recs = []
    adv_types = (["contract_review"] * 30 + ["major_decision"] * 12 + ["litigation"] * 15 + ["consultation"] * 20
                 + ["training"] * 8 + ["dispute"] * 8 + ["normative_document"] * 7)
    pl_types = (["contract_review"] * 20 + ["enforcement_review"] * 25 + ["normative_document"] * 10
                + ["consultation"] * 25 + ["litigation"] * 8 + ["dispute"] * 7 + ["other"] * 5)

    def active(rows, start, end, day):
        return [r for r in rows if r.get(start) and r[start] <= day and r.get(end, "9999") > day]

    def make(kind, rows, start, end, org_key, types, n, first, last, void=0):
        days = [rand_workday(rng, first, last) for _ in range(n + void)]
        cache = {}
        for i, day in enumerate(days):
            s = iso(day)
            if s not in cache:
                cache[s] = active(rows, start, end, s)
            who = rng.choice(cache[s])
            typ = rng.choice(types)
            person = who["advisor"]["name"] if kind == "external_advisor" else who["lawyer"]["name"]
            r = {"served_org": who[org_key], "counsel_kind": kind, "counsel_name": person, "affair_type": typ,
                 "title": AFFAIR_SUBJECTS[typ] % c.unit_name.get(who[org_key], ""), "occurred_on": s,
                 "hours": float(rng.choice((1, 1.5, 2, 2, 3, 4, 6))), "adopted": rng.random() < 0.95,
                 "state": "recorded"}
            if i >= n:
                r.update(state="void", void_reason="重复登记")
            recs.append(r)

    advs, lawyers = advisor_recs, lawyer_recs
    make("external_advisor", advs, "engaged_on", "left_on", "engaging_org", adv_types, 150, "2020-10-08", "2020-12-31")
    make("external_advisor", advs, "engaged_on", "left_on", "engaging_org", adv_types, ADVISOR_AFFAIRS,
         "2021-01-04", "2021-12-31", void=6)
    make("external_advisor", advs, "engaged_on", "left_on", "engaging_org", adv_types, 110, "2022-01-04", "2022-03-31")
    make("public_lawyer", lawyers, "licensed_on", "cancelled_on", "work_org", pl_types, 1900, "2020-10-08", "2020-12-31")
    make("public_lawyer", lawyers, "licensed_on", "cancelled_on", "work_org", pl_types, PUBLIC_LAWYER_AFFAIRS,
         "2021-01-04", "2021-12-31", void=25)
    make("public_lawyer", lawyers, "licensed_on", "cancelled_on", "work_org", pl_types, 2300, "2022-01-04", "2022-03-31")
    return recs


# ------------------------------------------------------------------------------------------------

def assessments(c, rng):
    """法治建设考核: a plan a year issued by the bureau in spring and finalised the next January;
    every town and the enforcing departments are scored (grades by the plan's thresholds: 90 优秀,
    80 良好, 60 合格); a few units object and are re-reviewed first. The 2021 plan's results are
    confirmed in January 2022; the 2022 plan was only issued by the snapshot day."""
    plans, scores = [], []
    units = c.towns + c.enforcers
    for year in (2020, 2021, 2022):
        plan = {"issuer": c.bureau, "year": year, "title": "慈溪市%d年度法治建设考核方案" % year, "total_score": 100,
                "items": "依法决策、规范性文件管理、行政执法规范化、行政复议应诉、普法责任制等", "state": "issued",
                "issued_on": dt.date(year, 3, 15).isoformat()}
        if year < 2022:
            plan.update(state="finalized", finalized_on=dt.date(year + 1, 1, 25).isoformat())
        plans.append(plan)
        if year == 2022:
            continue
        pid = len(plans)
        for unit in units:
            score = round(min(99.5, max(55.0, rng.gauss(86, 6))), 1)
            grade = "excellent" if score >= 90 else "good" if score >= 80 else "pass" if score >= 60 else "fail"
            rec = {"plan": pid, "unit": unit, "score": score, "grade": grade, "state": "confirmed",
                   "scored_on": dt.date(year + 1, 1, 10).isoformat(), "confirmed_on": dt.date(year + 1, 1, 20).isoformat()}
            if score < 90 and rng.random() < 0.1:
                rec["objection"] = "对依法决策项扣分有异议;经复核维持原评分"
            if score < 100:
                rec["deductions"] = "行政复议纠错、案卷评查等项目扣 %.1f 分" % (100 - score)
            scores.append(rec)
    return plans, scores


def inspections(c, rng):
    """法治督察: special and routine inspections of towns and departments; problems found get a
    rectification notice, a report within 30 days (some late), then the matter is closed."""
    snapshot = dt.date(2022, 2, 28)
    out = []
    topics = ["行政执法“三项制度”落实情况", "重大行政决策程序执行情况", "行政规范性文件合法性审核", "法治政府建设年度报告公开",
              "行政复议决定履行情况", "“谁执法谁普法”责任落实"]
    for k in range(70):
        unit = rng.choice(c.towns + c.enforcers)
        day = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, (snapshot - dt.date(2020, 1, 1)).days))
        rec = {"unit": unit, "title": rng.choice(topics), "inspected_on": day.isoformat(),
               "inspection_type": rng.choices(["special", "routine", "spot_check", "followup"], [4, 3, 2, 1])[0],
               "problems": 0, "state": "inspected"}
        if rng.random() < 0.7:
            notified = day + dt.timedelta(days=rng.randrange(3, 15))
            reported = notified + dt.timedelta(days=rng.choice([12, 18, 25, 28, 30, 36]))
            closed = reported + dt.timedelta(days=rng.randrange(3, 20))
            rec.update(problems=rng.randrange(1, 6), findings="部分执法案卷未载明法制审核意见;公示信息更新不及时",
                       notice_no="慈法督〔%d〕%d号" % (notified.year, k + 1), state="rectifying")
            if notified > snapshot:
                rec.update(state="inspected", problems=0, notice_no=None)
                del rec["findings"]
            else:
                rec["notified_on"] = notified.isoformat()
                if reported <= snapshot:
                    rec.update(state="reported", reported_on=reported.isoformat())
                    if closed <= snapshot:
                        rec.update(state="closed", closed_on=closed.isoformat())
        elif day + dt.timedelta(days=7) <= snapshot:
            rec.update(state="closed", closed_on=(day + dt.timedelta(days=7)).isoformat())
        out.append({k2: v for k2, v in rec.items() if v is not None})
    return out


def generate(orgs, rng):
    c = County(orgs)
    firm_names = ["浙江慈溪第%d律师事务所" % (k + 1) for k in range(orgs.LAW_FIRMS)]
    catalogs, decisions = major_decisions(c, rng)
    campaigns, cleanup_items = cleanups(c, rng)
    advisor_recs = advisors(c, rng, firm_names)
    lawyer_recs = public_lawyers(c, rng)
    records = {
        "pufa_activity": pufa(c, rng),
        "law_culture_venue": venues(c, rng),
        "innovation_project": innovation(c, rng),
        "rule_of_law_demo_unit": demo_units(c, rng),
        "major_decision_catalog": catalogs,
        "major_decision": decisions,
        "normative_document": normative_documents(c, rng),
        "normdoc_cleanup": campaigns,
        "normdoc_cleanup_item": cleanup_items,
        "legislation_draft": legislation(c, rng),
        "town_legality_review": town_reviews(c, rng),
        "legal_advisor": advisor_recs,
        "public_lawyer": lawyer_recs,
        "legal_affair": affairs(c, rng, advisor_recs, lawyer_recs),
    }
    # drawn after everything above, so that adding them left the earlier records as they were
    records["assessment_plan"], records["assessment_score"] = assessments(c, rng)
    records["rule_of_law_inspection"] = inspections(c, rng)
    return records
