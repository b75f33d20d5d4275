"""The national public credit information catalogue as seed data, and the structured fields of the
national data standards for administrative punishments and permits (abridged).

Loaded once by a data migration; after that the catalogue is the credit office's to edit (staff UI,
audited). Field definitions are plain data; ``records.fields`` validates values against them."""

from __future__ import annotations

PARTY_CATEGORIES = [
    ["legal_person", "法人及非法人组织", "Legal person or other organisation"],
    ["individual_business", "个体工商户", "Individual business"],
    ["natural_person", "自然人", "Natural person"],
]
ID_TYPES = [
    ["resident_id", "居民身份证", "Resident identity card"],
    ["passport", "护照", "Passport"],
    ["hk_macao_permit", "港澳居民来往内地通行证", "Mainland travel permit for Hong Kong and Macao residents"],
    ["taiwan_permit", "台湾居民来往大陆通行证", "Mainland travel permit for Taiwan residents"],
    ["foreigner_id", "外国人永久居留身份证", "Foreign permanent resident ID card"],
]
PUNISHMENT_CATEGORIES = [
    ["warning", "警告", "Warning"],
    ["criticism", "通报批评", "Public criticism"],
    ["fine", "罚款", "Fine"],
    ["confiscation_income", "没收违法所得", "Confiscation of illegal gains"],
    ["confiscation_property", "没收非法财物", "Confiscation of illegal property"],
    ["licence_suspension", "暂扣许可证件", "Suspension of a licence"],
    ["qualification_downgrade", "降低资质等级", "Downgrading of a qualification"],
    ["licence_revocation", "吊销许可证件", "Revocation of a licence"],
    ["business_restriction", "限制开展生产经营活动", "Restriction of business activities"],
    ["production_suspension", "责令停产停业", "Order to suspend production or business"],
    ["closure", "责令关闭", "Order to close"],
    ["practice_restriction", "限制从业", "Restriction from practice"],
    ["detention", "行政拘留", "Administrative detention"],
    ["other", "其他", "Other"],
]
PERMIT_CATEGORIES = [
    ["ordinary", "普通", "Ordinary"],
    ["special", "特许", "Special"],
    ["recognition", "认可", "Recognition"],
    ["approval", "核准", "Approval"],
    ["registration", "登记", "Registration"],
    ["other", "其他", "Other"],
]


def _f(key, zh, en, type_="text", *, required=False, max_length=200, choices=None, headers=()):
    field = {"key": key, "label_zh": zh, "label_en": en, "type": type_, "required": required}
    if type_ in ("text", "longtext"):
        field["max_length"] = max_length
    if choices:
        field["choices"] = choices
    field["headers"] = [zh, *headers]
    return field


_PARTY = [
    _f(
        "party_category",
        "行政相对人类别",
        "Party category",
        "choice",
        required=True,
        choices=PARTY_CATEGORIES,
    ),
    _f("legal_rep_name", "法定代表人", "Legal representative", max_length=100),
    _f(
        "legal_rep_id_type",
        "法定代表人证件类型",
        "Legal representative's identity document",
        "choice",
        choices=ID_TYPES,
    ),
    _f("legal_rep_id_number", "法定代表人证件号码", "Legal representative's identity number", "identity"),
]
_SOURCE = [
    _f("authority_code", "决定机关统一社会信用代码", "Deciding authority's unified social credit code", max_length=18,
       headers=("处罚机关统一社会信用代码", "许可机关统一社会信用代码")),
    _f("source_unit", "数据来源单位", "Data source unit"),
    _f("source_unit_code", "数据来源单位统一社会信用代码", "Data source unit's unified social credit code", max_length=18),
]  # fmt: skip

PUNISHMENT_FIELDS = [
    *_PARTY,
    _f("violation_type", "违法行为类型", "Type of violation"),
    _f("facts", "违法事实", "Facts of the violation", "longtext", required=True, max_length=4000,
       headers=("主要违法事实",)),
    _f("punishment_category", "处罚类别", "Punishment category", "choice", required=True, choices=PUNISHMENT_CATEGORIES),
    _f("fine_amount", "罚款金额（万元）", "Fine (10,000 yuan)", "decimal"),
    _f("confiscated_amount", "没收违法所得、没收非法财物的金额（万元）", "Amount confiscated (10,000 yuan)", "decimal",
       headers=("没收金额（万元）",)),
    _f("licence_name", "暂扣或吊销证照名称", "Suspended or revoked licence"),
    _f("licence_number", "暂扣或吊销证照编号", "Number of the suspended or revoked licence", max_length=100),
    *_SOURCE,
]  # fmt: skip

PERMIT_FIELDS = [
    *_PARTY,
    _f("decision_doc_name", "行政许可决定文书名称", "Title of the permit decision", required=True),
    _f("permit_category", "许可类别", "Permit category", "choice", required=True, choices=PERMIT_CATEGORIES),
    _f("certificate_name", "许可证书名称", "Certificate"),
    _f("certificate_number", "许可编号", "Certificate number", max_length=100),
    _f("permit_status", "当前状态", "Current status", "choice", choices=[["valid", "有效", "Valid"], ["invalid", "无效", "Invalid"]]),
    *_SOURCE,
]  # fmt: skip

# code, zh, en, category, polarity, use scope, layout, period kind, fixed months
CATALOGUE = [
    ("registration_basics", "登记注册基本信息", "Registration basics", "basic", "neutral", "public", "generic", "indefinite", None),
    ("judicial_ruling", "司法裁判及执行信息", "Judicial rulings and enforcement", "judicial", "negative", "public", "generic", "severity", None),
    ("admin_permit", "行政许可信息", "Administrative permits", "administrative", "neutral", "public", "permit", "validity", None),
    ("admin_punishment", "行政处罚信息", "Administrative punishments", "administrative", "negative", "public", "punishment", "severity", None),
    ("admin_compulsory", "行政强制信息", "Administrative compulsory measures", "administrative", "negative", "public", "generic", "severity", None),
    ("admin_confirmation", "行政确认信息", "Administrative confirmations", "administrative", "neutral", "public", "generic", "validity", None),
    ("admin_expropriation", "行政征收信息", "Administrative expropriations", "administrative", "neutral", "public", "generic", "indefinite", None),
    ("admin_payment", "行政给付信息", "Administrative payments", "administrative", "neutral", "public", "generic", "indefinite", None),
    ("admin_ruling", "行政裁决信息", "Administrative rulings", "administrative", "neutral", "public", "generic", "indefinite", None),
    ("admin_compensation", "行政补偿信息", "Administrative compensation", "administrative", "neutral", "public", "generic", "indefinite", None),
    ("admin_reward", "行政奖励信息", "Administrative rewards", "administrative", "positive", "public", "generic", "validity", None),
    ("admin_inspection", "行政检查信息", "Administrative inspections", "administrative", "neutral", "public", "generic", "indefinite", None),
    ("qualification", "职业资格信息", "Professional qualifications", "qualification", "neutral", "public", "generic", "validity", None),
    ("abnormal_list", "经营异常名录信息", "Abnormal operation list", "lists", "negative", "public", "generic", "indefinite", None),
    ("serious_list", "严重失信主体名单信息", "Serious dishonesty list", "lists", "negative", "public", "generic", "indefinite", None),
    ("contract_performance", "合同履行信息", "Contract performance", "performance", "neutral", "authorised", "generic", "indefinite", None),
    ("pledge_performance", "信用承诺及履行情况信息", "Credit pledges and their performance", "performance", "neutral", "public", "generic", "indefinite", None),
    # A broken pledge is negative information: a severity, a disclosure period, restoration.
    ("pledge_breach", "信用承诺及履行情况信息（违背承诺）", "Credit pledges and their performance: breaches", "performance", "negative", "public", "generic", "severity", None),
    ("evaluation_result", "信用评价结果信息", "Credit evaluation results", "evaluation", "neutral", "government", "generic", "validity", None),
    ("honours", "诚实守信相关荣誉信息", "Honours for trustworthiness", "honours", "positive", "public", "generic", "validity", None),
    ("voluntary", "市场主体自愿提供的信用信息", "Information supplied voluntarily", "voluntary", "neutral", "public", "generic", "indefinite", None),
]  # fmt: skip

FIELDS_BY_LAYOUT = {"punishment": PUNISHMENT_FIELDS, "permit": PERMIT_FIELDS, "generic": []}

# Items that only their procedure writes (a designation with its notice and defence window, a
# pledge and its performance): the record form, files and the records API refuse them.
WORKFLOW_ONLY = ["abnormal_list", "serious_list", "pledge_performance", "pledge_breach"]
# Items whose records are designations (list entries): they stand until the designation ends
# (``records.services.record_end``), not until a disclosure period runs out.
DESIGNATION_ITEMS = ("abnormal_list", "serious_list")

# Disclosure periods by severity (months from the decision date), entered as data so that the next
# rule is an edit, not a release. A decision follows the rule in force on its date; no rule covers
# decisions before the first one, and the portal refuses to plan their publication (records.fields).
#
# - 2019: NDRC General Office notice 发改办财金〔2019〕527号 — general violations 3 months to 1 year,
#   serious ones 6 months to 3 years. Minor ones (warnings, small fines) are not published by default.
# - NDRC Order 58 (adopted 2023-01-11, in force 2023-05-01 to 2026-03-31): one span for administrative
#   punishments, at least 3 months and at most 3 years, whatever the severity; at least 1 year in the
#   fields of food, drugs, special equipment, work safety and fire (a field-specific minimum that
#   matters for restoration, not for how long publication lasts, which is the maximum).
# - NDRC Order 36 (in force 2026-04-01): general 3 months to 1 year, serious 1 to 3 years, minor at
#   most 3 months and normally not published.
RULE_2019_ZH = "《国家发展改革委办公厅关于进一步完善“信用中国”网站及地方信用门户网站行政处罚信息信用修复机制的通知》（发改办财金〔2019〕527号）"
RULE_2019_EN = "NDRC General Office notice on credit restoration of administrative punishment information (Fa Gai Ban Cai Jin [2019] No. 527)"
ORDER_58_ZH = "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号，2023年5月1日起施行，2026年4月1日废止）"
ORDER_58_EN = "Measures for restoring credit information after dishonest conduct is corrected (trial), NDRC Order No. 58 (in force 2023-05-01, repealed 2026-04-01)"
ORDER_36_ZH = "国家发展改革委令第36号（2026年4月1日起施行）"
ORDER_36_EN = "NDRC Order No. 36 (in force from 2026-04-01)"
PERIOD_RULES = [
    # effective from, severity, min, max, published by default, restorable, basis zh, basis en
    ("2019-01-01", "minor", 0, 3, False, True, RULE_2019_ZH, RULE_2019_EN),
    ("2019-01-01", "general", 3, 12, True, True, RULE_2019_ZH, RULE_2019_EN),
    ("2019-01-01", "serious", 6, 36, True, True, RULE_2019_ZH, RULE_2019_EN),
    ("2023-05-01", "minor", 0, 3, False, True, ORDER_58_ZH, ORDER_58_EN),
    ("2023-05-01", "general", 3, 36, True, True, ORDER_58_ZH, ORDER_58_EN),
    ("2023-05-01", "serious", 3, 36, True, True, ORDER_58_ZH, ORDER_58_EN),
    ("2026-04-01", "minor", 0, 3, False, True, ORDER_36_ZH, ORDER_36_EN),
    ("2026-04-01", "general", 3, 12, True, True, ORDER_36_ZH, ORDER_36_EN),
    ("2026-04-01", "serious", 12, 36, True, True, ORDER_36_ZH, ORDER_36_EN),
]  # fmt: skip
