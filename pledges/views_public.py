"""The public door: the matters where a pledge may be used (with their materials, pledge text and
compliance material), and every pledge with how it was kept."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credit_portal.ratelimit import limit_per_client
from pledges import selectors
from pledges.forms import PublicPledgeFilterForm

PAGE_SIZE = 30


@require_GET
def matter_list(request):
    return render(request, "pledges/public/matters.html", {"matters": selectors.published_matters()})


@require_GET
def matter_detail(request, department: str, code: str):
    matter = selectors.published_matter(department, code)
    return render(request, "pledges/public/matter.html", {"matter": matter, "template": matter.template})


@require_GET
@limit_per_client("public-pledges", limit=120, window=60)
def pledge_list(request):
    form = PublicPledgeFilterForm(request.GET or None)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    page = Paginator(selectors.public_pledges(code), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "pledges/public/pledges.html", {"form": form, "page_obj": page, "code": code})


@require_GET
def pledge_detail(request, number: str):
    return render(request, "pledges/public/pledge.html", {"pledge": selectors.public_pledge(number)})
