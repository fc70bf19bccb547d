#!/bin/sh
# Builds the image docker-cluster-rust/hello:dev from the project's one Dockerfile.
#
#   compose/hello1401/build.sh              compile inside Docker (needs a registry for the
#                                           Rust image)
#   BINARY_SOURCE=prebuilt compose/hello1401/build.sh
#                                           compile here, then package the static binary
#                                           (machines without a registry)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ "${BINARY_SOURCE:-build}" = prebuilt ]; then
    exec scripts/build-images.sh hello
fi
# The build context is the repository root (.dockerignore keeps target/ and .git out);
# the Dockerfile's build stage compiles the hello binary, its last stage packages it.
DOCKER_BUILDKIT=1 exec docker build -f docker/Dockerfile \
    --build-arg BINARY=hello --build-arg PORT=1401 \
    -t "${HELLO_IMAGE:-docker-cluster-rust/hello:dev}" .
