"""What the steps of every benchmark share: the options they ran with, the day, the output, the
tables they work on, and how they print numbers. Each benchmark's steps are a class of its module
(``GenerationSteps`` in generation.py, ``SweepSteps`` in sweep.py, ...), put together in run.py."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.bench.data import Context

RECORDS = "records_creditrecord"
ENTITIES = "records_marketentity"
PUBLIC_INDEX = "disclosure_publicindexentry"  # kept by triggers on the records table, when present


class BenchError(Exception):
    """Why the benchmark cannot go on; printed, and the benchmark exits with 1."""


def fmt_ms(value: float) -> str:
    if value != value:  # nan
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def fmt_count(n: float) -> str:
    if n < 1000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


class Steps:
    """The state of one benchmark run, set by ``Bench.handle`` before any step runs."""

    opts: dict[str, Any]  # the command line's options, by their argparse names
    today: date
    context: Context
    small: int  # records in the table of the first sweep
    due: int  # records due in each sweep

    def w(self, line: str = "") -> None:
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
        sys.stdout.flush()
