"""`make test`: the suite on today's date, then again with the clock a year ahead."""

from __future__ import annotations

import os
import sys

from devtools.devstack.config import TEST, Config, say
from devtools.devstack.processes import run_foreground
from devtools.devstack.services import Services

# `make test` runs the suite twice: on today's date, then with the clock this many days ahead.
CLOCK_SHIFT_DAYS = 365


def test(config: Config, services: Services, pytest_args: list[str]) -> int:
    # Importing this package ran credit_portal/celery.py, which defaults DJANGO_SETTINGS_MODULE to the
    # run settings; pytest must take the test settings named in pyproject.toml instead.
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    services.start(config, TEST, for_tests=True)
    code = run_foreground([sys.executable, "-m", "pytest", *pytest_args], stop_after=False)
    if code == 0 and not any(arg.startswith("--clock-shift-days") for arg in pytest_args):
        # No test may depend on the day it runs: the same suite again, with the clock a year ahead.
        say(f"The suite again with the clock moved {CLOCK_SHIFT_DAYS} days ahead (tests/conftest.py):")
        code = run_foreground(
            [sys.executable, "-m", "pytest", f"--clock-shift-days={CLOCK_SHIFT_DAYS}", *pytest_args],
            stop_after=False,
        )
    return 128 - code if code < 0 else code  # killed by a signal: report it the way a shell does
