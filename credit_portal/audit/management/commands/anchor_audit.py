from django.core.management.base import BaseCommand

from credit_portal.audit.anchors import ANCHOR_FILE_NAME, anchor_dir
from credit_portal.audit.services import anchor_head


class Command(BaseCommand):
    help = (
        "Anchor the audit chain's head now: append it to the anchor store (AUDIT_ANCHOR_DIR) and publish "
        "it at /audit/anchors/ and GET /api/v1/audit/anchors/. Beat does this daily."
    )

    def handle(self, *args, **options):
        anchor = anchor_head()
        self.stdout.write(
            self.style.SUCCESS(
                f"anchored event #{anchor.sequence} {anchor.hash} at {anchor.anchored_at.isoformat()} "
                f"(appended to {anchor_dir() / ANCHOR_FILE_NAME})"
            )
        )
