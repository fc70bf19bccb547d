#!/usr/bin/env bash
# Entrypoint of the local PostgreSQL image (scripts/build-base-images.sh). It honours the
# contract of the official `postgres` image that the compose files rely on, so the same files
# run with either image:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)  superuser password, required unless
#                                                  POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER (or _FILE)                       superuser name, default postgres
#   POSTGRES_DB (or _FILE)                         database created on first start,
#                                                  default $POSTGRES_USER
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA
#   /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz  run once, on the first start only
set -Eeuo pipefail

# Reads VAR from VAR or from the file named by VAR_FILE (Docker and Kubernetes secrets).
file_env() {
    local var=$1 default=${2:-}
    local file_var="${var}_FILE"
    if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
        echo "error: both $var and $file_var are set; they are exclusive" >&2
        exit 1
    fi
    local value=$default
    if [ -n "${!var:-}" ]; then
        value=${!var}
    elif [ -n "${!file_var:-}" ]; then
        value=$(<"${!file_var}")
    fi
    export "$var=$value"
    unset "$file_var"
}

# `docker run image -c fsync=off` passes options to postgres, as the official image does.
if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    # A fresh volume or bind mount may belong to root: hand it to postgres, then drop root.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
        cat >&2 <<'MSG'
error: the database is uninitialised and no superuser password is given.
Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value, or
POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one (never in production).
MSG
        exit 1
    fi

    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    # The password goes through a pipe, never the command line or a file.
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    if [ -n "$POSTGRES_PASSWORD" ]; then
        initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
    else
        initdb --username="$POSTGRES_USER" $POSTGRES_INITDB_ARGS
    fi
    # Local (socket) connections stay trusted as initdb wrote them; the network needs $auth.
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # A temporary server on the Unix socket only, so no client sees a half-made database.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    psql_cmd=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != postgres ]; then
        exists=$("${psql_cmd[@]}" --dbname postgres -tA -v db="$POSTGRES_DB" \
            <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
        if [ -z "$exists" ]; then
            "${psql_cmd[@]}" --dbname postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
        fi
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        case "$f" in
        *.sh)
            echo "running $f" >&2
            # shellcheck disable=SC1090 # the init scripts are the user's
            if [ -x "$f" ]; then "$f"; else . "$f"; fi
            ;;
        *.sql)
            echo "running $f" >&2
            "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f"
            ;;
        *.sql.gz)
            echo "running $f" >&2
            gzip -dc "$f" | "${psql_cmd[@]}" --dbname "$POSTGRES_DB"
            ;;
        *) echo "ignoring $f" >&2 ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up." >&2
fi

exec "$@"
