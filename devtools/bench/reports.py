"""Benchmark of credit reports: one entity with 50 published records, its report rendered in this
process (document, schema check, HTML, PDF) beside WeasyPrint rendering the same HTML alone; then
``--reports`` reports requested at once and rendered by a real Celery worker on the ``pdf`` queue at
concurrency 2, timed from the first request to the last ready report, with the worker's memory
(the main process and its pool children, resident set size from ``/proc``) sampled throughout."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.progress import Progress
from devtools.bench.steps import Steps
from disclosure.models import CreditReport
from disclosure.reports import document, numbers, qr, render
from disclosure.reports import services as reports
from records import services as records
from records.fields import RecordInput
from records.identifiers import make_uscc, organisation_code
from records.models import CreditRecord, MarketEntity, Person
from records.services import EntityInput, PersonInput, publication

BENCH_DEPARTMENT = "SZ-AMR"
# A fixed, valid code: the entity is created once and reused by later runs.
BENCH_CODE = make_uscc("9", "1", "440300", organisation_code("MA5BENCH"))
BENCH_RECORDS = 50
_ID_BODY = "44030519900101123"  # a synthetic resident identity number, with its check character
LEGAL_REP_ID = _ID_BODY + ric.calc_check_digit(_ID_BODY + "0")
Say = Callable[[str], None]


def _actor(department: Department) -> Actor:
    return Actor(
        kind="system", capabilities=frozenset(Cap.values), department=department, system_name="bench"
    )


def _inputs(today: date) -> list[RecordInput]:
    """25 permits and 25 punishments over the last four years, with every structured field filled."""
    out = []
    for i in range(BENCH_RECORDS):
        decided = today - timedelta(days=30 + i * 28)
        if i % 2 == 0:
            out.append(
                RecordInput(
                    item="admin_permit",
                    code=BENCH_CODE,
                    decision_number=f"深市监许〔{decided.year}〕B{i:03d}号",
                    decision_date=decided,
                    content=f"食品经营许可（第{i // 2 + 1}号门店）",
                    valid_from=decided,
                    valid_to=decided + timedelta(days=5 * 365),
                    fields={
                        "party_category": "legal_person",
                        "decision_doc_name": "食品经营许可决定书",
                        "permit_category": "普通",
                        "certificate_name": "食品经营许可证",
                        "certificate_number": f"JY144030500{i:04d}",
                    },
                )
            )
        else:
            out.append(
                RecordInput(
                    item="admin_punishment",
                    code=BENCH_CODE,
                    decision_number=f"深市监罚〔{decided.year}〕B{i:03d}号",
                    decision_date=decided,
                    legal_basis="《中华人民共和国食品安全法》第一百二十四条",
                    severity="general",
                    content="警告，罚款人民币5000元",
                    fields={
                        "party_category": "法人及非法人组织",
                        "facts": "经营超过保质期的食品，货值金额较小，已当场下架并销毁",
                        "punishment_category": "罚款",
                        "fine_amount": "0.5",
                        "legal_rep_name": "王某某",
                        "legal_rep_id_number": LEGAL_REP_ID,
                    },
                )
            )
    return out


def ensure_entity(today: date, say: Say) -> MarketEntity:
    """The benchmark's entity and its 50 published records, created through the services once."""
    department = Department.objects.get(code=BENCH_DEPARTMENT)
    actor = _actor(department)
    entity = MarketEntity.objects.filter(code=BENCH_CODE).first()
    if entity is None:
        with transaction.atomic():
            entity = records.entity_register(
                actor=actor,
                data=EntityInput(
                    code=BENCH_CODE,
                    name_zh="深圳市报告基准餐饮管理有限公司",
                    name_en="Shenzhen Report Benchmark Catering Management Co., Ltd.",
                    division="440300",
                    industry="H",
                    registered_on=date(2015, 6, 1),
                    address="深圳市南山区科技园基准路1号",
                    legal_representative=PersonInput(
                        name="王某某", id_type=Person.IdType.RESIDENT_ID, id_number=LEGAL_REP_ID
                    ),
                ),
                department=department,
            )
    have = CreditRecord.objects.filter(entity=entity).count()
    if have < BENCH_RECORDS:
        say(f"  creating the report entity's {BENCH_RECORDS} records through the records services ...")
        existing = set(CreditRecord.objects.filter(entity=entity).values_list("decision_number", flat=True))
        for data in _inputs(today):
            if data.decision_number not in existing:
                with transaction.atomic():
                    records.record_create(actor=actor, data=data, provenance=CreditRecord.Provenance.API)
        while publication.publish_due(actor=actor, today=today + timedelta(days=30)):
            pass
    published = CreditRecord.objects.filter(
        entity=entity, disclosure=CreditRecord.Disclosure.PUBLISHED
    ).count()
    say(f"  entity {entity.code} {entity.name_zh}: {published} published records")
    return entity


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:,.0f} ms, p95 {_percentile(values, 95) * 1000:,.0f} ms, "
        f"min {min(values) * 1000:,.0f} ms, max {max(values) * 1000:,.0f} ms"
    )


def _pages(pdf: bytes) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(io.BytesIO(pdf)).pages)


def in_process(
    entity: MarketEntity, samples: int, say: Say, *, days: int = 5 * 365 - 10
) -> tuple[list[float], list[float]]:
    """The whole report (``build_rendition``) over the last ``days`` days and WeasyPrint alone on
    the same HTML, alternately."""
    report = CreditReport(
        number=numbers.new_number(timezone.localdate()),
        entity=entity,
        period_from=timezone.localdate() - timedelta(days=days),
        period_to=timezone.localdate(),
        sections=list(document.SECTION_KEYS),
        language="zh-hans",
    )
    first = reports.build_rendition(report)  # warm-up: fonts, templates, WeasyPrint's own caches
    html = render.render_html(first.document, verify_url=qr.verify_url(report.number), sha256=first.sha256)
    shown = sum(len(section.get("records", [])) for section in first.document["sections"].values())
    say(
        f"  the report over {report.period_from} – {report.period_to}: {shown} records shown, "
        f"{_pages(first.pdf) or '?'} pages, {len(first.pdf) / 1024:,.0f} KiB PDF, {len(html) / 1024:,.0f} KiB HTML"
    )
    whole, alone = [], []
    progress = Progress(total=samples, label="  in-process reports", stream=sys.stdout)
    for _ in range(samples):
        started = time.perf_counter()
        reports.build_rendition(report)
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        render.html_to_pdf(html)
        alone.append(time.perf_counter() - started)
        progress.advance()
    progress.finish()
    return whole, alone


# --- the worker -------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(p) for p in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class MemorySampler:
    """The worker's resident memory, parent and pool children summed, every ``interval`` seconds."""

    pid: int
    interval: float = 0.1
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (time, total KiB, largest child)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            children = [_rss_kib(child) for child in _children(self.pid)]
            self.samples.append(
                (time.monotonic(), _rss_kib(self.pid) + sum(children), max(children, default=0))
            )
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()

    def peak_between(self, start: float, end: float) -> tuple[int, int]:
        window = [s for s in self.samples if start <= s[0] <= end] or self.samples[-1:]
        return max(s[1] for s in window), max(s[2] for s in window)


def _start_worker(concurrency: int, max_tasks_per_child: int | None) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "credit_portal", "worker", "-Q", "pdf",
        "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-pdf-{os.getpid()}@%h",
    ]  # fmt: skip
    if max_tasks_per_child:
        command += ["--max-tasks-per-child", str(max_tasks_per_child)]
    return subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL)  # noqa: S603


def _wait_ready(worker: subprocess.Popen, concurrency: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with code {worker.returncode}")
        if len(_children(worker.pid)) >= concurrency:
            time.sleep(1.0)  # the pool processes import Django before they take a task
            return
        time.sleep(0.2)
    raise RuntimeError("the Celery worker did not start its pool within a minute")


@dataclass
class WorkerRun:
    count: int
    seconds: float
    render_seconds: list[float]
    memory_by_quarter: list[tuple[int, int]]
    failed: int


def through_worker(
    entity: MarketEntity, count: int, concurrency: int, max_tasks_per_child: int | None, say: Say
) -> WorkerRun:
    """Request ``count`` reports at once (as staff of the bench department) and wait for all of them."""
    department = Department.objects.get(code=BENCH_DEPARTMENT)
    actor = _actor(department)
    worker = _start_worker(concurrency, max_tasks_per_child)
    sampler = MemorySampler(worker.pid)
    limit = reports.MAX_IN_PREPARATION
    try:
        _wait_ready(worker, concurrency)
        sampler.start()
        # The limit on reports in preparation protects people's queues; the benchmark fills one.
        reports.MAX_IN_PREPARATION = count + 1
        started = time.monotonic()
        ids = [reports.report_request(actor=actor, code=entity.code).pk for _ in range(count)]
        progress = Progress(total=count, label="  reports through the worker", stream=sys.stdout)
        done_at: dict[int, float] = {}
        while len(done_at) < count:
            if worker.poll() is not None:
                raise RuntimeError(f"the Celery worker exited with code {worker.returncode}")
            finished = CreditReport.objects.filter(
                pk__in=ids, status__in=(CreditReport.Status.READY, CreditReport.Status.FAILED)
            ).values_list("pk", flat=True)
            now = time.monotonic()
            for pk in finished:
                done_at.setdefault(pk, now)
            progress.advance(len(done_at) - progress.done)
            time.sleep(0.25)  # light polling: the worker needs both CPUs
        seconds = time.monotonic() - started
        progress.finish()
    finally:
        reports.MAX_IN_PREPARATION = limit
        sampler.stop()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    finished_times = sorted(done_at.values())
    quarters = []
    for q in range(4):
        first = finished_times[q * count // 4] if q else started
        last = finished_times[min(count - 1, (q + 1) * count // 4 - 1)]
        quarters.append(sampler.peak_between(first, last))
    rows = CreditReport.objects.filter(pk__in=ids)
    return WorkerRun(
        count=count,
        seconds=seconds,
        render_seconds=[r for r in rows.values_list("render_seconds", flat=True) if r is not None],
        memory_by_quarter=quarters,
        failed=rows.filter(status=CreditReport.Status.FAILED).count(),
    )


def run(*, count: int, samples: int, concurrency: int, max_tasks_per_child: int | None, say: Say) -> None:
    today = timezone.localdate()
    entity = ensure_entity(today, say)
    medians: dict[str, float] = {}
    for days, title in ((5 * 365 - 10, "five years, every record"), (365, "the last year")):
        whole, alone = in_process(entity, samples, say, days=days)
        say(f"  in process, {samples} reports, {title} (document + schema + HTML + PDF):")
        say(f"    whole report          {_summary(whole)}")
        say(f"    WeasyPrint alone      {_summary(alone)}   (same HTML)")
        say(f"    report minus PDF      median {statistics.median(whole) - statistics.median(alone):.3f} s")
        medians[title] = statistics.median(whole)
    limit = f", --max-tasks-per-child {max_tasks_per_child}" if max_tasks_per_child else ""
    say(
        f"  {count} reports requested at once, Celery worker on the pdf queue, concurrency {concurrency}{limit}:"
    )
    result = through_worker(entity, count, concurrency, max_tasks_per_child, say)
    say(
        f"    {result.count} reports in {result.seconds:,.1f} s: {result.count / result.seconds:,.2f} reports/s"
        + (f"  ({result.failed} FAILED)" if result.failed else "")
    )
    if result.render_seconds:
        say(f"    per report in the worker  {_summary(result.render_seconds)}")
    say("    worker memory (RSS, main process + pool), peak per quarter of the run:")
    for q, (total, child) in enumerate(result.memory_by_quarter, start=1):
        say(f"      reports {(q - 1) * count // 4 + 1:>4}-{q * count // 4:<4}  total {total / 1024:,.0f} MiB, "
            f"largest pool process {child / 1024:,.0f} MiB")  # fmt: skip
    first, last = result.memory_by_quarter[0][0], result.memory_by_quarter[-1][0]
    growth = (last - first) / first * 100 if first else 0.0
    say(f"    memory growth from the first to the last quarter: {growth:+.1f}%")
    rate = result.count / result.seconds
    verdicts = "; ".join(
        f"{title}: {'met' if median <= 0.5 else 'MISSED'} ({median:.3f} s)"
        for title, median in medians.items()
    )
    say(
        f"  targets: median ≤ 0.5 s, {verdicts}; ≥ 3 reports/s: {'met' if rate >= 3 else 'MISSED'} ({rate:.2f}/s)"
    )


class ReportSteps(Steps):
    """5. Credit reports: median and p95 per report beside WeasyPrint alone, reports per second
    through a Celery worker, its memory over the run."""

    def _reports(self) -> None:
        w, o = self.w, self.opts
        w("")
        w(
            "== 5. Credit reports: one entity with 50 records, in process and through the pdf worker "
            + "=" * 7
        )
        max_tasks = o["max_tasks_per_child"]
        if max_tasks is None:
            max_tasks = settings.CELERY_WORKER_MAX_TASKS_PER_CHILD
        run(
            count=o["reports"],
            samples=o["report_samples"],
            concurrency=o["report_concurrency"],
            max_tasks_per_child=max_tasks or None,
            say=w,
        )
