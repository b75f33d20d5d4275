"""Per-client rate limits for the public doors, counted in Redis (shared by every web process).

Generous enough that a person never meets them; a scraper does. No captcha.

While Redis is unavailable (the shared cache's circuit breaker is open, ``credit_portal.cache``)
the limits are counted in each process instead: every web process then allows the full limit, so
a client may get up to that many times the limit across the processes, and no request fails
because Redis does. The breaker logs it, and ``/healthz`` reports ``rate limits: per process``."""

from __future__ import annotations

import logging
import weakref
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from django.utils.translation import gettext as _

from credit_portal.cache import UNAVAILABLE

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: behind ``NUM_PROXIES`` trusted proxies, the one the outermost saw."""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "unknown")


# INCR, and give the key its lifetime when this hit created it (or a crash left it without one): the
# window starts with the first hit and a key never outlives it. A script, not EXPIRE ... NX, which
# needs Redis 7 (the embedded Redis of `make run` and `make test` is 6.2).
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


# The script, registered once per cache client, of which Django keeps one a thread (``EVALSHA``: the
# script's text is sent again only if Redis has lost it). Django's cache makes a new Redis client
# object for every command, which costs more than the round trip; the registered script keeps one.
_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _count_script(redis_cache):
    script = _scripts.get(redis_cache)
    if script is None:
        script = _scripts[redis_cache] = redis_cache.get_client(write=True).register_script(_COUNT_SCRIPT)
    return script


# The counters of this process, while Redis is unavailable (LocMemCache is thread-safe; its size is
# bounded, the oldest entries culled first).
_local = LocMemCache("ratelimit-per-process", {"OPTIONS": {"MAX_ENTRIES": 50_000}})


def _breaker():
    return getattr(caches["default"], "breaker", None)


def per_process() -> bool:
    """Whether limits are counted in this process only, because Redis is unavailable."""
    breaker = _breaker()
    return breaker is not None and breaker.down


def allow(key: str, *, limit: int, window: int) -> bool:
    """Count one hit on ``key`` in a fixed window of ``window`` seconds; False beyond ``limit``.

    On Redis (every deployment) one round trip (a script); any other cache backend: add, then incr;
    Redis unavailable: add, then incr, in this process (see the module's docstring)."""
    cache_key = f"ratelimit:{key}"
    redis_cache = getattr(cache, "_cache", None)
    if hasattr(redis_cache, "get_client"):
        breaker = _breaker()
        if breaker is None or breaker.allows():
            name = cache.make_and_validate_key(cache_key)
            try:
                count = int(_count_script(redis_cache)(keys=[name], args=[window]))
            except UNAVAILABLE as exc:
                if breaker is None:
                    raise
                breaker.failure(exc)
            else:
                if breaker is not None:
                    breaker.success()
                return count <= limit
        return _count_in(_local, cache_key, limit=limit, window=window)
    return _count_in(cache, cache_key, limit=limit, window=window)


def _count_in(store, cache_key: str, *, limit: int, window: int) -> bool:
    store.add(cache_key, 0, timeout=window)
    try:
        return store.incr(cache_key) <= limit
    except ValueError:  # expired between add and incr
        store.set(cache_key, 1, timeout=window)
        return True


def reset(key: str) -> None:
    """Forget the hits counted on ``key`` (e.g. an account's failed sign-ins once it signed in).
    Best effort: a counter that cannot be reset only runs out with its window."""
    try:
        cache.delete(f"ratelimit:{key}")
    except Exception:  # the cache unreachable must not fail the sign-in that asked
        logger.warning("Could not reset the rate-limit counter %s", key, exc_info=True)


def limit_per_client(scope: str, *, limit: int, window: int):
    """View decorator: HTTP 429 with a plain explanation beyond ``limit`` requests per ``window``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(f"{scope}:{client_ip(request)}", limit=limit, window=window):
                response = HttpResponse(
                    _("Too many requests from your address. Please wait a minute and try again."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(window)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
