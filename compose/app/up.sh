#!/bin/sh
# Brings up the whole cluster and waits until every service is healthy, then prints the URL.
# On first use it creates .env with new passwords (compose/make-env.sh).
#
#   compose/app/up.sh             images from a registry, or built by Compose from the
#                                 Dockerfile when missing
#   compose/app/up.sh --offline   no registry: builds the base images from Debian packages
#                                 and the project's images from binaries compiled here first,
#                                 and records the local base image names in .env
#   compose/app/up.sh --offline --platform linux/arm64
#                                 builds only that platform's images (cross-compiled, run
#                                 under emulation: scripts/enable-emulation.sh) and uses them
#                                 for this run only; a slower start
#
# COMPOSE_PROFILES=observability adds Prometheus and the exporters (Prometheus on
# http://localhost:9090). Stop it with `docker compose -f compose/app/docker-compose.yaml
# down` (add -v to delete the databases).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
    echo "usage: $0 [--offline [--platform PLATFORM]]" >&2
    exit 2
}
offline=false
platform=
while [ $# -gt 0 ]; do
    case $1 in
    --offline) offline=true ;;
    --platform)
        [ $# -ge 2 ] || usage
        platform=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done
[ -z "$platform" ] || [ "$offline" = true ] || usage

"$root/compose/make-env.sh" "$here"

# Seconds to wait for every service to be healthy.
patience=60
if [ -n "$platform" ]; then
    # Only that platform's images; the variables win over .env for this run only.
    "$root/scripts/build-base-images.sh" --platform "$platform"
    "$root/scripts/build-images.sh" --platform "$platform"
    variables=$({
        "$root/scripts/build-base-images.sh" --platform "$platform" --print-env
        "$root/scripts/build-images.sh" --platform "$platform" --print-env
    } | sed 's/^/export /')
    eval "$variables"
    patience=600
elif [ "$offline" = true ]; then
    "$root/scripts/build-base-images.sh"
    "$root/scripts/build-images.sh"
    # Each once: later runs of `docker compose` in this folder then use the local images too
    # (an .env written before a variable existed gets it on the next run).
    "$root/scripts/build-base-images.sh" --print-env | grep -v '^RUNTIME_IMAGE=' |
        while IFS= read -r line; do
            grep -q "^${line%%=*}=" "$here/.env" || echo "$line" >>"$here/.env"
        done
fi

if docker compose version >/dev/null 2>&1; then
    set -- docker compose
elif command -v docker-compose >/dev/null 2>&1; then
    set -- docker-compose
else
    echo "error: no Docker Compose here: install Docker Desktop (it includes it) or Docker's docker-compose-plugin package" >&2
    exit 1
fi
# A build image named by a variable must exist or be pullable; say so in one line rather
# than in BuildKit's pull error.
for variable in RUST_IMAGE RUNTIME_IMAGE; do
    eval "image=\${$variable:-}"
    if [ -n "$image" ] && ! docker image inspect "$image" >/dev/null 2>&1 &&
        ! docker manifest inspect "$image" >/dev/null 2>&1; then
        echo "error: $variable=$image is neither a local image nor pullable: build it (scripts/build-rust-image.sh, scripts/build-base-images.sh) or unset $variable" >&2
        exit 1
    fi
done
cd "$here"
"$@" up -d

# `up --wait` would do this, but only in Compose v2.
echo "waiting for every service to be healthy..." >&2
tries=0
while :; do
    waiting=
    for id in $("$@" ps -q); do
        state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{.State.ExitCode}}{{end}}' "$id")
        case $state in
        # running0: running, without a healthcheck (the observability profile's exporters).
        healthy | exited0 | running0) ;;
        unhealthy | exited*)
            echo "error: $(docker inspect --format '{{.Name}}' "$id") is $state; see: $* logs" >&2
            exit 1
            ;;
        *) waiting=1 ;;
        esac
    done
    [ -z "$waiting" ] && break
    tries=$((tries + 1))
    if [ "$tries" -gt $((patience * 2)) ]; then
        echo "error: not healthy after $patience s; see: $* ps, $* logs" >&2
        exit 1
    fi
    sleep 0.5
done
port=$(sed -n 's/^WEB_PORT=//p' .env)
echo "the cluster is up: open http://localhost:${WEB_PORT:-${port:-8080}}" >&2
