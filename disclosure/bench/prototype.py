"""What the public search would cost with three changes, measured by patching them into this process
only (the application's code is not changed):

1. the view's Paginator takes the capped count the view already has, instead of running an uncapped
   ``SELECT COUNT(*)`` of every match (COUNT_CAP = MAX_PAGE × PAGE_SIZE, so nothing is lost);
2. the exact match on a unified social credit code looks the entity up first and filters records on
   ``entity_id``, instead of ``decision_number = q OR entity.code = q`` across the join (which no
   index can serve, so PostgreSQL joins every published record to its entity);
3. when the capped count says there are few matches (not capped), the page is ordered by an
   expression (``decision_date + 0``) that the published-by-date index cannot provide, so the planner
   starts from the GIN index and sorts those few rows, instead of walking the date index until it
   has seen every match (the Paginator's LIMIT is then the number of matches: the walk never stops
   early).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.core.paginator import Paginator
from django.db.models import BigIntegerField, DateField, ExpressionWrapper, F, Q, Value
from django.utils.functional import cached_property

from disclosure import search as app_search
from disclosure import views_public
from records import search as text_search
from records.identifiers import normalise_uscc
from records.models import MarketEntity

_last_count: list[int] = []  # the capped count of the current request, for the Paginator (change 1)


@dataclass
class PrototypeResult(app_search.SearchResult):
    def capped_count(self) -> tuple[int, bool]:
        count, capped = super().capped_count()
        if not capped:  # change 3
            self.matches = self.matches.order_by(
                ExpressionWrapper(F("decision_date") + Value(0), output_field=DateField()).desc(),
                ExpressionWrapper(F("id") + Value(0), output_field=BigIntegerField()).desc(),
            )
        _last_count[:] = [count]
        return count, capped


class CountedPaginator(Paginator):
    """Change 1: the count the view already has (capped at COUNT_CAP = MAX_PAGE × PAGE_SIZE)."""

    @cached_property
    def count(self) -> int:
        return _last_count[0] if _last_count else super().count


def search_records(query: app_search.PublicQuery) -> PrototypeResult:
    """``disclosure.search.search_records`` with change 2 (and a result that makes change 3)."""
    related = ("entity", "item", "department")
    base = app_search._filtered(app_search.published(), query).select_related(*related)
    text = " ".join(query.q.split())[:200]
    if not text:
        return PrototypeResult(exact=[], matches=base.order_by("-decision_date", "-id"))
    condition = Q(decision_number=text)
    code = normalise_uscc(text)
    if len(code) == 18:
        entity_id = MarketEntity.objects.filter(code=code).values_list("pk", flat=True).first()
        if entity_id is not None:
            condition |= Q(entity_id=entity_id)
    exact = list(base.filter(condition).order_by("-decision_date", "-id")[:50])
    parsed = text_search.parse(text)
    if parsed.tsquery:
        matches = base.filter(text_search.matches(parsed))
    elif parsed.needs_substring_scan:
        matches = base.filter(party_name__contains=text)
    else:
        matches = base.none()
    if exact:
        matches = matches.exclude(pk__in=[r.pk for r in exact])
    return PrototypeResult(exact=exact, matches=matches.order_by("-decision_date", "-id"))


@contextmanager
def patched() -> Iterator[None]:
    """The three changes, in this process, for the duration of the block."""
    _last_count.clear()
    with (
        mock.patch.object(app_search, "search_records", search_records),
        mock.patch.object(views_public, "Paginator", CountedPaginator),
    ):
        yield
    _last_count.clear()
