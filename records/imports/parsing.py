"""Reading an uploaded file of credit records, as a stream: CSV (UTF-8 with or without BOM, GBK /
GB18030, UTF-16 with BOM; comma, tab or semicolon) or XLSX (first sheet, openpyxl read-only).

The one place where file headers are mapped to ``RecordInput`` fields: the national Chinese header
of each column, its aliases (the punishment and permit standards name the same column differently)
and English keys. Nothing here validates values: ``records.fields.RecordValidator`` does, for every
door. What is checked here is the shape of the file: its format, encoding, header row and the
number of cells per row.

Memory stays bounded whatever the file size: the CSV is decoded and split row by row, the workbook
is read in openpyxl's read-only mode (only the shared-strings table is held, and its size is
capped)."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from credit_portal.i18n import either, in_each_language, interpolate, joined
from records.fields import REQUIRED_COLUMNS, Errors, RecordInput
from records.models import CatalogueItem

CHUNK = 64 * 1024
# The workbook's shared strings are held in memory by openpyxl even in read-only mode.
XLSX_MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024
# The key of row-level problems that concern no single column (e.g. a wrong number of cells).
WHOLE_ROW = ""
# Cells that a spreadsheet would run as a formula; our CSV exports prefix them with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SEVERITY_CHOICES = (
    ("minor", "轻微", "Minor"),
    ("general", "一般", "General"),
    ("serious", "严重", "Serious"),
)


class FileRefused(Exception):
    """The whole file is refused, before anything is written. ``message`` is for the uploader (a
    lazy translation: told in the language of whoever reads it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the national layout. ``key`` is the ``RecordInput`` attribute, or
    ``fields.<key>`` for a structured field of the catalogue item (the validator's error keys)."""

    key: str
    header: str  # the national Chinese header, written in the templates
    label_en: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    kind: str = "text"  # text | longtext | code | date | integer | decimal | choice | identity
    choices: tuple = ()
    max_length: int | None = None

    @property
    def bilingual(self) -> str:
        return f"{self.header} ({self.label_en})"

    @property
    def named(self):
        """How a message names the column: its national header, and in English its English name
        before it (the file still needs the header)."""
        return either(self.header, f"{self.label_en} ({self.header})")

    @property
    def label(self) -> dict[str, str]:
        """The column's name in each language (for the import report)."""
        return {"zh-hans": self.header, "en": self.label_en}

    @property
    def accepted_headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases, self.key.removeprefix("fields."), self.label_en)


COMMON_COLUMNS: tuple[Column, ...] = (
    Column("code", "统一社会信用代码", "Unified social credit code", required=True, kind="code", aliases=(
        "行政相对人代码_1(统一社会信用代码)", "行政相对人代码_1", "相对人统一社会信用代码", "社会信用代码",
        "信用代码", "uscc",
    )),
    Column("party_name", "行政相对人名称", "Party name", max_length=200, aliases=(
        "相对人名称", "当事人名称", "市场主体名称", "企业名称",
    )),
    Column("decision_number", "决定文书号", "Decision document number", required=True, max_length=128, aliases=(
        "行政处罚决定书文号", "处罚决定书文号", "行政许可决定文书号", "许可决定文书号", "决定书文号",
        "决定文书编号", "决定文号", "decision number", "decision no",
    )),
    Column("decision_date", "决定日期", "Decision date", required=True, kind="date", aliases=(
        "处罚决定日期", "许可决定日期", "作出决定日期", "作出处罚决定日期", "作出行政处罚决定日期",
        "作出许可决定日期", "决定时间",
    )),
    Column("legal_basis", "依据", "Legal basis", kind="longtext", max_length=2000, aliases=(
        "处罚依据", "许可依据", "法律依据", "决定依据",
    )),
    Column("severity", "严重程度", "Severity", kind="choice", choices=SEVERITY_CHOICES, aliases=(
        "违法行为严重程度", "失信严重程度", "情节严重程度",
    )),
    Column("content", "内容", "Content", kind="longtext", max_length=4000, aliases=(
        "处罚内容", "许可内容", "决定内容",
    )),
    Column("valid_from", "有效期自", "Valid from", kind="date", aliases=(
        "许可有效期自", "有效期起", "有效期起始日期", "有效期开始日期",
    )),
    Column("valid_to", "有效期至", "Valid until", kind="date", aliases=(
        "许可有效期至", "有效期止", "有效期截止日期", "处罚有效期", "valid to",
    )),
    Column("disclosure_months", "公示期限（月）", "Disclosure period (months)", kind="integer", aliases=(
        "公示期限", "公示期（月）", "公示月数", "disclosure months",
    )),
    Column("remarks", "备注", "Remarks", kind="longtext", max_length=2000, aliases=("remark", "notes")),
)  # fmt: skip


def columns_for(item: CatalogueItem) -> list[Column]:
    """The item's columns in template order: the common record columns, then its structured fields
    (each named by the first entry of its ``headers``, the others accepted as aliases)."""
    columns = []
    mandatory = REQUIRED_COLUMNS.get(item.layout, ())
    for column in COMMON_COLUMNS:
        if column.key == "severity" and item.period_kind == CatalogueItem.PeriodKind.SEVERITY:
            column = dataclasses.replace(column, required=True)
        if column.key in mandatory:  # the national field standard of the item's layout
            column = dataclasses.replace(column, required=True)
        columns.append(column)
    for definition in item.fields:
        headers = list(definition.get("headers") or []) or [definition["label_zh"]]
        columns.append(
            Column(
                key=f"fields.{definition['key']}",
                header=headers[0],
                label_en=definition.get("label_en") or definition["key"],
                aliases=(*headers[1:], definition["label_zh"]),
                required=bool(definition.get("required")),
                kind=definition.get("type", "text"),
                choices=tuple(tuple(c) for c in definition.get("choices") or ()),
                max_length=definition.get("max_length"),
            )
        )
    return columns


def header_matcher(item: CatalogueItem):
    """Whether a row looks like the item's header row: it names at least two of its columns."""
    known = {normalise_header(name) for column in columns_for(item) for name in column.accepted_headers}
    return lambda cells: sum(1 for c in cells if c is not None and normalise_header(c) in known) >= 2


_HEADER_NOISE = re.compile(r"[\s_\-*:]+")


def normalise_header(text: Any) -> str:
    """Headers compare after NFKC (full-width brackets become ASCII), case folding and dropping
    spaces, underscores, hyphens, colons and the asterisk some templates use to mark required."""
    text = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "").casefold()
    return _HEADER_NOISE.sub("", text)


@dataclass
class HeaderMap:
    """Which column of the file is which field."""

    item: CatalogueItem
    headers: list[str]
    targets: list[Column | None]
    unknown: list[str]
    strict_width: bool  # CSV: every row has exactly the header's number of cells
    positions: dict[str, int] = field(default_factory=dict)
    columns: dict[str, Column] = field(default_factory=dict)

    def report_problems(self, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
        """A rejected row's problems as the import report keeps them, one entry per column in the
        order of the file: the validator's error key, the header the file gives the column, the
        column's name and the messages, each in every language (``records.imports.report`` tells
        them in the reader's)."""
        given = errors.in_each_language() if isinstance(errors, Errors) else None
        order = {key: position for position, key in enumerate(self.positions)}
        problems = []
        for key in sorted(errors, key=lambda k: (k != WHOLE_ROW, order.get(k, len(order)))):
            messages = given[key] if given is not None else [in_each_language(m) for m in errors[key]]
            column = self.columns.get(key)
            if column is not None:
                label = column.label
            elif key == "item":
                label = in_each_language(_("Catalogue item"))
            else:
                label = in_each_language(key) if key != WHOLE_ROW else {}
            problems.append(
                {
                    "key": key,
                    "header": self.headers[self.positions[key]] if key in self.positions else "",
                    "label": label,
                    "messages": messages,
                }
            )
        return problems

    def read(self, raw: RawRow) -> tuple[dict[str, Any], Errors]:
        """A row's values by column key, and its shape errors by column key (``WHOLE_ROW`` for the
        row as a whole)."""
        errors = Errors()
        if raw.error:
            errors.add(WHOLE_ROW, raw.error)
            return {}, errors
        cells = raw.cells
        width = len(self.headers)
        if len(cells) != width:
            extra_values = any(not _blank(c) for c in cells[width:])
            if self.strict_width or extra_values:
                message = ngettext_lazy(
                    "This row has %(n)d cell but the header row has %(width)d: is a separator "
                    "(comma) inside a value that is not in quotes?",
                    "This row has %(n)d cells but the header row has %(width)d: is a separator "
                    "(comma) inside a value that is not in quotes?",
                    len(cells),
                )
                errors.add(WHOLE_ROW, interpolate(message, {"n": len(cells), "width": width}))
                return {}, errors
            cells = [*cells[:width], *[""] * (width - len(cells))]
        values: dict[str, Any] = {}
        for position, column in enumerate(self.targets):
            if column is None:
                continue
            cell = cells[position]
            if isinstance(cell, str):
                if "\x00" in cell:
                    errors.add(column.key, _("Contains a null character (NUL, byte 0): remove it."))
                    continue
                cell = cell.strip()
            elif isinstance(cell, date) and column.kind != "date":
                cell = cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
            values[column.key] = cell
        return values, errors


def map_headers(item: CatalogueItem, headers: list[str], *, strict_width: bool = True) -> HeaderMap:
    """Map the file's header row to the item's columns, or refuse the file: a required column is
    missing, or two columns give the same field. Unknown columns are ignored (and reported)."""
    columns = columns_for(item)
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in column.accepted_headers:
            lookup.setdefault(normalise_header(name), column)
    header_map = HeaderMap(
        item=item,
        headers=[str(h).strip() for h in headers],
        targets=[],
        unknown=[],
        strict_width=strict_width,
        columns={c.key: c for c in columns},
    )
    duplicates: list[str] = []
    for position, header in enumerate(header_map.headers):
        column = lookup.get(normalise_header(header)) if header else None
        if column is not None and column.key in header_map.positions:
            duplicates.append(f"{header_map.headers[header_map.positions[column.key]]} / {header}")
            column = None
        elif column is None and header:
            header_map.unknown.append(header)
        elif column is not None:
            header_map.positions[column.key] = position
        header_map.targets.append(column)
    problems = []
    missing = [c for c in columns if c.required and c.key not in header_map.positions]
    if missing:
        problems.append(
            interpolate(
                _("Required columns are missing: %(columns)s."),
                {"columns": joined("; ", [c.named for c in missing])},
            )
        )
        if not header_map.positions:
            problems.append(_("The first row must be the header row of the template."))
    if duplicates:
        problems.append(
            interpolate(
                _("These columns give the same field twice: %(columns)s. Keep one of each."),
                {"columns": "; ".join(duplicates)},
            )
        )
    if problems:
        raise FileRefused(joined(" ", problems))
    return header_map


def to_record_input(item_code: str, values: dict[str, Any]) -> RecordInput:
    common = {k: v for k, v in values.items() if not k.startswith("fields.")}
    return RecordInput(
        item=item_code,
        code=str(common.pop("code", "")),
        decision_number=str(common.pop("decision_number", "")),
        decision_date=common.pop("decision_date", None),
        **common,
        fields={k.removeprefix("fields."): v for k, v in values.items() if k.startswith("fields.")},
    )


# --- reading files -------------------------------------------------------------------------------


@dataclass
class RawRow:
    """A row of the file: its number (the spreadsheet's row number, header included; for a CSV the
    line number unless a quoted value spans lines) and its cells, or why it could not be split."""

    row: int
    cells: list[Any]
    error: str = ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _not_tabular() -> FileRefused:
    return FileRefused(
        _("This is not a CSV or XLSX file. Save the table as CSV UTF-8 or as .xlsx and upload it again.")
    )


_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf", b"BM", b"{\\rtf")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def sniff(binary: BinaryIO) -> tuple[str, str]:
    """("xlsx", "") or ("csv", encoding), judged by content, not by the file name."""
    binary.seek(0)
    head = binary.read(8)
    binary.seek(0)
    if not head:
        raise FileRefused(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", ""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            _(
                "This is an Excel 97-2003 workbook (.xls) or another old Office file. Save it as .xlsx or as CSV UTF-8 and upload it again."
            )
        )
    if head.startswith(b"%PDF"):
        raise FileRefused(_("This is a PDF document, not a CSV or XLSX file."))
    if head.startswith(_BINARY_MAGIC) or head.startswith(b"PK"):
        raise _not_tabular()
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _detect_encoding(binary)
    binary.seek(0)
    text = codecs.getincrementaldecoder(encoding)("replace").decode(binary.read(CHUNK), final=False)
    binary.seek(0)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if controls > 4 and controls * 100 > len(text):
        raise _not_tabular()
    return "csv", encoding


def _detect_encoding(binary: BinaryIO) -> str:
    """UTF-8 if the first non-ASCII stretch decodes strictly as UTF-8, else GB18030 (a superset of
    GBK and GB2312) if it decodes as that; else the file is refused. An all-ASCII file is UTF-8."""
    binary.seek(0)
    while True:
        chunk = binary.read(CHUNK)
        if not chunk:
            return "utf-8"
        match = _NON_ASCII.search(chunk)
        if match is None:
            continue
        sample = chunk[match.start() :]
        sample += binary.read(max(0, CHUNK - len(sample)))
        final = not binary.read(1)
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=final)
            except UnicodeDecodeError:
                continue
            return encoding
        raise FileRefused(
            _(
                "The file is neither UTF-8 nor GBK/GB18030 text, nor an XLSX workbook. Save it as CSV UTF-8 or as .xlsx and upload it again."
            )
        )


class _RawReader(io.RawIOBase):
    """Any object with ``read(n)`` as a raw stream (so that ``TextIOWrapper`` can decode it)."""

    def __init__(self, source: BinaryIO):
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _is_comment(cells: list[Any]) -> bool:
    return bool(cells) and isinstance(cells[0], str) and cells[0].lstrip().startswith("#")


def _csv_cell(text: str) -> str:
    """Undo the quote our CSV exports put before formula-like cells (a re-uploaded report)."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def excel_value(value: Any) -> Any:
    """A workbook cell as the validator likes it: dates stay dates (a datetime at midnight becomes
    a date), numbers become their text as Excel shows them (5.5 -> "5.5", 20260930 -> "20260930")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) and value.tzinfo is None else value
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(value, ".15g")  # Excel keeps 15 significant digits
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (time, timedelta)):
        return str(value)
    return str(value)


class TableReader:
    """The rows of an uploaded file, streamed: ``headers``, then ``data_rows()`` (the non-empty rows
    after the header). Use as a context manager.

    The header row is the first row that is neither empty nor a ``#`` comment; given the catalogue
    ``item``, it is the first of the next few such rows that names at least two of the item's
    columns, so that a title row above the header (common in office spreadsheets) is skipped (its
    row numbers are in ``skipped_rows``)."""

    TITLE_ROWS = 5

    def __init__(self, binary: BinaryIO, item: CatalogueItem | None = None):
        self.binary = binary
        self.format, self.encoding = sniff(binary)
        self.delimiter = ","
        self.header_row = 0
        self.headers: list[str] = []
        self.skipped_rows: list[int] = []
        self._recognise = header_matcher(item) if item is not None else None
        self._pushback: list[tuple[int, list[Any], str]] = []
        self._workbook = None
        self._records = self._csv_records() if self.format == "csv" else self._xlsx_records()
        try:
            self._read_header()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._records.close()
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    @property
    def description(self) -> str:
        if self.format == "xlsx":
            return "XLSX"
        names = {",": "comma", "\t": "tab", ";": "semicolon"}
        return f"CSV {self.encoding.removesuffix('-sig').upper()} ({names[self.delimiter]})"

    def _read_header(self) -> None:
        candidates: list[tuple[int, list[Any], str]] = []
        for record in self._records:
            row, cells, error = record
            if not error and (all(_blank(c) for c in cells) or _is_comment(cells)):
                continue
            candidates.append(record)
            if error or self._recognise is None or self._recognise(cells):
                break
            if len(candidates) > self.TITLE_ROWS:
                break
        if not candidates:
            raise FileRefused(_("The file has no header row."))
        row, cells, error = candidates[-1]
        if error or self._recognise is None or not self._recognise(cells):
            row, cells, error = candidates[0]  # no recognisable header: the first row, as it is
            self._pushback = candidates[1:]
        else:
            self.skipped_rows = [r for r, _cells, _error in candidates[:-1]]
        if error:
            raise FileRefused(interpolate(_("The header row could not be read: %(error)s"), {"error": error}))
        self.header_row = row
        headers = ["" if c is None else str(c) for c in cells]
        if self.format == "xlsx":
            while headers and not headers[-1].strip():
                headers.pop()
        self.headers = headers

    def data_rows(self) -> Iterator[RawRow]:
        for row, cells, error in itertools.chain(self._pushback, self._records):
            if error:
                yield RawRow(row, [], error)
            elif not all(_blank(c) for c in cells):
                yield RawRow(row, cells)

    def _csv_records(self) -> Iterator[tuple[int, list[Any], str]]:
        text = io.TextIOWrapper(
            io.BufferedReader(_RawReader(self.binary), CHUNK),
            encoding=self.encoding,
            errors="strict",
            newline="",
        )
        row = 0
        try:
            # The delimiter is judged on the first line (of a few) that is neither blank nor a comment
            # and has one: a title line above the header may have none.
            peeked = []
            for line in text:
                peeked.append(line)
                content = line.strip().strip(",;\t").lstrip('"').strip()
                if content and not content.startswith("#"):
                    self.delimiter = _sniff_delimiter(line)
                    if any(d in line for d in ",;\t") or len(peeked) > self.TITLE_ROWS:
                        break
            reader = csv.reader(itertools.chain(peeked, text), delimiter=self.delimiter)
            while True:
                row += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield (
                        row,
                        [],
                        interpolate(_("This row could not be read as CSV: %(error)s."), {"error": str(exc)}),
                    )
                    continue
                yield row, [_csv_cell(c) for c in cells], ""
        except UnicodeDecodeError:
            raise FileRefused(
                interpolate(
                    _(
                        "The file is not valid %(encoding)s text (from about row %(row)d on): save it as CSV UTF-8 and upload it again."
                    ),
                    {"encoding": self.encoding.removesuffix("-sig").upper(), "row": max(row, 1)},
                )
            ) from None

    def _xlsx_records(self) -> Iterator[tuple[int, list[Any], str]]:
        openpyxl = _openpyxl()
        try:
            with zipfile.ZipFile(self.binary) as archive:
                names = {i.filename: i for i in archive.infolist()}
        except (zipfile.BadZipFile, OSError, ValueError):
            raise _not_tabular() from None
        if "xl/workbook.xml" not in names:
            raise FileRefused(
                _(
                    "This is a ZIP archive (perhaps a Word or OpenDocument file), not an XLSX workbook. Save the table as .xlsx or as CSV UTF-8."
                )
            )
        strings = names.get("xl/sharedStrings.xml")
        if strings is not None and strings.file_size > XLSX_MAX_SHARED_STRINGS_BYTES:
            raise FileRefused(
                _(
                    "This workbook holds too much text to be read safely: save it as CSV UTF-8 and upload that instead."
                )
            )
        self.binary.seek(0)
        try:
            self._workbook = openpyxl.load_workbook(self.binary, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of errors on a damaged workbook
            raise FileRefused(
                _("The XLSX workbook could not be opened: it may be damaged or encrypted.")
            ) from None
        if not self._workbook.worksheets:
            raise FileRefused(_("The workbook has no worksheet."))
        sheet = self._workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
        row = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            row += 1
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:
                raise FileRefused(
                    interpolate(
                        _("The XLSX workbook could not be read beyond row %(row)d: it may be damaged."),
                        {"row": row},
                    )
                ) from None
            yield row, [excel_value(v) for v in values], ""


def _openpyxl():
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - an installation without the optional dependency
        raise FileRefused(_("XLSX files cannot be read on this server: upload a CSV file.")) from None
    return openpyxl


def count_rows(binary: BinaryIO, item: CatalogueItem | None = None) -> int:
    """The number of non-empty data rows (the cheap first pass; it also decodes the whole file, so
    an encoding error surfaces here, before anything is written)."""
    with TableReader(binary, item) as reader:
        return sum(1 for _ in reader.data_rows())
