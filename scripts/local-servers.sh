# Private PostgreSQL 15 and Redis servers on loopback, under one temporary directory.
# shellcheck shell=bash
# Sourced by scripts/test.sh and the benchmarks (bash, 3.2-compatible).
#
#   start_local_servers   exports TEST_DATABASE_URL, TEST_REDIS_URL, PG_BIN, REDIS_SERVER_BIN
#   stop_local_servers    stops both and removes the directory (safe to call twice)

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-$(command -v redis-server || echo /usr/bin/redis-server)}
export PG_BIN REDIS_SERVER_BIN

# Runs a command as the postgres user when we are root: initdb and postgres refuse root.
as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on, starting from $1.
free_port() {
    port=$1
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

start_local_servers() {
    LOCAL_SERVERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dcr-servers.XXXXXX")
    export LOCAL_SERVERS_DIR
    chmod 755 "$LOCAL_SERVERS_DIR"
    mkdir -p "$LOCAL_SERVERS_DIR/pg" "$LOCAL_SERVERS_DIR/redis"
    if [ "$(id -u)" = 0 ]; then chown postgres "$LOCAL_SERVERS_DIR/pg"; fi

    pg_port=$(free_port "${TEST_PG_PORT:-55432}")
    as_pg_user "$PG_BIN/initdb" -D "$LOCAL_SERVERS_DIR/pg/data" -U postgres -A trust \
        -E UTF8 --locale=C.UTF-8 >"$LOCAL_SERVERS_DIR/pg/initdb.log" 2>&1 || {
        cat "$LOCAL_SERVERS_DIR/pg/initdb.log" >&2
        return 1
    }
    # Durability off: these databases are thrown away. The benchmarks pass their own options.
    as_pg_user "$PG_BIN/pg_ctl" -D "$LOCAL_SERVERS_DIR/pg/data" -l "$LOCAL_SERVERS_DIR/pg/server.log" -w \
        -o "-h 127.0.0.1 -p $pg_port -k $LOCAL_SERVERS_DIR/pg -c max_connections=300 ${PG_SERVER_OPTIONS--c fsync=off -c synchronous_commit=off -c full_page_writes=off}" \
        start >/dev/null || {
        cat "$LOCAL_SERVERS_DIR/pg/server.log" >&2
        return 1
    }
    TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
    export TEST_DATABASE_URL

    redis_port=$(free_port "${TEST_REDIS_PORT:-56379}")
    "$REDIS_SERVER_BIN" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$LOCAL_SERVERS_DIR/redis" --logfile "$LOCAL_SERVERS_DIR/redis/server.log" \
        --pidfile "$LOCAL_SERVERS_DIR/redis/redis.pid" --daemonize yes || return 1
    TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
    export TEST_REDIS_URL
    echo "local servers: PostgreSQL $TEST_DATABASE_URL, Redis $TEST_REDIS_URL" >&2
}

stop_local_servers() {
    [ -n "${LOCAL_SERVERS_DIR:-}" ] && [ -d "$LOCAL_SERVERS_DIR" ] || return 0
    if [ -f "$LOCAL_SERVERS_DIR/pg/data/postmaster.pid" ]; then
        as_pg_user "$PG_BIN/pg_ctl" -D "$LOCAL_SERVERS_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -f "$LOCAL_SERVERS_DIR/redis/redis.pid" ]; then
        kill "$(cat "$LOCAL_SERVERS_DIR/redis/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$LOCAL_SERVERS_DIR"
    LOCAL_SERVERS_DIR=
}
