"""Bring the records decided in a window of dates in line with the disclosure-period rules.

    manage.py replan_disclosure --since 2023-05-01 --until 2026-04-01 --dry-run
    manage.py replan_disclosure --since 2023-05-01 --until 2026-04-01

Each record follows the rule in force on its decision date: after a rule is entered for a past
window (NDRC Order 58's, 2023-05-01 to 2026-03-31, came after records of those years had been
planned under the 2019 notice), this re-plans them, set-based, audited as the credit office."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from records.models import Severity
from records.services import catalogue


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Re-plan the disclosure of the records decided in a window of dates under the period rules."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=_day, help="first decision date (YYYY-MM-DD)")
        parser.add_argument("--until", type=_day, help="first decision date NOT re-planned (YYYY-MM-DD)")
        parser.add_argument("--severity", choices=Severity.values, action="append", help="only this severity")
        parser.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")

    def handle(self, *args, since, until, severity, dry_run, **options):
        if until is not None and until <= since:
            raise CommandError("--until must be after --since")
        operator = Actor(
            kind="system", capabilities=frozenset({Cap.CATALOGUE_MANAGE}), system_name="replan_disclosure"
        )
        totals = catalogue.period_rules_replan(
            actor=operator, decided_from=since, decided_before=until, severities=severity, dry_run=dry_run
        )
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            f"{totals['changed']} record(s) {verb}: {totals['withdrawn']} leave public view, "
            f"{totals['ended']} reach the end of their period, {totals['pending']} become due for publication."
        )
