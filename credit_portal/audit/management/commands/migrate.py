"""``migrate`` as the owner role, then the runtime role's grants (credit_portal.dbroles).

With ``DATABASE_OWNER_URL`` set, the migrations connect as that role, so that it owns every table,
and the role of ``DATABASE_URL`` is then granted what the web and the workers need (also on tables
this run created). Without it, Django's own ``migrate`` runs unchanged."""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

from credit_portal import dbroles


class Command(DjangoMigrate):
    help = (
        DjangoMigrate.help + " With DATABASE_OWNER_URL set, connects as that role and then grants the role "
        "of DATABASE_URL its runtime privileges."
    )

    def handle(self, *args, **options):
        alias = options["database"]
        if not settings.DATABASE_OWNER or alias != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        runtime_role = dbroles.runtime_role_name(alias)
        with dbroles.connected_as_owner(alias):
            super().handle(*args, **options)
            if options["plan"] or options["check_unapplied"]:
                return None
            try:
                with connections[alias].cursor() as cursor:
                    warnings = dbroles.grant_runtime_privileges(cursor, runtime_role)
            except dbroles.RoleSetupError as exc:
                raise CommandError(str(exc)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(f"Runtime privileges granted to {runtime_role} (the owner ran the migrations).")
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
        return None
