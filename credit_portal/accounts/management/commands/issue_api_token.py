from django.core.management.base import BaseCommand, CommandError

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.capabilities import TOKEN_SCOPES
from credit_portal.accounts.models import Department
from credit_portal.accounts.services import token_issue


class Command(BaseCommand):
    help = (
        "Issue an agency API token for a department. The secret is printed once and never stored. "
        f"Scopes: {', '.join(sorted(TOKEN_SCOPES))}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--department", required=True, help="department code, e.g. GD-SAMR")
        parser.add_argument(
            "--scopes", required=True, help="comma-separated, e.g. entities:read,entities:write"
        )
        parser.add_argument("--name", default="", help="what the token is for (shown in the staff UI)")

    def handle(self, *args, department, scopes, name, **options):
        dept = Department.objects.filter(code=department.strip().upper(), is_active=True).first()
        if dept is None:
            raise CommandError(f"unknown or inactive department: {department!r}")
        try:
            token, secret = token_issue(
                actor=system_actor("issue_api_token"),
                department=dept,
                scopes=scopes,
                name=name or f"issued from the command line for {dept.code}",
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Token for {dept.code} with scopes {', '.join(token.scopes)}:")
        self.stdout.write(secret)
        self.stderr.write(
            "Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'."
        )
