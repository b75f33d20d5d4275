"""factory_boy factories. Writes go through the services, as in production, so that every
fixture row has its audit event and its guardian grant."""

from __future__ import annotations

import itertools

from stdnum.cn import ric

from credit_portal.accounts import services as accounts
from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.models import Department, Division, User
from records import services
from records.identifiers import make_uscc, organisation_code
from records.models import MarketEntity

_seq = itertools.count(1000)  # explicit small n (fixtures) never collide with generated ones
SYSTEM = system_actor("tests")


def uscc(authority: str = "9", kind: str = "1", division: str = "440305", n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return make_uscc(authority, kind, division, organisation_code(f"T{n:07d}"))


def resident_id(birth: str = "19900307", seq: str = "123", region: str = "440104") -> str:
    first17 = f"{region}{birth}{seq}"
    return first17 + ric.calc_check_digit(first17 + "0")


def department(code: str | None = None, division: str = "440300", **kw) -> Department:
    code = code or f"DEPT-{next(_seq)}"
    return accounts.department_create(
        actor=SYSTEM,
        code=code,
        name_zh=kw.pop("name_zh", f"测试部门{code}"),
        name_en=kw.pop("name_en", f"Test department {code}"),
        division=Division.objects.get(code=division),
        level=kw.pop("level", "municipal"),
        **kw,
    )


def staff(department: Department, role: str, username: str | None = None) -> User:
    return accounts.staff_user_create(
        actor=SYSTEM,
        username=username or f"staff{next(_seq)}",
        password="a-long-test-password",
        department=department,
        role=role,
        full_name="测试员",
    )


def entity_user(username: str | None = None) -> User:
    return accounts.entity_user_signup(
        username=username or f"user{next(_seq)}",
        password="a-long-test-password",
        full_name="企业用户",
        email="user@example.org",
    )


def entity(department: Department, **kw) -> MarketEntity:
    person = kw.pop("legal_representative", None)
    data = services.EntityInput(
        code=kw.pop("code", None) or uscc(),
        name_zh=kw.pop("name_zh", "深圳市测试科技有限公司"),
        name_en=kw.pop("name_en", "Shenzhen Test Technology Co., Ltd."),
        division=kw.pop("division", "440305"),
        legal_representative=person,
        **kw,
    )
    return services.entity_register(actor=SYSTEM, data=data, department=department)
