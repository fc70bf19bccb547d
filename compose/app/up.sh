#!/bin/sh
# Brings up the whole cluster and waits until every service is healthy, then prints the URL.
# On first use it creates .env with new passwords (compose/make-env.sh).
#
#   compose/app/up.sh             images from a registry, or built by Compose from the
#                                 Dockerfile when missing
#   compose/app/up.sh --offline   no registry: builds the base images from Debian packages
#                                 and the project's images from binaries compiled here first,
#                                 and records the local base image names in .env
#
# Stop it with `docker compose -f compose/app/docker-compose.yaml down` (add -v to delete
# the databases).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

"$root/compose/make-env.sh" "$here"

if [ "${1:-}" = --offline ]; then
    "$root/scripts/build-base-images.sh"
    "$root/scripts/build-images.sh"
    # Once: later runs of `docker compose` in this folder then use the local images too.
    if ! grep -q '^POSTGRES_IMAGE=' "$here/.env"; then
        "$root/scripts/build-base-images.sh" --print-env | grep -v '^RUNTIME_IMAGE=' >>"$here/.env"
    fi
elif [ -n "${1:-}" ]; then
    echo "usage: $0 [--offline]" >&2
    exit 2
fi

if docker compose version >/dev/null 2>&1; then
    set -- docker compose
else
    set -- docker-compose
fi
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
        healthy | exited0) ;;
        unhealthy | exited*)
            echo "error: $(docker inspect --format '{{.Name}}' "$id") is $state; see: $* logs" >&2
            exit 1
            ;;
        *) waiting=1 ;;
        esac
    done
    [ -z "$waiting" ] && break
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ]; then
        echo "error: not healthy after 60 s; see: $* ps, $* logs" >&2
        exit 1
    fi
    sleep 0.5
done
port=$(sed -n 's/^WEB_PORT=//p' .env)
echo "the cluster is up: open http://localhost:${WEB_PORT:-${port:-8080}}" >&2
