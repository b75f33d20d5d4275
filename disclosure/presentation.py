"""How a record is shown to the public: personal data masked as the disclosure standard requires,
and identity numbers left out altogether.

A record's own page shows every public field (``public_view``). A list shows one line per record
(``ResultRow``): the search page reads the columns of its lines (``LINE_COLUMNS``) in the statement
that finds the matches, with the names of catalogue items and departments from a cached table, because that page is the portal's
busiest and an ORM query with three joins and a template include per line cost more than the search
itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from credit_portal.accounts.models import Department
from credit_portal.memo import per_process
from credit_portal.web.markup import markup, markup_join
from credit_portal.web.reversing import url_maker
from records.fields import public_fields
from records.models import CatalogueItem, CreditRecord
from records.visibility import without_identity

CONTENT_CHARS = 160
NAMES_SECONDS = 300


def mask_person_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family name and nothing else."""
    return name[:1] + "*" * (len(name) - 1) if name else name


def _masked_party(name: str, category: str | None) -> str:
    """The party's name as the public may read it: a natural person's masked."""
    return mask_person_name(name) if category == "natural_person" else name


def party_name(record: CreditRecord) -> str:
    return _masked_party(record.party_name, record.fields.get("party_category"))


def public_view(record: CreditRecord) -> dict:
    """Everything the public may read about a published record (no identity numbers, not even masked)."""
    fields = []
    for key, label, value in public_fields(record.item, without_identity(record.item, record.fields)):
        if key == "legal_rep_name" and record.fields.get("party_category") == "natural_person":
            value = mask_person_name(value)
        fields.append((label, value))
    notes = _notes(record.status, record.version)
    return {"record": record, "party_name": party_name(record), "fields": fields, "notes": notes}


@dataclass(frozen=True)
class ResultRow:
    """One line of a list of public records, every string ready to print (escaped by the template)."""

    pk: int
    url: str
    item: str
    decision_number: str
    party_name: str
    code: str
    department: str
    decided: str
    content: str
    notes: list[str] = field(default_factory=list)

    def html(self) -> SafeString:
        """The line as list markup, every value escaped. Written here, not in a template included
        once per line: the search page prints twenty of them, and a template costs several times
        the markup's own work (``markup`` is ``format_html`` for plain strings)."""
        notes = markup_join("", ' <span class="badge badge-warn">{}</span>', ((note,) for note in self.notes))
        content = markup('\n  <div lang="zh-Hans">{}</div>', self.content) if self.content else ""
        return markup(
            '<li><a href="{}"><strong>{}</strong> · <span lang="zh-Hans">{}</span></a>{}\n'
            '  <div class="meta"><span lang="zh-Hans">{}</span> · <span class="code">{}</span> · {} · {}</div>{}\n'
            "</li>\n",
            self.url, self.item, self.decision_number, notes,
            self.party_name, self.code, self.department, self.decided, content,
        )  # fmt: skip


def _notes(status: str, version: int) -> list[str]:
    if status == CreditRecord.Status.UNDER_OBJECTION:
        return [_("Under objection: the recording department is reviewing it.")]
    if status == CreditRecord.Status.CORRECTED:
        return [_("Corrected (version %(v)d).") % {"v": version}]
    return []


@per_process(seconds=NAMES_SECONDS)
def _names() -> tuple[dict[int, str], dict[int, str]]:
    """Catalogue item and department names by id, in the active language (kept like the search
    form's choices: they change a few times a year)."""
    english = (get_language() or "").startswith("en")

    def pick(zh: str, en: str) -> str:
        return en if english and en else zh

    return (
        {pk: pick(zh, en) for pk, zh, en in CatalogueItem.objects.values_list("pk", "name_zh", "name_en")},
        {pk: pick(zh, en) for pk, zh, en in Department.objects.values_list("pk", "name_zh", "name_en")},
    )


@dataclass(frozen=True)
class _ListContext:
    """What every line of one list shares: looked up once per list, not once per line."""

    url: Callable[[object], str]
    items: dict[int, str]
    departments: dict[int, str]
    decided: str  # "decided %(d)s", translated

    @classmethod
    def current(cls) -> _ListContext:
        items, departments = _names()
        return cls(url_maker("public:record"), items, departments, _("decided %(d)s"))


def _row(lc: _ListContext, pk, number, decided, party, category, content, status, version, code,
         item_id, department_id) -> ResultRow:  # fmt: skip
    return ResultRow(
        pk=pk,
        url=lc.url(pk),
        item=lc.items.get(item_id, ""),
        decision_number=number,
        party_name=_masked_party(party, category),
        code=code,
        department=lc.departments.get(department_id, ""),
        decided=lc.decided % {"d": decided.isoformat()},
        content=content if len(content) <= CONTENT_CHARS else content[: CONTENT_CHARS - 1] + "…",
        notes=_notes(status, version),
    )


# What a list line needs of a record (``r``) and its entity (``e``), after the record's id. The search
# reads these columns in the statement that finds the matches (``search_records(line_columns=...)``).
LINE_COLUMNS = (
    "r.decision_number, r.decision_date, r.party_name, r.fields->>'party_category', "
    f"left(r.content, {CONTENT_CHARS + 1}), r.status, r.version, e.code, r.item_id, r.department_id"
)


def lines_from_rows(rows: list[tuple]) -> list[ResultRow]:
    """List lines from rows of ``(id, *LINE_COLUMNS)``, in their order."""
    if not rows:
        return []
    lc = _ListContext.current()
    if any(row[9] not in lc.items or row[10] not in lc.departments for row in rows):
        _names.forget()  # an item or a department newer than this process's copy
        lc = _ListContext.current()
    return [_row(lc, *row) for row in rows]


def entity_result_rows(records, *, entity_code: str) -> list[ResultRow]:
    """The list lines of records already loaded, all of the entity whose code is ``entity_code``
    (one ``reverse`` and one look at the names for the whole list)."""
    lc = _ListContext.current()
    rows = []
    for record in records:
        rows.append(_row(
            lc, record.pk, record.decision_number, record.decision_date,
            record.party_name, record.fields.get("party_category"), record.content, record.status,
            record.version, entity_code, record.item_id, record.department_id,
        ))  # fmt: skip
    return rows
