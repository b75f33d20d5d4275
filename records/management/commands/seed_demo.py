"""Demo data: departments, one user per role, a few hundred entities; ``--entities N`` at scale.

Idempotent: running it again adds nothing that is already there."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from stdnum.cn import ric

from credit_portal.accounts import services as accounts
from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.models import Department, Division, User
from credit_portal.audit import services as audit
from credit_portal.progress import Progress
from records import services
from records.identifiers import entity_type_of, make_uscc, organisation_code
from records.models import EntityClaim, EntityMembership, MarketEntity, Person
from records.services import EntityInput, PersonInput

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed for the demo; never used outside seed_demo

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

USERS = [
    # username, full name, department, role, superuser
    ("admin", "系统管理员", "GD-DRC", StaffRole.CREDIT_OFFICE, True),
    ("credit_office", "信用办 陈主任", "GD-DRC", StaffRole.CREDIT_OFFICE, False),
    ("sz_admin", "深圳市监局 管理员", "SZ-AMR", StaffRole.DEPARTMENT_ADMIN, False),
    ("sz_reviewer", "深圳市监局 审核员", "SZ-AMR", StaffRole.REVIEWER, False),
    ("sz_clerk", "深圳市监局 经办人", "SZ-AMR", StaffRole.CLERK, False),
    ("gz_clerk", "广州市监局 经办人", "GZ-AMR", StaffRole.CLERK, False),
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
BIRTHPLACES = ["440104", "440105", "440303", "440304", "110101", "330102", "420102", "510104"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "军",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "海燕",
]


def demo_entity(i: int) -> EntityInput:
    """The i-th demo entity, always the same for the same i."""
    rnd = random.Random(i)
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


class Command(BaseCommand):
    help = "Load idempotent demo data; --entities N generates N entities at scale with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=int, default=None, help="generate this many entities in bulk")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--quiet", action="store_true", help="do not print the demo logins")

    def handle(self, *args, entities, batch_size, quiet, **options):
        system = system_actor("seed_demo")
        departments = self._departments(system)
        users = self._users(system, departments)
        self._registry(actor_for_user(users["sz_clerk"]), count=300)
        self._claims(users)
        if entities is not None:
            if entities < 0:
                raise CommandError("--entities must be zero or more")
            self._bulk(system, departments, entities, batch_size)
        if not quiet:
            self._print_logins()

    # --- departments and users -----------------------------------------------------------------
    def _departments(self, system) -> dict[str, Department]:
        out = {d.code: d for d in Department.objects.all()}
        for code, zh, en, division, level, parent in DEPARTMENTS:
            if code not in out:
                out[code] = accounts.department_create(
                    actor=system,
                    code=code,
                    name_zh=zh,
                    name_en=en,
                    division=Division.objects.get(code=division),
                    level=level,
                    parent=out.get(parent) if parent else None,
                )
        return out

    def _users(self, system, departments) -> dict[str, User]:
        out = {}
        for username, full_name, dept, role, superuser in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = accounts.staff_user_create(
                    actor=system,
                    username=username,
                    password=DEMO_PASSWORD,
                    department=departments[dept],
                    role=role,
                    full_name=full_name,
                    email=f"{username}@example.org",
                )
                if superuser:
                    User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
            out[username] = user
        for username, full_name in (("demo_company", "张伟"), ("demo_applicant", "李娜")):
            user = User.objects.filter(username=username).first()
            if user is None:
                user = accounts.entity_user_signup(
                    username=username,
                    password=DEMO_PASSWORD,
                    full_name=full_name,
                    email=f"{username}@example.org",
                )
            out[username] = user
        return out

    # --- the registry ----------------------------------------------------------------------------
    def _registry(self, clerk_actor, count: int) -> None:
        wanted = [demo_entity(i) for i in range(count)]
        existing = set(
            MarketEntity.objects.filter(code__in=[e.code for e in wanted]).values_list("code", flat=True)
        )
        missing = [e for e in wanted if e.code not in existing]
        if not missing:
            return
        progress = Progress(len(missing), "demo entities")
        departments = {d.code: d for d in Department.objects.all()}
        for data in missing:
            dept = departments[CITIES[data.division][2]]
            actor = clerk_actor if dept.code == clerk_actor.department.code else system_actor("seed_demo")
            services.entity_register(actor=actor, data=data, department=dept)
            progress.advance()
        progress.finish()

    def _claims(self, users) -> None:
        """demo_company acts for the first demo entity; demo_applicant has a claim awaiting review."""
        first = MarketEntity.objects.get(code=demo_entity(0).code)
        in_shenzhen = next(i for i in range(1, 300) if CITIES[demo_entity(i).division][2] == "SZ-AMR")
        second = MarketEntity.objects.get(code=demo_entity(in_shenzhen).code)
        company = users["demo_company"]
        if not EntityMembership.objects.filter(user=company, entity=first).exists():
            claim = services.claim_submit(
                actor=actor_for_user(company),
                code=first.code,
                role="legal_representative",
                statement="演示数据",
            )
            services.claim_decide(actor=system_actor("seed_demo"), claim_id=claim.pk, approve=True)
        applicant = users["demo_applicant"]
        if not EntityClaim.objects.filter(user=applicant).exists():
            services.claim_submit(
                actor=actor_for_user(applicant),
                code=second.code,
                role="agent",
                statement="本人为该公司授权经办人，可提供授权委托书。",
            )

    # --- at scale --------------------------------------------------------------------------------
    def _bulk(self, system, departments, total: int, batch_size: int) -> None:
        """N synthetic entities through set-based SQL: bulk_create (ON CONFLICT DO NOTHING) and
        one INSERT ... SELECT of the guardian grants per batch; one audit event per batch."""
        divisions = {d.code: d for d in Division.objects.filter(code__in=CITIES)}
        permission = Permission.objects.get(content_type__app_label="records", codename="change_marketentity")
        progress = Progress(total, "entities")
        created_total = 0
        for start in range(0, total, batch_size):
            rows = []
            for i in range(start, min(start + batch_size, total)):
                rows.append(self._bulk_row(i, divisions, departments))
            with transaction.atomic():
                created = MarketEntity.objects.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
                codes = [r.code for r in created]
                with connection.cursor() as cursor:
                    cursor.execute(
                        """
                        INSERT INTO records_marketentitygroupobjectpermission (content_object_id, group_id, permission_id)
                        SELECT e.id, d.group_id, %s
                        FROM records_marketentity e JOIN accounts_department d ON d.id = e.registering_department_id
                        WHERE e.code = ANY(%s)
                        ON CONFLICT DO NOTHING
                        """,
                        [permission.pk, codes],
                    )
                    inserted = cursor.rowcount
                audit.log(
                    actor=system,
                    action="records.entity.bulk_generated",
                    data={"batch_start": start, "rows": len(rows), "new_entities": inserted},
                )
            created_total += inserted
            progress.advance(len(rows))
        seconds = progress.finish()
        self.stdout.write(f"{created_total:,} new entities of {total:,} requested in {seconds:,.1f}s")

    @staticmethod
    def _bulk_row(i: int, divisions, departments) -> MarketEntity:
        # Organisation codes from a range the few-hundred demo entities never use.
        division = list(CITIES)[i % len(CITIES)]
        city_zh, city_en, dept = CITIES[division]
        brand_zh, brand_en = BRANDS[i % len(BRANDS)]
        trade_zh, trade_en, industry = TRADES[(i // len(BRANDS)) % len(TRADES)]
        code = make_uscc("9", "1", division, organisation_code(f"B{i:07d}"))
        return MarketEntity(
            code=code,
            name_zh=f"{city_zh}{brand_zh}{trade_zh}有限公司第{i}号",
            name_en=f"{city_en} {brand_en} {trade_en} Co., Ltd. No. {i}",
            entity_type=entity_type_of(code),
            division=divisions[division],
            industry=industry,
            registered_on=date(2000, 1, 1) + timedelta(days=i % 9000),
            registering_department=departments[dept],
        )

    def _print_logins(self) -> None:
        w = self.stdout.write
        w("")
        w(f"Demo logins (password for all: {DEMO_PASSWORD})")
        w("  staff (/staff/):")
        for username, _full_name, dept, role, _superuser in USERS:
            w(f"    {username:<15} {role:<17} {dept}")
        w("  businesses (/my/):")
        w("    demo_company    acts for the first demo entity (legal representative)")
        w("    demo_applicant  has a claim awaiting review by sz_reviewer")
        w(
            "  agencies (/api/v1/): manage.py issue_api_token --department SZ-AMR --scopes entities:read,entities:write"
        )
