"""Import jobs: queueing an uploaded file (``import_job_create``) and running it (``run_import``,
called by the Celery task ``records.tasks.import_file``).

The task is recorded in the job's own transaction through the outbox (``credit_portal.outbox``), so
a job accepted while the broker is down is handed to a worker once it is back, never lost.

A run holds a PostgreSQL advisory lock on its job, so two workers never run one job at once (the
task may be delivered twice: ``acks_late``), and a job whose worker died holds no lock: the
stale-job sweep (``stale_jobs_resume``) finds it and queues it again. The lock is transaction-level,
held by an open transaction on a connection of its own for the length of the run: a session-level
lock would be taken on whichever server connection PgBouncer (transaction pooling) lent for one
statement and then left there, locking the job for a stranger, while an open transaction keeps its
server connection until it ends — and ends, releasing the lock, when the worker dies.

Each batch of rows is written by ``records.services.records_import`` and the job's counters move in
the same transaction, so after a crash the counters say exactly which rows are in the database and
a restarted run resumes after the last committed batch (the earlier rows are read again only to
find duplicates within the file). Were it to start over instead, nothing would be written twice:
``records_import`` is idempotent on (department, decision number)."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Func, JSONField, Q, QuerySet, Value
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor, actor_for_user, system_actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.i18n import either, in_each_language, interpolate
from credit_portal.outbox import selectors as outbox_selectors
from credit_portal.outbox import services as outbox
from records.imports import parsing
from records.models import CatalogueItem, CreditRecord, ImportJob
from records.services import records_import, review

logger = logging.getLogger(__name__)

IMPORT_TASK = "records.tasks.import_file"
BATCH_SIZE = 2000
REPORT_CAP = 10_000
# Namespace of the advisory locks of import jobs ("CPIF"); the job id is the second key.
_LOCK_CLASS = 0x43504946
Status = ImportJob.Status


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 100 * 1024 * 1024)


def importable_items(actor: Actor) -> QuerySet[CatalogueItem]:
    """What the actor's department may import: what it may record through the form."""
    from records.selectors import recordable_items

    return recordable_items(actor)


def jobs_for(actor: Actor) -> QuerySet[ImportJob]:
    """The jobs the actor may see: their department's (the credit office: every department's)."""
    qs = ImportJob.objects.all()
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(department_id=actor.department_id)
    return qs


# --- queueing ------------------------------------------------------------------------------------


def import_job_create(*, actor: Actor, item_code: str, uploaded_file) -> ImportJob:
    """Store an uploaded file and queue its import for the actor's department.

    The file is refused here, with every reason, when it is too large, not a CSV or XLSX file, or
    its header row lacks a required column of the item: nothing is stored then. Side effects: the
    file in MEDIA_ROOT, the job, audit event ``records.import.queued``, the task in the outbox
    (handed to the broker on commit, or by the outbox sweep when the broker is down)."""
    actor.require(Cap.RECORDS_WRITE)
    if actor.department is None:
        raise ValidationError({"item": [_("Records are written by a department.")]})
    item = importable_items(actor).filter(code=item_code).first()
    if item is None:
        raise ValidationError({"item": [_("Your department may not record this catalogue item.")]})
    size = uploaded_file.size or 0
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            {
                "file": [
                    _(
                        "The file is %(size)s; files of at most %(max)s can be imported. Split it into smaller files."
                    )
                    % {"size": filesizeformat(size), "max": filesizeformat(limit)}
                ]
            }
        )
    if not size:
        raise ValidationError({"file": [_("The file is empty.")]})
    source = getattr(uploaded_file, "file", uploaded_file)
    digest = hashlib.sha256()
    source.seek(0)
    for chunk in iter(lambda: source.read(1024 * 1024), b""):
        digest.update(chunk)
    try:
        with parsing.TableReader(source, item) as reader:
            parsing.map_headers(item, reader.headers, strict_width=reader.format == "csv")
            file_format = reader.format
    except parsing.FileRefused as exc:
        raise ValidationError({"file": [exc.message]}) from None
    source.seek(0)

    original_name = os.path.basename(str(uploaded_file.name or "")).replace("\x00", "")[:255] or "upload"
    job = ImportJob(
        department=actor.department,
        item=item,
        created_by=actor.user,
        actor_label=actor.label[:200],
        original_name=original_name,
        size_bytes=size,
        sha256=digest.hexdigest(),
    )
    job.file.save(f"{uuid.uuid4().hex}.{file_format}", uploaded_file, save=False)
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            audit.log(
                actor=actor,
                action="records.import.queued",
                target=job,
                data={"item": item.code, "file": original_name, "size": size, "sha256": job.sha256},
            )
            outbox.enqueue(IMPORT_TASK, job.pk)
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def waits_for_broker(job: ImportJob) -> bool:
    """Whether the job's task is accepted but not yet handed to the broker (it was down)."""
    return job.status == Status.QUEUED and outbox_selectors.is_waiting(IMPORT_TASK, job.pk)


# --- running -------------------------------------------------------------------------------------


class _JobLocks:
    """A connection of its own, in one transaction, holding advisory locks on import jobs until it
    ends (``pg_try_advisory_xact_lock``): the batches commit on the main connection meanwhile."""

    def __enter__(self) -> _JobLocks:
        self.connection = connection.copy()
        self.connection.set_autocommit(False)
        return self

    def try_lock(self, job_id: int) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, job_id & 0x7FFFFFFF])
            return cursor.fetchone()[0]

    def release_all(self) -> None:
        self.connection.rollback()  # ends the transaction, and its locks with it

    def __exit__(self, *exc_info) -> None:
        try:
            self.release_all()
        except (OperationalError, InterfaceError):  # the connection is gone, and the locks with it
            logger.warning("import job locks: connection lost before unlocking")
        finally:
            self.connection.close()


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """Whether this run holds the job's lock, for as long as the block lasts."""
    with _JobLocks() as locks:
        yield locks.try_lock(job_id)


def run_import(job_id: int, *, batch_size: int = BATCH_SIZE) -> ImportJob | None:
    """Run a queued job, or resume one whose worker died; leave a finished job alone. Returns the
    job as it ended, or None when another worker is running it (or it does not exist)."""
    with _job_lock(job_id) as held:
        if not held:
            logger.info("import job %s is being run by another worker", job_id)
            return None
        job = ImportJob.objects.select_related("item", "department", "created_by").filter(pk=job_id).first()
        if job is None or job.status in (Status.DONE, Status.FAILED):
            return job
        with translation.override(settings.LANGUAGE_CODE):
            _Run(job, batch_size).run()
        job.refresh_from_db()
        return job


class _JsonbConcat(Func):
    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = JSONField()


class _Run:
    def __init__(self, job: ImportJob, batch_size: int):
        self.job = job
        self.batch_size = batch_size
        self.jobs = ImportJob.objects.filter(pk=job.pk)

    def run(self) -> None:
        job = self.job
        self.resume_from = job.processed_rows if job.status == Status.RUNNING else 0
        now = timezone.now()
        if self.resume_from:
            logger.info("import job %s: resuming after row %s of the data", job.pk, self.resume_from)
            self.jobs.update(status=Status.RUNNING)
            self.listed = sum(1 for e in job.report if "errors" in e)
        else:
            self.jobs.update(
                status=Status.RUNNING,
                started_at=job.started_at or now,
                finished_at=None,
                total_rows=None,
                processed_rows=0,
                created_count=0,
                unchanged_count=0,
                rejected_count=0,
                report=[],
                failure="",
            )
            self.listed = 0
        try:
            self.actor = self._uploader()
            self._check_file()
            with job.file.open("rb") as source:
                total = parsing.count_rows(source, job.item)
            self.jobs.update(total_rows=total)
            self._import()
        except parsing.FileRefused as exc:
            self._finish(Status.FAILED, exc.message)
        except (OperationalError, InterfaceError):
            raise  # the database is away: the job stays running, the sweep resumes it later
        except Exception:
            logger.exception("import job %s failed", job.pk)
            self._finish(
                Status.FAILED,
                interpolate(
                    _(
                        "The import stopped on an internal error (job %(id)d). Rows imported before it are kept; uploading the file again imports the rest."
                    ),
                    {"id": job.pk},
                ),
            )
        else:
            self._finish(Status.DONE, "")

    def _uploader(self) -> Actor:
        job = self.job
        actor = actor_for_user(job.created_by)
        if not actor.can(Cap.RECORDS_WRITE) or actor.department_id != job.department_id:
            raise parsing.FileRefused(
                interpolate(
                    _(
                        "%(user)s may no longer record credit information for %(department)s, so the file was not imported."
                    ),
                    {
                        "user": job.actor_label,
                        "department": either(job.department.name_zh, job.department.name_en),
                    },
                )
            )
        return actor

    def _check_file(self) -> None:
        digest = hashlib.sha256()
        try:
            with self.job.file.open("rb") as source:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    digest.update(chunk)
        except (OSError, ValueError):
            raise parsing.FileRefused(_("The uploaded file is no longer stored: upload it again.")) from None
        if digest.hexdigest() != self.job.sha256:
            raise parsing.FileRefused(_("The stored file differs from the one uploaded: upload it again."))

    def _import(self) -> None:
        job = self.job
        seen: dict[str, int] = {}  # decision number -> the row it first appeared on
        batch: list[tuple[int, dict[str, Any], dict[str, list[str]], int | None]] = []
        with job.file.open("rb") as source, parsing.TableReader(source, job.item) as reader:
            self.header_map = parsing.map_headers(
                job.item, reader.headers, strict_width=reader.format == "csv"
            )
            warnings = []
            if reader.skipped_rows:
                warnings.append(
                    {
                        "row": reader.skipped_rows[0],
                        "warning": in_each_language(
                            interpolate(
                                _("Rows above the header row were ignored (a title?): rows %(rows)s."),
                                {"rows": ", ".join(str(r) for r in reader.skipped_rows)},
                            )
                        ),
                        "columns": [],
                    }
                )
            if self.header_map.unknown:
                warnings.append(
                    {
                        "row": reader.header_row,
                        "warning": in_each_language(
                            _("Columns not in the layout of this catalogue item were ignored:")
                        ),
                        "columns": self.header_map.unknown,
                    }
                )
            if warnings and not self.resume_from:
                self.jobs.update(report=_JsonbConcat(F("report"), Value(warnings, output_field=JSONField())))
            for index, raw in enumerate(reader.data_rows()):
                values, errors = self.header_map.read(raw)
                number = str(values.get("decision_number") or "").strip()
                first = None
                if number:
                    first = seen.setdefault(number, raw.row)
                if index < self.resume_from:
                    continue
                batch.append((raw.row, values, errors, first if first != raw.row else None))
                if len(batch) >= self.batch_size:
                    self._write(batch)
                    batch = []
            if batch:
                self._write(batch)

    def _write(self, batch) -> None:
        header_map = self.header_map
        rows = []
        entries: list[dict[str, Any]] = []
        for row, values, errors, first in batch:
            if first is not None:
                errors.add(
                    "decision_number",
                    interpolate(
                        _("The same decision number is already on row %(row)d of this file."), {"row": first}
                    ),
                )
            if errors:
                entries.append({"row": row, "errors": header_map.report_problems(errors)})
            else:
                rows.append((row, parsing.to_record_input(self.job.item.code, values)))
        with transaction.atomic():
            results = (
                records_import(
                    actor=self.actor, rows=rows, provenance=CreditRecord.Provenance.FILE, import_job=self.job
                )
                if rows
                else []
            )
            created = unchanged = 0
            for result in results:
                if result.outcome == "created":
                    created += 1
                elif result.outcome == "unchanged":
                    unchanged += 1
                else:
                    entry = {"row": result.row, "errors": header_map.report_problems(result.errors)}
                    if result.record_id:
                        entry["record"] = result.record_id
                    entries.append(entry)
            entries.sort(key=lambda e: e["row"])
            listed = entries[: max(0, REPORT_CAP - self.listed)]
            self.listed += len(listed)
            changes: dict[str, Any] = {
                "processed_rows": F("processed_rows") + len(batch),
                "created_count": F("created_count") + created,
                "unchanged_count": F("unchanged_count") + unchanged,
                "rejected_count": F("rejected_count") + len(entries),
            }
            if listed:
                changes["report"] = _JsonbConcat(F("report"), Value(listed, output_field=JSONField()))
            self.jobs.update(**changes)

    def _finish(self, status: str, failure) -> None:
        """``failure``: why the file was not imported (a lazy message), kept in ``failure`` in the
        settings' language and in the report in every language."""
        changes: dict[str, Any] = {}
        if failure:
            entry = [{"failure": in_each_language(failure)}]
            changes["report"] = _JsonbConcat(F("report"), Value(entry, output_field=JSONField()))
        failure = str(failure)
        with transaction.atomic():
            self.jobs.update(status=status, failure=failure, finished_at=timezone.now(), **changes)
            job = self.jobs.get()
            audit.log(
                actor=getattr(self, "actor", None) or actor_for_user(job.created_by),
                action="records.import.finished" if status == Status.DONE else "records.import.failed",
                target=job,
                data={
                    "rows": job.processed_rows,
                    "created": job.created_count,
                    "unchanged": job.unchanged_count,
                    "rejected": job.rejected_count,
                    "failure": failure,
                },
            )
            if status == Status.DONE:
                drafts = job.records.filter(status=CreditRecord.Status.DRAFT).count()
                review.notify_reviewers_of_import(actor=self.actor, job=job, drafts=drafts)


# --- the sweep -----------------------------------------------------------------------------------


def stale_jobs_resume(*, queued_for: timedelta = timedelta(minutes=10)) -> list[int]:
    """Queue again the jobs no worker is running: running ones whose lock is free (their worker
    died) and queued ones older than ``queued_for`` (their message was lost), each at most once per
    ``queued_for`` (a job waiting behind a long queue is not queued many times: the outbox says
    when its task was last recorded). Returns their ids."""
    since = timezone.now() - queued_for
    candidates = ImportJob.objects.filter(
        Q(status=Status.RUNNING) | Q(status=Status.QUEUED, created_at__lt=since)
    ).values_list("pk", flat=True)
    stale = []
    with _JobLocks() as locks:
        for job_id in candidates:
            free = locks.try_lock(job_id)
            locks.release_all()
            if free and not outbox_selectors.enqueued_since(IMPORT_TASK, job_id, since=since):
                stale.append(job_id)
    for job_id in stale:
        with transaction.atomic():
            outbox.enqueue(IMPORT_TASK, job_id, unless_pending=True)
    if stale:
        logger.warning("import jobs queued again: %s", stale)
    return stale


def purge_old_files(*, older_than: timedelta) -> list[int]:
    """Delete the stored files of import jobs finished more than ``older_than`` ago: uploaded files
    may carry identity numbers in clear, and once imported the records hold everything that is
    kept (encrypted). The job row, its counts and its report stay; the rejected-rows download, which
    re-reads the file, is then no longer offered."""
    cutoff = timezone.now() - older_than
    purged = []
    finished = [ImportJob.Status.DONE, ImportJob.Status.FAILED]
    for job in ImportJob.objects.filter(status__in=finished, finished_at__lt=cutoff).exclude(file=""):
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        purged.append(job.pk)
    if purged:
        with transaction.atomic():
            audit.log(
                actor=system_actor("import-purge"),
                action="records.import.files_purged",
                data={"jobs": purged},
            )
    return purged
