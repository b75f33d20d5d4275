from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable, opaque cursors over the primary key: an agency can page through millions of rows,
    and rows added while it pages neither repeat nor go missing."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
