#!/usr/bin/env bash
# Builds dbtool (release), starts a private PostgreSQL with normal durability (fsync on,
# unlike the test suite's), and runs bench/dbtool.py. Extra arguments go to the script:
#   ./bench/dbtool.sh --migrations 200 --runs 7
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p dbtool
# shellcheck source=scripts/local-servers.sh
. scripts/local-servers.sh
export PG_SERVER_OPTIONS=""
trap stop_local_servers EXIT INT TERM
start_local_servers
BENCH_DATABASE_URL=$TEST_DATABASE_URL DBTOOL=$PWD/target/release/dbtool python3 bench/dbtool.py "$@"
