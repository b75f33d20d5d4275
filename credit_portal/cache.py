"""The shared cache: Django's Redis cache that degrades to misses when Redis is down.

Nothing the portal keeps in the cache is the only copy of anything (rate-limit counters, the
working-day calendar's version, throttle histories), so a page served without it is still right:
a read is a miss, a write is dropped, ``add`` says the key was not added. A connection error or a
timeout opens the cache's circuit breaker (``credit_portal.circuit``): for ``retry_after`` seconds
(``OPTIONS["retry_after"]``, 5 by default) no request touches Redis at all, so none waits for a
socket timeout; keep ``socket_connect_timeout`` and ``socket_timeout`` short in ``OPTIONS``.

Callers that must know whether Redis took a write (the calendar's version, the rate limiter) ask
``shared_cache_available()`` after it."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from credit_portal.circuit import CircuitBreaker, breaker, server_label

# What a down, restarting, unreachable or overloaded Redis raises: redis-py's errors (connection,
# timeout, busy loading, read-only replica...) and the socket's own.
UNAVAILABLE = (RedisError, OSError)
_MISSING = object()


class DegradingRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        retry_after = float(options.pop("retry_after", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        label = server_label(self._servers[0])
        # Django makes one cache object per thread: the breaker is the process's, per server.
        self.breaker: CircuitBreaker = breaker(
            f"cache:{self._servers[0]}",
            name=f"Redis cache {label}",
            consequence="pages are served without the cache and rate limits are counted per process",
            retry_after=retry_after,
        )

    def _call(self, method, *args, fallback=None):
        if not self.breaker.allows():
            return fallback
        try:
            result = method(*args)
        except UNAVAILABLE as exc:
            self.breaker.failure(exc)
            return fallback
        self.breaker.success()
        return result

    def available(self) -> bool:
        """Whether the last call reached Redis (or none failed within ``retry_after``)."""
        return not self.breaker.down

    def ping(self) -> bool:
        """Ask Redis now (unless the breaker says it was down a moment ago); for ``/healthz``."""
        return bool(self._call(lambda: self._cache.get_client(write=True).ping(), fallback=False))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().add, key, value, timeout, version, fallback=False)

    def get(self, key, default=None, version=None):
        return self._call(super().get, key, default, version, fallback=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call(super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().touch, key, timeout, version, fallback=False)

    def delete(self, key, version=None):
        return self._call(super().delete, key, version, fallback=False)

    def get_many(self, keys, version=None):
        return self._call(super().get_many, keys, version, fallback={})

    def has_key(self, key, version=None):
        return self._call(super().has_key, key, version, fallback=False)

    def incr(self, key, delta=1, version=None):
        value = self._call(super().incr, key, delta, version, fallback=_MISSING)
        if value is _MISSING:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set_many, data, timeout, version, fallback=list(data))

    def delete_many(self, keys, version=None):
        self._call(super().delete_many, keys, version)

    def clear(self):
        return self._call(super().clear, fallback=False)


def shared_cache_available(alias: str = "default") -> bool:
    """Whether the shared cache reached Redis on its last call. Any other backend: True."""
    available = getattr(caches[alias], "available", None)
    return available() if available is not None else True
