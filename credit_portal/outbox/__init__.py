"""The transactional outbox: Celery tasks recorded in the database with the write that needs them,
and handed to the broker after commit or by a sweep. See ``services``."""
