#!/usr/bin/env bash
# Catalog benchmark: cached `GET /info/{name}` against a release build of catalog, on a
# private PostgreSQL and Redis (scripts/local-servers.sh), loaded by bench/catalog-load.
# Prints two lines: the peak requests per second, and the latency percentiles at a fixed
# 1,000 requests per second. Targets: at least 10,000 requests/s; p99 under 10 ms.
#
#   ./bench/catalog.sh                      defaults: 10 s per run, 64 connections
#   SECONDS_PER_RUN=30 CONNECTIONS=128 ./bench/catalog.sh
#   RUST_LOG=warn ./bench/catalog.sh        without the per-request log line
#   ./bench/catalog.sh --metrics-cost       the request metrics' cost (target: under 5 %)
#
# --metrics-cost runs two catalogs side by side on the same database and Redis, one with the
# request metrics layer (the default) and one with HTTP_METRICS=false, and measures their peak
# in turns, ROUNDS times (default 5), so a neighbour's load on the machine falls on both
# alike; it prints each run, the medians of requests/s and of the server's CPU time per
# request, and what the layer costs.
#
# The catalog logs as it would in production (RUST_LOG=info: one line per request) unless
# RUST_LOG says otherwise; its log goes to a file in the servers' temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${SECONDS_PER_RUN:-10}
connections=${CONNECTIONS:-64}
rounds=${ROUNDS:-5}
mode=${1:-latency}
case $mode in
latency | --metrics-cost) ;;
*) echo "usage: $0 [--metrics-cost]" >&2; exit 2 ;;
esac

cargo build --release --locked -p catalog -p catalog-load -p dbtool

# shellcheck source=scripts/local-servers.sh
. scripts/local-servers.sh
catalog_pids=()
cleanup() {
    for pid in "${catalog_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    stop_local_servers
}
trap cleanup EXIT INT TERM
start_local_servers

database_url="${TEST_DATABASE_URL%/*}/catalog_bench"
"$PG_BIN/psql" "$TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE catalog_bench"
"$root/target/release/dbtool" --database-url "$database_url" --migrations "$root/migrations/catalog" up
"$PG_BIN/psql" "$database_url" -q -v ON_ERROR_STOP=1 \
    -c "INSERT INTO info (name, description) VALUES ('bench', repeat('a cached catalog entry ', 10))"

# Starts a catalog with the request metrics on (`true`) or off (`false`) and sets catalog_url to the URL it
# serves the entry at, once the cache holds the entry (every measured request is a cache hit).
start_catalog() {
    local metrics=$1 port metrics_port
    port=$(free_port "${2:-58081}")
    metrics_port=$(free_port $((port + 1000)))
    PORT=$port METRICS_PORT=$metrics_port HTTP_METRICS=$metrics DATABASE_URL=$database_url \
        REDIS_URL=$TEST_REDIS_URL RUST_LOG=${RUST_LOG:-info} \
        "$root/target/release/catalog" >/dev/null 2>"$LOCAL_SERVERS_DIR/catalog-$metrics.log" &
    catalog_pids+=($!)
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    catalog_url="http://127.0.0.1:$port/info/bench"
    curl -fsS "$catalog_url" >/dev/null
}

if [ "$mode" = latency ]; then
    start_catalog true
    url=$catalog_url
    echo "catalog cached GET /info/bench ($(nproc) cores, RUST_LOG=${RUST_LOG:-info})"
    "$root/target/release/catalog-load" "$url" --connections "$connections" --seconds "$seconds"
    "$root/target/release/catalog-load" "$url" --rate 1000 --seconds "$seconds"
    exit 0
fi

start_catalog true 58081
url_on=$catalog_url pid_on=${catalog_pids[${#catalog_pids[@]}-1]}
start_catalog false 58181
url_off=$catalog_url pid_off=${catalog_pids[${#catalog_pids[@]}-1]}
echo "catalog cached GET /info/bench, request metrics on vs off ($(nproc) cores, $rounds rounds of $seconds s, $connections connections, RUST_LOG=${RUST_LOG:-info})"
# The CPU time the process `$1` has used, in clock ticks (user plus system).
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
# Measures the catalog at `$1` (process `$2`): prints the load generator's line with the
# server's CPU time per request on stderr, and "requests/s CPU-µs-per-request" on stdout.
# The CPU time per request is the steadier figure on a shared machine: a neighbour's load
# slows both catalogs' throughput at random, but hardly changes what one request costs.
measure() {
    local before after line
    before=$(cpu_ticks "$2")
    line=$("$root/target/release/catalog-load" "$1" --connections "$connections" --seconds "$seconds")
    after=$(cpu_ticks "$2")
    # catalog-load warms up for one second before it counts: scale its count to the
    # whole time the CPU was measured over.
    echo "$line" | awk -v label="$3" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" '{
        for (i = 1; i < NF; i++) {
            if ($(i + 1) == "requests" && $(i + 2) == "in") count = $i
            if ($(i + 1) == "requests/s,") rate = $i
        }
        us = ticks / hz * 1e6 / (count * (s + 1) / s)
        printf "%s %s, server CPU %.1f us/request\n", label, $0, us > "/dev/stderr"
        printf "%d %.2f\n", rate, us
    }'
}
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
rate_on=() cpu_on=() rate_off=() cpu_off=()
run() {
    local rate cpu
    if [ "$1" = on ]; then
        read -r rate cpu < <(measure "$url_on" "$pid_on" "on: ")
        rate_on+=("$rate") cpu_on+=("$cpu")
    else
        read -r rate cpu < <(measure "$url_off" "$pid_off" "off:")
        rate_off+=("$rate") cpu_off+=("$cpu")
    fi
}
for round in $(seq "$rounds"); do
    # Alternate which goes first, so a drift in the machine's load favours neither.
    if [ $((round % 2)) = 1 ]; then run on; run off; else run off; run on; fi
done
awk -v on="$(median "${rate_on[@]}")" -v off="$(median "${rate_off[@]}")" \
    -v con="$(median "${cpu_on[@]}")" -v coff="$(median "${cpu_off[@]}")" 'BEGIN {
    printf "median requests/s: metrics on %d, off %d (%+.1f %%)\n", on, off, (on - off) * 100 / off
    printf "median server CPU per request: metrics on %.1f us, off %.1f us: the request metrics cost %.1f %%\n", con, coff, (con - coff) * 100 / coff
}'
