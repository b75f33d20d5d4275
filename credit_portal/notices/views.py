"""The staff door's notices page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from credit_portal.notices import selectors, services
from credit_portal.web.decorators import staff_required

NOTICE_PAGE = 100


@staff_required()
def notice_list(request):
    """The signed-in user's own notices, newest first."""
    notices = selectors.notices_for(request.user, limit=NOTICE_PAGE)
    return render(
        request,
        "staff/notices.html",
        {
            "notices": notices,
            "unread": selectors.unread_count(request.user),
            "limit": NOTICE_PAGE,
        },
    )


@staff_required()
@require_POST
def notices_mark_read(request):
    """Mark all of one's unread notices read (``all``), or those named by ``notice``."""
    ids = (
        None
        if request.POST.get("all")
        else [int(v) for v in request.POST.getlist("notice") if v.isascii() and v.isdigit() and len(v) < 19]
    )
    count = services.mark_read(user=request.user, notice_ids=ids)
    if count:
        messages.success(
            request,
            ngettext("%(n)d notice marked as read.", "%(n)d notices marked as read.", count) % {"n": count},
        )
    return redirect("staff:notices")
