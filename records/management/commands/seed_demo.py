"""Demo data: departments, one user per role, a few hundred entities; ``--entities N`` at scale.

Idempotent: running it again adds nothing that is already there. The departments, the words the
names are made of and the entities themselves are in records/demo.py, which the benchmark shares."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from credit_portal.accounts import services as accounts
from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.demo import DEMO_PASSWORD  # production settings refuse accounts with it
from credit_portal.accounts.models import Department, Division, User
from credit_portal.audit import services as audit
from credit_portal.progress import Progress
from records import services
from records.demo import (
    BRANDS,
    CITIES,
    DEPARTMENTS,
    PUNISHMENT_BASES,
    PUNISHMENT_FACTS,
    TRADES,
    demo_entity,
    departments_ensure,
)
from records.fields import RecordInput
from records.identifiers import entity_type_of, make_uscc, organisation_code
from records.models import CreditRecord, EntityClaim, EntityMembership, MarketEntity
from records.services import publication

USERS = [
    # username, full name, department, role, superuser
    ("admin", "系统管理员", "GD-DRC", StaffRole.CREDIT_OFFICE, True),
    ("credit_office", "信用办 陈主任", "GD-DRC", StaffRole.CREDIT_OFFICE, False),
    ("sz_admin", "深圳市监局 管理员", "SZ-AMR", StaffRole.DEPARTMENT_ADMIN, False),
    ("sz_reviewer", "深圳市监局 审核员", "SZ-AMR", StaffRole.REVIEWER, False),
    ("sz_clerk", "深圳市监局 经办人", "SZ-AMR", StaffRole.CLERK, False),
    ("gz_clerk", "广州市监局 经办人", "GZ-AMR", StaffRole.CLERK, False),
]


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
        self._records(users)
        if entities is not None:
            if entities < 0:
                raise CommandError("--entities must be zero or more")
            self._bulk(system, departments, entities, batch_size)
        self._stage_apps()
        if not quiet:
            self._print_logins()

    def _stage_apps(self) -> None:
        """Each app built on the records hub may ship a ``seed_<app label>_demo`` command; it runs
        after the departments, users and entities above exist. Called by name, so the hub never
        imports the apps built on it."""
        commands = get_commands()
        for config in apps.get_app_configs():
            name = f"seed_{config.label}_demo"
            if name in commands:
                call_command(name, stdout=self.stdout, stderr=self.stderr)

    # --- departments and users -----------------------------------------------------------------
    def _departments(self, system) -> dict[str, Department]:
        return departments_ensure(actor=system, rows=DEPARTMENTS)

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

    # --- credit records ---------------------------------------------------------------------------
    def _records(self, users) -> None:
        """Punishments and permits of the demo entities, as the departments' systems would send
        them (idempotent on department + decision number). Older ones are published at once, as
        the disclosure sweep would have done; the most recent wait for the sweep, and a few are
        drafts awaiting review, so the disclosure board has something to show."""
        today = timezone.localdate()
        by_department: dict[str, list] = {}
        for i in range(300):
            entity = demo_entity(i)
            dept = CITIES[entity.division][2]
            rnd = random.Random(10_000 + i)
            if rnd.random() < 0.55:
                continue
            decided = today - timedelta(days=rnd.randrange(1, 720))
            prefix = "深市监" if dept == "SZ-AMR" else "穗市监"
            if rnd.random() < 0.6:
                fine = rnd.choice(["0.5", "1", "2", "5", "10", "20"])
                data = RecordInput(
                    item="admin_punishment",
                    code=entity.code,
                    decision_number=f"{prefix}罚〔{decided.year}〕{1000 + i}号",
                    decision_date=decided,
                    legal_basis=rnd.choice(PUNISHMENT_BASES),
                    severity=rnd.choice(["general", "general", "serious"]),
                    content=f"罚款人民币{fine}万元",
                    fields={
                        "party_category": "legal_person",
                        "facts": rnd.choice(PUNISHMENT_FACTS),
                        "punishment_category": "fine",
                        "fine_amount": fine,
                        "legal_rep_name": entity.legal_representative.name,
                        "legal_rep_id_number": entity.legal_representative.id_number,
                    },
                )
            else:
                data = RecordInput(
                    item="admin_permit",
                    code=entity.code,
                    decision_number=f"{prefix}许〔{decided.year}〕{2000 + i}号",
                    decision_date=decided,
                    legal_basis="《中华人民共和国食品安全法》第三十五条",
                    content="准予食品经营许可",
                    valid_from=decided,
                    valid_to=decided + timedelta(days=5 * 365),
                    fields={
                        "party_category": "legal_person",
                        "decision_doc_name": "食品经营许可决定书",
                        "permit_category": "ordinary",
                        "certificate_name": "食品经营许可证",
                        "certificate_number": f"JY{entity.division}{i:08d}",
                        "permit_status": "valid",
                    },
                )
            by_department.setdefault(dept, []).append(data)
        actors = {"SZ-AMR": actor_for_user(users["sz_reviewer"]), "GZ-AMR": actor_for_user(users["gz_clerk"])}
        for dept, rows in by_department.items():
            services.records_import(actor=actors[dept], rows=list(enumerate(rows, start=1)), provenance="api")
        # What the sweep would have published over the past two years, each on its due date (the
        # sweep publishes earliest-due first, so a limit of "those due that day" is exact). Records
        # decided in the last days are left for the running sweep.
        system = system_actor("seed_demo")
        pending = (
            CreditRecord.objects.filter(disclosure="pending", status="effective", disclosure_due_on__lt=today)
            .values("disclosure_due_on")
            .annotate(n=Count("id"))
            .order_by("disclosure_due_on")
        )
        for row in pending:
            day = row["disclosure_due_on"]
            at = timezone.make_aware(datetime.combine(day, time(10, 0)))
            publication.publish_due(actor=system, today=day, limit=row["n"], at=at)
        # Three drafts entered by the clerk this week, awaiting sz_reviewer.
        clerk = actor_for_user(users["sz_clerk"])
        for n in range(3):
            number = f"深市监罚〔{today.year}〕{9000 + n}号"
            if CreditRecord.objects.filter(department=clerk.department, decision_number=number).exists():
                continue
            entity = demo_entity(n * 7)
            services.record_create(
                actor=clerk,
                data=RecordInput(
                    item="admin_punishment",
                    code=entity.code,
                    decision_number=number,
                    decision_date=today - timedelta(days=n + 1),
                    legal_basis=PUNISHMENT_BASES[0],
                    severity="general",
                    content="罚款人民币3万元",
                    fields={
                        "party_category": "legal_person",
                        "facts": PUNISHMENT_FACTS[n],
                        "punishment_category": "fine",
                        "fine_amount": "3",
                    },
                ),
                provenance="form",
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
