"""The English content of the records the pledges app writes (``records.summaries``): what its
procedures write in Chinese on a pledge's record and on the record of how it was kept or broken,
said in English for a reader of English (the credit report). Names stay as they are where they
have no English form."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from pledges.models import Pledge
from pledges.services.common import BREACH_ITEM, PLEDGE_ITEM
from pledges.services.performance import pledge_subject
from records import summaries
from records.models import CreditRecord


def _name(obj) -> str:
    return obj.name_en or obj.name_zh


def _signed(pledge: Pledge) -> str:
    entity = _name(pledge.entity)
    if pledge.kind == Pledge.Kind.ASSOCIATION and pledge.association_id is not None:
        return (
            f"{entity} made a credit pledge ({pledge.number}) under the pledge system of "
            f"{_name(pledge.association.entity)}."
        )
    if pledge.application_id is None:
        return f"{entity} made a public credit pledge ({pledge.number})."
    application = pledge.application
    text = (
        f"{entity} made a credit pledge on “{_name(application.matter)}” (application {application.number})."
    )
    missing = [_name(m) for m in application.missing_materials.all()]
    if missing and pledge.materials_due_on:
        text += (
            f" Missing materials: {'; '.join(missing)}, to be supplied by {pledge.materials_due_on:%Y-%m-%d}."
        )
    return text


def _settled(pledge: Pledge, record: CreditRecord) -> str:
    entity = _name(pledge.entity)
    _about_zh, about_en = pledge_subject(pledge)
    if record.item.code == BREACH_ITEM:
        return (
            f"{entity} broke its credit pledge ({pledge.number}) on {about_en}; the department notified the "
            "intended finding, its facts, grounds and basis, and the right to state a defence."
        )
    late = (
        pledge.materials_due_on is not None
        and pledge.settled_at is not None
        and timezone.localdate(pledge.settled_at) > pledge.materials_due_on
    )
    if late:
        return f"The credit pledge ({pledge.number}) of {entity} on {about_en}: the missing materials were supplied late and accepted after checking."
    return f"The credit pledge ({pledge.number}) of {entity} on {about_en} was kept: the missing materials were supplied in time."


def english_contents(records: list[CreditRecord]) -> dict[int, str]:
    ids = [r.pk for r in records]
    by_id = {r.pk: r for r in records}
    pledges = (
        Pledge.objects.filter(Q(record_id__in=ids) | Q(performance_record_id__in=ids))
        .select_related("entity", "association__entity", "application__matter")
        .prefetch_related("application__missing_materials")
    )
    out: dict[int, str] = {}
    for pledge in pledges:
        if pledge.record_id in by_id:
            out[pledge.record_id] = _signed(pledge)
        if pledge.performance_record_id in by_id:
            out[pledge.performance_record_id] = _settled(pledge, by_id[pledge.performance_record_id])
    return out


summaries.register(PLEDGE_ITEM, english_contents)
summaries.register(BREACH_ITEM, english_contents)
