"""What `make run` decided for the processes it starts, kept for the commands run beside it.

`make run` (devtools/devstack/) knows things no other terminal does: the address of the
embedded PostgreSQL (a unix socket under `.local/`) and Redis (a free port), the development keys
it keeps in `.local/dev-secrets.env`, ``DJANGO_DEBUG``, the ``SITE_URL`` it serves. Once the portal
serves, it writes them to `.local/run.env` (mode 0600) and removes the file when it stops.
`manage.py` reads that file for every variable that neither the environment nor `.env` sets, so that
`.venv/bin/python manage.py issue_api_token ...` in a second terminal works on the portal that is
running. What the developer configured (the environment, `.env`) is not written: it is where they put
it, and it wins.

The file names the `make run` that wrote it (its process id and start time): a file left behind by
one that was killed is ignored, with a warning, rather than pointing at services that are gone. It
is read only under the portal's own settings module (not the tests', whose subprocesses must not
reach the running portal's database). ``CREDIT_PORTAL_RUN_ENV`` names another file (the tests use
it).

Only the standard library and django-environ (for `.env`, read as the settings read it): `manage.py`
reads this before Django is set up, and `make run` writes it before Django runs anywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / ".local" / "run.env"
PATH_VARIABLE = "CREDIT_PORTAL_RUN_ENV"
# The settings modules under which manage.py reads the file (unset: manage.py's default, the first).
SETTINGS_MODULES = ("credit_portal.settings.base",)
# The keys the settings refuse to go without when DJANGO_DEBUG is off (credit_portal/settings/base.py).
# manage.py's offline commands, which sign and encrypt nothing, fill them with throwaway values.
SECRETS = ("SECRET_KEY", "PERSONAL_DATA_KEY", "AUDIT_CHAIN_KEY")
# What `make run` may decide and hand to its children; only these are written and read.
NAMES = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PERSONAL_DATA_KEY",
    "AUDIT_CHAIN_KEY",
    "DJANGO_DEBUG",
    "SECURE_SSL_REDIRECT",
    "SITE_URL",
)
_PID = "# pid:"
_STARTED = "# started:"


def path() -> Path:
    named = os.environ.get(PATH_VARIABLE, "").strip()
    return Path(named) if named else DEFAULT_PATH


def process_started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), so that a pid reused by
    another process is told apart; None where /proc does not say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return fields[19]  # field 22 of stat: starttime
    except (OSError, IndexError):
        return None


def process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    now = process_started(pid)
    return started is None or now is None or now == started


def write(values: Mapping[str, str], *, target: Path | None = None, pid: int | None = None) -> Path:
    """Write ``values`` (names from NAMES) as `make run`'s (pid ``pid``, default this process), with
    mode 0600 from the start: the file holds keys."""
    target = target or path()
    pid = os.getpid() if pid is None else pid
    lines = [
        "# Written by `make run` for the commands run beside it (manage.py reads it for what the",
        "# environment and .env do not set); removed when it stops. Do not edit.",
        f"{_PID} {pid}",
        f"{_STARTED} {process_started(pid) or ''}",
    ]
    for name, value in values.items():
        if name not in NAMES:
            raise ValueError(f"{name} is not a variable `make run` hands on")
        if "\n" in value or "\r" in value or "'" in value:
            raise ValueError(f"{name} holds a line break or a quote")
        lines.append(f"{name}='{value}'")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    temporary.replace(target)
    return target


@dataclass(frozen=True)
class RunEnvironment:
    pid: int | None
    started: str | None
    values: dict[str, str]

    @property
    def alive(self) -> bool:
        return self.pid is not None and process_alive(self.pid, self.started)


def read(source: Path | None = None) -> RunEnvironment | None:
    """The file's contents; None when there is none."""
    source = source or path()
    try:
        text = source.read_text()
    except FileNotFoundError:
        return None
    pid: int | None = None
    started: str | None = None
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(_PID):
            value = line[len(_PID) :].strip()
            pid = int(value) if value.isdigit() else None
        elif line.startswith(_STARTED):
            started = line[len(_STARTED) :].strip() or None
        elif line and not line.startswith("#") and "=" in line:
            name, _sep, value = line.partition("=")
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            if name.strip() in NAMES:
                values[name.strip()] = value
    return RunEnvironment(pid, started, values)


def remove(*, owner: int | None = None, target: Path | None = None) -> None:
    """Remove the file if process ``owner`` (default: this one) wrote it."""
    target = target or path()
    found = read(target)
    if found is not None and found.pid == (os.getpid() if owner is None else owner):
        target.unlink(missing_ok=True)


def dotenv_names(dotenv: Path) -> set[str]:
    """The names a `.env` file gives a value (read as the settings read it; an empty value counts
    as unset there and here, as for `make run`)."""
    import environ

    class _Collect(environ.Env):
        ENVIRON: dict[str, str] = {}  # a fresh mapping, filled by read_env

    if dotenv.is_file():
        _Collect.read_env(dotenv, overwrite=False)
    return {name for name, value in _Collect.ENVIRON.items() if value}


def load(
    environ: MutableMapping[str, str] | None = None,
    *,
    settings_module: str | None,
    source: Path | None = None,
    dotenv: Path = ROOT / ".env",
) -> list[str]:
    """For manage.py: put the running `make run`'s values into ``environ`` (default os.environ) for
    each name neither ``environ`` nor ``dotenv`` sets. ``settings_module`` is DJANGO_SETTINGS_MODULE
    as it was before anything defaulted it. Returns the names set."""
    environ = os.environ if environ is None else environ
    if settings_module and settings_module not in SETTINGS_MODULES:
        return []
    source = source or path()
    found = read(source)
    if found is None or not found.values:
        return []
    if not found.alive:
        print(
            f"Ignoring {source}: the `make run` that wrote it (pid {found.pid}) is not running any "
            "more. Start `make run` first (or set DATABASE_URL and the other variables yourself).",
            file=sys.stderr,
        )
        return []
    configured = dotenv_names(dotenv)
    loaded = []
    for name, value in found.values.items():
        if not environ.get(name) and name not in configured:
            environ[name] = value
            loaded.append(name)
    return loaded
