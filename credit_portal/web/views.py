from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """200 when the database and Redis answer; 503 naming what does not."""
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        problems.append("database")
    try:
        cache.set("healthz", "ok", 5)
    except Exception:
        problems.append("redis")
    if problems:
        return HttpResponse("unavailable: " + ", ".join(problems), status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
