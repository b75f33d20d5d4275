"""The credit office keeps the catalogue and the disclosure-period rules. Every change is audited."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.audit import services as audit
from records.models import CatalogueItem, DisclosurePeriodRule

FIELD_TYPES = {"text", "longtext", "date", "decimal", "choice", "identity"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ITEM_FIELDS = [
    "name_zh", "name_en", "category", "polarity", "use_scope", "period_kind", "fixed_months", "fields", "is_active",
    "sort_order",
]  # fmt: skip


def validate_field_definitions(definitions) -> list:
    """Check the structure of an item's field definitions; raise ValidationError saying where."""
    if not isinstance(definitions, list):
        raise ValidationError({"fields": [str(_("The fields must be a JSON list."))]})
    seen = set()
    problems = []
    for n, d in enumerate(definitions, start=1):
        if not isinstance(d, dict):
            problems.append(_("Field %(n)d is not an object.") % {"n": n})
            continue
        key = d.get("key", "")
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(_("Field %(n)d: the key must be lower-case letters, digits and _.") % {"n": n})
        elif key in seen:
            problems.append(_("Field %(n)d: the key %(key)s is used twice.") % {"n": n, "key": key})
        seen.add(key)
        if not d.get("label_zh") or not d.get("label_en"):
            problems.append(_("Field %(n)d needs a Chinese and an English label.") % {"n": n})
        if d.get("type", "text") not in FIELD_TYPES:
            problems.append(
                _("Field %(n)d: unknown type (use %(types)s).")
                % {"n": n, "types": ", ".join(sorted(FIELD_TYPES))}
            )
        if d.get("type") == "choice":
            choices = d.get("choices")
            if not (
                isinstance(choices, list)
                and choices
                and all(isinstance(c, list) and len(c) == 3 for c in choices)
            ):
                problems.append(
                    _("Field %(n)d: a choice needs choices as [value, Chinese, English] lists.") % {"n": n}
                )
        headers = d.get("headers", [])
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            problems.append(_("Field %(n)d: headers must be a list of column names.") % {"n": n})
    if problems:
        raise ValidationError({"fields": [str(p) for p in problems]})
    return definitions


@transaction.atomic
def catalogue_item_update(
    *,
    actor: Actor,
    code: str,
    changes: dict,
    recording_departments: list[Department] | None = None,
    validate_only: bool = False,
) -> CatalogueItem | None:
    """Change a catalogue item; every error at once (its field definitions' and its columns').
    ``validate_only``: check, write nothing, return None. Side effects: audit event, the item's
    records re-planned when its scope or period changed."""
    actor.require(Cap.CATALOGUE_MANAGE)
    item = CatalogueItem.objects.select_for_update().get(code=code)
    before = {
        **audit.snapshot(item, ITEM_FIELDS),
        "recording_departments": sorted(d.code for d in item.recording_departments.all()),
    }
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    if "fields" in changes:
        try:
            validate_field_definitions(changes["fields"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    for name, value in changes.items():
        setattr(item, name, value)
    try:
        item.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None
    item.save()
    if recording_departments is not None:
        item.recording_departments.set(recording_departments)
    after = {
        **audit.snapshot(item, ITEM_FIELDS),
        "recording_departments": sorted(d.code for d in item.recording_departments.all()),
    }
    changed = [k for k in after if before.get(k) != after[k]]
    audit.log(
        actor=actor,
        action="records.catalogue.updated",
        target=item,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    if set(changed) & REPLANNING_FIELDS:
        _replan_item_records(actor, item)
    return item


# The audit event lists the records a re-plan changed when they are few; beyond that, how many and
# the range of their ids (the records themselves carry their new state and updated_at).
_AUDIT_ID_LIMIT = 10_000


def _ids_or_count(ids: list[int]):
    if len(ids) <= _AUDIT_ID_LIMIT:
        return ids
    return {"count": len(ids), "first": min(ids), "last": max(ids)}


# A change of these re-plans the public life of the item's records already recorded.
REPLANNING_FIELDS = {"use_scope", "period_kind", "fixed_months"}


def _replan_item_records(actor: Actor, item: CatalogueItem) -> None:
    """The item's records follow its new scope or period at once (set-based, in the edit's
    transaction): what may no longer be public leaves public view; what now is public is due
    under the 7-working-day rule; periods that are now over end. Side effects: one audit event,
    change-feed entries for the records that became expired."""
    from records.fields import RecordValidator
    from records.models import CreditRecord, RecordChange
    from records.services import planning
    from records.services.credit import _emit

    today = timezone.localdate()
    validator = RecordValidator(department=None, today=today, workflow=True)
    outcome = planning.item_replan(item=item, today=today, rule_for=validator.rule_for)
    if not outcome["changed"]:
        return
    audit.log(
        actor=actor,
        action="records.catalogue.records_replanned",
        target=item,
        data={
            "use_scope": item.use_scope,
            "period_kind": item.period_kind,
            **{key: _ids_or_count(outcome[key]) for key in ("withdrawn", "ended", "pending")},
            "changed": len(outcome["changed"]),
        },
    )
    expired = list(
        CreditRecord.objects.select_related("item", "entity", "department")
        .filter(pk__in=outcome["ended"], status=CreditRecord.Status.EXPIRED)
        .order_by("pk")
    )
    if expired:
        _emit(expired, RecordChange.Kind.EXPIRED)


RULE_TAKEN = _("A rule for this severity already starts on that date.")


@transaction.atomic
def period_rule_add(
    *,
    actor: Actor,
    effective_from: date,
    severity: str,
    min_months: int,
    max_months: int,
    published_by_default: bool,
    restorable: bool,
    basis_zh: str,
    basis_en: str,
    validate_only: bool = False,
) -> DisclosurePeriodRule | None:
    """Enter a new rule in force from ``effective_from`` (decisions dated from then follow it; earlier
    decisions keep the rule of their date). Every error at once; ``validate_only``: check, write
    nothing, return None."""
    actor.require(Cap.CATALOGUE_MANAGE)
    rule = DisclosurePeriodRule(
        effective_from=effective_from,
        severity=severity,
        min_months=min_months,
        max_months=max_months,
        published_by_default=published_by_default,
        restorable=restorable,
        basis_zh=basis_zh,
        basis_en=basis_en,
    )
    errors: dict[str, list[str]] = {}
    try:
        rule.full_clean(validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if min_months is not None and max_months is not None and min_months > max_months:
        errors.setdefault("max_months", []).append(str(_("The maximum is below the minimum.")))
    if (
        "effective_from" not in errors
        and DisclosurePeriodRule.objects.filter(effective_from=effective_from, severity=severity).exists()
    ):
        errors.setdefault("effective_from", []).append(str(RULE_TAKEN))
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise ValidationError({"effective_from": [str(RULE_TAKEN)]}) from None
    period_rules_replan(actor=actor, decided_from=effective_from, severities=[severity])
    audit.log(actor=actor, action="records.period_rule.added", target=rule, after=audit.snapshot(rule, [
        "effective_from", "severity", "min_months", "max_months", "published_by_default", "restorable", "basis_zh", "basis_en",
    ]))  # fmt: skip
    return rule


def period_rules_replan(
    *,
    actor: Actor,
    decided_from: date,
    decided_before: date | None = None,
    severities: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Re-plan the records decided from ``decided_from`` (before ``decided_before``) of every item
    whose period follows the disclosure-period rules, after a rule was entered or corrected: each
    record follows the rule in force on its decision date. Set-based, per item, inside the
    caller's transaction (``period_rule_add``) or its own (the ``replan_disclosure`` command).
    Returns counts; ``dry_run`` writes nothing. Side effects: one audit event, change-feed entries
    for the records that became expired."""
    actor.require(Cap.CATALOGUE_MANAGE)
    from records.fields import RecordValidator
    from records.models import CreditRecord, RecordChange
    from records.services import planning
    from records.services.credit import _emit

    today = timezone.localdate()
    validator = RecordValidator(department=None, today=today, workflow=True)
    totals = {"withdrawn": 0, "ended": 0, "pending": 0, "changed": 0}
    ended: list[int] = []
    with transaction.atomic():
        items = CatalogueItem.objects.filter(period_kind=CatalogueItem.PeriodKind.SEVERITY).order_by("pk")
        for item in items:
            for severity in severities or [None]:
                outcome = planning.item_replan(
                    item=item,
                    today=today,
                    rule_for=validator.rule_for,
                    decided_from=decided_from,
                    decided_before=decided_before,
                    severity=severity,
                    write=not dry_run,
                )
                for key in totals:
                    totals[key] += len(outcome[key])
                ended.extend(outcome["ended"])
        if dry_run or not totals["changed"]:
            return totals
        audit.log(
            actor=actor,
            action="records.period_rules.records_replanned",
            data={
                "decided_from": decided_from,
                "decided_before": decided_before,
                "severities": severities,
                **totals,
            },
        )
        expired = list(
            CreditRecord.objects.select_related("item", "entity", "department")
            .filter(pk__in=ended, status=CreditRecord.Status.EXPIRED)
            .order_by("pk")
        )
        if expired:
            _emit(expired, RecordChange.Kind.EXPIRED)
    return totals
