# shellcheck shell=bash
# Sourced by scripts/build-base-images.sh and scripts/build-images.sh (bash).
#
#   docker_build ARGS...   runs `docker build ARGS...` with BuildKit
#
# BuildKit builds only the stages a target needs, which the offline path relies on (the
# Rust build stage names an image no offline machine has). A docker client with the buildx
# plugin uses BuildKit by itself; Debian's docker.io client (/usr/bin/docker, 20.10) has it
# built in behind DOCKER_BUILDKIT=1, while a newer client without buildx refuses it.
docker_build() {
    if docker buildx version >/dev/null 2>&1; then
        docker build "$@"
    elif [ -x /usr/bin/docker ] && DOCKER_BUILDKIT=1 /usr/bin/docker build --help >/dev/null 2>&1; then
        DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
    else
        echo "error: no docker client here builds with BuildKit: install the buildx plugin" >&2
        return 1
    fi
}
