"""The public page of the audit chain's anchors."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credit_portal.audit import selectors
from credit_portal.ratelimit import limit_per_client

PAGE_SIZE = 50


@require_GET
@limit_per_client("public-audit-anchors", limit=120, window=60)
def anchors(request):
    page = Paginator(selectors.published_anchors(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public/audit/anchors.html", {"page_obj": page})
