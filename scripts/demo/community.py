"""Demo records of the "community" area: community correction (社区矫正), released prisoners
(刑满释放人员衔接帮教), remote family visits (远程视频会见), remote arraignments (远程开庭提审) and
the 修心 follow-up surveys, from which sifa reproduces the figures of the 2021 annual report, 一(三)3:

    截至12月底,全市在册社区矫正对象1225人,因违规受到训诫处罚的293人次,受到警告处罚的18人次,
    提请撤销缓刑、撤销假释及收监执行等处罚的17人。……今年共衔接刑满释放人员384人,实现重点人员
    必接必送100%,落实社会困难救助9人。……共接受228名服刑人员与家属会见申请,惠及群众468人,协助
    公检法等部门开庭提审139次。……累计完成2019年度刑满释放人员修心调查108人。

The records are a snapshot as the bureau's system held them at the end of February 2022: records
of 2020 and of January–February 2022 sit beside those of 2021 so that each figure's period
attribution is exercised (a revocation proposed in December 2020 and ruled in January 2021, a
release of 30 December handed over in January, a visit applied for in December and held in
January, subjects who entered before 2021 or left during it …).

generate() checks the 2021 figures itself (assertions) before returning, so a change here that
breaks them fails at generation, not only in scripts/check_spec.py."""

import datetime as _dt

D = _dt.date
YEAR_END = D(2021, 12, 31)
SNAPSHOT = D(2022, 2, 28)  # the day the demo database "was exported"

# The report's figures for 2021 (../shared/spec/cixi-2021-figures.tsv).
REGISTERED_AT_YEAR_END = 1225
REPRIMANDS = 293
WARNINGS = 18
REVOKED_PERSONS = 17
HANDOVERS = 384
KEY_PERSONS = 37  # all escorted: 必接必送 100%
HARDSHIP_AID = 9
VISIT_APPLICATIONS = 228
VISIT_FAMILY_MEMBERS = 468
ARRAIGNMENTS = 139
SURVEYS = 108

SURNAMES = ("王陈张胡徐沈孙岑罗周黄叶施马杨吴李邹戚俞潘陆朱余蒋范方童劳孔韩魏应邵谢鲁褚")
GIVEN = ("国建伟军海华明强平勇杰峰斌波涛辉刚林锋雷磊洪亮伟民志东晓红丽芳燕萍霞娟英敏静琴美玲佳"
         "慧婷云飞宇鹏浩超俊凯文杰立新永康文斌少卫金银春秋德福祥海燕月琳")
# Region codes (GB/T 2260) of ID numbers: mostly Cixi itself, then neighbouring counties and the
# provinces many of the county's migrant workers come from.
REGIONS = (["330282"] * 12 + ["330281", "330211", "330226"] * 2 +
           ["341221", "412726", "522427", "511323", "362426", "430524", "421126"])
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 177 180 181 "
                   "182 183 185 186 187 188 189 198 199").split()
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

PRISONS = ["浙江省第一监狱", "浙江省第二监狱", "浙江省第四监狱", "浙江省第六监狱", "浙江省乔司监狱",
           "浙江省十里丰监狱", "浙江省南湖监狱", "浙江省长湖监狱", "浙江省女子监狱", "浙江省金华监狱",
           "宁波市看守所", "慈溪市看守所"]
CRIMES = [("危险驾驶罪", 30), ("盗窃罪", 12), ("诈骗罪", 8), ("帮助信息网络犯罪活动罪", 8), ("交通肇事罪", 6),
          ("故意伤害罪", 6), ("开设赌场罪", 5), ("掩饰、隐瞒犯罪所得罪", 4), ("寻衅滋事罪", 4),
          ("非法吸收公众存款罪", 3), ("虚开增值税专用发票罪", 3), ("拒不支付劳动报酬罪", 2), ("污染环境罪", 2),
          ("职务侵占罪", 2), ("生产、销售伪劣产品罪", 2), ("赌博罪", 3)]
# court codes in case numbers ((2021)浙0282刑初123号)
COURT_CODES = {"慈溪市人民法院": "0282", "余姚市人民法院": "0281", "宁波市鄞州区人民法院": "0212",
               "宁波市江北区人民法院": "0205", "宁波市中级人民法院": "02"}
VILLAGE_WORDS = "东西南北新华光明联胜兴庆丰和平安乐永宁长潭湖塘桥浦海"


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def _add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = (D(y + (m == 12), m % 12 + 1, 1) - _dt.timedelta(days=1)).day
    return D(y, m, min(d.day, last))


def _days(d, n):
    return d + _dt.timedelta(days=n)


def _rand_date(rng, lo, hi):
    """A day between lo and hi inclusive."""
    return _days(lo, rng.randint(0, (hi - lo).days))


def _s(d):
    return d.isoformat() if d else None


class People:
    """Names, GB 11643 identity numbers (check digit computed, each number used once) and mobiles."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def name(self):
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def id_number(self, born_from=1955, born_to=2001, female=None):
        r = self.rng
        while True:
            birth = _rand_date(r, D(born_from, 1, 1), D(born_to, 12, 31))
            seq = r.randint(0, 999)
            if female is not None:
                seq = seq - seq % 2 + (0 if female else 1)  # odd: male, even: female
                seq = min(seq, 999 if not female else 998)
            body = r.choice(REGIONS) + birth.strftime("%Y%m%d") + "%03d" % seq
            if body in self.used:
                continue
            self.used.add(body)
            return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]

    def phone(self):
        return self.rng.choice(MOBILE_PREFIXES) + "%08d" % self.rng.randint(0, 99999999)

    def person(self, phone=True, **kw):
        p = {"name": self.name(), "id_number": self.id_number(**kw)}
        if phone:
            p["phone"] = self.phone()
        return p


def _town_weights(orgs, rng):
    # bigger streets and towns have more subjects; deterministic for the seed
    return [(i, (3.0 if kind == "street" else 2.0) + rng.random() * 2) for i, (_, _, kind) in enumerate(orgs.TOWNS)]


def _address(rng, orgs, town_index):
    town = orgs.TOWNS[town_index][1]
    return "浙江省慈溪市%s%s%s村%d号" % (town, rng.choice(VILLAGE_WORDS), rng.choice(VILLAGE_WORDS), rng.randint(1, 300))


# ---------------------------------------------------------------- community correction

def _subject(rng, orgs, people, towns, kind, effective, report_delay=None):
    """One correction subject whose judgment took effect on `effective`; the correction term and the
    sentence text follow the kind (缓刑考验期 for probation, the remaining term for parole …)."""
    ti = _weighted(rng, towns)
    office = orgs.judicial_office(orgs.TOWNS[ti][0])
    crime = _weighted(rng, CRIMES)
    if kind == "probation":
        if crime == "危险驾驶罪" or rng.random() < 0.25:
            months = rng.choice((2, 3, 4, 5, 6, 8, 10, 12))  # 拘役缓刑: 考验期 2 months to 1 year
            sentence = "拘役%d个月,缓刑%d个月" % (max(1, months // 2), months)
        else:
            months = rng.choice((12, 12, 18, 24, 24, 36, 36, 48, 60))
            sentence = "有期徒刑%s,缓刑%s" % (_years_text(max(6, months // 2 if months > 12 else 6)), _years_text(months))
        decision_org = _weighted(rng, [("慈溪市人民法院", 80), ("宁波市中级人民法院", 6), ("余姚市人民法院", 5),
                                       ("宁波市鄞州区人民法院", 4), ("宁波市江北区人民法院", 5)])
        judgment_no = "(%d)浙%s刑初%d号" % (effective.year, COURT_CODES[decision_org], rng.randint(10, 1800))
    elif kind == "parole":
        months = rng.choice((4, 6, 8, 10, 12, 15, 18, 24, 30))
        sentence = "有期徒刑%s(假释考验期%s)" % (_years_text(rng.choice((36, 48, 60, 84, 120))), _years_text(months))
        decision_org = _weighted(rng, [("宁波市中级人民法院", 5), ("杭州市中级人民法院", 3), ("金华市中级人民法院", 2),
                                       ("湖州市中级人民法院", 2)])
        judgment_no = "(%d)浙%02d刑更%d号" % (effective.year, rng.choice((1, 2, 5, 7)), rng.randint(100, 6000))
    elif kind == "temporary_service":
        months = rng.choice((6, 6, 12, 12, 18, 24))
        sentence = "有期徒刑%s" % _years_text(rng.choice((12, 24, 36, 60)))
        decision_org = _weighted(rng, [("慈溪市人民法院", 5), ("浙江省监狱管理局", 3), ("慈溪市公安局", 1)])
        judgment_no = {"慈溪市人民法院": "(%d)浙0282刑初%d号" % (effective.year, rng.randint(10, 1800)),
                       "浙江省监狱管理局": "浙狱暂字〔%d〕%d号" % (effective.year, rng.randint(1, 300)),
                       "慈溪市公安局": "慈公暂字〔%d〕%d号" % (effective.year, rng.randint(1, 40))}[decision_org]
    else:  # control
        months = rng.choice((3, 4, 6, 8, 12, 18, 24))
        sentence = "管制%s" % _years_text(months)
        decision_org = "慈溪市人民法院"
        judgment_no = "(%d)浙0282刑初%d号" % (effective.year, rng.randint(10, 1800))
    if report_delay is None:
        # 第二十一条: within ten days; a few report late
        report_delay = rng.randint(1, 10) if rng.random() > 0.01 else rng.randint(11, 15)
    reported = _days(effective, report_delay)
    term_end = _days(_add_months(effective, months), -1)
    return {
        "office": office,
        "person": people.person(female=rng.random() < 0.12),
        "address": _address(rng, orgs, ti),
        "kind": kind,
        "crime": crime,
        "sentence": sentence,
        "decision_org": decision_org,
        "judgment_no": judgment_no,
        "effective_on": _s(effective),
        "term_start_on": _s(effective),
        "term_end_on": _s(term_end),
        "reported_on": _s(reported),
        "entered_on": _s(reported),
        "supervision_level": _weighted(rng, [("strict", 10), ("ordinary", 70), ("lenient", 20)]),
        "state": "in_correction",
    }


def _years_text(months):
    if months % 12 == 0:
        return "%d年" % (months // 12)
    if months > 12:
        return "%d年%d个月" % (months // 12, months % 12)
    return "%d个月" % months


def _dt_of(rec, key):
    v = rec.get(key)
    return D.fromisoformat(v) if v else None


def _leave(rec, day, state, reason):
    rec["left_on"] = _s(day)
    rec["state"] = state
    rec["exit_reason"] = reason


def _correction(orgs, rng, people, towns):
    """(subjects, sanctions). A sanction's `subject` is the id the subject gets on import."""
    subjects = []
    kinds = [("probation", 88), ("parole", 5), ("temporary_service", 5), ("control", 2)]

    def new(kind, effective, **kw):
        rec = _subject(rng, orgs, people, towns, kind, effective, **kw)
        subjects.append(rec)
        return rec

    # 1. In register on 2021-12-31 (entered by then, term running beyond it). Those whose term
    #    ended by the snapshot day were released on its last day (期满解除).
    # (the other 3 of the register are revocation cases below: two proposed in December 2021 and
    # one in January 2022, all ruled in 2022)
    while len(subjects) < REGISTERED_AT_YEAR_END - 3:
        kind = _weighted(rng, kinds)
        effective = _rand_date(rng, D(2016, 6, 1), D(2021, 12, 20))
        if effective.year < 2020 and rng.random() < 0.6:
            continue  # most of those still under correction came in recently
        rec = _subject(rng, orgs, people, towns, kind, effective)
        if _dt_of(rec, "entered_on") > YEAR_END or _dt_of(rec, "term_end_on") <= YEAR_END:
            people.used.discard(rec["person"]["id_number"][:17])
            continue
        subjects.append(rec)
        if _dt_of(rec, "term_end_on") <= SNAPSHOT:
            _leave(rec, _dt_of(rec, "term_end_on"), "released", "expired")

    # 2. Left during 2021: term expired, a few died or moved away.
    for _ in range(842):
        kind = _weighted(rng, kinds)
        while True:
            effective = _rand_date(rng, D(2017, 1, 1), D(2021, 11, 15))
            rec = _subject(rng, orgs, people, towns, kind, effective)
            end = _dt_of(rec, "term_end_on")
            if D(2021, 1, 1) <= end <= YEAR_END:
                break
            people.used.discard(rec["person"]["id_number"][:17])
        subjects.append(rec)
        r = rng.random()
        if r < 0.004:
            _leave(rec, _rand_date(rng, max(_days(_dt_of(rec, "entered_on"), 20), D(2021, 1, 1)), end), "terminated",
                   "deceased")
        elif r < 0.012:
            _leave(rec, _rand_date(rng, max(_days(_dt_of(rec, "entered_on"), 20), D(2021, 1, 1)), end), "transferred",
                   "transferred_out")
        else:
            _leave(rec, end, "released", "expired")
    # 3. Left before 2021: most in 2020 (the December ones test the period boundary), some in 2019.
    for k in range(1000):
        kind = _weighted(rng, kinds)
        while True:
            effective = _rand_date(rng, D(2016, 1, 1), D(2020, 11, 1))
            rec = _subject(rng, orgs, people, towns, kind, effective)
            end = _dt_of(rec, "term_end_on")
            lo = D(2020, 12, 1) if k < 30 else D(2020, 1, 1) if k < 780 else D(2019, 1, 1)
            if lo <= end <= D(2020, 12, 31):
                break
            people.used.discard(rec["person"]["id_number"][:17])
        subjects.append(rec)
        _leave(rec, end, "released", "expired")
    # 4. Judgments of late December 2021 whose subjects reported in January 2022 (not in the 2021
    #    register), and the January–February 2022 intake; two who have not reported yet.
    for _ in range(4):
        effective = _rand_date(rng, D(2021, 12, 27), D(2021, 12, 30))
        new(_weighted(rng, kinds), effective, report_delay=(_rand_date(rng, D(2022, 1, 3), D(2022, 1, 6)) - effective).days)
    for _ in range(68):
        rec = new(_weighted(rng, kinds), _rand_date(rng, D(2022, 1, 1), D(2022, 2, 17)))
        assert _dt_of(rec, "entered_on") <= SNAPSHOT
    for _ in range(2):
        rec = new("probation", _rand_date(rng, D(2022, 2, 22), D(2022, 2, 25)))
        for key in ("reported_on", "entered_on", "supervision_level"):
            rec.pop(key)
        rec["state"] = "registered"

    # ---- revocations (提请撤销缓刑、撤销假释、收监执行) ----
    sanctions = []
    doc_seq = {}

    def doc(prefix, day):
        n = doc_seq[(prefix, day.year)] = doc_seq.get((prefix, day.year), 0) + 1
        return "慈司矫%s〔%d〕%d号" % (prefix, day.year, n)

    receiving = {"revoke_probation": lambda s: s["decision_org"],
                 "revoke_parole": lambda s: s["decision_org"],
                 "commit_to_prison": lambda s: s["decision_org"] if s["decision_org"] != "慈溪市公安局" else "慈溪市人民法院",
                 "security_penalty": lambda s: "慈溪市公安局"}
    sanction_for_kind = {"probation": "revoke_probation", "parole": "revoke_parole",
                         "temporary_service": "commit_to_prison"}
    exit_for = {"revoke_probation": "probation_revoked", "revoke_parole": "parole_revoked",
                "commit_to_prison": "committed"}
    violations = {"reprimand": ["未按规定时间报告本人情况", "未经批准离开所居住的市、县", "未按规定参加教育学习活动",
                                "手机定位关闭,未及时报告", "未按规定参加社区服务"],
                  "warning": ["经训诫后仍未按规定报告", "未经批准离开所居住的市、县超过七日", "进入特定场所",
                              "违反禁止令", "多次未参加教育学习活动"],
                  "security_penalty": ["违反监督管理规定,情节较重"],
                  "revoke_probation": ["受到警告后仍不改正", "违反禁止令情节严重", "脱离监管超过一个月"],
                  "revoke_parole": ["受到警告后仍不改正", "脱离监管超过一个月"],
                  "commit_to_prison": ["暂予监外执行情形消失", "未经批准擅自离开居住地", "受到警告后仍不改正"]}

    def sanction(i, stype, decided, state, ruled=None, ruling=None, found=None):
        s = subjects[i]
        rec = {
            "subject": i + 1,  # ids follow file order from 1: the (i+1)-th subject generated
            "office": s["office"],
            "sanction_type": stype,
            "violation": rng.choice(violations[stype]),
            "found_on": _s(found or _days(decided, -rng.randint(1, 10))),
            "state": state,
        }
        if decided:
            rec["decided_on"] = _s(decided)
        if state in ("submitted", "ruled"):
            rec["receiving_org"] = receiving[stype](s)
        if ruled:
            rec["ruled_on"] = _s(ruled)
            rec["ruling"] = ruling
        sanctions.append(rec)
        return rec

    def revoked(kind, proposals, first_entered_before):
        """A subject with proposals [(day, ruling, ruled_on)], terminated on the granted ruling."""
        while True:
            effective = _rand_date(rng, D(2018, 6, 1), _days(first_entered_before, -60))
            rec = _subject(rng, orgs, people, towns, kind, effective)
            if _dt_of(rec, "entered_on") < _days(first_entered_before, -45) and \
                    _dt_of(rec, "term_end_on") > _days(proposals[-1][2], 30):
                break
            people.used.discard(rec["person"]["id_number"][:17])
        subjects.append(rec)
        i = len(subjects) - 1
        stype = sanction_for_kind[kind]
        for day, ruling, ruled in proposals:
            sanction(i, stype, day, "ruled", ruled, ruling)
            if ruling == "granted":
                _leave(rec, ruled, "terminated", exit_for[stype])
        return i

    def proposal(lo, hi, ruling="granted"):
        day = _rand_date(rng, lo, hi)
        return (day, ruling, _days(day, rng.randint(7, 28)))

    revoked_2021 = []
    # 13 subjects with one proposal in 2021, ruled in 2021
    for kind in ["probation"] * 10 + ["parole"] + ["temporary_service"] * 2:
        p = proposal(D(2021, 1, 10), D(2021, 11, 25))
        revoked_2021.append(revoked(kind, [p], p[0]))
    # 2 subjects proposed twice in 2021: the first proposal refused, the second granted
    for kind in ("probation", "temporary_service"):
        p1 = proposal(D(2021, 2, 1), D(2021, 5, 31), "rejected")
        p2 = proposal(_days(p1[2], 40), D(2021, 11, 20))
        revoked_2021.append(revoked(kind, [p1, p2], p1[0]))
    # 2 subjects proposed in December 2021 and ruled in January 2022: in the 2021 register
    for kind in ("probation", "parole"):
        day = _rand_date(rng, D(2021, 12, 6), D(2021, 12, 20))
        revoked_2021.append(revoked(kind, [(day, "granted", _rand_date(rng, D(2022, 1, 4), D(2022, 1, 14)))], day))
    # not 2021: proposed in 2020 (one ruled in 2020, one in January 2021) and in January 2022
    revoked(kind="probation", proposals=[proposal(D(2020, 10, 12), D(2020, 11, 20))], first_entered_before=D(2020, 10, 12))
    d = D(2020, 12, 21)
    revoked("probation", [(d, "granted", D(2021, 1, 15))], d)
    d = D(2022, 1, 18)
    revoked("probation", [(d, "granted", D(2022, 2, 15))], d)
    assert len(revoked_2021) == REVOKED_PERSONS

    # ---- 训诫 and 警告: on subjects in register on the day ----
    def in_register(i, day):
        s = subjects[i]
        e, l_ = _dt_of(s, "entered_on"), _dt_of(s, "left_on")
        return e is not None and _days(e, 7) <= day and (l_ is None or day < l_)

    def pick(day):
        while True:
            i = rng.randrange(len(subjects))
            if in_register(i, day):
                return i

    # warnings before most 2021 revocation proposals (12 of the 18), the others at random
    warnings = 0
    for i in revoked_2021[:12]:
        first = min(_dt_of(x, "decided_on") for x in sanctions if x["subject"] == i + 1)
        day = _days(first, -rng.randint(20, 50))
        if day.year == 2021 and in_register(i, day):
            sanction(i, "warning", day, "decided")
            warnings += 1
    while warnings < WARNINGS:
        day = _rand_date(rng, D(2021, 1, 4), D(2021, 12, 30))
        sanction(pick(day), "warning", day, "decided")
        warnings += 1
    for _ in range(REPRIMANDS):
        day = _rand_date(rng, D(2021, 1, 4), D(2021, 12, 31))
        sanction(pick(day), "reprimand", day, "decided")
    # found in December 2021, decided in January 2022; other years; proposals to the police;
    # cases checked and dropped; two still open at the snapshot
    sanction(pick(D(2022, 1, 5)), "reprimand", D(2022, 1, 5), "decided", found=D(2021, 12, 28))
    sanction(pick(D(2022, 1, 7)), "warning", D(2022, 1, 7), "decided", found=D(2021, 12, 29))
    for year, n_rep, n_warn in ((2020, 264, 15), (2022, 41, 3)):
        hi = D(2020, 12, 31) if year == 2020 else D(2022, 2, 25)
        for _ in range(n_rep):
            day = _rand_date(rng, D(year, 1, 6), hi)
            sanction(pick(day), "reprimand", day, "decided")
        for _ in range(n_warn):
            day = _rand_date(rng, D(year, 1, 6), hi)
            sanction(pick(day), "warning", day, "decided")
    for _ in range(4):
        day = _rand_date(rng, D(2021, 2, 1), D(2021, 11, 30))
        sanction(pick(day), "security_penalty", day, "ruled", _days(day, rng.randint(3, 15)), "granted")
    for _ in range(6):
        day = _rand_date(rng, D(2021, 1, 10), D(2021, 12, 20))
        rec = sanction(pick(day), "reprimand", None, "withdrawn", found=day)
        rec["remarks"] = "经核查系手机信号故障,不予处理"
    for _ in range(2):
        day = _rand_date(rng, D(2022, 2, 21), D(2022, 2, 26))
        sanction(pick(day), "reprimand", None, "registered", found=day)
    sanctions.sort(key=lambda x: (x.get("decided_on") or x["found_on"], x["found_on"]))
    for x in sanctions:  # document numbers in order of decision, a sequence per kind and year
        if x.get("decided_on"):
            x["document_no"] = doc({"reprimand": "训", "warning": "警", "security_penalty": "治建",
                                    "revoke_probation": "撤建", "revoke_parole": "撤建",
                                    "commit_to_prison": "收建"}[x["sanction_type"]], _dt_of(x, "decided_on"))
    return subjects, sanctions


# ---------------------------------------------------------------- released prisoners

def _released(orgs, rng, people, towns):
    out = []
    crimes = [c for c, _ in CRIMES if c != "危险驾驶罪"]

    def rec(released, handover=None, key=False, escorted=False, state="handed_over"):
        ti = _weighted(rng, towns)
        r = {
            "office": orgs.judicial_office(orgs.TOWNS[ti][0]),
            "person": people.person(female=rng.random() < 0.08),
            "address": _address(rng, orgs, ti),
            "crime": rng.choice(crimes),
            "sentence": "有期徒刑%s" % _years_text(rng.choice((6, 8, 10, 12, 18, 24, 36, 42, 60, 84, 120))),
            "prison": rng.choice(PRISONS),
            "released_on": _s(released),
            "notified_on": _s(_days(released, -rng.randint(20, 35))),
            "key_person": key,
            "escorted": escorted,
            "state": state,
        }
        if handover:
            r["handover_on"] = _s(handover)
            r["placement"] = _weighted(rng, [("employed", 45), ("self_employed", 10), ("farming", 15),
                                             ("family_support", 20), ("unplaced", 10)])
        out.append(r)
        return r

    def ordinary(lo, hi):
        day = _rand_date(rng, lo, hi)
        return rec(day, _days(day, rng.randint(0, 12)))

    def key_person(lo, hi, escorted=True):
        day = _rand_date(rng, lo, hi)
        return rec(day, day if escorted else _days(day, rng.randint(2, 6)), True, escorted)

    # 2021: 384 handed over, 37 of them key persons fetched at the prison gate
    handed_2021 = []
    handed_2021.append(rec(D(2020, 12, 29), D(2021, 1, 5)))  # released in 2020, handed over in 2021
    for _ in range(KEY_PERSONS):
        handed_2021.append(key_person(D(2021, 1, 3), D(2021, 12, 30)))
    while len(handed_2021) < HANDOVERS:
        r = ordinary(D(2021, 1, 1), D(2021, 12, 18))
        if _dt_of(r, "handover_on") > YEAR_END:
            out.pop()
            continue
        handed_2021.append(r)
    rec(D(2021, 12, 30), D(2022, 1, 4))  # released in 2021, handed over in 2022
    for _ in range(3):  # not reached: 下落不明
        rec(_rand_date(rng, D(2021, 3, 1), D(2021, 11, 30)), state="missing")
    # 2020 (one key person handed over late, not escorted) and January–February 2022
    for _ in range(34):
        ordinary(D(2020, 11, 1), D(2020, 12, 15))
    for _ in range(5):
        key_person(D(2020, 11, 1), D(2020, 12, 20))
    key_person(D(2020, 11, 1), D(2020, 12, 15), escorted=False)
    for _ in range(55):
        ordinary(D(2022, 1, 1), D(2022, 2, 15))
    for _ in range(5):
        key_person(D(2022, 1, 1), D(2022, 2, 25))
    for _ in range(4):  # release notices for March 2022
        rec(_rand_date(rng, D(2022, 3, 2), D(2022, 3, 28)), state="notified").update(
            notified_on=_s(_rand_date(rng, D(2022, 2, 1), D(2022, 2, 25))))
    # five released in 2016 whose five years of 安置帮教 ended in 2021
    for _ in range(5):
        r = ordinary(D(2016, 2, 1), D(2016, 10, 31))
        r["state"] = "closed"
        r["closed_on"] = _s(_add_months(_dt_of(r, "released_on"), 60))

    # social assistance: 9 in 2021 (among those handed over in 2020 or 2021), one in 2020, one in
    # January 2022 for a person handed over in 2021
    aid = [("subsistence", 3), ("temporary", 5), ("medical", 2), ("extreme_poverty", 1), ("housing", 1)]
    amounts = {"subsistence": (11000, 12000), "temporary": (1000, 5000), "medical": (2000, 20000),
               "extreme_poverty": (15000, 18000), "housing": (5000, 30000)}
    chosen = rng.sample([r for r in handed_2021 if r["handover_on"] <= "2021-11-30"], HARDSHIP_AID + 1)
    for k, r in enumerate(chosen):
        kind = _weighted(rng, aid)
        if k < HARDSHIP_AID:
            day = _rand_date(rng, _days(_dt_of(r, "handover_on"), 7), YEAR_END)
        else:
            day = _rand_date(rng, D(2022, 1, 5), D(2022, 2, 20))
        r.update(aid_kind=kind, aid_on=_s(day), aid_amount=rng.randint(*amounts[kind]) * 100)
    r = next(x for x in out if x.get("handover_on", "").startswith("2020-11"))
    r.update(aid_kind="temporary", aid_on="2020-12-10", aid_amount=200000)
    out.sort(key=lambda x: x["released_on"])
    return out


# ---------------------------------------------------------------- remote visits and arraignments

def _visits(orgs, rng, people, towns):
    out = []
    center = orgs.DEPARTMENTS["correction"][0]
    relations = [("父亲", 2), ("母亲", 4), ("配偶", 5), ("子女", 4), ("兄弟姐妹", 3), ("祖父母", 1)]

    def rec(applied, state, members):
        ti = _weighted(rng, towns)
        channel = "app" if rng.random() < 0.7 else "center"
        r = {
            "office": orgs.judicial_office(orgs.TOWNS[ti][0]) if channel == "app" else center,
            "channel": channel,
            "prisoner": people.person(phone=False, female=rng.random() < 0.07),
            "prison": rng.choice(PRISONS[:10]),
            "applicant": people.person(),
            "relationship": _weighted(rng, relations),
            "family_members": members,
            "applied_on": _s(applied),
            "state": state,
        }
        if state in ("accepted", "visited"):
            r["accepted_on"] = _s(_days(applied, rng.randint(0, 2)))
        if state == "visited":
            r["visited_on"] = _s(_days(applied, rng.randint(3, 12)))
        if state == "refused":
            r["refusal_reason"] = rng.choice(["服刑人员正在禁闭期间,暂停会见", "申请人与服刑人员关系无法核实",
                                              "该监狱暂未开通远程视频会见"])
        out.append(r)
        return r

    # 2021: 228 accepted applications (the last few of December visited in January) with 468 family
    # members in all; a few refused
    members = [rng.choice((1, 1, 2, 2, 2, 3, 3, 4)) for _ in range(VISIT_APPLICATIONS)]
    while sum(members) != VISIT_FAMILY_MEMBERS:
        k = rng.randrange(len(members))
        if sum(members) < VISIT_FAMILY_MEMBERS and members[k] < 5:
            members[k] += 1
        elif sum(members) > VISIT_FAMILY_MEMBERS and members[k] > 1:
            members[k] -= 1
    for m in members:
        rec(_rand_date(rng, D(2021, 1, 4), D(2021, 12, 30)), "visited", m)
    for _ in range(6):
        rec(_rand_date(rng, D(2021, 1, 4), D(2021, 12, 30)), "refused", rng.randint(1, 3))
    for _ in range(22):
        rec(_rand_date(rng, D(2020, 11, 2), D(2020, 12, 31)), "visited", rng.randint(1, 4))
    for _ in range(36):
        rec(_rand_date(rng, D(2022, 1, 4), D(2022, 2, 14)), "visited", rng.randint(1, 4))
    for _ in range(3):
        rec(_rand_date(rng, D(2022, 2, 18), D(2022, 2, 25)), "accepted", rng.randint(1, 3))
    for _ in range(2):
        rec(_rand_date(rng, D(2022, 2, 26), D(2022, 2, 28)), "applied", rng.randint(1, 3))
    out.sort(key=lambda x: x["applied_on"])
    for r in out:  # a visit never precedes its acceptance nor passes the snapshot
        if r.get("visited_on") and r["visited_on"] > _s(SNAPSHOT):
            r["visited_on"] = _s(SNAPSHOT)
    return out


def _arraignments(orgs, rng, people):
    out = []
    office = orgs.DEPARTMENTS["correction"][0]
    agencies = [(("court", "慈溪市人民法院"), 40), (("court", "宁波市中级人民法院"), 10), (("court", "余姚市人民法院"), 6),
                (("procuratorate", "慈溪市人民检察院"), 22), (("procuratorate", "宁波市人民检察院"), 4),
                (("public_security", "慈溪市公安局"), 14), (("public_security", "宁波市公安局"), 3),
                (("other", "浙江省第四监狱"), 1)]

    def rec(requested, state, held=None):
        agency_type, agency = _weighted(rng, agencies)
        kind = {"court": _weighted(rng, [("trial", 7), ("hearing", 1)]), "procuratorate": "interrogation",
                "public_security": _weighted(rng, [("interrogation", 3), ("inquiry", 1)]), "other": "inquiry"}[agency_type]
        y = requested.year
        case_no = {"court": "(%d)浙%s刑初%d号" % (y, COURT_CODES.get(agency, "02"), rng.randint(10, 1800)),
                   "procuratorate": "慈检刑诉〔%d〕%d号" % (y, rng.randint(1, 900)),
                   "public_security": "慈公(刑)立字〔%d〕%d号" % (y, rng.randint(100, 9000)),
                   "other": None}[agency_type]
        r = {"office": office, "kind": kind, "agency_type": agency_type, "agency": agency,
             "person": people.person(phone=False, female=rng.random() < 0.06),
             "prison": rng.choice(PRISONS), "requested_on": _s(requested),
             "scheduled_on": _s(held or _days(requested, rng.randint(2, 7))), "state": state}
        if case_no:
            r["case_no"] = case_no
        if held:
            r["held_on"] = _s(held)
            r["duration_minutes"] = rng.randint(25, 180)
        if state == "cancelled":
            r["remarks"] = rng.choice(["申请机关撤回", "被提审人所在监所线路故障,改期另行申请"])
        out.append(r)

    n = 0
    rec(D(2020, 12, 28), "held", D(2021, 1, 6))  # requested in 2020, held in 2021
    n += 1
    while n < ARRAIGNMENTS:
        req = _rand_date(rng, D(2021, 1, 4), D(2021, 12, 20))
        held = _days(req, rng.randint(2, 9))
        if held > YEAR_END:
            continue
        rec(req, "held", held)
        n += 1
    rec(D(2021, 12, 27), "held", D(2022, 1, 5))  # requested in 2021, held in 2022
    for _ in range(5):
        rec(_rand_date(rng, D(2021, 2, 1), D(2021, 12, 10)), "cancelled")
    for _ in range(16):
        req = _rand_date(rng, D(2020, 10, 8), D(2020, 12, 18))
        rec(req, "held", _days(req, rng.randint(2, 9)))
    for _ in range(24):
        req = _rand_date(rng, D(2022, 1, 4), D(2022, 2, 16))
        rec(req, "held", _days(req, rng.randint(2, 9)))
    out.sort(key=lambda x: x["requested_on"])
    return out


# ---------------------------------------------------------------- 修心 follow-up surveys

def _surveys(orgs, rng, people, towns):
    out = []

    def rec(cohort, assigned, state, surveyed=None):
        ti = _weighted(rng, towns)
        r = {"office": orgs.judicial_office(orgs.TOWNS[ti][0]),
             "person": people.person(phone=rng.random() < 0.8, female=rng.random() < 0.08),
             "prison": rng.choice(PRISONS[:10]),
             "released_on": _s(_rand_date(rng, D(cohort, 1, 1), D(cohort, 12, 31))),
             "release_year": cohort, "assigned_on": _s(assigned), "state": state}
        if state == "completed":
            r["surveyed_on"] = _s(surveyed)
            r["method"] = _weighted(rng, [("home_visit", 6), ("interview", 2), ("phone", 2)])
            r["employment"] = _weighted(rng, [("employed", 50), ("self_employed", 12), ("farming", 15),
                                              ("unemployed", 18), ("unable", 5)])
            r["reoffended"] = rng.random() < 0.03
            r["findings"] = rng.choice(["家庭关系和睦,生活稳定", "在本地企业务工,收入稳定", "与家人同住,遵纪守法",
                                        "暂无固定工作,已推荐就业岗位", "身体状况较差,已协助申请救助"])
        out.append(r)

    # the 2019 cohort: assigned in April 2021, 108 completed in 2021, 3 could not be reached
    for _ in range(SURVEYS):
        rec(2019, D(2021, 4, 12), "completed", _rand_date(rng, D(2021, 4, 15), D(2021, 12, 24)))
    for _ in range(3):
        rec(2019, D(2021, 4, 12), "unreachable")
    for _ in range(12):  # the 2018 cohort, surveyed in 2020
        rec(2018, D(2020, 6, 1), "completed", _rand_date(rng, D(2020, 6, 5), D(2020, 12, 30)))
    for _ in range(6):  # the 2020 cohort, started in 2022
        rec(2020, D(2022, 1, 10), "completed", _rand_date(rng, D(2022, 1, 12), D(2022, 2, 25)))
    out.sort(key=lambda x: x.get("surveyed_on") or x["assigned_on"])
    return out


# ---------------------------------------------------------------- self-check and entry point

def _check(records):
    """The 2021 figures, computed here the way the indicators define them."""
    def y21(v):
        return v is not None and v.startswith("2021-")

    subj = records["correction_subject"]
    stock = sum(1 for s in subj if s.get("entered_on") and s["entered_on"] <= "2021-12-31"
                and (not s.get("left_on") or s["left_on"] > "2021-12-31"))
    sanc = records["correction_subject_sanction"]
    revo = {"revoke_probation", "revoke_parole", "commit_to_prison"}
    rel = [r for r in records["released_prisoner"] if r["state"] in ("handed_over", "closed")]
    vis = [v for v in records["family_visit"] if v["state"] in ("accepted", "visited") and y21(v["applied_on"])]
    got = {
        "correction_subjects_registered": stock,
        "correction_reprimands": sum(1 for x in sanc if x["sanction_type"] == "reprimand" and x["state"] == "decided"
                                     and y21(x.get("decided_on"))),
        "correction_warnings": sum(1 for x in sanc if x["sanction_type"] == "warning" and x["state"] == "decided"
                                   and y21(x.get("decided_on"))),
        "correction_revocations": len({x["subject"] for x in sanc if x["sanction_type"] in revo
                                       and x["state"] in ("submitted", "ruled") and y21(x.get("decided_on"))}),
        "released_prisoner_handovers": sum(1 for r in rel if y21(r.get("handover_on"))),
        "released_key_persons": sum(1 for r in rel if y21(r.get("handover_on")) and r["key_person"]),
        "released_key_persons_escorted": sum(1 for r in rel if y21(r.get("handover_on")) and r["key_person"]
                                             and r["escorted"]),
        "released_hardship_aid": sum(1 for r in records["released_prisoner"] if y21(r.get("aid_on"))),
        "family_visit_applications": len(vis),
        "family_visit_beneficiaries": sum(v["family_members"] for v in vis),
        "remote_arraignments": sum(1 for a in records["remote_arraignment"] if a["state"] == "held"
                                   and y21(a.get("held_on"))),
        "rehab_followup_surveys": sum(1 for s in records["rehab_followup_survey"] if s["state"] == "completed"
                                      and y21(s.get("surveyed_on"))),
    }
    want = {"correction_subjects_registered": REGISTERED_AT_YEAR_END, "correction_reprimands": REPRIMANDS,
            "correction_warnings": WARNINGS, "correction_revocations": REVOKED_PERSONS,
            "released_prisoner_handovers": HANDOVERS, "released_key_persons": KEY_PERSONS,
            "released_key_persons_escorted": KEY_PERSONS, "released_hardship_aid": HARDSHIP_AID,
            "family_visit_applications": VISIT_APPLICATIONS, "family_visit_beneficiaries": VISIT_FAMILY_MEMBERS,
            "remote_arraignments": ARRAIGNMENTS, "rehab_followup_surveys": SURVEYS}
    bad = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not bad, "community demo: 2021 figures off (got, want): %r" % bad
    # every sanction is on a subject in register that day
    for x in sanc:
        s = subj[x["subject"] - 1]
        day = x.get("decided_on") or x["found_on"]
        assert s["office"] == x["office"] and s.get("entered_on") and s["entered_on"] <= day and \
            (not s.get("left_on") or day < s["left_on"] or x["sanction_type"] in revo), (x, s)


def _commendations(rng, subjects):
    """表扬 (《社区矫正法》第二十八条): about one subject in twelve in register during a year is
    proposed by its judicial office after at least three months; nine in ten proposals are granted
    a week or two later. Proposals still open on the snapshot day stay `proposed`."""
    out = []
    for year in (2020, 2021, 2022):
        lo, hi = D(year, 1, 1), min(D(year, 12, 31), SNAPSHOT)
        for sid, subj in enumerate(subjects, start=1):
            if not subj.get("entered_on"):
                continue
            start = max(_dt.date.fromisoformat(subj["entered_on"]) + _dt.timedelta(days=90), lo)
            end = hi
            if subj.get("left_on"):
                end = min(end, _dt.date.fromisoformat(subj["left_on"]) - _dt.timedelta(days=20))
            if start > end or rng.random() > 0.085:
                continue
            proposed = _rand_date(rng, start, end)
            decided = _days(proposed, rng.randint(5, 15))
            rec = {"subject": sid, "office": subj["office"], "proposed_on": _s(proposed),
                   "reason": rng.choice(["认罪悔罪,服从监督管理,积极参加公益活动", "遵守报告、会客、外出规定,教育学习表现突出",
                                         "见义勇为,协助处置突发事件", "主动参加社区服务,获村(社区)好评"]),
                   "state": "proposed"}
            if decided <= SNAPSHOT:
                if rng.random() < 0.9:
                    rec.update(state="commended", decided_on=_s(decided),
                               document_no="慈司矫表字〔%d〕%d号" % (decided.year, len(out) + 1))
                else:
                    rec.update(state="rejected", decided_on=_s(decided), rejection_reason="考核期内有迟报情形,暂不予表扬")
            out.append(rec)
    return out


def generate(orgs, rng):
    people = People(rng)
    towns = _town_weights(orgs, rng)
    subjects, sanctions = _correction(orgs, rng, people, towns)
    records = {
        # correction_subject_sanction refers to correction_subject by id: the n-th subject record
        # here gets id n on import into a fresh database (demo_county.py imports modules in code
        # order, so the subjects are written before the sanctions that refer to them).
        "correction_subject": subjects,
        "correction_subject_sanction": sanctions,
        "released_prisoner": _released(orgs, rng, people, towns),
        "family_visit": _visits(orgs, rng, people, towns),
        "remote_arraignment": _arraignments(orgs, rng, people),
        "rehab_followup_survey": _surveys(orgs, rng, people, towns),
    }
    _check(records)
    records["correction_subject_commendation"] = _commendations(rng, subjects)
    return records
