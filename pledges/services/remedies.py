"""What a confirmed breach tells the entity it may do about it (救济途径) and how it may seek credit
restoration (信用修复告知, served with the decision: 两书同达).

The wording and its citations are data (``RemedyRule``, versioned by the day each row takes
effect; the credit office keeps them). The numbers come from the rules that own them: the working
days the department has to answer an objection from the deadline rule ``objection.answer``, the
earliest day restoration may be sought from the minimum period of the disclosure-period rule in
force on the decision date for the finding's severity."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.audit import services as audit
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from pledges import selectors
from pledges.models import RemedyRule
from pledges.services.common import text_into
from records.fields import Errors
from records.services.credit import add_months

Kind = RemedyRule.Kind
OBJECTION_ANSWER_RULE = rules.OBJECTION_ANSWER
# The order the notice lists them in: the remedies against the finding, then restoration.
REMEDIES = (Kind.OBJECTION, Kind.RECONSIDERATION, Kind.LITIGATION)
_NUMERALS_ZH = "一二三四五六七八九"
_RULE_FIELDS = ["kind", "effective_from", "text_zh", "text_en", "basis_zh", "basis_en"]


@dataclass(frozen=True)
class DecisionRemedies:
    """The remedies and the restoration notice of one decision, in both languages, with the
    earliest day restoration may be sought (None when the rule makes the finding not restorable)."""

    text_zh: str
    text_en: str
    restoration_from: date | None
    rules: dict[str, int]


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: dict[str, Any]) -> str:
    try:
        return text.format_map(_Missing(values))
    except (ValueError, IndexError, AttributeError):  # checked when entered; never lose the text
        return text


def decision_remedies(*, severity: str, decided_on: date, department: Department) -> DecisionRemedies:
    """The remedies and the restoration notice of a breach finding of ``severity`` decided on
    ``decided_on`` by ``department``. Refused (key ``remedies``) when a rule they need is not in
    force on that day: a decision is not served without them."""
    rules = selectors.remedy_rules_in_force(decided_on)
    missing = [kind for kind in (*REMEDIES, Kind.RESTORATION) if kind not in rules]
    period = selectors.period_rule(severity, decided_on)
    if missing or period is None:
        names = ", ".join(str(Kind(kind).label) for kind in missing)
        if period is None:
            names = ", ".join(filter(None, [names, str(_("disclosure period"))]))
        raise ValidationError(
            {
                "remedies": [
                    str(
                        _(
                            "No rule in force on %(date)s words the remedies of the decision (%(names)s): the credit office enters it under Pledges, Remedies first."
                        )
                        % {"date": f"{decided_on:%Y-%m-%d}", "names": names}
                    )
                ]
            }
        )
    answer_days = workdays.deadline_days(OBJECTION_ANSWER_RULE, decided_on)
    lines_zh, lines_en = ["救济途径："], ["Remedies:"]
    for n, kind in enumerate(REMEDIES):
        rule = rules[kind]
        values = {"answer_days": answer_days}
        lines_zh.append(f"（{_NUMERALS_ZH[n]}）{_fill(rule.text_zh, values)}（依据：{rule.basis_zh}）")
        lines_en.append(f"{n + 1}. {_fill(rule.text_en, values)} (Basis: {rule.basis_en})")
    rule = rules[Kind.RESTORATION]
    if period.restorable:
        earliest = add_months(decided_on, period.min_months)
        values = {"earliest": f"{earliest:%Y-%m-%d}", "min_months": period.min_months}
        text_zh = _fill(rule.text_zh, {**values, "department": department.name_zh})
        text_en = _fill(rule.text_en, {**values, "department": department.name_en or department.name_zh})
        basis_zh, basis_en = rule.basis_zh, rule.basis_en
        if period.basis_zh != rule.basis_zh:
            basis_zh += f"；最短公示期依据：{period.basis_zh}"
            basis_en += f"; minimum period: {period.basis_en}"
        lines_zh.append(f"信用修复告知：{text_zh}（依据：{basis_zh}）")
        lines_en.append(f"Credit restoration: {text_en} (Basis: {basis_en})")
    else:
        earliest = None
        lines_zh.append(f"信用修复告知：依据{period.basis_zh}，该失信信息不适用信用修复。")
        lines_en.append(f"Credit restoration: under {period.basis_en}, this information cannot be restored.")
    return DecisionRemedies(
        text_zh="\n".join(lines_zh),
        text_en="\n".join(lines_en),
        restoration_from=earliest,
        rules={**{kind: rules[kind].pk for kind in rules}, "disclosure_period": period.pk},
    )


def _placeholders_into(errors: Errors, key: str, text: str, allowed: tuple[str, ...]) -> None:
    try:
        fields = [name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError:
        fields = None
    allowed_text = ", ".join("{" + name + "}" for name in allowed) or str(_("none"))
    if fields is None or any(name not in allowed for name in fields):
        errors.add(
            key,
            _("Only these placeholders may be used here: %(allowed)s (write a brace as {{ or }}).")
            % {"allowed": allowed_text},
        )


@transaction.atomic
def remedy_rule_set(
    *,
    actor: Actor,
    kind: str,
    effective_from: date,
    text_zh: str,
    text_en: str,
    basis_zh: str,
    basis_en: str,
    validate_only: bool = False,
) -> RemedyRule | None:
    """Enter (or correct) how the decision on a breach words a remedy from ``effective_from``:
    a changed law is a new row with a later date, and decisions taken before it keep the old
    wording. For the credit office (``calendar:manage``, which keeps the deadline rules too).
    Side effects: audit event (with the previous wording when a row is corrected).
    ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.CALENDAR_MANAGE)
    errors = Errors()
    if kind not in Kind.values:
        errors.add("kind", _("Choose one of the remedies listed."))
    if not isinstance(effective_from, date):
        errors.add("effective_from", _("Enter the date the wording takes effect."))
    allowed = RemedyRule.PLACEHOLDERS.get(kind, ())
    values = {}
    for key, value, limit in (
        ("text_zh", text_zh, 400),
        ("text_en", text_en, 400),
        ("basis_zh", basis_zh, 200),
        ("basis_en", basis_en, 200),
    ):
        values[key] = text_into(errors, key, value, max_length=limit, required=True)
        if key.startswith("text") and values[key]:
            _placeholders_into(errors, key, values[key], allowed)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    existing = RemedyRule.objects.select_for_update().filter(kind=kind, effective_from=effective_from).first()
    before = audit.snapshot(existing, _RULE_FIELDS) if existing else None
    rule = existing or RemedyRule(kind=kind, effective_from=effective_from)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save()
    audit.log(
        actor=actor,
        action="pledges.remedy_rule.set",
        target=rule,
        before=before,
        after=audit.snapshot(rule, _RULE_FIELDS),
    )
    return rule
