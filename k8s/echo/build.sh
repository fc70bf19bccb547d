#!/bin/sh
# Builds the echo image, docker-cluster-rust/echo:dev, with the project's image script,
# and when the current kubectl context is a kind cluster, loads it into that cluster's
# nodes (kind's nodes have their own image store; Docker Desktop's Kubernetes uses the
# images of its Docker engine as they are). Then: kubectl apply -f k8s/cluster-1/
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
image=docker-cluster-rust/echo:dev

if [ ! -x "$root/scripts/build-images.sh" ]; then
    echo "error: $root/scripts/build-images.sh is missing: it builds every project image" >&2
    exit 1
fi
"$root/scripts/build-images.sh" echo

context=$(kubectl config current-context 2>/dev/null || true)
case $context in
kind-*)
    echo "loading $image into the kind cluster ${context#kind-}" >&2
    kind load docker-image "$image" --name "${context#kind-}"
    ;;
esac
echo "built $image; next: kubectl apply -f $root/k8s/cluster-1/" >&2
