"""Publishing matters (事项), their pledge templates and their pre-permit education, and recording
that an applicant read the education. Staff act for their own department only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, NotFound, raise_errors
from pledges.models import (
    ComplianceMaterial,
    EducationAcknowledgement,
    MaterialSubmission,
    Matter,
    MatterMaterial,
    PermitApplication,
    PledgeTemplate,
)
from pledges.services.common import text_into
from records.access import entity_for_member
from records.fields import Errors

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
MAX_DAYS = 365
MAX_MATERIALS = 40
MAX_LINKS = 20
MAX_CHECKLIST = 30

_MATTER_FIELDS = [
    "code", "name_zh", "name_en", "description_zh", "description_en", "pledge_allowed",
    "materials_due_days", "statutory_days", "is_published",
]  # fmt: skip


@dataclass
class MatterInput:
    code: str
    name_zh: str
    name_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    pledge_allowed: bool = True
    materials_due_days: Any = 20
    statutory_days: Any = 20
    is_published: bool = True


@dataclass
class MaterialInput:
    """A row of the matter's material list: ``id`` None for a new one; ``delete`` to drop it."""

    name_zh: str
    name_en: str = ""
    pledge_may_replace: bool = False
    id: int | None = None
    delete: bool = False


@dataclass
class EducationInput:
    title_zh: str
    body_zh: str
    title_en: str = ""
    body_en: str = ""
    links: list[dict[str, str]] = field(default_factory=list)  # [{"title", "url"}]
    checklist: list[dict[str, str]] = field(default_factory=list)  # [{"zh", "en"}]
    order: Any = 0


def _days(errors: Errors, key: str, value: Any) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(key, _("Give a whole number of working days."))
        return 0
    if not 1 <= days <= MAX_DAYS:
        errors.add(key, _("Between 1 and %(max)d working days.") % {"max": MAX_DAYS})
    return days


def _matter_values(errors: Errors, data: MatterInput) -> dict[str, Any]:
    code = str(data.code or "").strip().lower()
    if not CODE_RE.match(code):
        errors.add("code", _("Use 2–64 lower-case letters, digits and hyphens, e.g. food-business."))
    return {
        "code": code,
        "name_zh": text_into(
            errors, "name_zh", data.name_zh, max_length=200, required=True, single_line=True
        ),
        "name_en": text_into(errors, "name_en", data.name_en, max_length=200, single_line=True),
        "description_zh": text_into(errors, "description_zh", data.description_zh, max_length=4000),
        "description_en": text_into(errors, "description_en", data.description_en, max_length=4000),
        "pledge_allowed": bool(data.pledge_allowed),
        "materials_due_days": _days(errors, "materials_due_days", data.materials_due_days),
        "statutory_days": _days(errors, "statutory_days", data.statutory_days),
        "is_published": bool(data.is_published),
    }


def _own_matter(actor: Actor, matter_id: int) -> Matter:
    """The matter, locked, if it is the actor's own department's (matters are edited only by their
    department); else ``NotFound``."""
    actor.require(Cap.PLEDGES_MANAGE)
    return rows.locked_department_row(Matter.objects.all(), actor=actor, credit_office=False, pk=matter_id)


def _materials_snapshot(matter: Matter) -> list[dict[str, Any]]:
    return [
        {"id": m.pk, "name_zh": m.name_zh, "name_en": m.name_en, "pledge_may_replace": m.pledge_may_replace}
        for m in matter.materials.order_by("order", "id")
    ]


CODE_TAKEN = _("Your department already has a matter with this code.")


@transaction.atomic
def matter_save(
    *,
    actor: Actor,
    data: MatterInput,
    materials: list[MaterialInput],
    matter_id: int | None = None,
    validate_only: bool = False,
) -> Matter | None:
    """Publish a new matter of the actor's department, or change one, with its list of materials
    (in the order given). A material some application already used cannot be removed. Raises
    ``ValidationError`` with every error at once (material rows as ``materials.<i>.<field>``), or
    ``Conflict`` for a code the department already uses. Side effect: audit event (before/after).
    ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.PLEDGES_MANAGE)
    if actor.department is None:
        raise NotFound
    matter = _own_matter(actor, matter_id) if matter_id is not None else None
    errors = Errors()
    values = _matter_values(errors, data)
    existing = {m.pk: m for m in matter.materials.all()} if matter else {}
    rows: list[tuple[int, MaterialInput, dict[str, Any]]] = []
    kept = [m for m in materials if not m.delete]
    if len(kept) > MAX_MATERIALS:
        errors.add("materials", _("At most %(n)d materials.") % {"n": MAX_MATERIALS})
    for i, row in enumerate(materials):
        if row.id is not None and row.id not in existing:
            errors.add(f"materials.{i}.name_zh", _("This material is not one of the matter's."))
            continue
        if row.delete:
            rows.append((i, row, {}))
            continue
        rows.append(
            (
                i,
                row,
                {
                    "name_zh": text_into(
                        errors,
                        f"materials.{i}.name_zh",
                        row.name_zh,
                        max_length=200,
                        required=True,
                        single_line=True,
                    ),
                    "name_en": text_into(
                        errors, f"materials.{i}.name_en", row.name_en, max_length=200, single_line=True
                    ),
                    "pledge_may_replace": bool(row.pledge_may_replace),
                },
            )
        )
    removed = [row.id for _i, row, _v in rows if row.delete and row.id is not None]
    if removed:
        used = set(
            MaterialSubmission.objects.filter(material_id__in=removed).values_list("material_id", flat=True)
        ) | set(
            PermitApplication.missing_materials.through.objects.filter(
                mattermaterial_id__in=removed
            ).values_list("mattermaterial_id", flat=True)
        )
        for i, row, _v in rows:
            if row.delete and row.id in used:
                errors.add(
                    f"materials.{i}.name_zh",
                    _(
                        "Applications already refer to this material: it cannot be removed. Rename it instead."
                    ),
                )
    taken = None
    if "code" not in errors:
        others = Matter.objects.filter(department=actor.department, code=values["code"])
        if others.exclude(pk=matter.pk if matter else None).exists():
            taken = Conflict(CODE_TAKEN, field="code")
    raise_errors(errors, taken)
    if validate_only:
        return None

    before = None
    if matter is None:
        matter = Matter(department=actor.department)
    else:
        before = {**audit.snapshot(matter, _MATTER_FIELDS), "materials": _materials_snapshot(matter)}
    for key, value in values.items():
        setattr(matter, key, value)
    try:
        with transaction.atomic():
            matter.save()
    except IntegrityError as exc:
        raise Conflict(CODE_TAKEN, field="code") from exc

    order = 0
    for _i, row, row_values in rows:
        if row.delete:
            if row.id is not None:
                existing[row.id].delete()
            continue
        order += 1
        material = existing.get(row.id) if row.id is not None else MatterMaterial(matter=matter)
        for key, value in row_values.items():
            setattr(material, key, value)
        material.order = order
        material.save()
    after = {**audit.snapshot(matter, _MATTER_FIELDS), "materials": _materials_snapshot(matter)}
    audit.log(
        actor=actor,
        action="pledges.matter.created" if before is None else "pledges.matter.changed",
        target=matter,
        before=before,
        after=after,
    )
    return matter


@transaction.atomic
def pledge_template_publish(
    *,
    actor: Actor,
    matter_id: int,
    text_zh: str,
    consequences_zh: str,
    text_en: str = "",
    consequences_en: str = "",
    validate_only: bool = False,
) -> PledgeTemplate | None:
    """Publish a new version of the matter's pledge. Pledges signed before keep the version and
    words they signed. Publishing the current text again changes nothing. Side effect: audit.
    ``validate_only``: check, write nothing, return None."""
    matter = _own_matter(actor, matter_id)
    errors = Errors()
    values = {
        "text_zh": text_into(errors, "text_zh", text_zh, max_length=8000, required=True),
        "text_en": text_into(errors, "text_en", text_en, max_length=8000),
        "consequences_zh": text_into(
            errors, "consequences_zh", consequences_zh, max_length=4000, required=True
        ),
        "consequences_en": text_into(errors, "consequences_en", consequences_en, max_length=4000),
    }
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    current = matter.templates.order_by("-version").first()
    if current is not None and all(getattr(current, k) == v for k, v in values.items()):
        return current
    version = (matter.templates.aggregate(v=Max("version"))["v"] or 0) + 1
    template = PledgeTemplate.objects.create(matter=matter, version=version, **values)
    audit.log(
        actor=actor,
        action="pledges.template.published",
        target=template,
        after={"matter": matter.pk, "version": version, **values},
    )
    return template


def _links(errors: Errors, links: list[dict[str, str]]) -> list[dict[str, str]]:
    """Titles and web addresses; only http(s) addresses (never ``javascript:`` or ``data:``)."""
    validate = URLValidator(schemes=["http", "https"])
    out = []
    if len(links) > MAX_LINKS:
        errors.add("links", _("At most %(n)d links.") % {"n": MAX_LINKS})
    for i, link in enumerate(links[:MAX_LINKS], start=1):
        title = text_into(errors, "links", link.get("title", ""), max_length=200, single_line=True)
        url = str(link.get("url", "")).strip()
        try:
            validate(url)
            if urlsplit(url).scheme not in ("http", "https"):
                raise ValidationError("scheme")
        except ValidationError:
            errors.add(
                "links", _("Line %(n)d: give a web address starting with https:// or http://.") % {"n": i}
            )
            continue
        out.append({"title": title or url, "url": url})
    return out


def _checklist(errors: Errors, items: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(items) > MAX_CHECKLIST:
        errors.add("checklist", _("At most %(n)d checklist items.") % {"n": MAX_CHECKLIST})
    out = []
    for item in items[:MAX_CHECKLIST]:
        zh = text_into(errors, "checklist", item.get("zh", ""), max_length=300)
        en = text_into(errors, "checklist", item.get("en", ""), max_length=300)
        if zh or en:
            if not zh:
                errors.add("checklist", _("Every checklist item needs its Chinese text."))
            out.append({"zh": zh, "en": en})
    return out


@transaction.atomic
def compliance_material_save(
    *,
    actor: Actor,
    matter_id: int,
    data: EducationInput,
    item_id: int | None = None,
    validate_only: bool = False,
) -> ComplianceMaterial | None:
    """Add or change a piece of the matter's pre-permit education (text, links, checklist). It is
    free and never a condition of an application. Side effect: audit event.
    ``validate_only``: check, write nothing, return None."""
    matter = _own_matter(actor, matter_id)
    item = None
    if item_id is not None:
        item = rows.one_or_not_found(matter.education.all(), pk=item_id)
    errors = Errors()
    order = 0
    try:
        order = int(str(data.order or 0))
        if not 0 <= order <= 1000:
            raise ValueError
    except ValueError:
        errors.add("order", _("Give a whole number from 0 to 1000."))
    values = {
        "title_zh": text_into(
            errors, "title_zh", data.title_zh, max_length=200, required=True, single_line=True
        ),
        "title_en": text_into(errors, "title_en", data.title_en, max_length=200, single_line=True),
        "body_zh": text_into(errors, "body_zh", data.body_zh, max_length=20000, required=True),
        "body_en": text_into(errors, "body_en", data.body_en, max_length=20000),
        "links": _links(errors, list(data.links or [])),
        "checklist": _checklist(errors, list(data.checklist or [])),
        "order": order,
    }
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    fields = list(values)
    before = audit.snapshot(item, fields) if item is not None else None
    item = item or ComplianceMaterial(matter=matter)
    for key, value in values.items():
        setattr(item, key, value)
    item.save()
    audit.log(
        actor=actor,
        action="pledges.education.saved",
        target=item,
        before=before,
        after={"matter": matter.pk, **audit.snapshot(item, fields)},
    )
    return item


@transaction.atomic
def education_acknowledge(*, actor: Actor, matter_id: int, entity_code: str) -> EducationAcknowledgement:
    """Record that the user read the matter's compliance material for one of their entities.
    Free, and never required by anything. Acknowledging again changes nothing. Side effect: audit
    event (the first time)."""
    entity, _membership = entity_for_member(actor, entity_code)
    matter = rows.one_or_not_found(Matter.objects.all(), pk=matter_id, is_published=True)
    ack, created = EducationAcknowledgement.objects.get_or_create(
        matter=matter, entity=entity, user=actor.user
    )
    if created:
        audit.log(
            actor=actor,
            action="pledges.education.acknowledged",
            target=ack,
            after={"matter": matter.pk, "entity": entity.code},
        )
    return ack
