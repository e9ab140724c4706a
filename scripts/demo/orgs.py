"""Org units of the demo county: the city, the Justice Bureau and its departments, 19 towns and
streets (each with a judicial office and a town mediation committee), village and community
mediation committees, industry mediation committees, government units and law firms.

Codes are stable (generators refer to them); division codes follow GB/T 2260 for the city
(330282) and the county's own numbering below it."""

CITY = "330282"
BUREAU = "330282_sfj"

DEPARTMENTS = {
    "legal_aid_center": ("330282_sfj_fy", "慈溪市法律援助中心"),
    "reconsideration": ("330282_sfj_fy2", "行政复议局"),
    "correction": ("330282_sfj_sqjz", "社区矫正管理局"),
    "public_services": ("330282_sfj_gg", "公共法律服务管理科"),
    "mediation": ("330282_sfj_tj", "人民参与和促进法治科"),
    "pufa": ("330282_sfj_pf", "普法与依法治理科"),
    "lawyers": ("330282_sfj_ls", "律师工作管理科"),
    "supervision": ("330282_sfj_jd", "行政执法协调监督科"),
    "legislation": ("330282_sfj_fz", "法治调研和合法性审查科"),
    "hotline": ("330282_sfj_12348", "12348公共法律服务热线中心"),
}

# 5 streets and 14 towns (慈溪市 2021)
TOWNS = [
    ("330282001", "浒山街道", "street"), ("330282002", "宗汉街道", "street"), ("330282003", "坎墩街道", "street"),
    ("330282004", "白沙路街道", "street"), ("330282005", "古塘街道", "street"),
    ("330282101", "观海卫镇", "town"), ("330282102", "龙山镇", "town"), ("330282103", "掌起镇", "town"),
    ("330282104", "附海镇", "town"), ("330282105", "逍林镇", "town"), ("330282106", "胜山镇", "town"),
    ("330282107", "新浦镇", "town"), ("330282108", "横河镇", "town"), ("330282109", "匡堰镇", "town"),
    ("330282110", "桥头镇", "town"), ("330282111", "长河镇", "town"), ("330282112", "周巷镇", "town"),
    ("330282113", "崇寿镇", "town"), ("330282114", "庵东镇", "town"),
]

# 395 mediation organisations: 19 town committees, 356 village/community committees, 20 industry ones
VILLAGE_COMMITTEES_PER_TOWN = [19] * 14 + [18] * 5  # 14*19 + 5*18 = 356
INDUSTRY_COMMITTEES = [
    "医疗纠纷人民调解委员会", "交通事故人民调解委员会", "劳动争议人民调解委员会", "物业纠纷人民调解委员会",
    "婚姻家庭纠纷人民调解委员会", "消费纠纷人民调解委员会", "金融纠纷人民调解委员会", "知识产权纠纷人民调解委员会",
    "建设工程纠纷人民调解委员会", "旅游纠纷人民调解委员会", "电子商务纠纷人民调解委员会", "保险纠纷人民调解委员会",
    "商会人民调解委员会", "外来务工人员纠纷人民调解委员会", "校园纠纷人民调解委员会", "环境纠纷人民调解委员会",
    "征地拆迁纠纷人民调解委员会", "农村土地承包纠纷人民调解委员会", "诉前人民调解委员会", "警调衔接人民调解委员会",
]

GOV_UNITS = [
    "市政府办公室", "市发展和改革局", "市教育局", "市科学技术局", "市经济和信息化局", "市公安局", "市民政局",
    "市财政局", "市人力资源和社会保障局", "市自然资源和规划局", "市生态环境局", "市住房和城乡建设局",
    "市交通运输局", "市水利局", "市农业农村局", "市商务局", "市文化和广电旅游体育局", "市卫生健康局",
    "市退役军人事务局", "市应急管理局", "市审计局", "市市场监督管理局", "市统计局", "市医疗保障局",
    "市综合行政执法局", "市信访局", "市机关事务管理局", "市大数据发展管理局", "市人民防空办公室",
    "市供销合作社", "市档案馆", "市气象局", "市税务局", "市消防救援大队", "市烟草专卖局", "市粮食和物资储备局",
    "市行政审批服务局", "市投资促进中心", "市城市管理局", "市港航管理中心", "市林业特产总站",
    "市国有资产管理中心", "市公共资源交易中心", "市不动产登记中心", "市文物保护管理所",
]  # 45, and the bureau: 46 units with major-decision catalogs

LAW_FIRMS = 40  # 22 of them in commercial mediation


def town_code(i):
    return TOWNS[i][0]


def judicial_office(town):
    return town + "_sfs"


def town_committee(town):
    return town + "_tjw"


def village_committees(town_index):
    t = TOWNS[town_index][0]
    return ["%s_v%02d" % (t, k + 1) for k in range(VILLAGE_COMMITTEES_PER_TOWN[town_index])]


def industry_committees():
    return ["330282_hy%02d" % (k + 1) for k in range(len(INDUSTRY_COMMITTEES))]


def gov_units():
    return ["330282_g%02d" % (k + 1) for k in range(len(GOV_UNITS))]


def law_firms():
    return ["330282_lf%02d" % (k + 1) for k in range(LAW_FIRMS)]


def all_committees():
    out = []
    for i in range(len(TOWNS)):
        out.append(town_committee(TOWNS[i][0]))
        out.extend(village_committees(i))
    out.extend(industry_committees())
    return out


def build():
    """Every org unit, parents before children: [{code, name, kind, parent, division}]."""
    orgs = [{"code": CITY, "name": "慈溪市", "kind": "city", "division": CITY},
            {"code": BUREAU, "name": "慈溪市司法局", "kind": "bureau", "parent": CITY}]
    for code, name in DEPARTMENTS.values():
        orgs.append({"code": code, "name": name, "kind": "department", "parent": BUREAU})
    for i, (code, name, kind) in enumerate(TOWNS):
        orgs.append({"code": code, "name": name, "kind": kind, "parent": CITY, "division": code})
        orgs.append({"code": judicial_office(code), "name": name + "司法所", "kind": "judicial_office", "parent": code})
        orgs.append({"code": town_committee(code), "name": name + "人民调解委员会", "kind": "mediation_committee",
                     "parent": code})
        for k, v in enumerate(village_committees(i)):
            orgs.append({"code": v, "name": "%s第%d村(社区)人民调解委员会" % (name, k + 1),
                         "kind": "mediation_committee", "parent": code})
    for code, name in zip(industry_committees(), INDUSTRY_COMMITTEES):
        orgs.append({"code": code, "name": "慈溪市" + name, "kind": "mediation_committee", "parent": BUREAU})
    for code, name in zip(gov_units(), GOV_UNITS):
        orgs.append({"code": code, "name": "慈溪" + name, "kind": "gov_unit", "parent": CITY})
    for k, code in enumerate(law_firms()):
        orgs.append({"code": code, "name": "浙江慈溪第%d律师事务所" % (k + 1), "kind": "law_firm", "parent": CITY})
    return orgs
