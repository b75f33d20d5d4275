"""Registering and editing market entities and the persons behind them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import personal_data, rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department, Division
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, NotFound, raise_errors
from credit_portal.text import refuse_invisible_in_name
from records.access import CHANGE_ENTITY, can_edit_entity
from records.identifiers import entity_type_of, mask_identity_number, normalise_uscc, validate_resident_id
from records.models import EntityPerson, MarketEntity, MarketEntityGroupObjectPermission, Person

ENTITY_AUDIT_FIELDS = [
    "code", "name_zh", "name_en", "entity_type", "division", "industry", "registered_on", "status", "address",
    "public_sector", "supervising_department", "registering_department",
]  # fmt: skip
_EDITABLE = [
    "name_zh", "name_en", "division", "industry", "registered_on", "status", "address", "public_sector",
    "supervising_department",
]  # fmt: skip


@dataclass
class PersonInput:
    name: str
    id_type: str
    id_number: str
    role: str = EntityPerson.Role.LEGAL_REPRESENTATIVE


@dataclass
class EntityInput:
    """What a form, a file row or an API request says about an entity (codes, not objects)."""

    code: str
    name_zh: str
    division: str
    name_en: str = ""
    industry: str = ""
    registered_on: date | None = None
    status: str = MarketEntity.Status.ACTIVE
    address: str = ""
    public_sector: str = ""
    supervising_department: str = ""
    legal_representative: PersonInput | None = None
    # Actual controllers and responsible persons (and a legal representative, if given here).
    persons: list[PersonInput] = field(default_factory=list)

    def all_persons(self) -> list[tuple[str, PersonInput]]:
        """(error key prefix, person) for every person given, the legal representative first."""
        out = []
        if self.legal_representative is not None:
            person = replace(self.legal_representative, role=EntityPerson.Role.LEGAL_REPRESENTATIVE)
            out.append(("legal_representative", person))
        out.extend((f"persons.{i}", p) for i, p in enumerate(self.persons))
        return out


def _add(errors: dict, field_name: str, error: ValidationError | str) -> None:
    messages = error.messages if isinstance(error, ValidationError) else [str(error)]
    errors.setdefault(field_name, []).extend(messages)


def _validated_person(person: PersonInput, errors: dict, prefix: str) -> tuple[str, str] | None:
    """(clean name, clean number) or None after recording field errors under ``prefix``."""
    name = (person.name or "").strip()
    number = "".join((person.id_number or "").split()).upper()
    ok = True
    if not name:
        _add(errors, f"{prefix}.name", _("The name is required."))
        ok = False
    elif len(name) > 100:
        _add(errors, f"{prefix}.name", _("At most 100 characters."))
        ok = False
    else:
        try:
            refuse_invisible_in_name(name)
        except ValidationError as exc:
            _add(errors, f"{prefix}.name", exc)
            ok = False
    if person.role not in EntityPerson.Role.values:
        _add(errors, f"{prefix}.role", _("Unknown role of a person in an entity."))
        ok = False
    if person.id_type not in Person.IdType.values:
        _add(errors, f"{prefix}.id_type", _("Unknown identity document type."))
        return None
    if person.id_type == Person.IdType.RESIDENT_ID:
        try:
            number = validate_resident_id(number)
        except ValidationError as exc:
            _add(errors, f"{prefix}.id_number", exc)
            ok = False
    elif not (4 <= len(number) <= 40 and number.isalnum() and number.isascii()):
        _add(errors, f"{prefix}.id_number", _("Use 4–40 letters and digits."))
        ok = False
    return (name, number) if ok else None


def _build(data: EntityInput, entity: MarketEntity, *, exclude: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Apply ``data`` to ``entity`` and return every field error at once (nothing is saved)."""
    errors: dict[str, list[str]] = {}
    division = Division.objects.filter(code=(data.division or "").strip()).first()
    if division is None:
        _add(errors, "division", _("Unknown administrative division code."))
    supervisor = None
    if (data.supervising_department or "").strip():
        supervisor = Department.objects.filter(code=data.supervising_department.strip().upper()).first()
        if supervisor is None:
            _add(errors, "supervising_department", _("Unknown department."))
    entity.name_zh = (data.name_zh or "").strip()
    entity.name_en = (data.name_en or "").strip()
    entity.division = division
    entity.industry = data.industry or ""
    entity.registered_on = data.registered_on
    entity.status = data.status or MarketEntity.Status.ACTIVE
    entity.address = (data.address or "").strip()
    entity.public_sector = data.public_sector or ""
    entity.supervising_department = supervisor
    for name in ("name_zh", "name_en", "address"):
        try:
            refuse_invisible_in_name(getattr(entity, name))
        except ValidationError as exc:
            _add(errors, name, exc)
    skip = {*exclude, *errors}
    try:
        entity.full_clean(exclude=sorted(skip), validate_unique=False, validate_constraints=not errors)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault("non_field_errors" if name == "__all__" else name, []).extend(messages)
    if data.registered_on and data.registered_on > timezone.localdate():
        _add(errors, "registered_on", _("The registration date cannot be in the future."))
    return errors


def _link_person(entity: MarketEntity, role: str, name: str, id_type: str, number: str) -> EntityPerson:
    """Link a person (found by identity number, or created) to ``entity`` in ``role``. An entity
    has one legal representative at a time: naming a new one ends the previous one's term."""
    person, _created = Person.objects.get_or_create(
        id_type=id_type,
        id_number_hash=personal_data.lookup_hash(number),
        defaults={
            "name": name,
            "id_number_cipher": personal_data.encrypt(number),
            "id_number_masked": mask_identity_number(number),
        },
    )
    current = EntityPerson.objects.filter(entity=entity, role=role, until__isnull=True)
    existing = current.filter(person=person).first()
    if existing is not None:
        return existing
    if role == EntityPerson.Role.LEGAL_REPRESENTATIVE:
        current.update(until=timezone.localdate())
    return EntityPerson.objects.create(entity=entity, person=person, role=role, since=timezone.localdate())


def _validated_persons(data: EntityInput, errors: dict) -> list[tuple[PersonInput, str, str]]:
    checked = []
    for prefix, person in data.all_persons():
        clean = _validated_person(person, errors, prefix)
        if clean is not None:
            checked.append((person, *clean))
    return checked


def _link_persons(entity: MarketEntity, persons: list[tuple[PersonInput, str, str]]) -> list[str]:
    return [_link_person(entity, p.role, name, p.id_type, number).role for p, name, number in persons]


CODE_TAKEN = _("An entity with this unified social credit code is already registered.")


@transaction.atomic
def entity_register(
    *, actor: Actor, data: EntityInput, department: Department | None = None, validate_only: bool = False
) -> MarketEntity | None:
    """Register a market entity. The registering department is the actor's (or ``department`` for
    the system actor) and receives the guardian grant to edit it.

    Raises ``ValidationError`` with every field error (a code already registered among them), or
    ``Conflict`` when that is the only error. ``validate_only``: check, write nothing, return None.
    Side effects: guardian grant, legal representative, audit event."""
    actor.require(Cap.ENTITIES_WRITE)
    department = actor.department or department
    if department is None:
        raise ValidationError({"registering_department": [_("A registering department is required.")]})
    entity = MarketEntity(code=normalise_uscc(data.code or ""), registering_department=department)
    errors = _build(data, entity)
    persons = _validated_persons(data, errors)
    taken = None
    if "code" not in errors and MarketEntity.objects.filter(code=entity.code).exists():
        taken = Conflict(CODE_TAKEN, field="code")
    raise_errors(errors, taken)
    if validate_only:
        return None
    entity.entity_type = entity_type_of(entity.code)
    try:
        with transaction.atomic():
            entity.save(force_insert=True)
    except IntegrityError as exc:
        if MarketEntity.objects.filter(code=entity.code).exists():
            raise Conflict(CODE_TAKEN, field="code") from exc
        raise
    MarketEntityGroupObjectPermission.objects.create(
        content_object=entity,
        group_id=department.group_id,
        permission=Permission.objects.get(content_type__app_label="records", codename=CHANGE_ENTITY),
    )
    roles = _link_persons(entity, persons)
    audit.log(
        actor=actor,
        action="records.entity.registered",
        target=entity,
        after={**audit.snapshot(entity, ENTITY_AUDIT_FIELDS), "persons": roles},
    )
    return entity


def _entity_to_edit(actor: Actor, code: str) -> MarketEntity:
    """The entity, locked, if the actor may edit it; else ``NotFound``."""
    entity = rows.locked_or_not_found(MarketEntity.objects.all(), code=normalise_uscc(code))
    if not can_edit_entity(actor, entity):
        raise NotFound
    return entity


@transaction.atomic
def entity_update(
    *, actor: Actor, code: str, data: EntityInput, validate_only: bool = False
) -> MarketEntity | None:
    """Change an entity's registry data (never its code). Only departments granted the entity may.
    ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.ENTITIES_WRITE)
    entity = _entity_to_edit(actor, code)
    before = audit.snapshot(entity, ENTITY_AUDIT_FIELDS)
    errors = _build(data, entity, exclude=("code",))
    persons = _validated_persons(data, errors)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None
    entity.save(update_fields=[*_EDITABLE, "updated_at"])
    if before["name_en"] != entity.name_en:
        # Keep the bilingual search of the entity's records in step, in one statement.
        entity.records.update(party_name_en=entity.name_en)
    roles = _link_persons(entity, persons)
    after = audit.snapshot(entity, ENTITY_AUDIT_FIELDS)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    audit.log(
        actor=actor,
        action="records.entity.updated",
        target=entity,
        before={k: before[k] for k in changed},
        after={**changed, "persons": roles},
    )
    return entity


def _touch(entity: MarketEntity) -> None:
    """Mark the entity's registry data as changed now: the persons behind it are part of it (a
    credit report issued before says so at its verification)."""
    MarketEntity.objects.filter(pk=entity.pk).update(updated_at=timezone.now())


@transaction.atomic
def entity_person_add(
    *, actor: Actor, code: str, person: PersonInput, validate_only: bool = False
) -> EntityPerson | None:
    """Link a legal representative, actual controller or responsible person to an entity.
    ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.ENTITIES_WRITE)
    entity = _entity_to_edit(actor, code)
    errors: dict[str, list[str]] = {}
    clean = _validated_person(person, errors, "person")
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None
    link = _link_person(entity, person.role, clean[0], person.id_type, clean[1])
    _touch(entity)
    audit.log(
        actor=actor,
        action="records.entity.person_linked",
        target=entity,
        after={"role": link.role, "person": link.person_id, "masked": link.person.id_number_masked},
    )
    return link


@transaction.atomic
def entity_person_end(*, actor: Actor, code: str, link_id: int) -> EntityPerson:
    """End a person's current role in an entity (the history is kept)."""
    actor.require(Cap.ENTITIES_WRITE)
    link = rows.locked_or_not_found(
        EntityPerson.objects.select_related("entity"), pk=link_id, entity__code=normalise_uscc(code)
    )
    if not can_edit_entity(actor, link.entity):
        raise NotFound
    if link.until is None:
        link.until = timezone.localdate()
        link.save(update_fields=["until"])
        _touch(link.entity)
        audit.log(
            actor=actor,
            action="records.entity.person_ended",
            target=link.entity,
            after={"role": link.role, "person": link.person_id, "until": link.until},
        )
    return link


@transaction.atomic
def entity_grant_department(*, actor: Actor, entity: MarketEntity, department: Department) -> None:
    """Let another department maintain ``entity`` too (credit office only)."""
    actor.require(Cap.ALL_DEPARTMENTS)
    _, created = MarketEntityGroupObjectPermission.objects.get_or_create(
        content_object=entity,
        group_id=department.group_id,
        permission=Permission.objects.get(content_type__app_label="records", codename=CHANGE_ENTITY),
    )
    if created:
        audit.log(
            actor=actor, action="records.entity.granted", target=entity, after={"department": department.code}
        )


@transaction.atomic
def person_identity_reveal(*, actor: Actor, entity: MarketEntity, person_id: int) -> tuple[Person, str]:
    """The clear identity number of a person of ``entity``, for staff entitled to it. Every reveal
    is an audit event (a view of restricted data)."""
    actor.require(Cap.PERSONS_IDENTITY)
    link = (
        EntityPerson.objects.select_related("person").filter(entity=entity, person_id=person_id).first()
        if (actor.can(Cap.ALL_DEPARTMENTS) or can_edit_entity(actor, entity))
        else None
    )
    if link is None:
        raise NotFound
    audit.log(
        actor=actor,
        action="records.person.identity_viewed",
        target=link.person,
        data={"entity": entity.code, "role": link.role},
    )
    return link.person, personal_data.decrypt(link.person.id_number_cipher)
