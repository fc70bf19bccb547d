#!/bin/sh
# Runs once, when the database server initialises its empty data volume (the postgres image
# runs /docker-entrypoint-initdb.d/*.sh as the postgres user): creates the service's own
# login role and hands it the service's database with services/roles.sql, so neither the
# service nor its migration container ever connects as the superuser.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:?}" "${SERVICE_ROLE:?}" "${SERVICE_PASSWORD:?}"

psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" -v role="$SERVICE_ROLE" \
    -v password="$SERVICE_PASSWORD" -f /etc/postgres-init/roles.sql
