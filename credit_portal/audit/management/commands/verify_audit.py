from django.core.management.base import BaseCommand, CommandError

from credit_portal.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; exit non-zero naming the first bad row."

    def handle(self, *args, **options):
        checked, brk = verify_chain()
        if brk is not None:
            raise CommandError(
                f"audit chain broken at event #{brk.event_id}: {brk.reason} (rows read: {checked})"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {checked} events verified"))
