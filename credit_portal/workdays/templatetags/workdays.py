"""The calendar in templates.

``{% provisional_mark day %}``: after a deadline's date, the "provisional" badge when the date
falls in a year whose official holidays are not entered yet (``services.is_provisional``), with
``explain=True`` a sentence saying why; nothing otherwise. ``{{ day|provisional }}`` is the test.

``{% working_days "DISCLOSURE_PUBLISH" as days %}``: the working days of the rule in force, for a
page that states a deadline (``{% blocktranslate %}within {{ days }} working days{% endblocktranslate %}``),
the rule named by its constant in ``credit_portal.workdays.rules``.

``{% deadline_rules_section %}``: the deadline rules section of the staff calendar page. The
calendar view belongs to the web app; the rules are this app's, so the page pulls them in rather
than the view passing them."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from credit_portal.accounts.capabilities import Cap
from credit_portal.workdays import rules, services
from credit_portal.workdays.forms import DeadlineRuleForm
from credit_portal.workdays.models import DeadlineRule

register = template.Library()


@register.filter
def provisional(day) -> bool:
    """``{% if due|provisional %}``: the deadline's year has no official holidays entered yet."""
    return services.is_provisional(day)


@register.simple_tag
def provisional_mark(day, explain: bool = False) -> SafeString:
    """The badge (and, with ``explain``, why) after a provisional deadline; empty otherwise."""
    if not services.is_provisional(day):
        return mark_safe("")
    why = _("The official holidays of that year are not entered yet: the date counts weekends only.")
    if explain:
        return format_html(
            ' <span class="badge badge-warn">{}</span> <span class="help">{}</span>', _("provisional"), why
        )
    return format_html(' <span class="badge badge-warn" title="{}">{}</span>', why, _("provisional"))


@dataclass(frozen=True)
class RuleRow:
    rule: DeadlineRule
    basis: str
    status: str  # "in_force" | "scheduled" | "superseded"


def rule_rows(today) -> list[RuleRow]:
    """Every rule, newest first within a key, marked in force (the latest not after today),
    scheduled (later) or superseded (earlier)."""
    zh = (translation.get_language() or "").startswith("zh")
    rows, current_seen = [], set()
    for rule in DeadlineRule.objects.order_by("key", "-effective_from"):
        if rule.effective_from > today:
            status = "scheduled"
        elif rule.key in current_seen:
            status = "superseded"
        else:
            status = "in_force"
            current_seen.add(rule.key)
        rows.append(RuleRow(rule, rule.basis_zh if zh else rule.basis_en, status))
    return rows


@register.simple_tag
def working_days(rule: str) -> int:
    """The working days of the rule named ``rule`` (a constant of ``credit_portal.workdays.rules``,
    e.g. ``"DISCLOSURE_PUBLISH"``) in force today. An unknown name fails the page: a misspelt rule
    must not print a wrong deadline."""
    key = getattr(rules, rule, None)
    if not isinstance(key, str) or not rule.isupper():
        raise template.TemplateSyntaxError(
            f"no deadline rule constant {rule!r} in credit_portal.workdays.rules"
        )
    return services.days_in_force(key)


@register.inclusion_tag("workdays/deadline_rules_section.html", takes_context=True)
def deadline_rules_section(context, form=None):
    actor = context.get("actor")
    can_edit = actor is not None and actor.can(Cap.CALENDAR_MANAGE)
    try:
        action = reverse("staff:deadline_rules")
    except NoReverseMatch:  # the page is not wired in (yet): show the rules, offer no form
        action = None
    return {
        "rows": rule_rows(timezone.localdate()),
        "form": (form or DeadlineRuleForm(prefix="rule")) if can_edit and action else None,
        "action": action,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
