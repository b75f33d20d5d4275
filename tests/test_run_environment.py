"""The README's `manage.py` commands work in a second terminal beside `make run`: `make run` writes
what only it knows (the embedded databases' addresses, the development keys, DJANGO_DEBUG, SITE_URL)
to `.local/run.env`, manage.py reads it for what the environment and `.env` leave unset, and the
banner prints the README's token command. The documented command runs for real against the test
database, through such a file."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.db import connection

from credit_portal import runenv
from credit_portal.accounts.models import ApiToken
from credit_portal.accounts.services import token_digest
from devtools.bench.connections import ROOT, database_url
from devtools.devstack import banner
from devtools.devstack import run as run_mode
from devtools.devstack.config import Config
from tests import factories as f

README_TOKEN_COMMAND = (
    ".venv/bin/python manage.py issue_api_token --department SZ-AMR --scopes entities:read,entities:write"
)


def readme_manage_commands() -> list[str]:
    """Every line of a README code block that runs manage.py (as the newcomer's check reads them)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if re.search(r"(^|\s)(\S*python\S* )?manage\.py ", line)
    ]


# --- the file --------------------------------------------------------------------------------------


def test_the_file_is_written_for_its_owner_alone_and_read_back(tmp_path):
    target = tmp_path / "run.env"
    values = {
        "DATABASE_URL": "postgres://credit_portal@/%2Ftmp%2Fsocket/credit_portal",
        "SITE_URL": "http://127.0.0.1:8000",
    }
    runenv.write(values, target=target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    found = runenv.read(target)
    assert (found.pid, found.values, found.alive) == (os.getpid(), values, True)
    with pytest.raises(ValueError, match="PATH is not a variable"):
        runenv.write({"PATH": "/bin"}, target=target)
    with pytest.raises(ValueError, match="holds a line break"):
        runenv.write({"SITE_URL": "http://a\nDATABASE_URL=x"}, target=target)


def test_only_the_run_that_wrote_the_file_removes_it(tmp_path):
    target = tmp_path / "run.env"
    runenv.write({"SITE_URL": "http://127.0.0.1:8000"}, target=target)
    runenv.remove(owner=os.getpid() + 1, target=target)
    assert target.exists()
    runenv.remove(target=target)
    assert not target.exists()
    runenv.remove(target=target)  # gone already: nothing to do


def _written(tmp_path, **values) -> object:
    target = tmp_path / "run.env"
    runenv.write(values, target=target)
    return target


def test_manage_py_takes_from_the_file_only_what_the_environment_and_dotenv_leave_unset(tmp_path):
    source = _written(
        tmp_path,
        DATABASE_URL="postgres://embedded",
        REDIS_URL="redis://127.0.0.1:6390/0",
        SECRET_KEY="from-make-run",
        AUDIT_CHAIN_KEY="from-make-run",
        SITE_URL="http://127.0.0.1:8000",
    )
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_URL=redis://mine:6379/0\n# SITE_URL=https://commented.out\nAUDIT_CHAIN_KEY=\n")
    environ = {"DATABASE_URL": "postgres://exported", "SECRET_KEY": ""}
    loaded = runenv.load(environ, settings_module=None, source=source, dotenv=dotenv)
    assert sorted(loaded) == ["AUDIT_CHAIN_KEY", "SECRET_KEY", "SITE_URL"]
    assert environ == {
        "DATABASE_URL": "postgres://exported",  # exported: it wins
        "SECRET_KEY": "from-make-run",  # exported empty counts as unset, as for make run
        "AUDIT_CHAIN_KEY": "from-make-run",  # empty in .env: unset there too
        "SITE_URL": "http://127.0.0.1:8000",  # only commented out in .env
    }  # REDIS_URL: .env's, which the settings read themselves


@pytest.mark.parametrize(
    ("settings_module", "read"),
    [(None, True), ("credit_portal.settings.base", True), ("credit_portal.settings.test", False)],
)
def test_the_file_is_read_only_under_the_portals_own_settings(tmp_path, settings_module, read):
    source = _written(tmp_path, DATABASE_URL="postgres://embedded")
    environ: dict[str, str] = {}
    runenv.load(environ, settings_module=settings_module, source=source, dotenv=tmp_path / "none")
    assert environ == ({"DATABASE_URL": "postgres://embedded"} if read else {})


def test_a_file_left_by_a_run_that_is_gone_is_ignored_with_a_warning(tmp_path, capsys):
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    target = tmp_path / "run.env"
    runenv.write({"DATABASE_URL": "postgres://embedded"}, target=target, pid=gone.pid)
    environ: dict[str, str] = {}
    assert runenv.load(environ, settings_module=None, source=target, dotenv=tmp_path / "none") == []
    assert environ == {}
    assert capsys.readouterr().err == (
        f"Ignoring {target}: the `make run` that wrote it (pid {gone.pid}) is not running any more. "
        "Start `make run` first (or set DATABASE_URL and the other variables yourself).\n"
    )


def test_a_pid_reused_by_another_process_is_not_the_run_that_wrote_the_file(tmp_path):
    if runenv.process_started(os.getpid()) is None:
        pytest.skip("no /proc here: the start time cannot be read")
    target = tmp_path / "run.env"
    runenv.write({"DATABASE_URL": "postgres://embedded"}, target=target)
    target.write_text(re.sub(r"# started: \d+", "# started: 1", target.read_text()))
    assert runenv.read(target).alive is False


# --- what make run writes, and the banner -------------------------------------------------------


@pytest.fixture
def own_environ(monkeypatch):
    """A copy of the environment for devstack to change, with none of the run variables set."""
    environ = {name: value for name, value in os.environ.items() if name not in runenv.NAMES}
    monkeypatch.setattr(os, "environ", environ)
    return environ


def test_make_run_hands_on_what_it_decided_and_not_what_was_configured(own_environ, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://configured:6379/0")
    config = Config()
    config.dotenv = {}
    configured = {name for name in runenv.NAMES if config.is_set(name)}
    run_mode.set_run_defaults(config, 8123)
    monkeypatch.setenv("DATABASE_URL", "postgres://credit_portal@/%2Fsocket/credit_portal")
    monkeypatch.setenv("SECRET_KEY", "generated")
    assert run_mode.decided_environment(configured) == {
        "DATABASE_URL": "postgres://credit_portal@/%2Fsocket/credit_portal",
        "SECRET_KEY": "generated",
        "DJANGO_DEBUG": "true",
        "SECURE_SSL_REDIRECT": "false",
        "SITE_URL": "http://127.0.0.1:8123",  # the address it serves
    }


def test_make_run_keeps_a_configured_site_url(own_environ, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://tunnel.example.org")
    config = Config()
    config.dotenv = {}
    run_mode.set_run_defaults(config, 8123)
    assert os.environ["SITE_URL"] == "https://tunnel.example.org"


def test_the_readme_shows_the_token_command_and_the_banner_prints_it_as_written(monkeypatch, capsys):
    assert README_TOKEN_COMMAND in readme_manage_commands()
    monkeypatch.setattr(sys, "executable", str(ROOT / ".venv" / "bin" / "python"))
    banner.banner(
        8000,
        [],
        run_mode.DemoDecision(True, "loaded into the embedded database"),
        [],
        site_url="http://127.0.0.1:8000",
    )
    printed = capsys.readouterr().out.splitlines()
    assert f"    {README_TOKEN_COMMAND}" in printed
    assert (
        "    make manage ARGS='issue_api_token --department SZ-AMR --scopes entities:read,entities:write'"
        in printed
    )
    assert "  Links in reports, emails and the API: http://127.0.0.1:8000 (SITE_URL)" in printed
    assert "  In another terminal, manage.py works on this portal (.local/run.env). An API token:" in printed


# --- the documented command, for real ----------------------------------------------------------


@pytest.fixture
def beside_make_run(tmp_path, settings):
    """A run environment file as `make run` writes it, pointing at the test database and Redis,
    and the environment of a second terminal: none of the variables set, the file named."""
    clashing = runenv.dotenv_names(ROOT / ".env") & set(runenv.NAMES)
    if clashing:
        pytest.skip(f"this checkout's .env sets {', '.join(sorted(clashing))}, which would win over the file")
    target = tmp_path / "run.env"
    runenv.write(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": django_settings.REDIS_URL,
            "SECRET_KEY": django_settings.SECRET_KEY,
            "PERSONAL_DATA_KEY": django_settings.PERSONAL_DATA_KEY,
            "AUDIT_CHAIN_KEY": django_settings.AUDIT_CHAIN_KEY,
            "DJANGO_DEBUG": "true",
            "SECURE_SSL_REDIRECT": "false",
            "SITE_URL": "http://127.0.0.1:8000",
        },
        target=target,
    )
    terminal = {
        name: value
        for name, value in os.environ.items()
        if name not in runenv.NAMES and name not in ("DJANGO_SETTINGS_MODULE", "DATABASE_OWNER_URL")
    }
    terminal[runenv.PATH_VARIABLE] = str(target)
    return terminal


def _run_in_a_second_terminal(line: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    if line.startswith(".venv/bin/python ") and not (ROOT / ".venv" / "bin" / "python").exists():
        line = f"{sys.executable} {line.removeprefix('.venv/bin/python ')}"
    # A second terminal is not inside `make test`: no make variables that make a nested make print
    # "Entering/Leaving directory" lines.
    terminal = {
        k: v for k, v in environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    }
    return subprocess.run(  # noqa: S603 - the README's own command line
        ["bash", "-c", line],  # noqa: S607
        cwd=ROOT,
        env=terminal,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_token_issued(result: subprocess.CompletedProcess, department) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "Token for SZ-AMR with scopes entities:read, entities:write:"
    secret = lines[-1]
    assert re.fullmatch(r"cp_\S{20,}", secret)
    token = ApiToken.objects.get(digest=token_digest(secret))
    assert (token.department, sorted(token.scopes), token.revoked_at) == (
        department,
        ["entities:read", "entities:write"],
        None,
    )
    assert "Store it now: it cannot be shown again." in result.stderr


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_readmes_token_command_works_as_written_beside_make_run(beside_make_run):
    department = f.department("SZ-AMR")
    [line] = [command for command in readme_manage_commands() if "issue_api_token" in command]
    result = _run_in_a_second_terminal(line, beside_make_run)
    _assert_token_issued(result, department)
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_make_manage_runs_the_token_command_beside_make_run(beside_make_run):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # `make manage` depends on the installed environment; never reinstall it from a test.
    up_to_date = subprocess.run(  # noqa: S603
        [make, "-q", ".venv/.installed"], cwd=ROOT, capture_output=True, check=False
    )
    if up_to_date.returncode != 0:
        pytest.skip("the .venv of this checkout is not installed or out of date (make venv)")
    department = f.department("SZ-AMR")
    [_python, make_line] = banner.manage_commands(demo=True)
    result = _run_in_a_second_terminal(make_line, beside_make_run)
    _assert_token_issued(result, department)


def test_makemigrations_check_runs_with_nothing_configured(tmp_path):
    """`manage.py makemigrations --check` (CI, a pre-commit hook) runs in a bare checkout: no
    DJANGO_DEBUG, no keys, no make run. Every key the settings demand with DJANGO_DEBUG off is
    filled for the offline commands (``runenv.SECRETS``); a key added to the settings and not to
    that list fails here. And the models have no change without its migration."""
    bare = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DATABASE_URL")}
    bare[runenv.PATH_VARIABLE] = str(tmp_path / "no-run.env")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
