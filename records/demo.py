"""The demo data's departments, vocabulary and entities, in one place: ``manage.py seed_demo`` loads
them, and the benchmark (devtools/bench) builds its data at scale on the same departments and words,
so that a search measured there looks like a search on the demo.

Deterministic: ``demo_entity(i)`` is always the same entity for the same ``i``."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stdnum.cn import ric

from credit_portal.accounts import services as accounts
from credit_portal.accounts.models import Department, Division
from records.identifiers import make_uscc, organisation_code
from records.models import MarketEntity, Person
from records.services import EntityInput, PersonInput

if TYPE_CHECKING:
    from collections.abc import Iterable

    from credit_portal.accounts.actors import Actor

DEPARTMENTS = [
    # code, zh, en, division, level, parent
    (
        "GD-DRC",
        "广东省发展和改革委员会",
        "Guangdong Development and Reform Commission",
        "440000",
        "provincial",
        None,
    ),
    (
        "GD-AMR",
        "广东省市场监督管理局",
        "Guangdong Administration for Market Regulation",
        "440000",
        "provincial",
        None,
    ),
    (
        "GD-SASAC",
        "广东省人民政府国有资产监督管理委员会",
        "Guangdong State-owned Assets Supervision and Administration Commission",
        "440000",
        "provincial",
        None,
    ),
    (
        "SZ-AMR",
        "深圳市市场监督管理局",
        "Shenzhen Administration for Market Regulation",
        "440300",
        "municipal",
        "GD-AMR",
    ),
    ("SZ-EEB", "深圳市生态环境局", "Shenzhen Ecology and Environment Bureau", "440300", "municipal", None),
    (
        "GZ-AMR",
        "广州市市场监督管理局",
        "Guangzhou Administration for Market Regulation",
        "440100",
        "municipal",
        "GD-AMR",
    ),
]


# Fictional brand names with their romanisation, and trades.
BRANDS = [
    ("星辰", "Xingchen"), ("华创", "Huachuang"), ("宏远", "Hongyuan"), ("鹏程", "Pengcheng"), ("海纳", "Haina"),
    ("博远", "Boyuan"), ("金桥", "Jinqiao"), ("瑞丰", "Ruifeng"), ("卓越", "Zhuoyue"), ("天成", "Tiancheng"),
    ("恒信", "Hengxin"), ("启明", "Qiming"), ("嘉禾", "Jiahe"), ("盛世", "Shengshi"), ("云帆", "Yunfan"),
    ("新锐", "Xinrui"), ("志诚", "Zhicheng"), ("润泽", "Runze"), ("安达", "Anda"), ("广厦", "Guangsha"),
    ("明德", "Mingde"), ("正和", "Zhenghe"), ("远航", "Yuanhang"), ("联众", "Lianzhong"), ("晨光", "Chenguang"),
    ("东方", "Dongfang"), ("南岭", "Nanling"), ("北辰", "Beichen"), ("长青", "Changqing"), ("汇通", "Huitong"),
]  # fmt: skip
TRADES = [
    ("科技", "Technology", "I"), ("电子", "Electronics", "C"), ("贸易", "Trading", "F"), ("建设工程", "Construction", "E"),
    ("餐饮管理", "Catering Management", "H"), ("物流", "Logistics", "G"), ("医药", "Pharmaceutical", "C"),
    ("食品", "Food", "C"), ("环保科技", "Environmental Technology", "N"), ("信息技术", "Information Technology", "I"),
    ("房地产开发", "Real Estate Development", "K"), ("教育咨询", "Education Consulting", "P"),
    ("新能源", "New Energy", "D"), ("文化传媒", "Culture and Media", "R"), ("商务服务", "Business Services", "L"),
]  # fmt: skip
CITIES = {"440305": ("深圳", "Shenzhen", "SZ-AMR"), "440306": ("深圳", "Shenzhen", "SZ-AMR"),
          "440300": ("深圳", "Shenzhen", "SZ-AMR"), "440106": ("广州", "Guangzhou", "GZ-AMR"),
          "440100": ("广州", "Guangzhou", "GZ-AMR")}  # fmt: skip
PUNISHMENT_BASES = [
    "《中华人民共和国产品质量法》第四十九条",
    "《中华人民共和国食品安全法》第一百二十四条",
    "《中华人民共和国广告法》第五十五条",
    "《中华人民共和国价格法》第四十条",
]
PUNISHMENT_FACTS = [
    "销售不符合保障人体健康和人身、财产安全的国家标准的产品",
    "经营超过保质期的食品",
    "发布虚假广告，欺骗、误导消费者",
    "未明码标价，收取未予标明的费用",
]
BIRTHPLACES = ["440104", "440105", "440303", "440304", "110101", "330102", "420102", "510104"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "秀英", "建华", "志强", "海燕"]  # fmt: skip


def demo_entity(i: int) -> EntityInput:
    """The i-th demo entity, always the same for the same i."""
    rnd = random.Random(i)  # noqa: S311 - synthetic data, not secrets
    division = rnd.choice(list(CITIES))
    city_zh, city_en, _dept = CITIES[division]
    brand_zh, brand_en = BRANDS[i % len(BRANDS)]
    trade_zh, trade_en, industry = TRADES[(i // len(BRANDS)) % len(TRADES)]
    kind = rnd.random()
    body = f"{(i * 7919 + 10_000_000) % 100_000_000:08d}"
    if kind < 0.8:  # enterprise, market regulation
        suffix_zh, suffix_en = (
            ("股份有限公司", "Co., Ltd. (Joint Stock)") if i % 9 == 0 else ("有限公司", "Co., Ltd.")
        )
        name_zh = f"{city_zh}{brand_zh}{trade_zh}{suffix_zh}"
        name_en = f"{city_en} {brand_en} {trade_en} {suffix_en}"
        code = make_uscc("9", "1", division, organisation_code(body))
    elif kind < 0.92:  # individual business
        name_zh = f"{city_zh}市{rnd.choice(SURNAMES)}记{trade_zh[:2]}店"
        name_en = ""
        code = make_uscc("9", "2", division, organisation_code(body))
    elif kind < 0.96:  # social organisation
        name_zh = f"{city_zh}市{trade_zh[:2]}行业协会"
        name_en = f"{city_en} {trade_en} Industry Association"
        code = make_uscc("5", "1", division, organisation_code(body))
    else:  # public institution
        name_zh = f"{city_zh}市{brand_zh}{trade_zh[:2]}服务中心"
        name_en = f"{city_en} {brand_en} {trade_en} Service Centre"
        code = make_uscc("1", "2", division, organisation_code(body))
    birth = date(1960, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 40))
    id_number = ""
    while not ric.is_valid(id_number):  # a birthplace code in use in the birth year
        first17 = f"{rnd.choice(BIRTHPLACES)}{birth:%Y%m%d}{rnd.randrange(0, 1000):03d}"
        id_number = first17 + ric.calc_check_digit(first17 + "0")
    return EntityInput(
        code=code,
        name_zh=name_zh + (f"（第{i // 450 + 1}分公司）" if i >= 450 else ""),
        name_en=name_en,
        division=division,
        industry=industry,
        registered_on=date(2005, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 20)),
        address=f"{city_zh}市某区某路{rnd.randrange(1, 999)}号",
        public_sector=MarketEntity.PublicSector.PUBLIC_INSTITUTION if code[:2] == "12" else "",
        supervising_department="GD-SASAC" if code[:2] == "12" else "",
        legal_representative=PersonInput(
            name=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
            id_type=Person.IdType.RESIDENT_ID,
            id_number=id_number,
        ),
    )


def departments_ensure(*, actor: Actor, rows: Iterable[tuple]) -> dict[str, Department]:
    """Every department by code, after creating those of ``rows`` (code, zh, en, division, level,
    parent code) that do not exist yet, through the accounts service; a parent comes before its
    children in ``rows`` or exists already."""
    out = {d.code: d for d in Department.objects.all()}
    for code, zh, en, division, level, parent in rows:
        if code not in out:
            out[code] = accounts.department_create(
                actor=actor,
                code=code,
                name_zh=zh,
                name_en=en,
                division=Division.objects.get(code=division),
                level=level,
                parent=out.get(parent) if parent else None,
            )
    return out
