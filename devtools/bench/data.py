"""Synthetic market entities and credit records for the benchmark, as chunks of COPY text.

Deterministic: the same seed gives the same rows, so a load that stopped half-way resumes by chunk.
Entity ``i`` gets id ``ENTITY_ID_BASE + i`` and record ``j`` id ``RECORD_ID_BASE + j``; a chunk is
CHUNK consecutive rows, loaded in one transaction.

Names follow the demo data (city + brand + trade + 有限公司) with a larger vocabulary so that a query
can be rare or very common: every enterprise shares 有限/限公/公司, about one in three names carries
深圳, one in six 科技; the thirty demo brands (星辰, 华创, ...) each sit in about 0.8% of the entities;
other brands are pairs of ~150 characters drawn with Zipf-like weights, from a few thousand entities
down to a handful.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from records.demo import BRANDS, GIVEN, SURNAMES
from records.demo import TRADES as DEMO_TRADES
from records.identifiers import USCC_ALPHABET, entity_type_of, make_uscc, organisation_code

SEED = 20261127
CHUNK = 50_000
ENTITY_ID_BASE = 100_000_000
RECORD_ID_BASE = 100_000_000
FIRST_DECISION = date(2019, 1, 1)
LAYOUT = "arrival"  # records generated in the order of their decisions (see record_chunk)

# division, city (zh, en), registering department, weight
CITIES = [
    ("440305", "深圳", "Shenzhen", "SZ-AMR", 12),
    ("440306", "深圳", "Shenzhen", "SZ-AMR", 10),
    ("440300", "深圳", "Shenzhen", "SZ-AMR", 8),
    ("440106", "广州", "Guangzhou", "GZ-AMR", 10),
    ("440100", "广州", "Guangzhou", "GZ-AMR", 10),
    ("110105", "北京", "Beijing", "BENCH-BJ-AMR", 5),
    ("110108", "北京", "Beijing", "BENCH-BJ-AMR", 5),
    ("310115", "上海", "Shanghai", "BENCH-SH-AMR", 8),
    ("320100", "南京", "Nanjing", "BENCH-NJ-AMR", 5),
    ("320500", "苏州", "Suzhou", "BENCH-SUZ-AMR", 5),
    ("330106", "杭州", "Hangzhou", "BENCH-HZ-AMR", 6),
    ("330200", "宁波", "Ningbo", "BENCH-NB-AMR", 4),
    ("510100", "成都", "Chengdu", "BENCH-CD-AMR", 6),
    ("500000", "重庆", "Chongqing", "BENCH-CQ-AMR", 6),
]

# The benchmark's own departments, next to the demo ones (records.demo.DEPARTMENTS).
# code, zh, en, division, level, parent
BENCH_DEPARTMENTS = [
    ("BENCH-BJ-AMR", "北京市市场监督管理局", "Beijing Administration for Market Regulation", "110000", "municipal", None),
    ("BENCH-SH-AMR", "上海市市场监督管理局", "Shanghai Administration for Market Regulation", "310000", "municipal", None),
    ("BENCH-NJ-AMR", "南京市市场监督管理局", "Nanjing Administration for Market Regulation", "320100", "municipal", None),
    ("BENCH-SUZ-AMR", "苏州市市场监督管理局", "Suzhou Administration for Market Regulation", "320500", "municipal", None),
    ("BENCH-HZ-AMR", "杭州市市场监督管理局", "Hangzhou Administration for Market Regulation", "330100", "municipal", None),
    ("BENCH-NB-AMR", "宁波市市场监督管理局", "Ningbo Administration for Market Regulation", "330200", "municipal", None),
    ("BENCH-CD-AMR", "成都市市场监督管理局", "Chengdu Administration for Market Regulation", "510100", "municipal", None),
    ("BENCH-CQ-AMR", "重庆市市场监督管理局", "Chongqing Administration for Market Regulation", "500000", "municipal", None),
]  # fmt: skip

# The prefix of each department's decision document numbers (深市监罚〔2024〕123号, 深市监许〔...〕).
NUMBER_PREFIX = {
    "SZ-AMR": "深市监", "GZ-AMR": "穗市监", "GD-AMR": "粤市监", "SZ-EEB": "深环", "GD-DRC": "粤发改",
    "BENCH-BJ-AMR": "京市监", "BENCH-SH-AMR": "沪市监", "BENCH-NJ-AMR": "宁市监", "BENCH-SUZ-AMR": "苏市监",
    "BENCH-HZ-AMR": "杭市监", "BENCH-NB-AMR": "甬市监", "BENCH-CD-AMR": "成市监", "BENCH-CQ-AMR": "渝市监",
}  # fmt: skip

# Characters of brand names with their pinyin, in no particular order.
_BRAND_CHARS = (
    "星xing 辰chen 华hua 创chuang 宏hong 远yuan 鹏peng 程cheng 海hai 纳na 博bo 金jin 桥qiao 瑞rui 丰feng "
    "卓zhuo 越yue 天tian 成cheng 恒heng 信xin 启qi 明ming 嘉jia 禾he 盛sheng 世shi 云yun 帆fan 新xin "
    "锐rui 志zhi 诚cheng 润run 泽ze 安an 达da 厦sha 德de 正zheng 和he 航hang 联lian 众zhong 晨chen "
    "光guang 东dong 方fang 岭ling 北bei 长chang 青qing 汇hui 通tong 龙long 腾teng 飞fei 凯kai 旋xuan "
    "万wan 佳jia 美mei 乐le 富fu 贵gui 祥xiang 康kang 泰tai 隆long 兴xing 旺wang 顺shun 宇yu 伟wei "
    "业ye 聚ju 源yuan 鑫xin 森sen 林lin 江jiang 峰feng 川chuan 平ping 景jing 骏jun 豪hao 杰jie "
    "英ying 睿rui 智zhi 慧hui 思si 维wei 捷jie 迅xun 力li 诺nuo 亚ya 欧ou 优you 品pin 尚shang 雅ya "
    "致zhi 蓝lan 图tu 齐qi 鲁lu 闽min 湘xiang 蜀shu 楚chu 宝bao 石shi 玉yu 银yin 铭ming 锦jin 绣xiu "
    "彩cai 虹hong 朗lang 清qing 澜lan 涛tao 浩hao 瀚han 霖lin 雨yu 雪xue 松song 柏bai 桂gui 梅mei "
    "兰lan 竹zhu 菊ju 荣rong 耀yao 辉hui 煌huang 皓hao 晟sheng 昊hao 昌chang 旭xu 阳yang 拓tuo 峻jun"
)
BRAND_CHARS: list[tuple[str, str]] = [(w[0], w[1:]) for w in _BRAND_CHARS.split()]

# Trades: the demo's, then more (zh, en, industry, weight); 科技 is the commonest, as it is in life.
TRADES: list[tuple[str, str, str, int]] = [
    (zh, en, industry, 60 if zh == "科技" else 10) for zh, en, industry in DEMO_TRADES
] + [
    ("网络科技", "Network Technology", "I", 12), ("智能科技", "Intelligent Technology", "I", 10),
    ("生物科技", "Biotechnology", "M", 6), ("实业", "Industrial", "C", 10), ("投资管理", "Investment Management", "J", 6),
    ("供应链管理", "Supply Chain Management", "G", 6), ("装饰工程", "Decoration Engineering", "E", 8),
    ("机械设备", "Machinery and Equipment", "C", 6), ("服装", "Garments", "C", 6), ("家具", "Furniture", "C", 4),
    ("汽车销售", "Automobile Sales", "F", 4), ("广告", "Advertising", "L", 5), ("人力资源", "Human Resources", "L", 4),
    ("物业管理", "Property Management", "K", 5), ("印刷", "Printing", "C", 3), ("化工", "Chemicals", "C", 3),
    ("五金制品", "Hardware Products", "C", 4), ("农业发展", "Agricultural Development", "A", 3),
    ("酒店管理", "Hotel Management", "H", 3), ("健康管理", "Health Management", "Q", 4),
    ("医疗器械", "Medical Devices", "C", 4), ("进出口", "Import and Export", "F", 5),
    ("包装材料", "Packaging Materials", "C", 3), ("光电", "Optoelectronics", "C", 3), ("软件", "Software", "I", 5),
    ("数据服务", "Data Services", "I", 3), ("检测技术", "Testing Technology", "M", 3),
    ("安防科技", "Security Technology", "I", 3),
]  # fmt: skip
SHOPS = ["餐饮", "便利", "五金", "服装", "水果", "理发", "烟酒", "文具", "药店", "茶叶", "建材", "通讯"]
ROADS = ["深南", "滨海", "人民", "解放", "建设", "中山", "长江", "黄河", "科技", "创业", "光明", "和平"]

PUNISHMENT_BASES = [
    ("《中华人民共和国食品安全法》第一百二十四条第一款", "经查，当事人在经营场所销售超过保质期的食品，货值金额{a}元，违法所得{b}元。"),
    ("《中华人民共和国广告法》第五十七条", "经查，当事人在其网站发布的广告中使用“国家级”“最佳”等用语，广告费用{b}元。"),
    ("《中华人民共和国产品质量法》第四十九条", "经查，当事人生产的产品经抽样检验不合格，涉案产品货值金额{a}元。"),
    ("《中华人民共和国价格法》第四十二条", "经查，当事人未按规定明码标价，违法所得{b}元。"),
    ("《中华人民共和国反不正当竞争法》第二十条", "经查，当事人对其商品的性能、功能作虚假的商业宣传，违法所得{b}元。"),
    ("《中华人民共和国消费者权益保护法》第五十六条", "经查，当事人在提供服务时侵害消费者合法权益，涉及金额{a}元。"),
    ("《中华人民共和国安全生产法》第九十七条", "经查，当事人未按照规定对从业人员进行安全生产教育和培训。"),
]  # fmt: skip
ENVIRONMENT_BASES = [
    ("《中华人民共和国大气污染防治法》第九十九条", "经查，当事人超标排放大气污染物，颗粒物浓度超过排放标准{p}%。"),
    ("《中华人民共和国水污染防治法》第八十三条", "经查，当事人未依法取得排污许可证排放水污染物，排放量约{a}吨。"),
]  # fmt: skip
PERMITS = [
    ("食品经营许可证", "JY"), ("药品经营许可证", "YP"), ("医疗器械经营许可证", "YX"), ("道路运输经营许可证", "DY"),
    ("出版物经营许可证", "CB"), ("危险化学品经营许可证", "WH"), ("建筑施工企业安全生产许可证", "AQ"),
]  # fmt: skip
PUNISHMENT_KINDS = ["fine", "fine", "fine", "warning", "confiscation_income", "criticism"]


def _cumulative(weights) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: list, cumulative: list[float]):
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


@dataclass
class Entities:
    """The first ``n`` synthetic entities: everything a record needs to copy from its entity."""

    n: int
    names_zh: list[str] = field(default_factory=list)
    names_en: list[str] = field(default_factory=list)
    city: list[int] = field(default_factory=list)  # index into CITIES
    individual: list[bool] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)  # the rest of the entity's columns


def build_entities(n: int, seed: int = SEED) -> Entities:
    """Entity ``i`` depends on the seed and on ``i`` only (one random stream per 1,000 entities)."""
    out = Entities(n)
    city_cum = _cumulative(c[4] for c in CITIES)
    city_indexes = list(range(len(CITIES)))
    trade_cum = _cumulative(t[3] for t in TRADES)
    order = random.Random(seed).sample(range(len(BRAND_CHARS)), len(BRAND_CHARS))  # noqa: S311
    chars = [BRAND_CHARS[k] for k in order]
    char_cum = _cumulative(1 / (k + 1) ** 0.9 for k in range(len(chars)))
    alphabet = USCC_ALPHABET
    space = len(alphabet) ** 5
    rng = random.Random()  # noqa: S311 - synthetic data, not secrets
    for i in range(n):
        if i % 1000 == 0:
            rng.seed(seed * 1_000_003 + i // 1000)
        ci = _pick(rng, city_indexes, city_cum)
        division, city_zh, city_en, _dept, _w = CITIES[ci]
        if rng.random() < 0.25:
            brand_zh, brand_en = BRANDS[int(rng.random() * len(BRANDS))]
        else:
            a, b = _pick(rng, chars, char_cum), _pick(rng, chars, char_cum)
            while b[0] == a[0]:
                b = _pick(rng, chars, char_cum)
            brand_zh, brand_en = a[0] + b[0], (a[1] + b[1]).capitalize()
        trade_zh, trade_en, industry, _tw = _pick(rng, TRADES, trade_cum)
        kind = rng.random()
        scrambled = (i * 7919 + 12345) % space
        body = "MA5" + "".join(alphabet[(scrambled // len(alphabet) ** k) % len(alphabet)] for k in range(5))
        org = organisation_code(body)
        public_sector = ""
        if kind < 0.85:
            u = rng.random()
            if u < 0.08:
                suffix_zh, suffix_en = "股份有限公司", "Co., Ltd. (Joint Stock)"
            elif u < 0.2:
                suffix_zh, suffix_en = "有限责任公司", "Co., Ltd."
            else:
                suffix_zh, suffix_en = "有限公司", "Co., Ltd."
            name_zh = f"{city_zh}{brand_zh}{trade_zh}{suffix_zh}"
            name_en = f"{city_en} {brand_en} {trade_en} {suffix_en}"
            code = make_uscc("9", "1", division, org)
        elif kind < 0.95:
            name_zh = f"{city_zh}市{brand_zh}{SHOPS[int(rng.random() * len(SHOPS))]}店"
            name_en = ""
            code = make_uscc("9", "2", division, org)
        elif kind < 0.98:
            name_zh = f"{city_zh}市{brand_zh}{trade_zh[:2]}协会"
            name_en = f"{city_en} {brand_en} {trade_en} Association"
            code = make_uscc("5", "1", division, org)
        else:
            name_zh = f"{city_zh}市{brand_zh}{trade_zh[:2]}服务中心"
            name_en = f"{city_en} {brand_en} {trade_en} Service Centre"
            code = make_uscc("1", "2", division, org)
            public_sector = "public_institution"
        registered = date(2000, 1, 1) + timedelta(days=int(rng.random() * 9400))
        address = f"{city_zh}市{ROADS[int(rng.random() * len(ROADS))]}路{int(rng.random() * 998) + 1}号"
        out.names_zh.append(name_zh)
        out.names_en.append(name_en)
        out.city.append(ci)
        out.individual.append(code[1] == "2" and code[0] == "9")
        out.rows.append(
            (code, entity_type_of(code), industry, registered.isoformat(), address, public_sector)
        )
    return out


ENTITY_COLUMNS = [
    "id", "code", "name_zh", "name_en", "entity_type", "industry", "registered_on", "status", "address",
    "public_sector", "created_at", "updated_at", "division_id", "registering_department_id",
    "supervising_department_id",
]  # fmt: skip

RECORD_COLUMNS = [
    "id", "entity_id", "item_id", "department_id", "party_name", "party_name_en", "decision_number",
    "decision_date", "legal_basis", "severity", "content", "valid_from", "valid_to", "remarks", "fields",
    "status", "provenance", "version", "created_at", "updated_at", "disclosure", "disclosure_due_on",
    "disclosure_months", "disclosure_ends_on", "published_at", "published_late_days", "withdrawal_due_on",
    "withdrawn_at",
]  # fmt: skip


@dataclass(frozen=True)
class Context:
    """What the chunk functions need from the database, resolved once before the load."""

    departments: dict[str, int]  # department code -> id
    department_names: dict[str, str]
    punishment_item: int
    permit_item: int
    today: date
    seed: int = SEED


# Set in the parent before the worker processes are forked (they inherit it), or in-process.
_state: dict[str, object] = {}


def prepare(entities: Entities, context: Context, records_total: int = 0, *, history: int = 0) -> None:
    """``records_total``: the records to make now; ``history``: all the records the generation will
    make, in stages (their decision dates spread over all of them; default ``records_total``).
    Nothing generated here contains a tab, a newline or a backslash: COPY text needs no escaping."""
    _state["entities"] = entities
    _state["context"] = context
    _state["records_total"] = records_total
    _state["history"] = max(history, records_total)


def entity_chunk(chunk: int) -> tuple[int, bytes, int]:
    """(chunk, COPY text of entities [chunk*CHUNK, ...), row count)."""
    entities: Entities = _state["entities"]  # type: ignore[assignment]
    ctx: Context = _state["context"]  # type: ignore[assignment]
    sasac = ctx.departments["GD-SASAC"]
    start, stop = chunk * CHUNK, min((chunk + 1) * CHUNK, entities.n)
    stamp = f"{ctx.today.isoformat()} 09:00:00+08"
    lines = []
    for i in range(start, stop):
        code, entity_type, industry, registered, address, public_sector = entities.rows[i]
        division, _zh, _en, dept, _w = CITIES[entities.city[i]]
        row = (
            str(ENTITY_ID_BASE + i), code, entities.names_zh[i], entities.names_en[i], entity_type,
            industry, registered, "active", address, public_sector, stamp, stamp, division,
            str(ctx.departments[dept]), str(sasac) if public_sector else r"\N",
        )  # fmt: skip
        lines.append("\t".join(row))
    return chunk, ("\n".join(lines) + "\n").encode(), stop - start


def _department_for(rng: random.Random, city_index: int, punishment: bool) -> str:
    dept = CITIES[city_index][3]
    u = rng.random()
    if dept == "SZ-AMR" and punishment and u < 0.15:
        return "SZ-EEB"
    if dept in ("SZ-AMR", "GZ-AMR") and u > 0.95:
        return "GD-AMR" if punishment else "GD-DRC"
    return dept


def record_chunk(chunk: int) -> tuple[int, bytes, int]:
    """(chunk, COPY text of records [chunk*CHUNK, ...), row count). Record ``j`` belongs to entity
    ``int(n * u**2)``: a few entities have dozens of records, most a handful.

    Records arrive in the order of their decisions, as they do in a portal that has run for years
    (a record is entered the day after its decision and published within 7 working days): record
    ``j`` is decided at the ``j``-th place of the dates' distribution, give or take a week. The
    tables are then laid out as years of daily work would lay them out, not shuffled."""
    entities: Entities = _state["entities"]  # type: ignore[assignment]
    ctx: Context = _state["context"]  # type: ignore[assignment]
    start, stop = chunk * CHUNK, min((chunk + 1) * CHUNK, int(_state["records_total"]))  # type: ignore[call-overload]
    rng = random.Random(ctx.seed * 7_368_787 + chunk)  # noqa: S311 - synthetic data, not secrets
    n = entities.n
    first = FIRST_DECISION.toordinal()
    span = ctx.today.toordinal() - 1 - first
    history = int(_state["history"])  # type: ignore[call-overload]
    today = ctx.today
    lines = []
    dumps = json.dumps
    for j in range(start, stop):
        e = int(n * rng.random() ** 2)
        punishment = rng.random() < 0.45
        dept = _department_for(rng, entities.city[e], punishment)
        place = (j + rng.random()) / history  # stratified: the same distribution as a uniform draw
        decided = date.fromordinal(max(first, first + int(span * place**0.8) - int(rng.random() * 7)))
        year = decided.year
        number = f"{NUMBER_PREFIX[dept]}{'罚' if punishment else '许'}〔{year}〕{j + 1}号"
        party_category = "individual_business" if entities.individual[e] else "legal_person"
        rep = SURNAMES[int(rng.random() * len(SURNAMES))] + GIVEN[int(rng.random() * len(GIVEN))]
        if punishment:
            bases = ENVIRONMENT_BASES if dept == "SZ-EEB" else PUNISHMENT_BASES
            basis, facts = bases[int(rng.random() * len(bases))]
            a, b = int(rng.random() * 200_000) + 500, int(rng.random() * 50_000) + 100
            facts = facts.format(a=a, b=b, p=int(rng.random() * 80) + 5)
            kind = PUNISHMENT_KINDS[int(rng.random() * len(PUNISHMENT_KINDS))]
            fine = (int(rng.random() * 200) + 1) * 500
            severity = "serious" if rng.random() < 0.25 else "general"
            fields = {"party_category": party_category, "legal_rep_name": rep, "facts": facts,
                      "punishment_category": kind, "source_unit": ctx.department_names[dept]}  # fmt: skip
            if kind == "fine":
                fields["fine_amount"] = f"{fine / 10000:g}"
                content = f"罚款人民币{fine}元。"
            elif kind == "confiscation_income":
                fields["fine_amount"] = f"{fine / 10000:g}"
                fields["confiscated_amount"] = f"{b / 10000:g}"
                content = f"没收违法所得{b}元，并处罚款人民币{fine}元。"
            elif kind == "warning":
                content = "警告。"
            else:
                content = "通报批评。"
            item, months = ctx.punishment_item, (36 if severity == "serious" else 12)
            valid_from = valid_to = None
        else:
            certificate, letters = PERMITS[int(rng.random() * len(PERMITS))]
            fields = {"party_category": party_category, "legal_rep_name": rep,
                      "decision_doc_name": "准予行政许可决定书", "permit_category": "ordinary",
                      "certificate_name": certificate, "certificate_number": f"{letters}{j + 1:012d}",
                      "permit_status": "valid", "source_unit": ctx.department_names[dept]}  # fmt: skip
            content = f"准予{certificate}许可。"
            basis = "《中华人民共和国行政许可法》第三十八条"
            item, months, severity = ctx.permit_item, None, ""
            valid_from = decided
            valid_to = decided + timedelta(days=365 * (5 + int(rng.random() * 6)))
        due = decided + timedelta(days=9)  # about 7 working days
        created = f"{(decided + timedelta(days=1)).isoformat()} 10:{int(rng.random() * 60):02d}:00+08"
        u = rng.random()
        published_at = late = withdrawn_at = None
        if u < 0.95:  # published, and standing
            disclosure = "published"
            status = "effective" if u < 0.945 else ("under_objection" if u < 0.948 else "corrected")
            published_at = f"{(decided + timedelta(days=int(rng.random() * 8) + 1)).isoformat()} 02:00:00+08"
            late = "0"
            ends = today + timedelta(days=30 + int(rng.random() * 1000))  # see the report: kept published
            if valid_to is not None and valid_to > ends:
                ends = valid_to
        elif u < 0.99:  # disclosure period over
            disclosure, status = "ended", "expired"
            published_at = f"{(decided + timedelta(days=3)).isoformat()} 02:00:00+08"
            late = "0"
            ends = min(decided + timedelta(days=30 * (months or 36)), today - timedelta(days=1))
            withdrawn_at = f"{ends.isoformat()} 02:00:00+08"
        else:  # a draft still awaiting review: pending, but not publishable
            disclosure, status = "pending", "draft"
            ends = None
        updated = published_at or created
        row = (
            str(RECORD_ID_BASE + j), str(ENTITY_ID_BASE + e), str(item), str(ctx.departments[dept]),
            entities.names_zh[e], entities.names_en[e], number, decided.isoformat(), basis, severity,
            content, valid_from.isoformat() if valid_from else r"\N",
            valid_to.isoformat() if valid_to else r"\N", "", dumps(fields, ensure_ascii=False), status,
            ("api", "file", "file", "form")[int(rng.random() * 4)], "1", created, updated, disclosure,
            due.isoformat(), str(months) if months else r"\N", ends.isoformat() if ends else r"\N",
            published_at or r"\N", late or r"\N", r"\N", withdrawn_at or r"\N",
        )  # fmt: skip
        lines.append("\t".join(row))
    return chunk, ("\n".join(lines) + "\n").encode(), stop - start
