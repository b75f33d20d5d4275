"""Which services a mode starts (what is not configured), and stopping them again in reverse order."""

from __future__ import annotations

import os
from collections.abc import Callable

from devtools.devstack.config import DATABASE_NAME, RUN, Config, Profile, relative, say
from devtools.devstack.postgres import (
    EMBEDDED_OWNER_ROLE,
    EMBEDDED_RUNTIME_ROLE,
    EmbeddedPostgres,
    use_database,
)
from devtools.devstack.redis import EmbeddedRedis


class Services:
    """The embedded services this command started, stopped in reverse order."""

    def __init__(self) -> None:
        self.stoppers: list[tuple[str, Callable[[], None]]] = []
        self.descriptions: list[str] = []

    def start(
        self, config: Config, profile: Profile, *, for_tests: bool, database: str | None = None
    ) -> None:
        """Start what is not configured. With ``database``, use that database (created when missing)
        instead of the one named in DATABASE_URL, on the same server."""
        if config.is_set("DATABASE_URL"):
            if database is None:
                self.descriptions.append("PostgreSQL: DATABASE_URL from the environment / .env")
            else:
                os.environ["DATABASE_URL"] = use_database(config.get("DATABASE_URL"), database)
                self.descriptions.append(f"PostgreSQL: the server of DATABASE_URL, database {database}")
        else:
            postgres = EmbeddedPostgres(profile.pgdata)
            # Registered before starting, so that a Ctrl-C in the middle still stops it.
            self.stoppers.append(("PostgreSQL", postgres.stop))
            os.environ["DATABASE_URL"] = postgres.start(database or DATABASE_NAME)
            if for_tests:
                postgres.tune_for_tests()
            self.descriptions.append(f"PostgreSQL: embedded, data in {relative(profile.pgdata)}")
            if profile is RUN and database is None:
                # Served as the runtime role; `migrate` connects as the owner. (The tests keep the
                # superuser, which creates their database; the benchmark its own database.)
                runtime_url, owner_url = postgres.ensure_roles(DATABASE_NAME)
                os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = runtime_url, owner_url
                self.descriptions.append(
                    f"PostgreSQL roles: tables owned by {EMBEDDED_OWNER_ROLE} (migrate), "
                    f"web and workers as {EMBEDDED_RUNTIME_ROLE}"
                )
        if config.is_set("REDIS_URL"):
            self.descriptions.append("Redis: REDIS_URL from the environment / .env")
        else:
            redis = EmbeddedRedis(profile)
            self.stoppers.append(("Redis", redis.stop))
            os.environ["REDIS_URL"] = redis.start()
            self.descriptions.append(
                f"Redis: embedded on 127.0.0.1:{redis.port}, data in {relative(profile.redis_dir)}"
            )

    def stop(self) -> None:
        while self.stoppers:
            name, stop = self.stoppers.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the others
                say(f"could not stop {name} cleanly: {exc}")
