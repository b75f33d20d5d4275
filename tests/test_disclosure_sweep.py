"""The disclosure sweep: publication within 7 working days, the end of disclosure periods, warnings
to departments of deadlines at risk or missed, idempotence and concurrent sweeps. Every call passes
``today``: nothing here depends on the real date."""

from __future__ import annotations

import logging
import sys
import threading
import types
from datetime import date
from unittest import mock

import pytest
from django.db import connection

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.celery import app
from credit_portal.notices.models import Notice
from disclosure import sweeps, tasks
from records import services
from records.models import CreditRecord
from records.services import publication
from tests.test_records import punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


DECIDED = date(2026, 9, 30)  # Wednesday before the National Day holiday (1-7 October 2026)
DUE = date(2026, 10, 15)  # 7 working days later: 8, 9, 10 (adjusted), 12, 13, 14, 15 October


@pytest.fixture(autouse=True)
def no_enqueue(published):
    """Notices are emailed through the broker after commit; not what these tests are about."""
    return published


@pytest.fixture(autouse=True)
def no_other_escalations(monkeypatch):
    """The objection and complaint escalations (another app's) are tested for being called, below;
    elsewhere they stay out of the way, whether or not their modules exist yet."""
    monkeypatch.setattr(sweeps, "other_escalations", lambda **kw: {"objections": None, "complaints": None})


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


@pytest.fixture
def clerk_actor(clerk):
    return actor_for_user(clerk)


@pytest.fixture
def staff(clerk, reviewer, department_admin, other_department_reviewer, credit_officer):
    """Everybody who might be told: only the department's reviewers and administrators should."""
    return {
        "clerk": clerk,
        "reviewer": reviewer,
        "admin": department_admin,
        "other": other_department_reviewer,
        "office": credit_officer,
    }


def _draft(clerk_actor, entity, number="深市监罚〔2026〕1号", decided=DECIDED) -> CreditRecord:
    record = services.record_create(
        actor=clerk_actor, data=punishment(entity, number, decided=decided), provenance="form"
    )
    assert (record.status, record.disclosure) == ("draft", "pending")
    return record


def _notices(kind=None):
    """The disclosure sweep's notices (a clerk's drafts also notify the reviewers, once each)."""
    qs = Notice.objects.filter(kind__startswith="disclosure.")
    if kind:
        qs = qs.filter(kind=kind)
    return sorted((n.recipient.username, n.kind, n.dedupe_key) for n in qs.select_related("recipient"))


class TestPublication:
    def test_national_day_deadline_and_a_sweep_run_twice_publishes_once(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        assert record.disclosure_due_on == DUE

        first = sweeps.sweep(today=date(2026, 10, 9))
        second = sweeps.sweep(today=date(2026, 10, 9))

        assert (first["published"], first["published_late"]) == (1, 0)
        assert (second["published"], second["published_late"]) == (0, 0)
        record.refresh_from_db()
        assert (record.disclosure, record.published_late_days) == ("published", 0)
        assert record.published_at is not None
        assert AuditEvent.objects.filter(action="disclosure.records.published").count() == 1

    def test_published_on_the_due_day_is_on_time(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        sweeps.sweep(today=DUE)
        record.refresh_from_db()
        assert record.published_late_days == 0

    def test_worker_down_across_the_deadline_catches_up_and_marks_the_delay(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        # Nothing ran until Tuesday 20 October: 3 working days late (16, 19 and 20 October).
        result = sweeps.sweep(today=date(2026, 10, 20))
        assert (result["published"], result["published_late"]) == (1, 1)
        record.refresh_from_db()
        assert (record.disclosure, record.published_late_days) == ("published", 3)

    def test_batches_are_looped_until_nothing_is_left(self, reviewer_actor, entity):
        services.records_import(
            actor=reviewer_actor,
            rows=[(n, punishment(entity, f"B-{n}")) for n in range(7)],
            provenance="file",
        )
        with mock.patch.object(publication, "publish_due", wraps=publication.publish_due) as spy:
            result = sweeps.sweep(today=date(2026, 10, 9), batch_size=3)
        assert result["published"] == 7
        assert spy.call_count == 3  # 3 + 3 + 1
        assert not CreditRecord.objects.filter(disclosure="pending").exists()

    def test_the_end_of_the_disclosure_period_through_the_sweep(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        sweeps.sweep(today=date(2026, 10, 9))
        assert sweeps.sweep(today=date(2027, 9, 29))["ended"] == 0
        assert sweeps.sweep(today=date(2027, 9, 30))["ended"] == 1
        record.refresh_from_db()
        assert (record.status, record.disclosure) == ("expired", "ended")
        assert sweeps.sweep(today=date(2027, 10, 30))["ended"] == 0

    def test_drafts_are_not_published_until_confirmed(self, clerk_actor, reviewer_actor, entity):
        record = _draft(clerk_actor, entity)
        assert sweeps.sweep(today=date(2026, 10, 9))["published"] == 0
        services.record_confirm(actor=reviewer_actor, record_id=record.pk)
        assert sweeps.sweep(today=date(2026, 10, 16))["published"] == 1
        record.refresh_from_db()
        assert record.published_late_days == 1


class TestEscalation:
    def test_at_risk_notifies_reviewers_and_admins_of_the_department_once_a_day(
        self, staff, clerk_actor, entity
    ):
        _draft(clerk_actor, entity)  # due 15 October
        _draft(clerk_actor, entity, "later", decided=date(2026, 10, 12))  # due 21 October: not at risk

        assert sweeps.sweep(today=date(2026, 10, 13))["notices"] == 0  # due in 2 working days

        first = sweeps.sweep(today=date(2026, 10, 14))  # due on the next working day
        again = sweeps.sweep(today=date(2026, 10, 14))
        key = "disclosure.at_risk:SZ-TEST:2026-10-14"
        assert (first["at_risk"], first["overdue"], first["notices"]) == (1, 0, 2)
        assert (again["at_risk"], again["notices"]) == (1, 0)
        assert _notices() == [
            ("dept_admin", "disclosure.at_risk", key),
            ("reviewer", "disclosure.at_risk", key),
        ]
        notice = Notice.objects.filter(recipient=staff["reviewer"], kind="disclosure.at_risk").get()
        assert notice.subject_en == "1 credit record(s) due for publication within 1 working day"
        assert "1 条信用记录" in notice.subject_zh
        assert (
            "Drafts awaiting review: 1" in notice.body_en and "earliest deadline 2026-10-15" in notice.body_en
        )
        assert "待审核的草稿共 1 条" in notice.body_zh
        department = staff["reviewer"].department
        assert notice.link == f"/staff/disclosure/?department={department.pk}&section=at_risk"
        assert notice.department == department

        # A new day notifies again: due today is still at risk.
        assert sweeps.sweep(today=DUE)["notices"] == 2
        assert Notice.objects.filter(dedupe_key="disclosure.at_risk:SZ-TEST:2026-10-15").count() == 2

    def test_overdue_notifies_with_the_counts_and_again_each_day(self, staff, clerk_actor, entity):
        _draft(clerk_actor, entity, "A-1")
        _draft(clerk_actor, entity, "A-2")
        result = sweeps.sweep(today=date(2026, 10, 16))
        assert (result["at_risk"], result["overdue"], result["notices"]) == (0, 2, 2)
        assert _notices() == [
            ("dept_admin", "disclosure.overdue", "disclosure.overdue:SZ-TEST:2026-10-16"),
            ("reviewer", "disclosure.overdue", "disclosure.overdue:SZ-TEST:2026-10-16"),
        ]
        notice = Notice.objects.filter(recipient=staff["admin"], kind__startswith="disclosure.").get()
        assert notice.subject_en == "2 credit record(s) overdue for publication"
        assert "2 条信用记录已超过公示期限" in notice.subject_zh
        assert notice.link.endswith("&section=overdue")

        assert sweeps.sweep(today=date(2026, 10, 16))["notices"] == 0
        assert sweeps.sweep(today=date(2026, 10, 19))["notices"] == 2
        assert Notice.objects.filter(kind__startswith="disclosure.").count() == 4

    def test_at_risk_and_overdue_of_several_departments_in_one_sweep(
        self, staff, clerk_actor, entity, other_department, other_entity
    ):
        from credit_portal.accounts.capabilities import StaffRole
        from tests import factories as f

        _draft(clerk_actor, entity, "mine-overdue", decided=date(2026, 9, 29))  # due 14 October
        _draft(clerk_actor, entity, "mine-at-risk")  # due 15 October
        other_clerk = actor_for_user(f.staff(other_department, StaffRole.CLERK))
        _draft(other_clerk, other_entity, "theirs")

        with mock.patch.object(
            sweeps, "pending_by_department", wraps=sweeps.pending_by_department
        ) as grouped:
            result = sweeps.sweep(today=DUE)
        assert grouped.call_count == 1
        assert (result["at_risk"], result["overdue"]) == (2, 1)
        assert _notices() == [
            ("dept_admin", "disclosure.at_risk", "disclosure.at_risk:SZ-TEST:2026-10-15"),
            ("dept_admin", "disclosure.overdue", "disclosure.overdue:SZ-TEST:2026-10-15"),
            ("other_reviewer", "disclosure.at_risk", "disclosure.at_risk:GZ-TEST:2026-10-15"),
            ("reviewer", "disclosure.at_risk", "disclosure.at_risk:SZ-TEST:2026-10-15"),
            ("reviewer", "disclosure.overdue", "disclosure.overdue:SZ-TEST:2026-10-15"),
        ]
        mine = Notice.objects.get(recipient=staff["reviewer"], kind="disclosure.at_risk")
        assert "1 of them today" in mine.body_en

    def test_grouping_is_one_query(self, clerk_actor, entity, django_assert_num_queries):
        for n in range(3):
            _draft(clerk_actor, entity, f"G-{n}")
        with django_assert_num_queries(1):
            groups = sweeps.pending_by_department(date(2026, 10, 16))
        assert [(g.overdue, g.at_risk, g.drafts) for g in groups] == [(3, 0, 3)]

    def test_revoked_record_still_published_after_its_withdrawal_deadline_is_reported(
        self, staff, reviewer_actor, entity, caplog
    ):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        sweeps.sweep(today=date(2026, 10, 9))
        # Should never happen (revocation withdraws at once); simulate a record left behind.
        CreditRecord.objects.filter(pk=record.pk).update(
            status="revoked", withdrawal_due_on=date(2026, 11, 4)
        )

        assert sweeps.sweep(today=date(2026, 11, 4))["withdrawal_overdue"] == 0
        with caplog.at_level(logging.ERROR, logger="disclosure.sweeps"):
            result = sweeps.sweep(today=date(2026, 11, 5))
        assert (result["withdrawal_overdue"], result["withdrawal_notices"]) == (1, 2)
        assert "still published after their withdrawal deadline" in caplog.text
        assert _notices("disclosure.withdrawal_overdue") == [
            (
                "dept_admin",
                "disclosure.withdrawal_overdue",
                "disclosure.withdrawal_overdue:SZ-TEST:2026-11-05",
            ),
            ("reviewer", "disclosure.withdrawal_overdue", "disclosure.withdrawal_overdue:SZ-TEST:2026-11-05"),
        ]
        assert sweeps.sweep(today=date(2026, 11, 5))["withdrawal_notices"] == 0

    def test_a_revoked_record_is_not_reported(self, staff, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        sweeps.sweep(today=date(2026, 10, 9))
        services.record_revoke(
            actor=reviewer_actor, record_id=record.pk, reason="复议撤销", revoked_on=date(2026, 10, 30)
        )
        assert sweeps.sweep(today=date(2026, 11, 30))["withdrawal_overdue"] == 0
        assert not Notice.objects.exists()


class TestOtherEscalations:
    @pytest.fixture(autouse=True)
    def no_other_escalations(self):
        """Undo the module-wide stand-in: these tests are about the real hand-over."""
        yield

    def test_existing_escalations_are_called_with_the_sweep_actor_and_day(self, monkeypatch):
        calls = []
        for name, function in (("objections", "objections_escalate"), ("complaints", "complaints_escalate")):
            module = types.ModuleType(f"records.services.{name}")

            def escalate(*, actor, today, _name=name):
                calls.append((_name, actor.label, today))
                return {"notified": 1}

            setattr(module, function, escalate)
            monkeypatch.setitem(sys.modules, module.__name__, module)

        result = sweeps.sweep(today=DUE)
        assert calls == [
            ("objections", "system:disclosure-sweep", DUE),
            ("complaints", "system:disclosure-sweep", DUE),
        ]
        assert (result["objections"], result["complaints"]) == ({"notified": 1}, {"notified": 1})

    def test_a_module_not_written_yet_is_skipped_with_a_log_line(self, monkeypatch, caplog):
        monkeypatch.setitem(sys.modules, "records.services.objections", None)  # import fails
        monkeypatch.setitem(sys.modules, "records.services.complaints", None)
        with caplog.at_level(logging.INFO, logger="disclosure.sweeps"):
            result = sweeps.sweep(today=DUE)
        assert (result["objections"], result["complaints"]) == (None, None)
        assert "records.services.objections does not exist yet: objections_escalate skipped" in caplog.text
        assert "records.services.complaints does not exist yet: complaints_escalate skipped" in caplog.text

    def test_a_broken_import_inside_an_existing_module_is_not_hidden(self, monkeypatch):
        import importlib

        real = importlib.import_module

        def import_module(name, *args):
            if name == "records.services.objections":
                raise ModuleNotFoundError("No module named 'missing_dependency'", name="missing_dependency")
            return real(name, *args)

        monkeypatch.setattr(importlib, "import_module", import_module)
        with pytest.raises(ModuleNotFoundError, match="missing_dependency"):
            sweeps.other_escalations(actor=None, today=DUE)


class TestTask:
    def test_task_runs_the_sweep_and_logs_its_counts(self, reviewer_actor, entity, caplog):
        services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        with caplog.at_level(logging.INFO, logger="disclosure.tasks"):
            result = tasks.sweep_disclosures("2026-10-20")
        assert result["today"] == "2026-10-20"
        assert (result["published"], result["published_late"], result["ended"]) == (1, 1, 0)
        assert "Disclosure sweep 2026-10-20: published=1, published_late=1" in caplog.text

    def test_beat_runs_the_sweep_every_five_minutes(self):
        from django.conf import settings

        entry = settings.CELERY_BEAT_SCHEDULE["disclosure-sweep"]
        assert entry["task"] == tasks.sweep_disclosures.name == "disclosure.tasks.sweep_disclosures"
        assert entry["task"] in app.tasks
        assert entry["schedule"].minute == set(range(0, 60, 5))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_publish_every_record_exactly_once(reviewer, entity):
    """Two sweeps on two connections, started together, with small batches so that they
    interleave: SKIP LOCKED hands each record to one of them."""
    actor = actor_for_user(reviewer)
    services.records_import(
        actor=actor, rows=[(n, punishment(entity, f"C-{n}")) for n in range(60)], provenance="file"
    )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(sweeps.sweep(today=date(2026, 10, 9), batch_size=4))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert len(results) == 2
    assert sum(r["published"] for r in results) == 60
    published = [
        pk
        for event in AuditEvent.objects.filter(action="disclosure.records.published")
        for pk in event.data["records"]
    ]
    assert len(published) == len(set(published)) == 60
    assert CreditRecord.objects.filter(disclosure="published", published_late_days=0).count() == 60
