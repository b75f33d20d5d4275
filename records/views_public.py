"""The public door: search and an entity's public profile."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from records import selectors
from records.forms import SearchForm

PAGE_SIZE = 20


@require_GET
def home(request):
    form = SearchForm(request.GET or None)
    page = None
    query = ""
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["division"]):
        query = form.cleaned_data["q"]
        results = selectors.entity_search(query, division=form.cleaned_data["division"])
        page = Paginator(results, PAGE_SIZE, allow_empty_first_page=True).get_page(request.GET.get("page"))
    return render(request, "public/home.html", {"form": form, "page_obj": page, "query": query})


@require_GET
def entity_profile(request, code: str):
    entity = selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    return render(request, "public/entity.html", {"entity": entity})
