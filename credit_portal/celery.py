"""The Celery application. Tasks are idempotent; deadlines are kept by beat sweeps over due dates.
Tasks that a write needs go through the outbox (``credit_portal.outbox``)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")

app = Celery("credit_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def dispatch_outbox_at_start(**_kwargs) -> None:
    """A worker that starts hands over what waited in the outbox while the broker was down (or no
    worker ran beat's sweep), without waiting for beat, which may not be running."""
    import logging

    from django.db import connections

    from credit_portal.outbox.services import dispatch_pending

    try:
        dispatch_pending()
    except Exception:  # the worker starts all the same; beat's sweep tries again
        logging.getLogger(__name__).exception("Outbox sweep at worker start failed")
    finally:
        connections.close_all()  # this thread's: the pool's processes open their own
