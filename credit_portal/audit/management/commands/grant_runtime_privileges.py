from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from credit_portal import dbroles


class Command(BaseCommand):
    help = (
        "As the owner (DATABASE_OWNER_URL), grant the role of DATABASE_URL exactly its runtime privileges: "
        "no TRUNCATE or TRIGGER anywhere, only SELECT and INSERT on the audit trail. `migrate` does this "
        "itself after every run; this is for databases migrated by other means."
    )

    def handle(self, *args, **options):
        if not settings.DATABASE_OWNER:
            raise CommandError("DATABASE_OWNER_URL is not set: with a single role there is nothing to grant")
        runtime_role = dbroles.runtime_role_name()
        with dbroles.connected_as_owner():
            try:
                with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                    warnings = dbroles.grant_runtime_privileges(cursor, runtime_role)
            except dbroles.RoleSetupError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"runtime privileges granted to {runtime_role}"))
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
