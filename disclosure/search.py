"""The public disclosure search: published records and entities, by Chinese name (two characters
are enough), English words, unified social credit code or decision document number.

Relevance first, then date: exact hits on a code or a decision number come first, then text matches
newest first. Text matches are read from the public index (``disclosure.models.PublicIndexEntry``),
a narrow table in publication order, in two steps:

1. the newest ``WINDOW`` index rows that pass the filters are checked against the query (a short walk
   down the date index, cheap whatever the query: a common word fills the page at once, a rare one
   simply finds few rows);
2. only when that window holds too few matches for the page asked for does the search ask the whole
   index, which PostgreSQL then answers through the GIN index — cheaply, since the query is rare.

Totals are counted up to ``COUNT_CAP``; when the window answered the page without covering the
whole index, the page says "at least N" rather than paying for an exact count. See docs/adr/0002.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Length

from credit_portal.accounts.models import Department
from credit_portal.accounts.selectors import division_and_children
from disclosure.models import PublicIndexEntry
from records import search as text_search
from records.identifiers import normalise_uscc
from records.models import CatalogueItem, CreditRecord, MarketEntity

WINDOW = 50_000
LONE_CHARACTER_WINDOW = 5_000
COUNT_CAP = 200
PUBLIC_STATUSES = CreditRecord.LIVE_STATUSES
_RELATED = ("entity", "item", "department")


@dataclass(frozen=True)
class PublicQuery:
    q: str = ""
    item: str = ""
    department: str = ""
    division: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.q.strip(), self.item, self.department, self.division, self.date_from, self.date_to)
        )

    @property
    def text(self) -> str:
        return " ".join(self.q.split())[:200]


def published() -> QuerySet[CreditRecord]:
    """Records the public may see: public items, published, and standing."""
    return CreditRecord.objects.filter(
        disclosure=CreditRecord.Disclosure.PUBLISHED, status__in=PUBLIC_STATUSES
    )


def _filtered(qs: QuerySet[CreditRecord], query: PublicQuery) -> QuerySet[CreditRecord]:
    if query.item:
        qs = qs.filter(item__code=query.item)
    if query.department:
        qs = qs.filter(department__code=query.department)
    if query.division:
        qs = qs.filter(entity__division_id__in=division_and_children(query.division))
    if query.date_from:
        qs = qs.filter(decision_date__gte=query.date_from)
    if query.date_to:
        qs = qs.filter(decision_date__lte=query.date_to)
    return qs


def exact_condition(text: str) -> Q:
    """Records whose decision number is ``text``, or whose entity has the code ``text``. The entity
    is resolved first, so that the condition stays on indexed columns of the records table alone
    (an OR across a join would scan every record)."""
    condition = Q(decision_number=text)
    code = normalise_uscc(text)
    if len(code) == 18:
        entity_id = MarketEntity.objects.filter(code=code).values_list("pk", flat=True).first()
        if entity_id is not None:
            condition |= Q(entity_id=entity_id)
    return condition


@dataclass
class SearchPage:
    """One page of results: exact hits, then text matches newest first."""

    exact: list[CreditRecord]
    records: list[CreditRecord]
    count: int  # text matches found (exact hits not included)
    capped: bool  # more than COUNT_CAP
    at_least: bool  # the count is a lower bound: the whole index was not read
    has_next: bool
    number: int
    page_size: int
    ids: list[int] = field(default_factory=list, repr=False)

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1


def _index_filters(query: PublicQuery) -> tuple[list[str], list]:
    """SQL conditions on the public index for the filters (ids resolved from codes first)."""
    where, params = [], []
    if query.item:
        where.append("item_id = %s")
        params.append(CatalogueItem.objects.filter(code=query.item).values_list("pk", flat=True).first() or 0)
    if query.department:
        where.append("department_id = %s")
        params.append(
            Department.objects.filter(code=query.department).values_list("pk", flat=True).first() or 0
        )
    if query.division:
        where.append("division_id = ANY(%s)")
        params.append(division_and_children(query.division))
    if query.date_from:
        where.append("decision_date >= %s")
        params.append(query.date_from)
    if query.date_to:
        where.append("decision_date <= %s")
        params.append(query.date_to)
    return where, params


def _text_matches(query: PublicQuery, *, limit: int, window: int | None) -> tuple[list[int], bool]:
    """Record ids of text matches, newest first, at most ``limit``; and whether the rows read were
    all the index holds for these filters (so that the count is exact)."""
    parsed = text_search.parse(query.text)
    where, params = _index_filters(query)
    filters = ("WHERE " + " AND ".join(where)) if where else ""
    if parsed.tsquery:
        match, match_params = "search_vector @@ %s::tsquery", [parsed.tsquery]
    elif parsed.needs_substring_scan:
        # A lone Chinese character: no bigram holds it. Look at the party names of the newest rows
        # only (a small window, never the whole table), and say that the count is a lower bound.
        match = (
            "EXISTS (SELECT 1 FROM records_creditrecord r WHERE r.id = record_id AND r.party_name LIKE %s)"
        )
        match_params = ["%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"]
        window = min(window or LONE_CHARACTER_WINDOW, LONE_CHARACTER_WINDOW)
    else:
        return [], True
    order = "ORDER BY decision_date DESC, record_id DESC"
    if window is not None:
        sql = (
            f"SELECT record_id FROM (SELECT record_id, decision_date, search_vector FROM disclosure_publicindexentry "  # noqa: S608
            f"{filters} {order} LIMIT %s) w WHERE {match} {order} LIMIT %s"
        )
        args = [*params, window, *match_params, limit]
    else:
        sql = f"SELECT record_id FROM disclosure_publicindexentry {filters} {'AND' if where else 'WHERE'} {match} {order} LIMIT %s"  # noqa: S608
        args = [*params, *match_params, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        ids = [row[0] for row in cursor.fetchall()]
    if window is None:
        return ids, True
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM disclosure_publicindexentry {filters} LIMIT %s) s",  # noqa: S608
            [*params, window + 1],
        )
        covered = cursor.fetchone()[0] <= window
    return ids, covered


def _in_order(ids: list[int]) -> list[CreditRecord]:
    found = CreditRecord.objects.select_related(*_RELATED).in_bulk(ids)
    return [found[i] for i in ids if i in found]


def search_records(query: PublicQuery, *, page: int = 1, page_size: int = 20) -> SearchPage:
    """A page of published records for ``query``: exact hits (page 1 only) and text matches."""
    text = query.text
    offset = (page - 1) * page_size
    exact: list[CreditRecord] = []
    if text:
        exact = list(
            _filtered(published(), query)
            .select_related(*_RELATED)
            .filter(exact_condition(text))
            .order_by("-decision_date", "-id")[:50]
        )
    exact_ids = {r.pk for r in exact}
    if not text:
        ids, covered = _browse(query, limit=max(offset + page_size, COUNT_CAP) + 1)
    elif text_search.parse(text).code:
        ids, covered = [], True  # a unified social credit code: its records are the exact hits
    else:
        wanted = offset + page_size + len(exact_ids) + 1
        ids, covered = _text_matches(query, limit=COUNT_CAP + len(exact_ids) + 1, window=WINDOW)
        if not covered and len(ids) < wanted and not text_search.parse(text).needs_substring_scan:
            ids, covered = _text_matches(query, limit=COUNT_CAP + len(exact_ids) + 1, window=None)
    ids = [i for i in ids if i not in exact_ids]
    capped = len(ids) > COUNT_CAP
    count = min(len(ids), COUNT_CAP)
    page_ids = ids[offset : offset + page_size]
    return SearchPage(
        exact=exact if page == 1 else [],
        records=_in_order(page_ids),
        count=count,
        capped=capped,
        at_least=not covered and not capped,
        has_next=len(ids) > offset + page_size,
        number=page,
        page_size=page_size,
        ids=page_ids,
    )


def _browse(query: PublicQuery, *, limit: int) -> tuple[list[int], bool]:
    """Filters without text: the newest matching index rows."""
    qs = PublicIndexEntry.objects.all()
    if query.item:
        qs = qs.filter(item_id__in=CatalogueItem.objects.filter(code=query.item).values("pk"))
    if query.department:
        qs = qs.filter(department_id__in=Department.objects.filter(code=query.department).values("pk"))
    if query.division:
        qs = qs.filter(division_id__in=division_and_children(query.division))
    if query.date_from:
        qs = qs.filter(decision_date__gte=query.date_from)
    if query.date_to:
        qs = qs.filter(decision_date__lte=query.date_to)
    ids = list(qs.order_by("-decision_date", "-record_id").values_list("record_id", flat=True)[:limit])
    return ids, True


def search_entities(text: str, *, division: str = "", limit: int = 10) -> list[MarketEntity]:
    """Entities for the search box: the exact code, else names, shortest first."""
    text = " ".join(text.split())[:200]
    if not text:
        return []
    qs = MarketEntity.objects.select_related("division")
    if division:
        qs = qs.filter(division_id__in=division_and_children(division))
    code = normalise_uscc(text)
    if len(code) == 18:
        hit = list(qs.filter(code=code)[:1])
        if hit:
            return hit
    parsed = text_search.parse(text)
    if parsed.tsquery:
        qs = qs.filter(text_search.matches(parsed))
    elif parsed.needs_substring_scan:
        qs = qs.filter(name_zh__contains=text)
    else:
        return []
    return list(qs.order_by(Length("name_zh"), "id")[:limit])


def entity_records(entity: MarketEntity) -> QuerySet[CreditRecord]:
    return (
        published()
        .filter(entity=entity)
        .select_related("item", "department")
        .order_by("-decision_date", "-id")
    )
