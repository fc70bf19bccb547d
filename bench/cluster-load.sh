#!/usr/bin/env bash
# Mixed load through compose/app: brings the whole cluster up under a project name of its
# own, drives web's pages and catalog's API at a fixed rate with bench/cluster-load,
# prints requests/s and p50/p99 latency per endpoint, and tears the project down (with its
# volumes) even on failure. Target: 500 requests/s mixed, p99 under 50 ms.
#
#   ./bench/cluster-load.sh [RATE [SECONDS]]      default 500 requests/s for 10 s
#
# Offline like the rest: the images come from scripts/build-base-images.sh and
# scripts/build-images.sh (run first; they keep what is up to date). catalog is not
# published by compose/app, so the load reaches it at its container address on the
# project's network: this works on a Linux host, not through Docker Desktop's VM.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}
seconds=${2:-10}

scripts/build-base-images.sh
scripts/build-images.sh
eval "$(scripts/build-base-images.sh --print-env | sed 's/^/export /')"
cargo build --release --locked -p cluster-load

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi
export COMPOSE_PROJECT_NAME=dcrload-$$
port=18180
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
export WEB_PORT=$port

cleanup() {
    (cd compose/app && "${compose[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1) || true
}
trap cleanup EXIT INT TERM

compose/make-env.sh compose/app
(cd compose/app && "${compose[@]}" up -d >/dev/null)
catalog_id=$(cd compose/app && "${compose[@]}" ps -q catalog)
catalog_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$catalog_id")

ready() { curl -fsS -o /dev/null "$1"; }
for _ in $(seq 1 120); do
    if ready "http://127.0.0.1:$port/readyz" && ready "http://$catalog_ip:8081/readyz"; then
        break
    fi
    sleep 0.5
done
ready "http://127.0.0.1:$port/readyz" || { echo "web did not become ready" >&2; exit 1; }
ready "http://$catalog_ip:8081/readyz" || { echo "catalog did not become ready" >&2; exit 1; }

echo "compose/app ($COMPOSE_PROJECT_NAME): web on 127.0.0.1:$port, catalog on $catalog_ip:8081, $(nproc) cores"
target/release/cluster-load --web "http://127.0.0.1:$port" --catalog "http://$catalog_ip:8081" \
    --rate "$rate" --seconds "$seconds"
