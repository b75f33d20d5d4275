"""Base behaviour of every agency API view."""

from rest_framework import exceptions


class ThrottleFirstMixin:
    """Throttle before anything else: a client guessing tokens, or hammering without one, meets
    429 like everyone else instead of an endless stream of 401s (DRF checks permissions first)."""

    _throttles_checked = False

    def perform_authentication(self, request):
        try:
            super().perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)  # counted against the client's address
            raise

    def check_permissions(self, request):
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if self._throttles_checked:
            return
        self._throttles_checked = True
        super().check_throttles(request)
