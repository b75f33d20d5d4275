"""Doing a request once however often it is sent (幂等): one-time submission keys for the public
web forms, and the ``Idempotency-Key`` header of the agency API. See ``services``."""
