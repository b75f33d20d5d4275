from rest_framework.throttling import SimpleRateThrottle

from credit_portal import ratelimit
from credit_portal.accounts.models import ApiToken


class ClientRateThrottle(SimpleRateThrottle):
    """One bucket per token (scope ``token``), per signed-in user, or per client address (scope
    ``anon``). The counters live in Redis, so every web process shares them (in each process
    while Redis is unavailable: ``ratelimit.throttle_cache``)."""

    cache = ratelimit.throttle_cache

    def get_rate(self):
        return None  # chosen per request in allow_request

    def allow_request(self, request, view):
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            self.scope, ident = "token", f"token-{token.pk}"
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            self.scope, ident = "token", f"user-{request.user.pk}"
        else:
            self.scope, ident = "anon", self.get_ident(request)
        self.rate = self.THROTTLE_RATES.get(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        if self.rate is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def get_cache_key(self, request, view):  # pragma: no cover - allow_request builds the key itself
        return self.key
