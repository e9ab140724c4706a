"""Demo records of the administrative-law supervision area (the annual report's 一(二)2 and 一(二)3):
enforcement entities, enforcement personnel (training and examinations, certificates), 告知承诺制
items, lawyer case registrations and administrative matters, case-file reviews, supervision
notices, reconsideration intake points and cases, administrative litigation; and the enforcement acts
every government unit decided in 2020–2022 (行政执法行为数据统计月报, indicators/enforcement.yaml: no
figure of the 2021 report counts them, and they are drawn after everything else, so that every
earlier record stays as it was).

2021 reproduces the report's figures exactly; 2020 gives the comparison year (242 administrative
disputes: 131 reconsideration applications and 111 first-instance lawsuits, so that 2021's
112 + 94 = 206 is 14.88% fewer); records of December 2021 that complete in January 2022, and of the
first quarter of 2022, check that every figure counts a record in the period of its own date."""

import datetime

# ---------------------------------------------------------------- helpers

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "岑胡孙应华施俞柴鲁楼")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌宇浩凯鹏飞波宁晨雪琳颖婷倩"
         "海燕峰亮俊龙杨晓东志国新春永庆嘉怡佳欣琪瑶雯露蕾璐晶慧巧珍凤云莲真环梅兰琴素丹彤蓓昊轩睿哲")

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# 慈溪市 and its neighbours (GB/T 2260): where most people the bureau deals with were born
ID_REGIONS = ("330282",) * 6 + ("330281", "330203", "330212", "330211", "330106", "330226")

D = datetime.date


def iso(d):
    return d.isoformat() if d is not None else None


def day_between(rng, first, last):
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def plus(d, days):
    return d + datetime.timedelta(days=days)


def weekday_between(rng, first, last):
    """A working weekday in [first, last] (weekends skipped; close enough for the demo)."""
    for _ in range(100):
        d = day_between(rng, first, last)
        if d.weekday() < 5:
            return d
    return first


def id_number(rng, born_from=1958, born_to=1999):
    birth = day_between(rng, D(born_from, 1, 1), D(born_to, 12, 31))
    body = "%s%s%03d" % (rng.choice(ID_REGIONS), birth.strftime("%Y%m%d"), rng.randint(1, 999))
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def phone(rng):
    return "1%s%09d" % (rng.choice("35789"), rng.randint(0, 999999999))


def person(rng, with_id=True, born_from=1958, born_to=1999):
    p = {"name": person_name(rng), "phone": phone(rng)}
    if with_id:
        p["id_number"] = id_number(rng, born_from, born_to)
    return p


def weighted(rng, table):
    """table: [(value, weight)]."""
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for value, w in table:
        x -= w
        if x <= 0:
            return value
    return table[-1][0]


def deal(rng, counts):
    """A shuffled list holding each value `n` times: counts = [(value, n)]."""
    out = [v for v, n in counts for _ in range(n)]
    rng.shuffle(out)
    return out


class Orgs:
    """Org codes of scripts/demo/orgs.py by name."""

    def __init__(self, orgs):
        self.m = orgs
        self.gov = dict(zip(orgs.GOV_UNITS, orgs.gov_units()))
        self.gov_codes = orgs.gov_units()
        self.town = {name: code for code, name, _ in orgs.TOWNS}
        self.town_names = [name for _, name, _ in orgs.TOWNS]
        self.town_codes = [code for code, _, _ in orgs.TOWNS]
        self.firms = orgs.law_firms()
        self.reconsideration = orgs.DEPARTMENTS["reconsideration"][0]

    def g(self, name):
        return self.gov[name]

    def unit_name(self, code):
        """The name a unit signs with: 慈溪市市场监督管理局, 慈溪市观海卫镇人民政府, 慈溪市人民政府浒山街道办事处."""
        if code in self.gov_codes:
            return "慈溪" + self.m.GOV_UNITS[self.gov_codes.index(code)]
        name = self.town_names[self.town_codes.index(code)]
        return "慈溪市人民政府%s办事处" % name if name.endswith("街道") else "慈溪市%s人民政府" % name


# Enforcement units: the departments that enforce most, and the towns (综合行政执法).
ENFORCING = [("市公安局", 8), ("市市场监督管理局", 8), ("市综合行政执法局", 7), ("市交通运输局", 4), ("市自然资源和规划局", 4),
             ("市生态环境局", 3), ("市住房和城乡建设局", 3), ("市卫生健康局", 3), ("市应急管理局", 2), ("市农业农村局", 2),
             ("市人力资源和社会保障局", 2), ("市文化和广电旅游体育局", 2), ("市水利局", 2), ("市税务局", 3),
             ("市行政审批服务局", 2), ("市教育局", 1), ("市民政局", 1), ("市商务局", 1), ("市医疗保障局", 1),
             ("市消防救援大队", 1), ("市烟草专卖局", 1), ("市统计局", 1), ("市人民防空办公室", 1), ("市气象局", 1)]


def enforcing_unit(rng, o, towns_weight=10):
    table = [(o.g(n), w) for n, w in ENFORCING] + [(c, towns_weight / len(o.town_codes)) for c in o.town_codes]
    return weighted(rng, table)


# ---------------------------------------------------------------- 行政执法主体

def enforcement_entities(rng, o):
    out = []

    def entity(name, unit, etype, dispatched, batch, declared, confirmed=None, announcement=None, state="confirmed",
               scope=None, **extra):
        r = {"entity_name": name, "department": unit, "entity_type": etype, "dispatched": dispatched,
             "declared_on": iso(declared), "state": state,
             "enforcement_scope": scope or "依照法律、法规、规章的规定在本单位职责范围内实施行政执法"}
        if state in ("confirmed", "revoked"):
            r.update({"batch": batch, "announcement_no": announcement, "confirmed_on": iso(confirmed)})
        r["legal_basis"] = {"statutory": "《中华人民共和国地方各级人民代表大会和地方各级人民政府组织法》及本单位“三定”规定",
                            "authorized": "法律、法规授权",
                            "entrusted": "《中华人民共和国行政处罚法》第二十条;委托机关的书面委托书"}[etype]
        r.update(extra)
        out.append(r)

    # 第一批 (2020): the departments themselves and a few authorised bodies
    first = [n for n in o.m.GOV_UNITS if n not in ("市政府办公室", "市统计局", "市档案馆", "市机关事务管理局",
                                                   "市投资促进中心", "市国有资产管理中心", "市公共资源交易中心",
                                                   "市大数据发展管理局", "市港航管理中心", "市林业特产总站",
                                                   "市不动产登记中心", "市文物保护管理所")]
    ann1, conf1 = "慈政告〔2020〕9号", D(2020, 8, 20)
    for n in first[:34]:
        etype = "authorized" if n in ("市气象局", "市消防救援大队", "市烟草专卖局") else "statutory"
        entity("慈溪" + n, o.g(n), etype, False, 1, day_between(rng, D(2020, 5, 6), D(2020, 6, 30)), conf1, ann1)
    for n, body in (("市统计局", "慈溪市统计局"), ("市档案馆", "慈溪市档案馆"), ("市港航管理中心", "慈溪市港航管理中心"),
                    ("市林业特产总站", "慈溪市林业特产总站"), ("市不动产登记中心", "慈溪市不动产登记中心"),
                    ("市文物保护管理所", "慈溪市文物保护管理所")):
        etype = "statutory" if n == "市统计局" else "authorized"
        entity(body, o.g(n), etype, False, 1, day_between(rng, D(2020, 5, 6), D(2020, 6, 30)), conf1, ann1)
    # one of them merged away in the 2021 reform: confirmed in 2020, revoked in 2021 (still counted in 2020)
    out[-1].update({"state": "revoked", "revoked_on": "2021-11-15",
                    "revocation_reason": "机构改革,职责划入市文化和广电旅游体育局"})

    # 第二批 (2021): 37 bodies, 19 of them dispatched (派出机构)
    ann2, conf2 = "慈政告〔2021〕4号", D(2021, 6, 18)
    dispatched = ([("慈溪市公安局%s派出所" % t, "市公安局", "authorized")
                   for t in ("浒山", "宗汉", "坎墩", "观海卫", "龙山", "周巷", "长河", "庵东")] +
                  [("慈溪市市场监督管理局%s市场监督管理所" % t, "市市场监督管理局", "authorized")
                   for t in ("浒山", "观海卫", "周巷", "逍林", "龙山", "崇寿")] +
                  [("国家税务总局慈溪市税务局%s税务分局" % t, "市税务局", "statutory")
                   for t in ("第一", "第二", "观海卫")] +
                  [("慈溪市自然资源和规划局%s自然资源所" % t, "市自然资源和规划局", "authorized") for t in ("周巷", "观海卫")])
    assert len(dispatched) == 19
    others = ([("慈溪" + n, n, "statutory") for n in ("市大数据发展管理局", "市投资促进中心", "市公共资源交易中心")] +
              [("慈溪市%s综合行政执法队" % t, "市综合行政执法局", "entrusted") for t in
               ("浒山", "宗汉", "坎墩", "白沙路", "古塘", "观海卫", "龙山", "周巷")] +
              [("慈溪市%s" % n, u, "authorized") for n, u in (
                  ("道路运输管理服务中心", "市交通运输局"), ("农业综合行政执法队", "市农业农村局"),
                  ("文化市场综合行政执法队", "市文化和广电旅游体育局"), ("卫生健康综合行政执法队", "市卫生健康局"),
                  ("生态环境保护综合行政执法队", "市生态环境局"), ("交通运输综合行政执法队", "市交通运输局"),
                  ("劳动保障监察大队", "市人力资源和社会保障局"))])
    assert len(others) == 18
    second = [(n, u, t, True) for n, u, t in dispatched] + [(n, u, t, False) for n, u, t in others]
    rng.shuffle(second)
    for name, unit, etype, disp in second:
        entity(name, o.g(unit), etype, disp, 2, day_between(rng, D(2021, 3, 1), D(2021, 4, 30)), conf2, ann2)
    # declared in 2021 but not confirmed: not counted
    entity("慈溪市城市管理局市容环境卫生管理处", o.g("市城市管理局"), "entrusted", False, 2, D(2021, 3, 22),
           state="rejected", rejection_reason="受委托组织不具备《行政处罚法》第二十一条规定的条件")
    entity("慈溪市供销合作社农资监督站", o.g("市供销合作社"), "authorized", False, 2, D(2021, 4, 8),
           state="rejected", rejection_reason="无法律、法规授权依据")

    # 第三批 (2022): declared in December 2021, confirmed in February 2022 — counted in 2022
    ann3, conf3 = "慈政告〔2022〕2号", D(2022, 2, 25)
    for name, unit, etype, disp in (("慈溪市公安局逍林派出所", "市公安局", "authorized", True),
                                    ("慈溪市公安局桥头派出所", "市公安局", "authorized", True),
                                    ("慈溪市市场监督管理局庵东市场监督管理所", "市市场监督管理局", "authorized", True),
                                    ("慈溪市水利综合行政执法队", "市水利局", "authorized", False),
                                    ("慈溪市应急管理综合行政执法队", "市应急管理局", "authorized", False)):
        entity(name, o.g(unit), etype, disp, 3, day_between(rng, D(2021, 12, 1), D(2021, 12, 28)), conf3, ann3)
    entity("慈溪市城市管理局环卫执法中队", o.g("市城市管理局"), "entrusted", False, 3, D(2022, 3, 10),
           state="declared")
    return out


# ---------------------------------------------------------------- 行政执法人员: training, exams, certificates

def enforcement_personnel(rng, o):
    trainings, certificates = [], []
    cert_seq = [0]

    def certificate(holder, unit, issue_type, applied, issued=None, state="issued", **extra):
        r = {"holder": holder, "unit": unit, "issue_type": issue_type, "applied_on": iso(applied), "state": state,
             "enforcement_area": rng.choice(("行政处罚", "行政许可", "行政检查", "行政强制", "综合执法"))}
        if issued is not None:
            cert_seq[0] += 1
            r.update({"issued_on": iso(issued), "certificate_no": "浙%s%06d" % (issued.strftime("%y"), cert_seq[0]),
                      "expires_on": iso(D(issued.year + 5, issued.month, min(issued.day, 28)))})
        r.update(extra)
        certificates.append(r)

    def qualification_session(name, enroll_from, enroll_to, completed, exam, passed, failed, withdrawn,
                              issue_from=None, issue_to=None, pending=0):
        """A training class ending in the examination; those who pass are issued a new certificate."""
        outcomes = deal(rng, [("passed", passed), ("failed", failed), ("withdrawn", withdrawn), ("trained", pending)])
        for outcome in outcomes:
            who, unit = person(rng, born_from=1975, born_to=1998), enforcing_unit(rng, o)
            r = {"trainee": who, "unit": unit, "training_type": "qualification", "session": name,
                 "enrolled_on": iso(weekday_between(rng, enroll_from, enroll_to)), "hours": 40, "state": outcome}
            if outcome == "withdrawn":
                r["withdrawal_reason"] = rng.choice(("岗位调整", "工作冲突,申请下期参训", "病假"))
            else:
                r["completed_on"] = iso(completed)
            if outcome in ("passed", "failed"):
                r["exam_on"] = iso(exam)
                r["score"] = rng.randint(60, 97) if outcome == "passed" else rng.randint(38, 59)
            trainings.append(r)
            if outcome == "passed" and issue_from is not None:
                applied = weekday_between(rng, plus(exam, 3), plus(exam, 10))
                issued = weekday_between(rng, max(issue_from, plus(applied, 7)), issue_to)
                certificate(who, unit, "new", applied, issued)

    def study(type_, name, n, completed_from, completed_to, hours, withdrawn=0):
        for outcome in deal(rng, [("trained", n), ("withdrawn", withdrawn)]):
            completed = weekday_between(rng, completed_from, completed_to)
            r = {"trainee": person(rng, born_from=1965, born_to=1998), "unit": enforcing_unit(rng, o),
                 "training_type": type_, "session": name, "enrolled_on": iso(plus(completed, -rng.randint(7, 20))),
                 "hours": hours, "state": outcome}
            if outcome == "trained":
                r["completed_on"] = iso(completed)
            else:
                r["withdrawal_reason"] = rng.choice(("执法任务冲突", "病假", "岗位调整"))
            trainings.append(r)

    # 2020
    qualification_session("2020年行政执法证件申领培训班", D(2020, 9, 1), D(2020, 9, 18), D(2020, 10, 16), D(2020, 10, 17),
                          111, 9, 2, D(2020, 11, 2), D(2020, 12, 18))
    study("annual", "2020年度行政执法人员公共法律知识培训", 150, D(2020, 6, 1), D(2020, 11, 30), 16)
    # 2021: 168 examined, 159 passed and were issued certificates
    qualification_session("2021年第一期行政执法证件申领培训班", D(2021, 3, 29), D(2021, 4, 16), D(2021, 5, 14), D(2021, 5, 15),
                          85, 5, 2, D(2021, 6, 1), D(2021, 7, 9))
    qualification_session("2021年第二期行政执法证件申领培训班", D(2021, 9, 6), D(2021, 9, 24), D(2021, 10, 22), D(2021, 10, 23),
                          74, 4, 1, D(2021, 11, 8), D(2021, 12, 17))
    # a class of December 2021 examined in January 2022: counted in 2022
    qualification_session("2021年第三期行政执法证件申领培训班", D(2021, 12, 1), D(2021, 12, 10), D(2021, 12, 30), D(2022, 1, 8),
                          33, 3, 0, D(2022, 2, 7), D(2022, 3, 11))
    qualification_session("2022年第一期行政执法证件申领培训班", D(2022, 2, 14), D(2022, 2, 28), D(2022, 3, 25), D(2022, 3, 26),
                          0, 0, 1, pending=29)
    # 新修订《行政处罚法》 (in force 2021-07-15): 256 enforcement officers studied it
    study("penalty_law", "新修订《行政处罚法》专题学习", 256, D(2021, 6, 21), D(2021, 11, 26), 8, withdrawn=6)
    study("annual", "2021年度行政执法人员公共法律知识培训", 120, D(2021, 3, 1), D(2021, 11, 30), 16)
    study("annual", "2022年度行政执法人员公共法律知识培训", 60, D(2022, 3, 1), D(2022, 3, 31), 16)

    # Renewals (全国统一行政执法证件换发): 2378 issued in 2021; 64 applied in December, issued in January 2022
    def renewals(n, applied_from, applied_to, issued_from, issued_to, cancelled=0, cancel_from=None, cancel_to=None):
        states = deal(rng, [("issued", n - cancelled), ("cancelled", cancelled)])
        for state in states:
            applied = weekday_between(rng, applied_from, applied_to)
            first = max(plus(applied, 10), issued_from)
            issued = weekday_between(rng, first, max(first, min(plus(applied, 40), issued_to)))
            extra = {}
            if state == "cancelled":
                extra = {"cancelled_on": iso(weekday_between(rng, max(plus(issued, 30), cancel_from), cancel_to)),
                         "cancellation_reason": rng.choice(("调离执法岗位", "退休", "辞职"))}
            certificate(person(rng, born_from=1962, born_to=1996), enforcing_unit(rng, o), "renewal", applied, issued,
                        state, **extra)

    renewals(85, D(2020, 3, 2), D(2020, 11, 13), D(2020, 3, 2), D(2020, 12, 25))
    renewals(2378, D(2021, 2, 22), D(2021, 11, 19), D(2021, 2, 22), D(2021, 12, 30), cancelled=21,
             cancel_from=D(2021, 9, 1), cancel_to=D(2022, 6, 30))
    renewals(64, D(2021, 12, 6), D(2021, 12, 24), D(2022, 1, 4), D(2022, 1, 28))
    for _ in range(12):  # applications refused: holders no longer in enforcement posts
        certificate(person(rng, born_from=1962, born_to=1990), enforcing_unit(rng, o), "renewal",
                    weekday_between(rng, D(2021, 3, 1), D(2021, 11, 30)), state="rejected",
                    rejection_reason="申请人已不在行政执法岗位")
    for _ in range(9):  # lost certificates replaced
        applied = weekday_between(rng, D(2021, 2, 1), D(2021, 11, 30))
        certificate(person(rng, born_from=1965, born_to=1996), enforcing_unit(rng, o), "replacement", applied,
                    weekday_between(rng, plus(applied, 7), plus(applied, 20)))
    return trainings, certificates


# ---------------------------------------------------------------- 证明事项告知承诺制

COMMITMENTS = [
    # (证明事项, 行政事项, 实施单位)
    ("无犯罪记录证明", "律师执业许可", "市司法局"),
    ("学历证明", "基层法律服务工作者执业核准", "市司法局"),
    ("健康证明", "食品经营许可", "市市场监督管理局"),
    ("营业场所使用证明", "个体工商户设立登记", "市市场监督管理局"),
    ("无犯罪记录证明", "出租汽车驾驶员从业资格证核发", "市交通运输局"),
    ("驾驶经历证明", "道路运输驾驶员从业资格认定", "市交通运输局"),
    ("社会保险缴纳证明", "建筑业企业资质认定(人员社保)", "市住房和城乡建设局"),
    ("工作经历证明", "二级建造师执业资格注册", "市住房和城乡建设局"),
    ("户籍证明", "最低生活保障审批", "市民政局"),
    ("婚姻状况证明", "临时救助审批", "市民政局"),
    ("亲属关系证明", "社会保险待遇领取(遗属待遇)", "市人力资源和社会保障局"),
    ("死亡证明", "社会保险关系注销", "市人力资源和社会保障局"),
    ("无违法违规证明", "劳务派遣经营许可", "市人力资源和社会保障局"),
    ("居住证明", "义务教育阶段入学(随迁子女)", "市教育局"),
    ("教师资格认定体检证明", "教师资格认定", "市教育局"),
    ("执业经历证明", "医师执业注册", "市卫生健康局"),
    ("护理工作经历证明", "护士执业注册", "市卫生健康局"),
    ("消防安全证明", "公共场所卫生许可", "市卫生健康局"),
    ("经营场所产权证明", "旅行社设立许可", "市文化和广电旅游体育局"),
    ("安全生产证明", "烟花爆竹经营(零售)许可", "市应急管理局"),
    ("场地使用证明", "农作物种子生产经营许可", "市农业农村局"),
    ("纳税证明", "成品油零售经营资格审批", "市商务局"),
    ("退役证明", "退役军人优待证申领", "市退役军人事务局"),
    ("收入证明", "公共租赁住房保障资格审核", "市住房和城乡建设局"),
]


def commitment_items(rng, o):
    out = []
    items = list(COMMITMENTS)
    rng.shuffle(items)

    def item(cert, matter, dept, state, source, adopted=None, **extra):
        unit = o.m.BUREAU if dept == "市司法局" else o.g(dept)
        r = {"certificate_name": cert, "matter": matter, "department": unit, "list_source": source, "state": state,
             "list_item_no": str(rng.randint(1, 90)),
             "legal_basis": "《%s》有关规定" % rng.choice(("中华人民共和国行政许可法", "浙江省公共数据条例",
                                                     "国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见")),
             "commitment_content": "申请人书面承诺已符合%s所需的“%s”条件,承诺不实的依法承担法律责任" % (matter, cert)}
        if state != "preparing":
            r["verification"] = rng.choice(("数据共享核查", "现场核查", "部门协查", "信用记录核查"))
            r["adopted_on"] = iso(adopted)
        r.update(extra)
        out.append(r)

    # 2020: six items of the first provincial list (one dropped in 2021: counted in 2020)
    for _ in range(6):
        c, m, d = items.pop()
        item(c, m, d, "implemented", "provincial", day_between(rng, D(2020, 11, 2), D(2020, 12, 28)))
    out[-1].update({"state": "stopped", "stopped_on": "2021-09-30", "stop_reason": "数据共享后取消该证明事项"})
    # 2021: 15 matters of the 浙江省司法厅 list (one dropped in 2022, still counted in 2021)
    for k in range(15):
        c, m, d = items.pop()
        item(c, m, d, "implemented", "provincial" if k < 13 else "municipal",
             day_between(rng, D(2021, 3, 1), D(2021, 11, 30)))
    out[-1].update({"state": "stopped", "stopped_on": "2022-05-31", "stop_reason": "清单调整"})
    # under preparation at the end of 2021, implemented in 2022
    for _ in range(3):
        c, m, d = items.pop()
        item(c, m, d, "implemented", "local", day_between(rng, D(2022, 1, 10), D(2022, 3, 31)))
    return out


# ---------------------------------------------------------------- 律师收案登记, 审批备案事项

CASE_TYPES = [("civil", 62), ("criminal", 10), ("administrative", 2), ("arbitration", 3), ("non_litigation", 10),
              ("legal_advisor", 8), ("documents", 5)]
CAUSES = {
    "civil": ("民间借贷纠纷", "买卖合同纠纷", "离婚纠纷", "机动车交通事故责任纠纷", "劳动争议", "建设工程施工合同纠纷",
              "房屋租赁合同纠纷", "继承纠纷", "金融借款合同纠纷", "提供劳务者受害责任纠纷", "物业服务合同纠纷", "承揽合同纠纷"),
    "criminal": ("危险驾驶罪", "盗窃罪", "诈骗罪", "帮助信息网络犯罪活动罪", "故意伤害罪", "开设赌场罪", "非法吸收公众存款罪"),
    "administrative": ("行政处罚", "工伤认定", "房屋征收补偿", "政府信息公开"),
    "arbitration": ("劳动争议仲裁", "商事合同仲裁"),
    "non_litigation": ("股权转让尽职调查", "合同审查", "企业合规审查", "律师见证", "催收律师函"),
    "legal_advisor": ("企业常年法律顾问", "村(社区)法律顾问", "机关法律顾问"),
    "documents": ("代写起诉状", "代写遗嘱", "代写协议", "法律咨询"),
}
COMPANY_WORDS = ("宏达", "新宇", "华润", "金鑫", "恒泰", "永盛", "东方", "海天", "瑞丰", "卓越", "兴旺", "万和", "天成", "明辉")
COMPANY_KINDS = ("电器有限公司", "塑料制品有限公司", "五金有限公司", "纺织有限公司", "贸易有限公司", "建设有限公司", "汽车部件有限公司")
FEES = {"civil": (3000, 30000), "criminal": (10000, 60000), "administrative": (5000, 30000),
        "arbitration": (5000, 40000),
        "non_litigation": (2000, 50000), "legal_advisor": (10000, 80000), "documents": (200, 2000)}


def firm_lawyers(rng, o):
    """Lawyers of each firm (a firm of 3 to 45): the same names every time for a seed."""
    return {f: [person_name(rng) for _ in range(int(3 + 42 * rng.random() ** 2.5))] for f in o.firms}


def lawyer_cases(rng, o, lawyers):
    out = []
    firms = o.firms
    weight = [(f, len(lawyers[f])) for f in firms]

    def day_2021_weighted(first, last):
        while True:  # fewer registrations around the Spring Festival
            d = day_between(rng, first, last)
            if not (D(2021, 2, 8) <= d <= D(2021, 2, 20)) or rng.random() < 0.3:
                return d

    def registration(registered, state):
        firm = weighted(rng, weight)
        ctype = weighted(rng, CASE_TYPES)
        company = ctype in ("legal_advisor", "non_litigation") or (ctype == "civil" and rng.random() < 0.25)
        client = ({"name": "慈溪市%s%s" % (rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS))} if company
                  else person(rng, with_id=rng.random() < 0.6, born_from=1950, born_to=2000))
        lo, hi = FEES[ctype]
        r = {"firm": firm, "lawyer": rng.choice(lawyers[firm]), "case_type": ctype, "client": client,
             "cause": rng.choice(CAUSES[ctype]), "fee": "%d.00" % (rng.randint(lo // 100, hi // 100) * 100),
             "registered_on": iso(registered), "state": state}
        if state == "closed":
            r["closed_on"] = iso(min(plus(registered, rng.randint(20, 320)), D(2022, 6, 30)))
        elif state == "voided":
            r["void_reason"] = rng.choice(("重复登记", "委托人解除委托", "利益冲突,不予收案"))
        out.append(r)

    for _ in range(978):  # December 2020
        registration(day_between(rng, D(2020, 12, 1), D(2020, 12, 31)), "closed")
    for state in deal(rng, [("closed", 8322), ("registered", 3364), ("voided", 47)]):  # 2021: 11686 registered
        registered = day_2021_weighted(D(2021, 1, 1), D(2021, 12, 31))
        registration(registered, state)
    for state in deal(rng, [("registered", 1003), ("voided", 6)]):  # January 2022
        registration(day_between(rng, D(2022, 1, 1), D(2022, 1, 31)), state)
    return out


ADMIN_MATTERS = [("firm_name_change", "approval", 6), ("firm_head_change", "approval", 10),
                 ("firm_address_change", "filing", 12), ("firm_partner_change", "filing", 14),
                 ("firm_articles_filing", "filing", 8), ("firm_dissolution", "approval", 2),
                 ("lawyer_transfer", "approval", 28), ("lawyer_cancellation", "approval", 16), ("other", "filing", 4)]
ADMIN_PARTICULARS = {"firm_name_change": "申请变更律师事务所名称", "firm_head_change": "申请变更律师事务所负责人",
                     "firm_address_change": "律师事务所住所变更备案", "firm_partner_change": "律师事务所合伙人变更备案",
                     "firm_articles_filing": "律师事务所章程(合伙协议)修改备案", "firm_dissolution": "申请注销律师事务所",
                     "lawyer_transfer": "律师申请变更执业机构", "lawyer_cancellation": "申请注销律师执业证书",
                     "other": "其他备案事项"}


def lawyer_admin_matters(rng, o, lawyers):
    out = []

    def matter(received, state, accepted=None, decided=None, **extra):
        mtype, procedure = weighted(rng, [((t, p), w) for t, p, w in ADMIN_MATTERS])
        firm = rng.choice(o.firms)
        lawyer = rng.choice(lawyers[firm])
        firm_level = mtype.startswith("firm_")
        r = {"firm": firm, "matter_type": mtype, "procedure": procedure,
             "applicant": ("浙江慈溪第%d律师事务所" % (o.firms.index(firm) + 1)) if firm_level else lawyer,
             "lawyer": lawyer, "particulars": ADMIN_PARTICULARS[mtype], "received_on": iso(received), "state": state}
        if accepted is not None:
            r["accepted_on"] = iso(accepted)
        if decided is not None:
            r["decided_on"] = iso(decided)
        r.update(extra)
        out.append(r)

    def accepted_matters(first, last, states):
        for state in deal(rng, states):  # the ones still open were received last
            received = weekday_between(rng, plus(last, -10) if state == "accepted" else first, last)
            accepted = received if rng.random() < 0.8 else weekday_between(rng, received, plus(received, 4))
            decided = None if state == "accepted" else weekday_between(rng, plus(accepted, 2), plus(accepted, 24))
            extra = {"reason": "申请材料不符合《律师事务所管理办法》规定的条件"} if state == "refused" else {}
            if state == "accepted" or decided > D(2022, 12, 31):
                decided = None
            matter(received, state, accepted, decided, **extra)

    accepted_matters(D(2020, 1, 2), D(2020, 12, 4), [("approved", 63), ("refused", 1), ("withdrawn", 2)])
    # 2021: 79 accepted; the last ones of December decided in January 2022
    accepted_matters(D(2021, 1, 4), D(2021, 12, 3), [("approved", 71), ("refused", 2), ("withdrawn", 2)])
    for _ in range(4):
        received = weekday_between(rng, D(2021, 12, 13), D(2021, 12, 24))
        matter(received, "approved", received, weekday_between(rng, D(2022, 1, 4), D(2022, 1, 14)))
    for _ in range(3):  # not accepted: incomplete applications
        matter(weekday_between(rng, D(2021, 2, 1), D(2021, 11, 30)), "not_accepted", reason="申请材料不齐全,已一次性告知补正")
    # received at the end of December 2021, accepted in January 2022: counted in 2022
    for received, accepted in ((D(2021, 12, 30), D(2022, 1, 4)), (D(2021, 12, 31), D(2022, 1, 5))):
        matter(received, "approved", accepted, weekday_between(rng, plus(accepted, 3), plus(accepted, 12)))
    accepted_matters(D(2022, 1, 6), D(2022, 3, 25), [("approved", 12), ("accepted", 4)])
    return out


# ---------------------------------------------------------------- 案卷评查, 监督通知书

REVIEW_UNITS = {
    "license": [("市行政审批服务局", 5), ("市市场监督管理局", 3), ("市住房和城乡建设局", 2), ("市交通运输局", 2),
                ("市卫生健康局", 2), ("市自然资源和规划局", 2), ("市文化和广电旅游体育局", 1), ("市农业农村局", 1)],
    "penalty": [("市综合行政执法局", 5), ("市市场监督管理局", 4), ("市公安局", 3), ("市生态环境局", 2),
                ("市交通运输局", 2), ("市应急管理局", 1), ("市卫生健康局", 1), ("市水利局", 1)],
    "info_disclosure": [("市政府办公室", 2), ("市自然资源和规划局", 3), ("市住房和城乡建设局", 3), ("市公安局", 1),
                        ("市人力资源和社会保障局", 1), ("市农业农村局", 1), ("市生态环境局", 1), ("市教育局", 1)],
    "inspection": [("市水利局", 1)],
    "coercion": [("市水利局", 1)],
}
REVIEW_TITLES = {
    "license": "%s行政许可案", "penalty": "%s行政处罚案", "info_disclosure": "%s政府信息公开申请答复",
    "rural_housing": "%s农村村民建房审批", "inspection": "%s行政检查", "coercion": "%s行政强制案",
}
REVIEW_PROBLEMS = ("证据材料不完整,未附现场检查照片", "告知程序不规范,未告知陈述申辩权利", "法律依据引用不准确",
                   "文书送达回证缺失", "答复期限超过《政府信息公开条例》规定的20个工作日", "审批材料缺少公示记录",
                   "自由裁量理由说明不充分", "案卷归档顺序不规范")


def case_file_reviews(rng, o):
    out = []

    def review(campaign, ftype, unit, selected, reviewed):
        score = min(100, max(45, int(rng.gauss(84, 8))))
        grade = "excellent" if score >= 90 else "qualified" if score >= 60 else "unqualified"
        r = {"campaign": campaign, "reviewed_unit": unit, "file_type": ftype, "selected_on": iso(selected),
             "file_no": "慈%s〔%d〕%d号" % (rng.choice(("罚决", "许准", "信公复", "建审", "检")), selected.year - 1,
                                          rng.randint(1, 999)),
             "file_title": REVIEW_TITLES[ftype] % (rng.choice(SURNAMES) + "某"),
             "reviewers": "、".join(person_name(rng) for _ in range(3)), "state": "selected"}
        if reviewed is not None:
            r.update({"reviewed_on": iso(reviewed), "score": score, "grade": grade, "state": "reviewed"})
            if score < 85:
                r["problems"] = ";".join(rng.sample(REVIEW_PROBLEMS, rng.randint(1, 3)))
                r["state"] = "rectifying"
                if rng.random() < 0.8:
                    r.update({"state": "rectified", "rectification": "已按评查意见补正并完善内部制度",
                              "rectified_on": iso(min(plus(reviewed, rng.randint(20, 60)), D(2022, 6, 30)))})
        out.append(r)

    def unit_for(ftype):
        if ftype == "rural_housing":
            return rng.choice(o.town_codes)
        if ftype == "info_disclosure" and rng.random() < 0.3:
            return rng.choice(o.town_codes)
        return o.g(weighted(rng, REVIEW_UNITS[ftype]))

    c2020 = "2020年度全市行政执法案卷评查"
    for ftype, n in (("license", 30), ("penalty", 40)):
        for _ in range(n):
            review(c2020, ftype, unit_for(ftype), D(2020, 9, 15), weekday_between(rng, D(2020, 10, 12), D(2020, 11, 6)))
    c2021 = "2021年度全市行政执法案卷集中评查"
    for ftype, n in (("license", 54), ("penalty", 50), ("info_disclosure", 64), ("rural_housing", 14)):
        for _ in range(n):
            review(c2021, ftype, unit_for(ftype), D(2021, 8, 23), weekday_between(rng, D(2021, 9, 6), D(2021, 10, 29)))
    # 市水利系统行政执法评议: inspection files (not among the report's four kinds)
    for _ in range(10):
        review("2021年市水利系统行政执法评议", "inspection", o.g("市水利局"), D(2021, 11, 8),
               weekday_between(rng, D(2021, 11, 15), D(2021, 11, 26)))
    # drawn in December 2021, reviewed in January 2022: counted in 2022
    c2022 = "2021年度行政处罚案卷专项评查(第四季度)"
    for ftype, n in (("penalty", 12), ("license", 6)):
        for _ in range(n):
            review(c2022, ftype, unit_for(ftype), D(2021, 12, 20), weekday_between(rng, D(2022, 1, 10), D(2022, 1, 21)))
    for _ in range(5):
        review("2022年第一季度行政许可案卷评查", "license", unit_for("license"), D(2022, 3, 21), None)
    return out


NOTICE_ISSUES = {
    "case_file_review": "案卷评查发现:%s",
    "special_supervision": "%s专项监督中发现执法程序不规范",
    "enforcement_evaluation": "行政执法评议中发现%s",
    "complaint": "群众投诉反映%s",
    "reconsideration_litigation": "行政复议、诉讼案件反映%s",
}
NOTICE_TOPICS = ("综合执法事项执行", "涉民生执法", "行政处罚裁量", "行政许可办理时限", "政府信息公开答复", "执法全过程记录")


def supervision_notices(rng, o):
    out = []
    recipients = [n for n, _ in ENFORCING]

    def notice(issued, state, doc_type=None, source=None, drafted=None, **extra):
        doc_type = doc_type or weighted(rng, [("notice", 5), ("proposal", 3)])
        source = source or weighted(rng, [("case_file_review", 5), ("special_supervision", 3),
                                          ("enforcement_evaluation", 1), ("complaint", 1),
                                          ("reconsideration_litigation", 1)])
        unit = rng.choice(o.town_codes) if rng.random() < 0.2 else o.g(rng.choice(recipients))
        topic = rng.choice(REVIEW_PROBLEMS if source == "case_file_review" else NOTICE_TOPICS)
        drafted = drafted or plus(issued, -rng.randint(2, 10))
        r = {"document_type": doc_type, "recipient": unit, "source": source, "issue": NOTICE_ISSUES[source] % topic,
             "requirement": "请于收到之日起30日内完成整改并书面反馈" if doc_type == "notice"
             else "建议健全内部审核制度,加强执法人员培训",
             "drafted_on": iso(drafted), "state": state}
        if state != "drafted" and state != "cancelled":
            r["issued_on"] = iso(issued)
        if state in ("replied", "closed"):
            late = rng.random() < 0.1
            if late and rng.random() < 0.5:
                r["extension_days"] = 15
            r["replied_on"] = iso(plus(issued, rng.randint(31, 44) if late else rng.randint(8, 29)))
            r["reply"] = "已完成整改,相关制度已修订"
        if state == "closed":
            r["closed_on"] = iso(plus(issued, rng.randint(46, 60)))
        r.update(extra)
        out.append(r)

    for state in deal(rng, [("closed", 27)]):
        notice(weekday_between(rng, D(2020, 3, 2), D(2020, 11, 27)), state)
    # 2021: 32 issued (most after the concentrated review of September and October)
    for k, state in enumerate(deal(rng, [("closed", 26), ("replied", 4), ("late", 2)])):
        if state == "late":  # issued in December 2021, answered around the new year
            issued, state = weekday_between(rng, D(2021, 12, 13), D(2021, 12, 24)), "replied"
        elif k % 3 == 0:
            issued = weekday_between(rng, D(2021, 3, 1), D(2021, 8, 31))
        else:
            issued = weekday_between(rng, D(2021, 9, 13), D(2021, 11, 15))
        notice(issued, state)
    notice(D(2021, 5, 20), "cancelled", drafted=D(2021, 5, 17))  # withdrawn before issue: not counted
    # drafted in December 2021, issued in January 2022: counted in 2022
    notice(D(2022, 1, 5), "replied", drafted=D(2021, 12, 27))
    for state in deal(rng, [("issued", 3), ("replied", 1)]):
        notice(weekday_between(rng, D(2022, 1, 10), D(2022, 3, 18)), state)
    notice(D(2022, 3, 28), "drafted", drafted=D(2022, 3, 28))
    return out


# ---------------------------------------------------------------- 行政复议: intake points and cases

INTAKE_POINTS = [  # town, planned, opened
    ("浒山街道", D(2020, 3, 2), D(2020, 4, 1)), ("周巷镇", D(2020, 5, 6), D(2020, 6, 1)),
    ("坎墩街道", D(2020, 8, 3), D(2020, 9, 1)),
    # 2021: the four the report names
    ("龙山镇", D(2021, 3, 1), D(2021, 4, 1)), ("观海卫镇", D(2021, 3, 1), D(2021, 4, 1)),
    ("胜山镇", D(2021, 5, 10), D(2021, 6, 1)), ("长河镇", D(2021, 5, 10), D(2021, 6, 1)),
    ("宗汉街道", D(2021, 12, 6), D(2022, 3, 1)),  # prepared in 2021, opened in 2022
    ("桥头镇", D(2022, 3, 7), None),
]
ONLINE_FROM = D(2021, 6, 1)  # 省行政复议数字化平台网络申请端口

RESPONDENTS = [("市公安局", 30), ("市市场监督管理局", 10), ("市自然资源和规划局", 8), ("市人力资源和社会保障局", 7),
               ("市综合行政执法局", 7), ("市住房和城乡建设局", 5), ("市交通运输局", 4), ("市生态环境局", 3),
               ("市卫生健康局", 2), ("市农业农村局", 2), ("市政府办公室", 2), ("市医疗保障局", 1), ("市民政局", 1)]
RECON_MATTERS = ("不服治安管理处罚决定", "不服行政处罚决定", "不服工伤认定决定", "不服政府信息公开答复",
                 "认为未履行法定职责", "不服行政强制措施", "不服不予登记决定", "不服举报答复")
RECON_OUTCOMES = [("upheld", 48), ("dismissed", 10), ("withdrawn", 16), ("mediated", 5), ("revoked", 9),
                  ("confirmed_illegal", 7), ("changed", 2), ("ordered_to_perform", 3)]


def reconsideration(rng, o):
    points, cases = [], []
    opened = {}
    for town, planned, open_on in INTAKE_POINTS:
        code = o.town[town]
        office = o.m.judicial_office(code)
        r = {"point_name": "%s行政复议受理点" % town, "office": office, "address": "%s司法所一楼便民服务窗口" % town,
             "staff": person_name(rng), "planned_on": iso(planned), "state": "planned"}
        if open_on is not None:
            r.update({"state": "open", "opened_on": iso(open_on)})
            opened[office] = open_on
        points.append(r)

    def case(received, state):
        open_points = [off for off, d in opened.items() if d <= received]
        channels = [("bureau", 6)] + ([("township", 2)] if open_points else []) + \
                   ([("online", 3)] if received >= ONLINE_FROM else [])
        intake = weighted(rng, channels)
        intake_org = rng.choice(open_points) if intake == "township" else o.reconsideration
        if rng.random() < 0.15:
            town = rng.choice(o.town_codes)
            respondent, respondent_org = o.unit_name(town), town
        else:
            unit = o.g(weighted(rng, RESPONDENTS))
            respondent, respondent_org = o.unit_name(unit), unit
        r = {"intake_org": intake_org, "intake": intake, "applicant": person(rng, born_from=1950, born_to=2001),
             "respondent": respondent, "respondent_org": respondent_org, "matter": rng.choice(RECON_MATTERS),
             "received_on": iso(received), "state": state}
        if state in ("accepted", "decided"):
            accepted = weekday_between(rng, received, plus(received, 5))
            r["accepted_on"] = iso(accepted)
            if state == "decided":
                extension = 30 if rng.random() < 0.12 else 0
                if extension:
                    r["extension_days"] = extension
                r["decided_on"] = iso(plus(accepted, rng.randint(61, 85) if extension else rng.randint(20, 58)))
                r["outcome"] = weighted(rng, RECON_OUTCOMES)
        cases.append(r)

    for state in deal(rng, [("decided", 120), ("not_accepted", 11)]):  # 2020: 131
        case(day_between(rng, D(2020, 1, 2), D(2020, 12, 31)), state)
    for state in deal(rng, [("decided", 103), ("not_accepted", 9)]):  # 2021: 112
        received = day_between(rng, D(2021, 1, 4), D(2021, 12, 31))
        case(received, state)
    # 2022 Q1: the earliest decided, the last ones of March not yet examined
    received_2022 = sorted(day_between(rng, D(2022, 1, 4), D(2022, 3, 31)) for _ in range(26))
    for k, received in enumerate(received_2022):
        case(received, "decided" if k < 9 else "accepted" if k < 23 else "received")
    return points, cases


# ---------------------------------------------------------------- 行政诉讼

LITIGATION_CAUSES = [("penalty", 22), ("expropriation", 18), ("info_disclosure", 12), ("registration", 8),
                     ("inaction", 10), ("social_security", 10), ("license", 6), ("coercion", 6), ("reconsideration", 5),
                     ("other", 3)]
LITIGATION_MATTERS = {
    "penalty": "诉请撤销行政处罚决定", "expropriation": "诉请撤销房屋征收补偿决定", "info_disclosure": "诉请撤销政府信息公开答复",
    "registration": "诉请撤销不动产登记", "inaction": "诉请判令履行法定职责", "social_security": "诉请撤销工伤认定决定",
    "license": "诉请撤销不予许可决定", "coercion": "诉请确认强制拆除行为违法", "reconsideration": "诉请撤销行政复议决定及原行政行为",
    "other": "其他行政争议",
}
DEFENDANTS = [("市公安局", 14), ("市自然资源和规划局", 12), ("市人力资源和社会保障局", 10), ("市住房和城乡建设局", 8),
              ("市综合行政执法局", 8), ("市市场监督管理局", 7), ("市政府办公室", 6), ("市交通运输局", 3), ("市生态环境局", 3),
              ("市农业农村局", 2), ("市不动产登记中心", 3)]
WON = [("claims_rejected", 55), ("suit_dismissed", 14), ("withdrawn", 28), ("mediated", 2)]
LOST = ("revoked", "confirmed_illegal", "ordered_to_perform", "changed", "compensation", "confirmed_void")


def litigation(rng, o):
    out = []
    seq = {}

    def case_no(year, instance):
        seq[(year, instance)] = seq.get((year, instance), 0) + rng.randint(1, 4)
        return ("(%d)浙0282行初%d号" if instance == "first" else "(%d)浙02行终%d号") % (year, seq[(year, instance)])

    def lawsuit(filed, instance, concluded=None, outcome=None, state=None):
        cause = weighted(rng, LITIGATION_CAUSES)
        if rng.random() < 0.25:
            defendant = rng.choice(o.town_codes)
        else:
            defendant = o.g(weighted(rng, DEFENDANTS))
        company = rng.random() < 0.15
        plaintiff = ({"name": "慈溪市%s%s" % (rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS))} if company
                     else person(rng, born_from=1945, born_to=2000))
        r = {"court_case_no": case_no(filed.year, instance),
             "court": "慈溪市人民法院" if instance == "first" else "宁波市中级人民法院", "instance": instance,
             "defendant": defendant, "plaintiff": plaintiff, "cause": cause, "matter": LITIGATION_MATTERS[cause],
             "filed_on": iso(filed)}
        served = plus(filed, rng.randint(2, 7))
        r["served_on"] = iso(served)
        answered = plus(served, rng.randint(16, 18) if rng.random() < 0.02 else rng.randint(5, 15))
        if concluded is not None and concluded < answered:  # withdrawn before the answer was due
            answered = None
        if state is None:
            state = "concluded" if concluded is not None else "answered"
        if state == "filed":
            answered = None
        if answered is not None:
            r["answered_on"] = iso(answered)
            r["head_appeared"] = rng.random() < 0.97
        if state == "concluded":
            r.update({"concluded_on": iso(concluded), "outcome": outcome})
            if instance == "first" and outcome in ("claims_rejected", "suit_dismissed") or outcome in LOST:
                r["appealed"] = rng.random() < 0.3
        r["state"] = state
        out.append(r)

    def won():
        return weighted(rng, WON)

    def first_instances(n_filed, filed_from, filed_to, concluded_in, n_lost, later=0, later_by=None, pending=0):
        """n_filed lawsuits filed in [filed_from, filed_to]: the first ones concluded in the year they were
        filed (up to concluded_in), `later` concluded by later_by, `pending` not yet concluded."""
        now = n_filed - later - pending
        outcomes = deal(rng, [("won", now - n_lost)] + [(x, 1) for x in LOST[:n_lost]])
        for k in range(n_filed):
            if k < now:
                filed = day_between(rng, filed_from, plus(concluded_in, -45))
                concluded = day_between(rng, plus(filed, 30), min(plus(filed, 180), concluded_in))
                o_ = outcomes[k]
                lawsuit(filed, "first", concluded, won() if o_ == "won" else o_)
            elif k < now + later:
                filed = day_between(rng, max(filed_from, plus(filed_to, -150)), filed_to)
                concluded = day_between(rng, plus(concluded_in, 1), min(plus(filed, 180), later_by))
                lawsuit(filed, "first", concluded, won())
            else:
                filed = day_between(rng, max(filed_from, plus(filed_to, -40)), filed_to)
                lawsuit(filed, "first", state="answered" if plus(filed, 25) < D(2022, 3, 31) else "filed")

    # 2020: 111 first-instance lawsuits; 85 concluded in 2020 (6 lost), 26 in 2021 (see below)
    outcomes_2020_late = [won() for _ in range(26)]
    first_instances(85, D(2020, 1, 2), D(2020, 10, 31), D(2020, 12, 31), 6)
    for o_ in outcomes_2020_late:  # filed in the second half of 2020, concluded in the first half of 2021 (all won)
        filed = day_between(rng, D(2020, 8, 3), D(2020, 12, 30))
        lawsuit(filed, "first", day_between(rng, D(2021, 1, 4), min(plus(filed, 180), D(2021, 6, 30))), o_)
    # 2021: 94 filed; 65 concluded in 2021 with 4 lost; 27 concluded in 2022; 2 still pending
    first_instances(94, D(2021, 1, 4), D(2021, 12, 30), D(2021, 12, 31), 4,
                    later=27, later_by=D(2022, 6, 30), pending=2)
    # 2021 concluded = 26 + 65 = 91 first-instance cases, 4 lost: 4.40%
    # appeals (二审): neither 发案量 nor the first-instance loss rate
    for year, n in ((2020, 15), (2021, 18), (2022, 3)):
        for _ in range(n):
            filed = day_between(rng, D(year, 1, 10), D(year, 11, 30) if year < 2022 else D(year, 3, 20))
            if year == 2022:
                lawsuit(filed, "second", state="answered" if plus(filed, 25) < D(2022, 3, 31) else "filed")
            else:
                lawsuit(filed, "second", plus(filed, rng.randint(40, 90)),
                        "appeal_changed" if rng.random() < 0.06 else "appeal_dismissed")
    # 2022 first quarter
    for _ in range(22):
        filed = day_between(rng, D(2022, 1, 4), D(2022, 3, 28))
        lawsuit(filed, "first", state="answered" if plus(filed, 25) < D(2022, 3, 31) else "filed")
    return out


# ---------------------------------------------------------------- 行政执法行为 (the monthly table)

# What each government unit decides in a month of 2021, by category (行政执法行为数据统计月报):
# {name: {action_type: acts a month}}. Units without enforcement powers (the government office,
# 信访局, the public-resource trading centre …) are absent: their rows stay empty. Volumes are
# those a county-level city of about 1.8 million people reports to the provincial platform
# (traffic tickets are the police's own system and are not counted here).
ENFORCEMENT_PROFILES = {
    "市行政审批服务局": {"license": 105, "confirmation": 12, "other": 2},
    "市市场监督管理局": {"inspection": 48, "penalty": 17, "license": 24, "coercion": 1.5, "other": 1},
    "市公安局": {"penalty": 60, "license": 15, "inspection": 12, "coercion": 2.5, "confirmation": 6},
    "市综合行政执法局": {"penalty": 35, "inspection": 28, "coercion": 2, "license": 6},
    "市交通运输局": {"penalty": 16, "inspection": 14, "license": 7},
    "市自然资源和规划局": {"license": 9, "confirmation": 5, "penalty": 2, "inspection": 4.5, "levy": 1, "ruling": 0.25},
    "市生态环境局": {"inspection": 15, "penalty": 3, "coercion": 0.6, "license": 3},
    "市住房和城乡建设局": {"license": 8, "inspection": 8, "penalty": 1.5},
    "市卫生健康局": {"license": 7, "inspection": 12, "penalty": 3.5, "confirmation": 1},
    "市应急管理局": {"inspection": 13, "penalty": 2.5, "license": 1, "coercion": 0.25},
    "市农业农村局": {"inspection": 5, "penalty": 1, "license": 2, "payment": 1},
    "市人力资源和社会保障局": {"confirmation": 8, "payment": 11, "inspection": 3, "penalty": 0.3, "license": 0.5},
    "市文化和广电旅游体育局": {"inspection": 8, "penalty": 1, "license": 2},
    "市水利局": {"license": 2, "inspection": 3, "penalty": 0.5, "levy": 0.75},
    "市税务局": {"levy": 20, "penalty": 8, "inspection": 4},
    "市教育局": {"license": 0.5, "inspection": 1.5, "reward": 0.2, "penalty": 0.05},
    "市民政局": {"payment": 15, "confirmation": 6, "license": 0.4, "inspection": 1},
    "市商务局": {"license": 1.5, "inspection": 1, "penalty": 0.1},
    "市医疗保障局": {"payment": 7, "inspection": 4, "penalty": 0.4},
    "市消防救援大队": {"inspection": 22, "penalty": 3, "coercion": 0.6},
    "市烟草专卖局": {"license": 4.5, "inspection": 6, "penalty": 1},
    "市统计局": {"inspection": 0.6, "penalty": 0.07},
    "市人民防空办公室": {"levy": 1, "license": 0.75, "inspection": 0.5},
    "市气象局": {"license": 0.2, "inspection": 0.4, "penalty": 0.03},
    "市退役军人事务局": {"payment": 5, "reward": 0.4, "confirmation": 0.5},
    "市城市管理局": {"inspection": 8, "penalty": 4, "license": 3},
    "市港航管理中心": {"inspection": 2, "penalty": 0.4, "license": 0.75},
    "市林业特产总站": {"inspection": 0.4, "license": 0.2},
    "市不动产登记中心": {"confirmation": 22},
    "市文物保护管理所": {"inspection": 0.4},
    "市经济和信息化局": {"inspection": 0.6, "license": 0.2},
    "市发展和改革局": {"license": 0.75, "inspection": 0.4, "penalty": 0.03},
    "市科学技术局": {"reward": 0.1, "confirmation": 0.4},
    "市财政局": {"inspection": 0.4, "penalty": 0.03},
    "市审计局": {"other": 0.5},
    "市粮食和物资储备局": {"inspection": 0.4, "license": 0.15},
    "市档案馆": {"inspection": 0.2},
}

# the year's level against 2021 (2020: the epidemic's first months), and each month's (the Spring
# Festival in February, the year-end push in December)
ENFORCEMENT_YEAR = {2020: 0.9, 2021: 1.0, 2022: 1.06}
ENFORCEMENT_MONTH = {1: 0.95, 2: 0.6, 3: 1.05, 4: 1.05, 5: 1.0, 6: 1.05, 7: 1.0, 8: 0.95, 9: 1.05, 10: 0.9,
                     11: 1.1, 12: 1.25}
ENFORCEMENT_MATTERS = {
    "license": ("食品经营许可", "道路运输经营许可", "建设工程规划许可", "取水许可", "医疗机构执业许可", "烟草专卖零售许可",
                "公共场所卫生许可", "户外广告设置许可", "排污许可", "娱乐场所经营许可"),
    "penalty": ("未按规定公示经营信息", "违反城市市容和环境卫生管理规定", "超限运输", "未按规定办理环评手续",
                "销售不符合安全标准的食品", "违法建设", "违反治安管理规定", "未按规定申报纳税", "消防设施不符合标准",
                "无证经营", "违规倾倒建筑垃圾", "非法采砂"),
    "coercion": ("查封违法生产经营场所", "扣押涉案物品", "暂扣车辆", "代履行拆除违法建筑", "冻结存款"),
    "levy": ("城镇土地使用税征收", "人防工程易地建设费征收", "水资源费征收", "社会保险费征收", "土地闲置费征收"),
    "inspection": ("食品安全日常检查", "安全生产执法检查", "消防安全检查", "环境监察现场检查", "建筑工地质量安全检查",
                   "“双随机、一公开”抽查", "文化市场巡查", "医疗机构监督检查", "道路运输企业检查"),
    "payment": ("最低生活保障金发放", "特困人员救助供养", "失业保险金给付", "医疗救助", "优抚对象抚恤补助", "临时救助"),
    "confirmation": ("不动产登记", "工伤认定", "婚姻登记", "残疾等级评定", "职称资格确认", "特殊工时审批确认"),
    "ruling": ("土地权属争议裁决", "林地权属争议裁决"),
    "reward": ("见义勇为奖励", "举报违法行为奖励", "科技进步奖励"),
    "other": ("行政备案", "审计决定", "行政指导"),
}


def enforcement_actions(rng, o):
    """The acts every government unit decided in 2020–2022, month by month, by its profile above.
    Penalties carry fines in whole fen; those of at most 200 元 are decided by the simple procedure
    (《行政处罚法》第五十一条: no legality review, no hearing); a fine of 10 000 元 or more is a major
    decision that is reviewed and sometimes heard. A few acts are challenged and a very few
    corrected (撤销或变更). Towns' own enforcement teams are not generated: the monthly table has a
    row per government unit and its total is then their sum."""
    out = []
    seq = {}

    def how_many(mean):
        """A count of mean on average: whole part, the fraction drawn, ±20% spread."""
        x = mean * rng.uniform(0.8, 1.2)
        n = int(x)
        return n + (1 if rng.random() < x - n else 0)

    def fine_fen(simple):
        if simple:
            return rng.choice((50, 100, 100, 200, 200)) * 100
        base = weighted(rng, [(rng.randint(3, 50) * 100, 62), (rng.randint(5, 100) * 1000, 32),
                              (rng.randint(2, 20) * 10000, 6)]) * 100
        if rng.random() < 0.2:  # 没收违法所得: an exact sum, to the fen
            base += rng.randint(1, 500000)
        return base

    for year in (2020, 2021, 2022):
        for month in range(1, 13):
            first = D(year, month, 1)
            last = plus(D(year + month // 12, month % 12 + 1, 1), -1)
            for name, profile in ENFORCEMENT_PROFILES.items():
                unit = o.g(name)
                for kind, mean in profile.items():
                    for _ in range(how_many(mean * ENFORCEMENT_YEAR[year] * ENFORCEMENT_MONTH[month])):
                        decided = weekday_between(rng, first, last)
                        r = {"agency": unit, "action_type": kind, "matter": rng.choice(ENFORCEMENT_MATTERS[kind]),
                             "decided_on": iso(decided)}
                        if kind in ("penalty", "license", "coercion"):
                            key = (unit, kind, year)
                            seq[key] = seq.get(key, 0) + 1
                            word = {"penalty": "罚决字", "license": "许字", "coercion": "强字"}[kind]
                            r["decision_no"] = "慈%s%s〔%d〕%d号" % (name[1:3], word, year, seq[key])
                        if kind == "penalty":
                            simple = rng.random() < 0.35
                            fen = fine_fen(simple)
                            r.update({"fine_amount": "%d.%02d" % (fen // 100, fen % 100), "simple_procedure": simple,
                                      "publicized": not simple})
                            if not simple:
                                major = fen >= 1000000
                                r["legality_reviewed"] = major or rng.random() < 0.3
                                r["hearing_held"] = major and rng.random() < 0.15
                                r["reconsidered"] = rng.random() < 0.01
                                r["litigated"] = rng.random() < 0.004
                                if rng.random() < 0.003:
                                    r["state"] = "corrected"
                        elif kind in ("license", "coercion"):
                            r["publicized"] = True
                            r["legality_reviewed"] = kind == "coercion"
                        out.append(r)
    return out


# ---------------------------------------------------------------- entry point

def lawyer_inspections(rng, o):
    """双随机抽查: each half-year a random fifth of the firms is inspected; a third of them show
    problems and are ordered to rectify within 30 days (a few late, a few still open)."""
    snapshot = datetime.date(2022, 2, 28)
    out = []
    for year in (2020, 2021):
        for half, month in ((1, 5), (2, 10)):
            plan = "%d年%s律师事务所双随机抽查" % (year, "上半年" if half == 1 else "下半年")
            for firm in rng.sample(o.firms, len(o.firms) // 5):
                day = datetime.date(year, month, rng.randrange(1, 28))
                rec = {"firm": firm, "plan": plan, "inspected_on": day.isoformat(), "inspectors": "律师工作管理科 2 人",
                       "items": "执业许可、收案登记、收费管理、利益冲突审查、档案管理", "problems": 0,
                       "published_on": (day + datetime.timedelta(days=rng.randrange(5, 20))).isoformat()}
                if rng.random() < 0.33:
                    ordered = day + datetime.timedelta(days=rng.randrange(1, 6))
                    done = ordered + datetime.timedelta(days=rng.choice([10, 15, 20, 25, 28, 29, 35]))
                    rec.update(problems=rng.randrange(1, 5), rectification_ordered_on=ordered.isoformat())
                    if done <= snapshot and rng.random() > 0.03:
                        rec.update(state="closed", rectified_on=done.isoformat(),
                                   result="referred" if rng.random() < 0.05 else "rectified")
                    else:
                        rec["state"] = "rectifying"
                else:
                    rec.update(state="closed", result="compliant")
                out.append(rec)
    return out


def generate(orgs, rng):
    o = Orgs(orgs)
    lawyers = firm_lawyers(rng, o)
    trainings, certificates = enforcement_personnel(rng, o)
    points, cases = reconsideration(rng, o)
    out = {
        "enforcement_entity": enforcement_entities(rng, o),
        "enforcement_training": trainings,
        "enforcement_certificate": certificates,
        "commitment_item": commitment_items(rng, o),
        "lawyer_case_registration": lawyer_cases(rng, o, lawyers),
        "lawyer_admin_matter": lawyer_admin_matters(rng, o, lawyers),
        "case_file_review": case_file_reviews(rng, o),
        "supervision_notice": supervision_notices(rng, o),
        "reconsideration_intake_point": points,
        "reconsideration_case": cases,
        "admin_litigation": litigation(rng, o),
        "lawyer_random_inspection": lawyer_inspections(rng, o),
    }
    # Drawn after everything above (the dict is filled in order), so that adding the enforcement
    # acts left every earlier record, and so every figure of the 2021 report, as it was.
    out["enforcement_action"] = enforcement_actions(rng, o)
    return out
