#!/bin/sh
# Runs once, when a database server initialises its empty data directory (the postgres
# image runs /docker-entrypoint-initdb.d/*.sh as the postgres user): creates the service's
# own login role and gives it the service's database, so neither the service nor its
# migration Job ever connects as the superuser.
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}" "${SERVICE_ROLE:?}" "${SERVICE_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=role="$SERVICE_ROLE" --set=password="$SERVICE_PASSWORD" --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
ALTER DATABASE :"db" OWNER TO :"role";
ALTER SCHEMA public OWNER TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
