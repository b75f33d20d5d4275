"""Files handed out by the import door: the per-item templates (CSV with a commented README, XLSX
with a README sheet and drop-down lists) and the CSV of an import's rejected rows.

The templates' notes are in Chinese and English together: the file leaves the portal and is filled
in by whoever the department hands it to, whatever the portal's language."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from records.imports.parsing import FORMULA_STARTS, Column, FileRefused, TableReader, columns_for
from records.models import CatalogueItem, ImportJob

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_KIND_NOTES = {
    "code": "18位统一社会信用代码 / 18-character unified social credit code",
    "date": "日期，如 2026-09-30（也接受 2026/9/30、20260930、2026年9月30日）/ "
    "Date, e.g. 2026-09-30 (2026/9/30, 20260930 and 2026年9月30日 are accepted too)",
    "integer": "整数 / Whole number",
    "decimal": "非负数字，如 5.5 / Non-negative number, e.g. 5.5",
    "choice": "填写可选值之一（中文、英文或代码均可）/ One of the allowed values (Chinese, English or code)",
    "identity": "证件号码，加密存储、仅显示脱敏号码 / Identity number: stored encrypted, shown masked",
}
_COLUMN_NOTES = {
    "code": "行政相对人须已在主体名录中登记 / The entity must be registered in the portal",
    "party_name": "留空则取名录中的名称 / Empty: the registered name",
    "decision_number": "同一部门内唯一；重复导入同一文件不会重复记录 / "
    "Unique within the department; importing the same file again records nothing twice",
    "disclosure_months": "留空则按决定日期适用的规则取默认期限 / "
    "Empty: the default period of the rule in force on the decision date",
}


def _format_note(column: Column) -> str:
    note = _KIND_NOTES.get(column.kind)
    if note is None:
        note = (
            f"文本，最多 {column.max_length or 200} 字 / Text, at most {column.max_length or 200} characters"
        )
    extra = _COLUMN_NOTES.get(column.key)
    return f"{note}. {extra}" if extra else note


def _choices_note(column: Column) -> str:
    return "; ".join(f"{zh} = {en} ({key})" for key, zh, en in column.choices)


def _required_note(column: Column) -> str:
    return "必填 / required" if column.required else "选填 / optional"


def _title(item: CatalogueItem) -> str:
    return f"{item.name_zh} ({item.name_en}) — 导入模板 / import template — {item.code}"


_CSV_NOTE = "以 # 开头的行是说明，导入时忽略。/ Lines starting with # are notes and are ignored on import."
_GENERAL_NOTES = (
    "请保留表头行，每行填写一个决定。/ Keep the header row and enter one decision per row below it.",
    "可保存为 CSV（UTF-8 或 GBK 编码）或使用 XLSX 模板；多余的列会被忽略。/ "
    "Save as CSV (UTF-8 or GBK) or use the XLSX template; columns not listed here are ignored.",
    "错误的行不会导入，其他行照常导入；修改后重新上传整个文件即可。/ "
    "Rows with errors are not imported, the others are; correct them and upload the whole file again.",
)


def template_csv(item: CatalogueItem) -> bytes:
    """The header row in UTF-8 with a BOM (so that Excel opens it as UTF-8), after ``#`` notes."""
    columns = columns_for(item)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"# {_title(item)}"])
    for note in (_CSV_NOTE, *_GENERAL_NOTES):
        writer.writerow([f"# {note}"])
    writer.writerow(["# 列说明 / Columns:"])
    for column in columns:
        line = f"# {column.bilingual} — {_required_note(column)} — {_format_note(column)}"
        if column.choices:
            line += f" — 可选值 / allowed: {_choices_note(column)}"
        writer.writerow([line])
    writer.writerow([c.header for c in columns])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def template_xlsx(item: CatalogueItem) -> bytes:
    """Sheet 1 the header row (text and date formats, drop-down lists of allowed values), sheet 2
    the README, a hidden sheet the lists."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = columns_for(item)
    workbook = openpyxl.Workbook()
    data = workbook.active
    data.title = "数据 Data"
    readme = workbook.create_sheet("说明 README")
    lists = workbook.create_sheet("选项 Lists")
    lists.sheet_state = "hidden"

    data.append([c.header for c in columns])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    list_column = 0
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        cell = data.cell(row=1, column=position)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        cell.comment = Comment(
            f"{column.bilingual}\n{_required_note(column)}\n{_format_note(column)}", "Credit Portal"
        )
        dimension = data.column_dimensions[letter]
        dimension.width = max(14, min(40, 2 * len(column.header) + 4))
        if column.kind == "date":
            dimension.number_format = "yyyy-mm-dd"
        elif column.kind not in ("integer", "decimal"):
            dimension.number_format = "@"  # text: keeps codes and numbers as typed
        if column.choices:
            list_column += 1
            list_letter = get_column_letter(list_column)
            for row, (_key, zh, _en) in enumerate(column.choices, start=1):
                lists.cell(row=row, column=list_column, value=zh)
            validation = DataValidation(
                type="list",
                formula1=f"'{lists.title}'!${list_letter}$1:${list_letter}${len(column.choices)}",
                allow_blank=True,
                showErrorMessage=False,  # English values and codes are accepted too
            )
            data.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}1048576")
    data.freeze_panes = "A2"

    readme.append([_title(item)])
    readme["A1"].font = Font(bold=True, size=13)
    for note in _GENERAL_NOTES:
        readme.append([note])
    readme.append([])
    readme.append(
        [
            "列名 Column",
            "English",
            "必填 Required",
            "格式 Format",
            "可选值 Allowed values",
            "也接受的列名 Also accepted",
        ]
    )
    table_start = readme.max_row + 1
    for cell in readme[readme.max_row]:
        cell.font = bold
    for column in columns:
        readme.append(
            [
                column.header,
                column.label_en,
                _required_note(column),
                _format_note(column),
                "\n".join(f"{zh} / {en} ({key})" for key, zh, en in column.choices),
                ", ".join(a for a in column.aliases if a != column.header)
                + (", " if column.aliases else "")
                + column.key.removeprefix("fields."),
            ]
        )
    for letter, width in zip("ABCDEF", (26, 30, 16, 60, 50, 50), strict=True):
        readme.column_dimensions[letter].width = width
    for row in readme.iter_rows(min_row=table_start):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the rejected rows -----------------------------------------------------------------------------


def csv_safe(value: Any) -> str:
    """A cell for a CSV that people open in a spreadsheet: text that would run as a formula
    (= + - @, tab, carriage return) gets a leading quote. The importer strips it again."""
    if value is None:
        text = ""
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def rejected_rows_csv(job: ImportJob, language: str) -> Iterator[bytes]:
    """The rejected rows as CSV (``_rejected_rows_csv``), the reasons and the names of its own two
    columns in ``language``: the text is made here, before the response streams."""
    from django.utils import translation
    from django.utils.translation import gettext

    from records.imports import report

    with translation.override(language):
        entries = {
            row: report.errors_text(columns) for row, columns in report.rejected_rows(job, language).items()
        }
        first = [gettext("Row"), gettext("Problems")]
    return _rejected_rows_csv(job, entries, first)


def _rejected_rows_csv(job: ImportJob, entries: dict[int, str], first: list[str]) -> Iterator[bytes]:
    """The rejected rows listed in the job's report, with their original cells read again from the
    stored file (streamed) and the reasons, as UTF-8 CSV with a BOM. Fix the cells and upload this
    file again: the row-number and error columns are ignored on import."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield codecs.BOM_UTF8
    try:
        source = job.file.open("rb")
    except (OSError, ValueError):
        source = None
    if source is None:
        yield writer.writerow(first).encode()
        for row in sorted(entries):
            yield writer.writerow([row, csv_safe(entries[row])]).encode()
        return
    pending = set(entries)
    try:
        try:
            reader = TableReader(source, job.item)
        except FileRefused:
            reader = None
        headers = reader.headers if reader is not None else []
        yield writer.writerow([*first, *(csv_safe(h) for h in headers)]).encode()
        if reader is not None:
            with reader:
                try:
                    for raw in reader.data_rows():
                        if raw.row in pending:
                            pending.discard(raw.row)
                            cells = [csv_safe(c) for c in raw.cells]
                            yield writer.writerow([raw.row, csv_safe(entries[raw.row]), *cells]).encode()
                            if not pending:
                                break
                except FileRefused:
                    pass
        for row in sorted(pending):
            yield writer.writerow([row, csv_safe(entries[row])]).encode()
    finally:
        source.close()
