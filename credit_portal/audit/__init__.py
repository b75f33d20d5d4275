"""The audit trail: one append-only, hash-chained table for every state change and every view of
restricted data. Write with :func:`credit_portal.audit.services.log`; check with ``manage.py verify_audit``."""
