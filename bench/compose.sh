#!/usr/bin/env bash
# Compose benchmark. Prints:
#   - compose/app from built images to every service healthy (migrations exited 0): once
#     cold (new volumes, so both databases initialise) and once warm (after `down`, volumes
#     kept). Target: under 10 s.
#   - the memory of the cluster at rest, without and with the `observability` profile
#     (Prometheus and the three exporters). Target: the profile adds under 150 MiB.
#   - the size of every project image and base image. Targets: each service image under
#     20 MB, the dbtool image under 10 MB.
#   - the rebuild time of a one-line change to one service (hello's built-in greeting):
#     cargo plus the image build, and which images changed.
#
#   ./bench/compose.sh
#   ./bench/compose.sh --platform linux/arm64    the same with another platform's images, run
#                                                under emulation (no target: figures to compare)
#
# Runs offline: the base images come from scripts/build-base-images.sh, the project's from
# scripts/build-images.sh (both run first; they keep what is up to date). The one-line
# change is made to services/hello/src/greeting.rs and undone at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

platform_args=()
case "${1:-}" in
"") ;;
--platform)
    [ $# -eq 2 ] || {
        echo "usage: $0 [--platform PLATFORM]" >&2
        exit 2
    }
    platform_args=(--platform "$2")
    ;;
*)
    echo "usage: $0 [--platform PLATFORM]" >&2
    exit 2
    ;;
esac
# Empty-array-safe under bash 3.2's set -u.
platform() { echo ${platform_args[@]+"${platform_args[@]}"}; }
# shellcheck disable=SC2046 # the platform arguments are two words or none
scripts/build-base-images.sh $(platform)
# shellcheck disable=SC2046
scripts/build-images.sh $(platform)
# The image variables of compose/app (POSTGRES_IMAGE, HELLO_IMAGE, ...) for the platform.
# shellcheck disable=SC2046
eval "$({
    scripts/build-base-images.sh $(platform) --print-env
    scripts/build-images.sh $(platform) --print-env
} | sed 's/^/export /')"
binaries="hello1400 hello echo catalog activity web dbtool"
image_of() {
    local variable
    variable=$(echo "$1" | tr '[:lower:]-' '[:upper:]_')_IMAGE
    echo "${!variable}"
}

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi
export COMPOSE_PROJECT_NAME=dcrbench-$$
port=18080
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
export WEB_PORT=$port

changed_file=services/hello/src/greeting.rs
original=
cleanup() {
    (cd compose/app && COMPOSE_PROFILES=observability "${compose[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1) || true
    if [ -n "$original" ]; then
        # Only our own edit is undone: if someone changed the file meanwhile, it stays.
        if [ "$(sha256sum <"$changed_file")" = "$changed_sum" ]; then
            printf '%s' "$original" >"$changed_file"
            # shellcheck disable=SC2046
            scripts/build-images.sh $(platform) hello >/dev/null 2>&1 || true
        fi
    fi
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Seconds from `up -d` to every container healthy (or exited 0).
time_up() {
    local start
    start=$(now)
    "${compose[@]}" up -d >/dev/null 2>&1
    while :; do
        local waiting=
        for id in $("${compose[@]}" ps -q); do
            case $(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{.State.ExitCode}}{{end}}' "$id") in
            # running0: running without a healthcheck (the observability profile).
            healthy | exited0 | running0) ;;
            unhealthy | exited*)
                echo "error: $(docker inspect --format '{{.Name}}' "$id") failed" >&2
                "${compose[@]}" logs --tail 20 >&2
                exit 1
                ;;
            *) waiting=1 ;;
            esac
        done
        [ -z "$waiting" ] && break
        sleep 0.1
    done
    elapsed "$start"
}

cd compose/app
"$root/compose/make-env.sh" .
echo "== compose/app: up -d to every service healthy (target < 10 s)"
echo "cold (new volumes, databases initialise): $(time_up) s"
"${compose[@]}" down -t 5 >/dev/null 2>&1
echo "warm (volumes kept):                      $(time_up) s"

# MiB used by the running containers of the project, as `docker stats` reports them.
memory_mib() {
    # shellcheck disable=SC2046 # one argument per container id
    docker stats --no-stream --format '{{.MemUsage}}' $("${compose[@]}" ps -q) |
        awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
               f = u == "GiB" ? 1024 : u == "MiB" ? 1 : u == "KiB" ? 1 / 1024 : 1 / 1048576
               total += v * f } END { printf "%.0f", total }'
}
echo "== memory at rest (target: the observability profile adds < 150 MiB)"
sleep 20
without=$(memory_mib)
echo "cluster:                                  $without MiB ($("${compose[@]}" ps -q | wc -l) containers)"
if [ -n "${PROMETHEUS_IMAGE:-}" ]; then
    export PROMETHEUS_PORT=$((port + 1000))
    COMPOSE_PROFILES=observability time_up >/dev/null
    # A minute of scrapes every 5 s: Prometheus's head block holds every series by then.
    sleep 60
    with=$(COMPOSE_PROFILES=observability memory_mib)
    echo "with the observability profile:           $with MiB (adds $((with - without)) MiB)"
else
    echo "with the observability profile:           (its images are built for the machine's own platform only)"
fi
COMPOSE_PROFILES=observability "${compose[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1
cd "$root"

echo "== image sizes (targets: services < 20 MB, dbtool < 10 MB)"
for binary in $binaries; do
    image=$(image_of "$binary")
    size=$(docker image inspect --format '{{.Size}}' "$image")
    awk -v n="$image" -v s="$size" 'BEGIN { printf "%-42s %6.1f MB\n", n, s / 1e6 }'
done
for image in "$RUNTIME_IMAGE" "$POSTGRES_IMAGE" "$REDIS_IMAGE" ${PROMETHEUS_IMAGE:+"$PROMETHEUS_IMAGE" \
    "$POSTGRES_EXPORTER_IMAGE" "$REDIS_EXPORTER_IMAGE"}; do
    size=$(docker image inspect --format '{{.Size}}' "$image")
    awk -v n="$image" -v s="$size" 'BEGIN { printf "%-42s %6.1f MB\n", n, s / 1e6 }'
done

echo "== rebuild after a one-line change to services/hello (its built-in greeting)"
image_ids() { for i in $binaries; do docker image inspect --format "$i {{.Id}}" "$(image_of "$i")"; done; }
ids_before=$(image_ids)
layers_before=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$HELLO_IMAGE")
original=$(cat "$changed_file"; printf x)
original=${original%x}
sed -i 's/^pub const BUILT_IN: &str = "hello world";$/pub const BUILT_IN: \&str = "hello world, rebuilt";/' "$changed_file"
grep -q 'hello world, rebuilt' "$changed_file" || {
    echo "error: the line to change is not in $changed_file any more" >&2
    original=
    exit 1
}
changed_sum=$(sha256sum <"$changed_file")
start=$(now)
# shellcheck disable=SC2046
scripts/build-images.sh $(platform) hello 2>/dev/null
echo "scripts/build-images.sh $(platform) hello (cargo + docker build): $(elapsed "$start") s" | tr -s ' '
changed=$(image_ids | diff <(echo "$ids_before") - | awk '/^>/ { print $2 }' | tr '\n' ' ' || true)
echo "images whose id changed: ${changed:-none}"
layers_after=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$HELLO_IMAGE")
total=$(grep -c . <<<"$layers_after")
kept=$(grep -cxF -f <(echo "$layers_before") <<<"$layers_after" || true)
echo "hello image layers: $((total - kept)) of $total rebuilt (the runtime base and the health probe reused)"
