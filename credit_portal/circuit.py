"""Circuit breakers for the services the portal can run without for a while: the Redis cache and the
Celery broker.

A call that fails on a connection error opens the breaker: for ``retry_after`` seconds no caller
tries again (each would wait for a socket timeout), then the next caller does. The first failure is
logged at once, and then at most once every ``log_every`` seconds while the service stays down; the
recovery is logged too. State is per process and shared by its threads; ``/healthz`` reports it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

logger = logging.getLogger("credit_portal.degraded")


@dataclass(frozen=True)
class BreakerState:
    name: str
    down: bool
    down_since: datetime | None
    last_error: str


class CircuitBreaker:
    def __init__(self, name: str, *, consequence: str, retry_after: float = 5.0, log_every: float = 60.0):
        self.name = name
        self.consequence = consequence
        self.retry_after = retry_after
        self.log_every = log_every
        self._lock = threading.Lock()
        self._open_until = 0.0  # time.monotonic()
        self._down_since: datetime | None = None
        self._last_logged = 0.0
        self._last_error = ""

    def allows(self) -> bool:
        """Whether a caller may try the service now: closed, or open long enough to try again."""
        return time.monotonic() >= self._open_until

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failure(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = datetime.now(tz=UTC)
            self._open_until = now + self.retry_after
            self._last_error = f"{type(exc).__name__}: {exc}"[:300]
            log = first or now - self._last_logged >= self.log_every
            if log:
                self._last_logged = now
        if log:
            logger.warning(
                "%s %s (%s): %s. Next attempt in %g s.",
                self.name,
                "unavailable" if first else "still unavailable",
                self._last_error,
                self.consequence,
                self.retry_after,
            )

    def success(self) -> None:
        if self._down_since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            since, self._down_since, self._open_until = self._down_since, None, 0.0
        if since is not None:
            seconds = (datetime.now(tz=UTC) - since).total_seconds()
            logger.warning("%s available again after %d s.", self.name, seconds)

    def state(self) -> BreakerState:
        return BreakerState(self.name, self.down, self._down_since, self._last_error if self.down else "")

    def reset(self) -> None:
        """Forget every failure (tests)."""
        with self._lock:
            self._down_since, self._open_until, self._last_logged, self._last_error = None, 0.0, 0.0, ""


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker(key: str, **kwargs) -> CircuitBreaker:
    """The process's breaker for ``key``, created with ``kwargs`` on first use."""
    found = _breakers.get(key)
    if found is None:
        with _registry_lock:
            found = _breakers.get(key)
            if found is None:
                found = _breakers[key] = CircuitBreaker(**kwargs)
    return found


def reset_all() -> None:
    for each in list(_breakers.values()):
        each.reset()


def server_label(url: str) -> str:
    """``host:port/db`` of a Redis URL, without its credentials, for logs and ``/healthz``."""
    parts = urlsplit(url)
    host = parts.hostname or parts.path or "?"
    return f"{host}:{parts.port or 6379}{parts.path if parts.hostname else ''}"
