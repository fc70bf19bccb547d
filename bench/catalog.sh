#!/usr/bin/env bash
# Catalog benchmark: cached `GET /info/{name}` against a release build of catalog, on a
# private PostgreSQL and Redis (scripts/local-servers.sh), loaded by bench/catalog-load.
# Prints two lines: the peak requests per second, and the latency percentiles at a fixed
# 1,000 requests per second. Targets: at least 10,000 requests/s; p99 under 10 ms.
#
#   ./bench/catalog.sh                      defaults: 10 s per run, 64 connections
#   SECONDS_PER_RUN=30 CONNECTIONS=128 ./bench/catalog.sh
#   RUST_LOG=warn ./bench/catalog.sh        without the per-request log line
#
# The catalog logs as it would in production (RUST_LOG=info: one line per request) unless
# RUST_LOG says otherwise; its log goes to a file in the servers' temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${SECONDS_PER_RUN:-10}
connections=${CONNECTIONS:-64}

cargo build --release --locked -p catalog -p catalog-load -p dbtool

# shellcheck source=scripts/local-servers.sh
. scripts/local-servers.sh
catalog_pid=
cleanup() {
    if [ -n "$catalog_pid" ]; then kill "$catalog_pid" 2>/dev/null || true; wait "$catalog_pid" 2>/dev/null || true; fi
    stop_local_servers
}
trap cleanup EXIT INT TERM
start_local_servers

database_url="${TEST_DATABASE_URL%/*}/catalog_bench"
"$PG_BIN/psql" "$TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE catalog_bench"
"$root/target/release/dbtool" --database-url "$database_url" --migrations "$root/migrations/catalog" up
"$PG_BIN/psql" "$database_url" -q -v ON_ERROR_STOP=1 \
    -c "INSERT INTO info (name, description) VALUES ('bench', repeat('a cached catalog entry ', 10))"

port=$(free_port 58081)
PORT=$port DATABASE_URL=$database_url REDIS_URL=$TEST_REDIS_URL RUST_LOG=${RUST_LOG:-info} \
    "$root/target/release/catalog" 2>"$LOCAL_SERVERS_DIR/catalog.log" &
catalog_pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
url="http://127.0.0.1:$port/info/bench"
# The first read fills the cache; every measured request is a cache hit.
curl -fsS "$url" >/dev/null

echo "catalog cached GET /info/bench ($(nproc) cores, RUST_LOG=${RUST_LOG:-info})"
"$root/target/release/catalog-load" "$url" --connections "$connections" --seconds "$seconds"
"$root/target/release/catalog-load" "$url" --rate 1000 --seconds "$seconds"
