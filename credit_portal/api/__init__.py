"""Shared machinery of the agency API (``/api/v1/``): pagination, throttling, error format."""
