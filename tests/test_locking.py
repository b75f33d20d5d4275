"""A row lock taken with ``select_related`` must name its own table (``of=("self",)``): a bare
``SELECT ... FOR UPDATE`` over a join also locks the joined rows (the entity of a report, the
catalogue item of a record), which then blocks every insert that references them (foreign keys take
``FOR KEY SHARE`` at commit) while the lock holder waits for the audit lock: a deadlock. The credit
report benchmark found one between a report request and the worker rendering a report on the same
entity."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "credit_portal",
    "records",
    "pledges",
    "disclosure",
    "appraisals",
    "listings",
    "punishments",
    "restoration",
)
# One queryset expression: from select_for_update( to the call that runs it.
LOCK = re.compile(
    r"select_for_update\((?P<args>[^)]*)\)(?P<rest>(?:(?!\.first\(|\.get\(|\[:|\n\s*\n).)*)", re.S
)


def test_every_lock_over_a_join_names_its_own_table():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for match in LOCK.finditer(text):
                joined = "select_related(" in match["rest"]
                if joined and "of=" not in match["args"]:
                    line = text.count("\n", 0, match.start()) + 1
                    offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], f"select_for_update() with select_related but without of=: {offenders}"


def test_the_check_finds_a_bare_lock_over_a_join():
    sample = 'Report.objects.select_for_update().select_related("entity").filter(pk=1).first()'
    match = LOCK.search(sample)
    assert match and "select_related(" in match["rest"] and "of=" not in match["args"]
