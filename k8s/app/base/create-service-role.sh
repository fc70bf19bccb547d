#!/bin/sh
# Runs once, when a database server initialises its empty data directory (the postgres
# image runs /docker-entrypoint-initdb.d/*.sh as the postgres user): creates the service's
# own login role and gives it the service's database with the project's roles script, so
# neither the service nor its migration Job ever connects as the superuser.
#
# roles.sql is services/roles.sql, copied next to this file because kustomize reads no file
# outside k8s/app/base; the test suite fails when the two differ.
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}" "${SERVICE_ROLE:?}" "${SERVICE_PASSWORD:?}"

psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" -v role="$SERVICE_ROLE" \
    -v password="$SERVICE_PASSWORD" -f "${ROLES_SQL:-/etc/postgres-init/roles.sql}"
