from django.core.management.base import BaseCommand, CommandError

from credit_portal.outbox import services


class Command(BaseCommand):
    help = (
        "Hand the tasks waiting in the outbox to the Celery broker (what beat does every minute). "
        "For an operator when beat is not running; exits non-zero when the broker is unreachable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=10_000, help="at most this many tasks (10,000)")

    def handle(self, *args, limit: int, **options):
        sweep = services.dispatch_pending(limit=limit)
        self.stdout.write(f"{sweep.dispatched} task(s) handed to the broker, {sweep.waiting} waiting.")
        if sweep.broker_down:
            raise CommandError("The broker is unreachable: the waiting tasks stay in the outbox.")
