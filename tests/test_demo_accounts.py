"""Demo data is safe against real data: `make run` loads it into the embedded database only (or
when asked), never with production settings; and production settings refuse to start — the
deployment check, the web server, the Celery worker and beat — while an account signs in with the
published demo password."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from credit_portal.accounts import demo
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.models import User
from devtools.bench.connections import ROOT, database_url, free_port
from devtools.devstack import cli, config
from devtools.devstack import run as run_mode
from devtools.devstack.banner import banner
from records.management.commands import seed_demo
from tests import factories as f

REFUSAL = "refuse to start: sz_clerk signs in with the published demo password"


@pytest.fixture
def production(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr(demo, "_checked", False)


def with_demo_password(user: User) -> User:
    user.set_password(demo.DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


# --- which accounts ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_account_seed_demo_creates_is_a_known_demo_account_with_the_published_password():
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    seeded = {u.username for u in User.objects.all() if check_password(demo.DEMO_PASSWORD, u.password)}
    assert seeded == set(demo.DEMO_USERNAMES)
    assert seed_demo.DEMO_PASSWORD is demo.DEMO_PASSWORD
    assert sorted(demo.demo_accounts_with_demo_password()) == sorted(demo.DEMO_USERNAMES)


@pytest.mark.django_db
def test_demo_accounts_with_a_new_password_and_other_accounts_are_not_flagged(department):
    clerk = with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    f.staff(department, StaffRole.REVIEWER, "sz_reviewer")  # the factory's own password
    assert demo.demo_accounts_with_demo_password() == ["sz_clerk"]
    clerk.set_password("a-new-password-2026")
    clerk.save(update_fields=["password"])
    assert demo.demo_accounts_with_demo_password() == []


@pytest.mark.django_db
def test_a_superuser_with_the_demo_password_is_flagged_whatever_its_name(department):
    ops = with_demo_password(f.staff(department, StaffRole.CREDIT_OFFICE, "ops_chief"))
    assert demo.demo_accounts_with_demo_password() == []
    User.objects.filter(pk=ops.pk).update(is_superuser=True)
    assert demo.demo_accounts_with_demo_password() == ["ops_chief"]


# --- the deployment check and the start of a process ---------------------------------------------


@pytest.mark.django_db
def test_the_deployment_check_errors_on_a_demo_account_in_production(production, department):
    clerk = with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    hashed = User.objects.get(pk=clerk.pk).password
    errors = demo.check_demo_accounts(databases=["default"])
    assert [(e.id, e.level) for e in errors] == [("accounts.E001", 40)]
    assert REFUSAL in errors[0].msg
    # Checking wrote nothing (no hash upgraded by the check).
    assert User.objects.get(pk=clerk.pk).password == hashed
    # Checks that read a database run only for the databases named (manage.py check --database).
    assert demo.check_demo_accounts(databases=None) == []


@pytest.mark.django_db
def test_the_check_passes_in_development_and_without_demo_accounts(settings, department):
    with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    settings.DEBUG = True
    assert demo.check_demo_accounts(databases=["default"]) == []
    settings.DEBUG = False
    User.objects.filter(username="sz_clerk").delete()
    assert demo.check_demo_accounts(databases=["default"]) == []


@pytest.mark.django_db
def test_check_deploy_with_the_database_fails_on_a_demo_account(production, department):
    with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError, match=r"accounts\.E001"):
        call_command("check", "--deploy", "--database", "default", "--tag", "database", stdout=StringIO())


@pytest.mark.django_db
def test_refusing_at_start_names_the_accounts_and_a_clean_database_starts(production, department):
    clerk = with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    with pytest.raises(ImproperlyConfigured, match=REFUSAL):
        demo.refuse_demo_accounts_in_production()
    assert demo._checked is False
    clerk.set_password("a-new-password-2026")
    clerk.save(update_fields=["password"])
    demo.refuse_demo_accounts_in_production()
    assert demo._checked is True


def _child_env() -> dict[str, str]:
    from django.db import connection

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credit_portal.settings.test",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(connection.settings_dict),
    }


def _start(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed command lines
        argv, cwd=ROOT, env=_child_env(), capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_web_server_the_worker_and_beat_refuse_to_start_with_a_demo_account(department, tmp_path):
    clerk = with_demo_password(f.staff(department, StaffRole.CLERK, "sz_clerk"))
    python = sys.executable
    starts = {
        "gunicorn": [python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"],
        "wsgi": [python, "-c", "import credit_portal.wsgi"],
        "worker": [python, "-m", "celery", "-A", "credit_portal", "worker", "-Q", f"demo-refusal-{os.getpid()}",
                   "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        "beat": [python, "-m", "celery", "-A", "credit_portal", "beat", "--schedule", str(tmp_path / "beat")],
    }  # fmt: skip
    for name, argv in starts.items():
        started = _start(argv)
        assert started.returncode != 0, name
        assert REFUSAL in started.stdout + started.stderr, name
    # With the password changed, the same application loads.
    clerk.set_password("a-new-password-2026")
    clerk.save(update_fields=["password"])
    loaded = _start(starts["wsgi"])
    assert loaded.returncode == 0, loaded.stderr[-2000:]


# --- what `make run` loads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("embedded", "debug", "asked", "seed", "why"),
    [
        (True, True, None, True, "loaded into the embedded database"),
        (
            False,
            True,
            None,
            False,
            "not loaded: DATABASE_URL is configured (`make run DEMO=1` loads it there)",
        ),
        (False, True, True, True, "loaded into the database of DATABASE_URL, as asked (DEMO=1)"),
        (True, True, False, False, "not loaded, as asked (DEMO=0)"),
        (True, False, None, False, "not loaded: production settings (DJANGO_DEBUG=false)"),
        (False, False, None, False, "not loaded: production settings (DJANGO_DEBUG=false)"),
    ],
)
def test_run_loads_demo_data_only_into_the_embedded_database_or_when_asked(embedded, debug, asked, seed, why):
    decision = run_mode.demo_decision(embedded_database=embedded, debug=debug, demo=asked)
    assert (decision.seed, decision.why) == (seed, why)


@pytest.mark.parametrize("embedded", [True, False])
def test_run_refuses_demo_data_with_production_settings(embedded):
    with pytest.raises(config.Failure, match=r"DEMO=1 \(--demo\) with DJANGO_DEBUG=false"):
        run_mode.demo_decision(embedded_database=embedded, debug=False, demo=True)


def test_the_banner_says_whether_demo_data_was_loaded(capsys):
    banner(8000, ["PostgreSQL: DATABASE_URL from the environment / .env"],
           run_mode.DemoDecision(False, "not loaded: DATABASE_URL is configured"), [])  # fmt: skip
    out = capsys.readouterr().out
    assert "  Demo data: not loaded: DATABASE_URL is configured.\n" in out
    assert "password" not in out
    banner(8000, [], run_mode.DemoDecision(True, "loaded into the embedded database"),
           ["Demo logins (password for all: demo-pass-2026)"])  # fmt: skip
    out = capsys.readouterr().out
    assert "  Demo data: loaded into the embedded database.\n" in out
    assert "    Demo logins (password for all: demo-pass-2026)\n" in out


def test_run_accepts_only_demo_options(capsys):
    assert cli.main(["run", "--seed"]) == 2
    assert cli.main(["run", "--demo", "--no-demo"]) == 2
    assert "run [--demo | --no-demo]" in capsys.readouterr().err


def test_run_serves_the_web_with_gunicorn_and_its_configuration():
    command = run_mode.web_command(8000, workers=2, threads=4)
    assert command[1:4] == ["-m", "gunicorn", "--config"]
    assert command[4] == str(ROOT / "gunicorn.conf.py")
    assert command[5:] == ["--bind", "127.0.0.1:8000", "--workers", "2", "--threads", "4"]
    assert "runserver" not in command
