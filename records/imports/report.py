"""Reading an import job's report (``ImportJob.report``) in the reader's language.

The runner keeps every message of the report in each language of the portal (``credit_portal.i18n``):
a rejected row is ``{"row", "errors": [{"key", "header", "label", "messages"}], "record"?}``, where
``header`` is the file's own header of the column, ``label`` the column's name and ``messages`` the
problems, the last two as ``{language code: text}``; a warning is ``{"row", "warning", "columns"}``
and a failure ``{"failure"}``, their text likewise. Reports written before kept one language only: a
rejected row's ``errors`` was ``{header: [message, ...]}`` and a warning's text a string. Both are
read here, the older ones as they were written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from credit_portal.i18n import pick
from records.imports.parsing import WHOLE_ROW
from records.models import ImportJob


@dataclass(frozen=True)
class Problem:
    row: int
    column: str  # the column's name in the reader's language; "" for the whole row
    header: str  # the file's header of the column, when it says something the name does not
    message: str
    record_id: int | None


@dataclass(frozen=True)
class Warning:
    row: int
    text: str
    columns: list[str]


def _problems_of(entry: dict[str, Any], language: str | None) -> Iterator[Problem]:
    errors = entry["errors"]
    record_id = entry.get("record")
    if isinstance(errors, dict):  # a report written before messages were kept in every language
        for column, messages in errors.items():
            for message in messages:
                yield Problem(entry["row"], column, "", str(message), record_id)
        return
    for problem in errors:
        column = pick(problem.get("label"), language) if problem.get("key") != WHOLE_ROW else ""
        header = problem.get("header") or ""
        for message in problem.get("messages") or []:
            yield Problem(
                entry["row"], column, header if header != column else "", pick(message, language), record_id
            )


def problems(job: ImportJob, language: str | None = None) -> list[Problem]:
    """Every problem of every rejected row the report lists, in row order."""
    return [problem for entry in job.report if "errors" in entry for problem in _problems_of(entry, language)]


def rejected_rows(job: ImportJob, language: str | None = None) -> dict[int, dict[str, list[str]]]:
    """``{row: {column: [message, ...]}}``; a column is named by the file's header where the file
    gave it one (the column as the uploader knows it), else by its name; ``""`` is the whole row."""
    rows: dict[int, dict[str, list[str]]] = {}
    for entry in job.report:
        if "errors" not in entry:
            continue
        columns = rows.setdefault(entry["row"], {})
        for problem in _problems_of(entry, language):
            columns.setdefault(problem.header or problem.column, []).append(problem.message)
    return rows


def errors_text(columns: dict[str, list[str]]) -> str:
    """A rejected row's problems on one line (the rejected-rows CSV)."""
    return "; ".join(
        f"{column}: {message}" if column != WHOLE_ROW else message
        for column, messages in columns.items()
        for message in messages
    )


def warnings(job: ImportJob, language: str | None = None) -> list[Warning]:
    return [
        Warning(entry["row"], pick(entry["warning"], language), list(entry.get("columns") or []))
        for entry in job.report
        if "warning" in entry
    ]


def failure(job: ImportJob, language: str | None = None) -> str:
    """Why the file was not imported, in the reader's language (``job.failure`` for a report that
    does not keep it in every language)."""
    for entry in job.report:
        if "failure" in entry:
            return pick(entry["failure"], language)
    return job.failure


def listed_rows(job: ImportJob) -> int:
    return sum(1 for entry in job.report if "errors" in entry)
