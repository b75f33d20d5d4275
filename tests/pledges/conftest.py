"""The fixtures of the pledge tests: a published matter of ``department`` with its template and
education, an entity user acting for ``entity``, an industry association with ``entity`` a member."""

from __future__ import annotations

import pytest

from credit_portal.accounts.actors import actor_for_user
from pledges import services
from records.services import organisations
from tests import factories as f
from tests.conftest import _member
from tests.pledges.support import CONSEQUENCES_ZH, TEXT_ZH


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


@pytest.fixture
def matter(reviewer_actor):
    """A matter of ``department``: one material always needed, two a pledge may stand in for."""
    made = services.matter_save(
        actor=reviewer_actor,
        data=services.MatterInput(
            code="food-business",
            name_zh="食品经营许可",
            name_en="Food business licence",
            materials_due_days=20,
            statutory_days=10,
        ),
        materials=[
            services.MaterialInput(name_zh="申请书", name_en="Application form"),
            services.MaterialInput(name_zh="设备布局图", name_en="Equipment layout", pledge_may_replace=True),
            services.MaterialInput(name_zh="管理制度", name_en="Management rules", pledge_may_replace=True),
        ],
    )
    services.pledge_template_publish(
        actor=reviewer_actor,
        matter_id=made.pk,
        text_zh=TEXT_ZH,
        text_en="The applicant pledges that its materials are true and that missing ones follow in time.",
        consequences_zh=CONSEQUENCES_ZH,
        consequences_en="An untrue pledge or late materials: the permit is revoked and the breach is published.",
    )
    services.compliance_material_save(
        actor=reviewer_actor,
        matter_id=made.pk,
        data=services.EducationInput(
            title_zh="办理须知",
            body_zh="经营场所应当符合要求。",
            links=[{"title": "食品安全法", "url": "https://www.samr.gov.cn/"}],
            checklist=[{"zh": "健康证明", "en": "Health certificates"}],
        ),
    )
    return made


@pytest.fixture
def materials(matter):
    return list(matter.materials.order_by("order"))


@pytest.fixture
def no_pledge_matter(reviewer_actor):
    return services.matter_save(
        actor=reviewer_actor,
        data=services.MatterInput(code="discharge", name_zh="排污许可", pledge_allowed=False),
        materials=[services.MaterialInput(name_zh="申请表", pledge_may_replace=True)],
    )


@pytest.fixture
def entity_actor(entity_user):
    return actor_for_user(entity_user)


@pytest.fixture
def association_entity(department):
    return f.entity(
        department,
        code=f.uscc(authority="5", kind="1", n=77),
        name_zh="深圳市食品行业协会",
        name_en="Shenzhen Food Industry Association",
    )


@pytest.fixture
def association(credit_officer, association_entity, entity):
    actor = actor_for_user(credit_officer)
    made = organisations.association_register(
        actor=actor,
        code=association_entity.code,
        pledge_system_zh="会员单位承诺守法诚信经营，接受协会自律管理。",
    )
    organisations.association_member_add(actor=actor, association_id=made.pk, code=entity.code)
    return made


@pytest.fixture
def association_user(association_entity):
    return _member(f.entity_user("association_user"), association_entity)
