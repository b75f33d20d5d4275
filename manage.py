#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that read only the code (models, templates, catalogues) and never sign, encrypt or
# serve anything: they run without the deployment's secrets, e.g. `makemigrations --check` in CI.
OFFLINE_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main() -> None:
    # Beside a running `make run`, what only it knows (the embedded databases' addresses, the
    # development keys, SITE_URL) comes from .local/run.env, for each variable that neither the
    # environment nor .env sets (credit_portal/runenv.py). Read before anything defaults the
    # settings module: the tests' settings never read it.
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE")
    from credit_portal import runenv

    runenv.load(settings_module=settings_module)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        for name in runenv.SECRETS:
            os.environ.setdefault(name, f"unused-by-{sys.argv[1]}-" + "x" * 40)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
