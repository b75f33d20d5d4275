from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from credit_portal import links


class SiteUrlCursorPagination(CursorPagination):
    """Cursor pagination whose ``next`` and ``previous`` links are at the portal's public address
    (SITE_URL, credit_portal/links.py), like every other link the API gives out — not at whatever
    host the request named (behind a proxy, an internal one)."""

    def paginate_queryset(self, queryset, request, view=None):
        page = super().paginate_queryset(queryset, request, view)
        self.base_url = links.absolute(request.get_full_path())
        return page


class CheckedCursorPagination(SiteUrlCursorPagination):
    """Cursor pagination that answers a bad ``cursor`` or ``page_size`` with a 400 naming the
    parameter (DRF answers 404 to a bad cursor, ignores a bad page size, and fails with a 500 on a
    well-formed cursor whose position is not a value of the ordering field)."""

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param) if self.page_size_query_param else None
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
            if size < 1:
                raise ValueError
        except ValueError:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            ) from None
        return min(size, self.max_page_size)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self._bad_cursor()]}) from None
        if cursor is not None and cursor.position is not None:
            ordering = self.ordering if isinstance(self.ordering, list | tuple) else (self.ordering,)
            field = self._model._meta.get_field(ordering[0].lstrip("-"))
            try:
                field.to_python(cursor.position)
            except (DjangoValidationError, ValueError, TypeError, OverflowError):
                raise ValidationError({self.cursor_query_param: [self._bad_cursor()]}) from None
        return cursor

    def _bad_cursor(self) -> str:
        return _("Not a cursor of this list: use the next or previous link of a page.")


class IdCursorPagination(CheckedCursorPagination):
    """Stable, opaque cursors over the primary key: an agency can page through millions of rows,
    and rows added while it pages neither repeat nor go missing."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
