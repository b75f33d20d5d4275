"""The public door: the disclosure search, a record's page, an entity's public profile, and a
bounded CSV export of a search."""

from __future__ import annotations

import csv
import dataclasses
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from credit_portal.csvsafe import safe_row
from credit_portal.ratelimit import limit_per_client
from disclosure import search
from disclosure.forms import PublicSearchForm
from disclosure.presentation import (
    LINE_COLUMNS,
    entity_result_rows,
    lines_from_rows,
    party_name,
    public_view,
)
from records import selectors as record_selectors
from records.models import CreditRecord

PAGE_SIZE = 20
MAX_PAGE = 50  # deeper pages are for scrapers; narrow the search instead
EXPORT_ROWS = search.COUNT_CAP
# What a search is made of: passed on from the results to a record's or an entity's page, so that
# its "Back to search" returns to the same search (the page of results apart).
SEARCH_FIELDS = ("q", "item", "department", "division", "date_from", "date_to")


def search_params(data) -> str:
    """The search's query and filters in ``data`` (a QueryDict) as a query string, "" for none:
    only the values the search form accepts, as they were typed, in the form's order."""
    form = PublicSearchForm({name: data.get(name, "") for name in SEARCH_FIELDS})
    form.is_valid()
    pairs = []
    for name in SEARCH_FIELDS:
        value = (data.get(name) or "").strip()
        if value and name not in form.errors:
            pairs.append((name, value))
    return urlencode(pairs)


def _with_params(lines: list, params: str) -> list:
    """The lines (records or entities) with ``params`` added to their links."""
    if not params:
        return lines
    return [dataclasses.replace(line, url=f"{line.url}?{params}") for line in lines]


ENTITIES_SHOWN = 10  # above the search results; the rest are one link away


def _query(form: PublicSearchForm) -> search.PublicQuery:
    d = form.cleaned_data
    return search.PublicQuery(
        q=d.get("q", ""),
        item=d.get("item", ""),
        department=d.get("department", ""),
        division=d.get("division", ""),
        date_from=d.get("date_from"),
        date_to=d.get("date_to"),
    )


@require_GET
@limit_per_client("public-search", limit=120, window=60)
def home(request):
    form = PublicSearchForm(request.GET or None)
    context = {"form": form, "searched": False}
    if form.is_bound and form.is_valid():
        query = _query(form)
        if not query.is_empty:
            try:
                number = min(max(int(request.GET.get("page", 1)), 1), MAX_PAGE)
            except ValueError:
                number = 1
            result = search.search_records(
                query, page=number, page_size=PAGE_SIZE, load=False, line_columns=LINE_COLUMNS
            )
            params = search_params(request.GET)
            context.update(
                searched=True,
                query=query,
                exact=_with_params(lines_from_rows(result.exact_lines), params),
                page=result,
                results=_with_params(lines_from_rows(result.lines), params),
                count=result.count,
                capped=result.capped,
                next_page=number + 1 if result.has_next and number < MAX_PAGE else None,
                previous_page=number - 1 if number > 1 else None,
                max_page=MAX_PAGE,
                exact_hits_cap=search.EXACT_HITS,
            )
            if query.q:
                matches = search.entity_matches(query.q, division=query.division, limit=ENTITIES_SHOWN)
                context.update(
                    entities=_with_params(matches.hits, params),
                    entity_matches=matches,
                    entity_list_query=_entity_list_query(query),
                )
    return render(request, "public/search.html", context)


def _entity_list_query(query: search.PublicQuery) -> str:
    """The query string of a search's text and division, the only filters an entity has: from the
    search to the full entity list, and back."""
    params = {"q": query.text}
    if query.division:
        params["division"] = query.division
    return urlencode(params)


ENTITY_PAGE_SIZE = 20


@require_GET
@limit_per_client("public-entities", limit=120, window=60)
def entity_list(request):
    """Every market entity matching a search's text (and its division), shortest names first, in
    pages: what "show all" above the search results opens. The first ENTITY_LIST_CAP matches by
    registration are listed; beyond, the page says so and asks to narrow the search."""
    form = PublicSearchForm(request.GET or None)
    context: dict = {"form": form, "searched": False}
    if form.is_bound and form.is_valid() and form.cleaned_data.get("q", "").strip():
        query = _query(form)
        last_page = -(-search.ENTITY_LIST_CAP // ENTITY_PAGE_SIZE)
        try:
            number = min(max(int(request.GET.get("page", 1)), 1), last_page)
        except ValueError:
            number = 1

        def read(page_number: int) -> search.EntityMatches:
            return search.entity_matches(
                query.text,
                division=query.division,
                limit=ENTITY_PAGE_SIZE,
                offset=(page_number - 1) * ENTITY_PAGE_SIZE,
                cap=search.ENTITY_LIST_CAP,
                registry_order=True,
            )

        matches = read(number)
        if not matches.hits and number > 1:
            # A page past the last (an old link): the last page there is.
            first = read(1)
            number = max(1, -(-first.count // ENTITY_PAGE_SIZE))
            matches = read(number) if number > 1 else first
        pages = max(1, -(-matches.count // ENTITY_PAGE_SIZE))
        context.update(
            searched=True,
            query=query,
            matches=matches,
            number=number,
            pages=pages,
            start_index=(number - 1) * ENTITY_PAGE_SIZE + 1,
            previous_page=number - 1 if number > 1 else None,
            next_page=number + 1 if number < pages else None,
            search_query=_entity_list_query(query),
        )
    return render(request, "public/entities.html", context)


@require_GET
def record_page(request, pk: int):
    record = get_object_or_404(
        search.published().select_related("entity", "item", "department", "entity__division"), pk=pk
    )
    return render(
        request, "public/record.html", {**public_view(record), "search_params": search_params(request.GET)}
    )


@require_GET
@limit_per_client("public-profile", limit=120, window=60)
def entity_profile(request, code: str):
    entity = record_selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    records = Paginator(search.entity_records(entity), PAGE_SIZE).get_page(request.GET.get("page"))
    params = search_params(request.GET)
    return render(
        request,
        "public/entity.html",
        {
            "entity": entity,
            "page_obj": records,
            "results": _with_params(entity_result_rows(records, entity_code=entity.code), params),
            "search_params": params,
        },
    )


@require_GET
@limit_per_client("public-export", limit=10, window=3600)
def export_csv(request):
    """The first EXPORT_ROWS results of a search as CSV (UTF-8 with BOM for spreadsheet programs),
    cells that a spreadsheet would run as formulas neutralised."""
    form = PublicSearchForm(request.GET or None)
    if not form.is_valid() or _query(form).is_empty:
        return HttpResponse(
            _("Search for something first."), status=400, content_type="text/plain; charset=utf-8"
        )
    query = _query(form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credit-records.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [_("Party"), _("Unified social credit code"), _("Kind of information"), _("Decision document number"),
         _("Decision date"), _("Department"), _("Content"), _("Status")]
    )  # fmt: skip
    result = search.search_records(query, page=1, page_size=EXPORT_ROWS)
    rows: list[CreditRecord] = [*result.exact, *result.records]
    for r in rows:
        writer.writerow(
            safe_row(
                [
                    party_name(r),
                    r.entity.code,
                    r.item.name,
                    r.decision_number,
                    r.decision_date.isoformat(),
                    r.department.name,
                    r.content,
                    r.get_status_display(),
                ]
            )
        )
    return response
