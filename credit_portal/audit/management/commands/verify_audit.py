from django.core.management.base import BaseCommand, CommandError

from credit_portal.audit.anchors import AnchorSourceError
from credit_portal.audit.verification import verify_with_anchors

# A rewrite can contradict every anchor after it; the first ones say enough.
MAX_LISTED = 20


class Command(BaseCommand):
    help = (
        "Verify the audit chain (each row's link and keyed hash) against every anchor given: by default "
        "the anchor store (AUDIT_ANCHOR_DIR), or the files, directories or URLs given with --anchors; "
        "always also the anchors published in the database. Exits non-zero naming what is wrong: a "
        "row altered or removed, rows deleted after an anchor, a truncated table, a rewritten tail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchors",
            action="append",
            metavar="PATH_OR_URL",
            help=(
                "anchors to check against instead of the anchor store: a JSON-lines file, a directory "
                "of them, a saved API page or list, or the URL of GET /api/v1/audit/anchors/ "
                "(repeatable)"
            ),
        )

    def handle(self, *args, **options):
        try:
            result = verify_with_anchors(options["anchors"])
        except AnchorSourceError as exc:
            raise CommandError(f"cannot read the anchors: {exc}") from None
        if not result.ok:
            listed = result.problems[:MAX_LISTED]
            more = len(result.problems) - len(listed)
            lines = [f"  - {p.message}" for p in listed] + ([f"  ... and {more} more"] if more else [])
            anchors = f"{result.anchors_checked} anchor{'s' if result.anchors_checked != 1 else ''}"
            raise CommandError(
                f"audit trail NOT intact ({result.checked} events read, {anchors} checked):\n"
                + "\n".join(lines)
            )
        unkeyed = f", {result.unkeyed} of them from before the chain was keyed" if result.unkeyed else ""
        if result.anchors_checked:
            plural = "s" if result.anchors_checked != 1 else ""
            against = f"consistent with {result.anchors_checked} anchor{plural}"
        else:
            against = "no anchors to check against yet (run `manage.py anchor_audit`)"
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {result.checked} events verified{unkeyed}; {against}; "
                f"head #{result.head_id} {result.head_hash}"
            )
        )
