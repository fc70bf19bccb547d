#!/usr/bin/env bash
# Builds dbtool (release), starts a private PostgreSQL with normal durability (fsync on,
# unlike the test suite's), and runs bench/dbtool.py. Extra arguments go to the script:
#   ./bench/dbtool.sh --migrations 200 --runs 7
#   ./bench/dbtool.sh --tls ...    the server with TLS on (a self-signed certificate made
#                                  here), dbtool and psql both connecting with sslmode=require
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p dbtool
# shellcheck source=scripts/local-servers.sh
. scripts/local-servers.sh
export PG_SERVER_OPTIONS=""
query=
if [ "${1:-}" = --tls ]; then
    shift
    certs=$(mktemp -d "${TMPDIR:-/tmp}/dbtool-bench-tls.XXXXXX")
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -keyout "$certs/server.key" -out "$certs/server.crt" 2>/dev/null
    chmod 755 "$certs"
    chmod 600 "$certs/server.key"
    if [ "$(id -u)" = 0 ]; then chown postgres "$certs/server.key" "$certs/server.crt"; fi
    PG_SERVER_OPTIONS="-c ssl=on -c ssl_cert_file=$certs/server.crt -c ssl_key_file=$certs/server.key"
    query="?sslmode=require"
fi
trap stop_local_servers EXIT INT TERM
start_local_servers
BENCH_DATABASE_URL=$TEST_DATABASE_URL$query DBTOOL=${CARGO_TARGET_DIR:-$PWD/target}/release/dbtool python3 bench/dbtool.py "$@"
