from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from credit_portal import ratelimit
from credit_portal.outbox import selectors as outbox_selectors
from credit_portal.outbox import services as outbox

# Tasks waiting in the outbox longer than this while the broker answers: nobody runs the sweep
# (beat is down) or a task cannot be published.
OUTBOX_STUCK_AFTER = timedelta(minutes=5)


@never_cache
def healthz(request):
    """Liveness and degradation, for load balancers and monitoring (docs/adr/0006-redis-down.md).

    HTTP 200 while the database answers: the portal then serves every page, with or without Redis,
    so it stays in rotation. The body is ``ok`` when nothing is degraded; otherwise its first line is
    ``degraded`` and one line per part says what (``redis: down``, ``rate limits: per process``,
    ``broker: down``, the tasks waiting in the outbox). HTTP 503 naming ``database`` when the
    database does not answer. ``?format=json`` gives the same as JSON."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        if request.GET.get("format") == "json":
            return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        return HttpResponse("unavailable: database", status=503, content_type="text/plain")

    ping = getattr(cache, "ping", None)
    redis_up = ping() if ping is not None else _cache_answers()
    broker_down = not outbox.broker_answers()
    backlog = outbox_selectors.backlog()
    waited = timezone.now() - backlog.oldest if backlog.oldest is not None else timedelta(0)
    stuck = not broker_down and waited > OUTBOX_STUCK_AFTER
    state = {
        "status": "degraded" if (not redis_up or broker_down or stuck) else "ok",
        "database": "ok",
        "redis": "ok" if redis_up else "down",
        "rate_limits": "per-process" if ratelimit.per_process() else "shared",
        "broker": "down" if broker_down else "ok",
        "outbox_waiting": backlog.waiting,
        "outbox_oldest_seconds": int(waited.total_seconds()),
    }
    if request.GET.get("format") == "json":
        return JsonResponse(state)
    if state["status"] == "ok":
        return HttpResponse("ok", content_type="text/plain")
    lines = [
        "degraded",
        "database: ok",
        f"redis: {state['redis']}" + ("" if redis_up else " (pages are served without the cache)"),
        "rate limits: " + ("per process" if state["rate_limits"] == "per-process" else "shared"),
        f"broker: {state['broker']}",
        f"outbox: {backlog.waiting} task(s) waiting, the oldest for {state['outbox_oldest_seconds']} s"
        + (" (is beat running?)" if stuck else ""),
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def _cache_answers() -> bool:
    try:
        cache.set("healthz", "ok", 5)
    except Exception:
        return False
    return True
