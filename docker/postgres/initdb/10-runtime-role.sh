#!/usr/bin/env bash
# The runtime role of Credit Portal (docs/adr/0009): the web and the workers connect as it; it owns
# nothing. POSTGRES_USER, which the image creates, owns the database and its tables; only the migrate
# service connects as it. The official image runs this once, when it initialises an empty data volume.
# For a volume made before, run it once by hand (it is idempotent; it also resets the password):
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-runtime-role.sh
set -euo pipefail

: "${POSTGRES_APP_USER:=credit_portal_app}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD (in .env for docker compose)}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  -v app_user="${POSTGRES_APP_USER}" -v app_password="${POSTGRES_APP_PASSWORD}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
-- Nothing but its grants (given by `manage.py migrate`) lets it create objects.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
