"""The public disclosure search: published records and entities, by Chinese name (two characters
are enough), English words, unified social credit code or decision document number.

Relevance first, then date: exact hits on a code or a decision number come first, then every text
match newest first. Ordering text matches by date (rather than by a computed rank) keeps a page of
results cheap for a common query: PostgreSQL can walk the published-by-date index and stop after a
page, or use the GIN index when the query is rare. Totals are counted up to a cap for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from records import search as text_search
from records.identifiers import normalise_uscc
from records.models import CreditRecord, MarketEntity

COUNT_CAP = 1000
PUBLIC_STATUSES = CreditRecord.LIVE_STATUSES


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
        qs = qs.filter(Q(entity__division_id=query.division) | Q(entity__division__parent_id=query.division))
    if query.date_from:
        qs = qs.filter(decision_date__gte=query.date_from)
    if query.date_to:
        qs = qs.filter(decision_date__lte=query.date_to)
    return qs


@dataclass
class SearchResult:
    exact: list[CreditRecord]
    matches: QuerySet[CreditRecord]

    def capped_count(self) -> tuple[int, bool]:
        """(count, capped): the number of text matches, counted up to COUNT_CAP."""
        n = self.matches.order_by()[: COUNT_CAP + 1].count()
        return min(n, COUNT_CAP), n > COUNT_CAP


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


def search_records(query: PublicQuery) -> SearchResult:
    related = ("entity", "item", "department")
    base = _filtered(published(), query).select_related(*related)
    text = " ".join(query.q.split())[:200]
    if not text:
        return SearchResult(exact=[], matches=base.order_by("-decision_date", "-id"))
    exact = list(base.filter(exact_condition(text)).order_by("-decision_date", "-id")[:50])
    parsed = text_search.parse(text)
    if parsed.tsquery:
        matches = base.filter(text_search.matches(parsed))
    elif parsed.needs_substring_scan:
        matches = base.filter(party_name__contains=text)
    else:
        matches = base.none()
    if exact:
        matches = matches.exclude(pk__in=[r.pk for r in exact])
    return SearchResult(exact=exact, matches=matches.order_by("-decision_date", "-id"))


def search_entities(text: str, *, division: str = "", limit: int = 10) -> list[MarketEntity]:
    """Entities for the search box: the exact code, else names, shortest first."""
    text = " ".join(text.split())[:200]
    if not text:
        return []
    qs = MarketEntity.objects.select_related("division")
    if division:
        qs = qs.filter(Q(division_id=division) | Q(division__parent_id=division))
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
    from django.db.models.functions import Length

    return list(qs.order_by(Length("name_zh"), "id")[:limit])


def entity_records(entity: MarketEntity) -> QuerySet[CreditRecord]:
    return (
        published()
        .filter(entity=entity)
        .select_related("item", "department")
        .order_by("-decision_date", "-id")
    )
