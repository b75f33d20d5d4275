from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from credit_portal import ratelimit
from credit_portal.accounts.models import ApiToken


class ClientRateThrottle(BaseThrottle):
    """One bucket per token (scope ``token``), per signed-in user, or per client address (scope
    ``anon``), counted with the public pages' atomic Redis counter (``credit_portal.ratelimit``):
    one INCR per request, so that concurrent requests in any number of processes are counted
    exactly — a read-modify-write of a request history would let every request that read the same
    history through. The window is fixed, starting with a bucket's first request. While Redis is
    unavailable, ``ratelimit.allow`` counts in each process instead."""

    THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES
    parse_rate = SimpleRateThrottle.parse_rate

    def __init__(self):
        self.duration: int | None = None

    def allow_request(self, request, view):
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            scope, ident = "token", f"token-{token.pk}"
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            scope, ident = "token", f"user-{request.user.pk}"
        else:
            scope, ident = "anon", self.get_ident(request)
        rate = self.THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        num_requests, self.duration = self.parse_rate(rate)
        return ratelimit.allow(f"api:{scope}:{ident}", limit=num_requests, window=self.duration)

    def wait(self):
        return self.duration
