"""The Celery application. Tasks are idempotent; deadlines are kept by beat sweeps over due dates.
Tasks that a write needs go through the outbox (``credit_portal.outbox``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")

app = Celery("credit_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_ready.connect
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


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_demo_accounts_in_production(**_kwargs):
    """A worker or beat with production settings does not start without the portal's public address
    (SITE_URL: the links its emails carry, credit_portal/links.py), nor while a demo account signs
    in with the published password (credit_portal/accounts/demo.py). Celery logs and swallows what a
    signal handler raises, except SystemExit: that one stops the process."""
    import sys

    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()  # Celery's Django fixup did it already; harmless again
    from credit_portal.accounts.demo import refuse_demo_accounts_in_production
    from credit_portal.links import refuse_to_start_without_site_url

    try:
        refuse_to_start_without_site_url()
        refuse_demo_accounts_in_production()
    except ImproperlyConfigured as exc:
        # The real stderr: Celery redirects sys.stderr into its logger, which may not flush before exit.
        print(f"ERROR: {exc}", file=sys.__stderr__, flush=True)
        raise SystemExit(1) from None
