"""What `make run` prints once the portal serves: its addresses, the services, the demo data and its
logins, and the README's token command for a second terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from credit_portal import runenv
from devtools.devstack.config import print_lock, relative

if TYPE_CHECKING:
    from devtools.devstack.run import DemoDecision

# The README's token command, which the banner prints as it is (tests/test_run_environment.py).
DEMO_DEPARTMENT = "SZ-AMR"
TOKEN_ARGUMENTS = "issue_api_token --department {department} --scopes entities:read,entities:write"  # noqa: S105


def python_command() -> str:
    """This interpreter as a person types it from the project folder (.venv/bin/python)."""
    return relative(Path(sys.executable))


def manage_commands(*, demo: bool) -> list[str]:
    """The token command, run in another terminal beside `make run`: as manage.py and as make."""
    arguments = TOKEN_ARGUMENTS.format(department=DEMO_DEPARTMENT if demo else "CODE")
    return [f"{python_command()} manage.py {arguments}", f"make manage ARGS='{arguments}'"]


def banner(
    port: int, services: list[str], demo: DemoDecision, logins: list[str], *, site_url: str = ""
) -> None:
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        "=" * 78,
        f"  Credit Portal is running at {base}/",
        f"    staff:         {base}/staff/",
        f"    self-service:  {base}/my/",
        f"    API docs:      {base}/api/docs/",
        *(f"  {line}" for line in services),
        f"  Links in reports, emails and the API: {site_url or base} (SITE_URL)",
        f"  Demo data: {demo.why}.",
    ]
    if demo.seed and logins:
        lines += ["  From seed_demo:", *(f"    {line}" for line in logins)]
    elif demo.seed:
        lines.append("  No demo logins yet (no seed_demo output).")
    token, make_token = manage_commands(demo=demo.seed)
    lines += [
        f"  In another terminal, manage.py works on this portal ({relative(runenv.path())}). An API token"
        + ("" if demo.seed else " (CODE: a department's code)")
        + ":",
        f"    {token}",
        f"    {make_token}",
        "  Press Ctrl-C to stop everything.",
        "=" * 78,
        "",
    ]
    with print_lock:
        print("\n".join(lines), flush=True)
