from django.core.management.base import BaseCommand

from credit_portal.workdays.services import rebuild_index


class Command(BaseCommand):
    help = (
        "Regenerate the working-day index used by cp_add_working_days() and cp_working_days_between() "
        "from the calendar. Calendar edits do this by themselves; run it after editing the calendar "
        "tables by other means, or after upgrading the chinesecalendar package."
    )

    def handle(self, *args, **options):
        rows = rebuild_index()
        self.stdout.write(self.style.SUCCESS(f"working-day index rebuilt: {rows} days"))
