"""The Celery application. Tasks are idempotent; deadlines are kept by beat sweeps over due dates."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")

app = Celery("credit_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_demo_accounts_in_production(**_kwargs):
    """A worker or beat with production settings does not start while a demo account signs in with
    the published password (credit_portal/accounts/demo.py). Celery logs and swallows what a signal
    handler raises, except SystemExit: that one stops the process."""
    import sys

    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()  # Celery's Django fixup did it already; harmless again
    from credit_portal.accounts.demo import refuse_demo_accounts_in_production

    try:
        refuse_demo_accounts_in_production()
    except ImproperlyConfigured as exc:
        # The real stderr: Celery redirects sys.stderr into its logger, which may not flush before exit.
        print(f"ERROR: {exc}", file=sys.__stderr__, flush=True)
        raise SystemExit(1) from None
