#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, starts private
# PostgreSQL and Redis servers on loopback, checks formatting and lints, runs every test
# with cargo nextest, and stops what it started, even on failure.
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh -E 'package(dbtool)'   extra arguments go to cargo nextest
#   ./scripts/test.sh --rust-only -E 'package(dbtool)'
#                                the inner loop: no image builds or other steps before the
#                                tests (tests that need images or dbtool.exe fail; pick
#                                crates that do not)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rust_only=false
if [ "${1:-}" = --rust-only ]; then
    rust_only=true
    shift
fi

# Debian packages the suite needs, by the command or file that shows each is present.
need_packages=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_packages+=(postgresql-15)
command -v redis-server >/dev/null || need_packages+=(redis-server)
command -v shellcheck >/dev/null || need_packages+=(shellcheck)
# openssl: the TLS tests make their own CA and certificates with it.
command -v openssl >/dev/null || need_packages+=(openssl)
# docker-compose 1.29: tests/compose runs the steps where it differs from Compose v2 with it.
command -v docker-compose >/dev/null || need_packages+=(docker-compose)
# /usr/bin/kill: the services' tests freeze and thaw a redis-server (SIGSTOP, SIGCONT).
[ -x /usr/bin/kill ] || [ -x /bin/kill ] || need_packages+=(procps)
# The web app's browser test drives a headless Chromium through chromedriver.
command -v chromium >/dev/null || need_packages+=(chromium)
command -v chromedriver >/dev/null || need_packages+=(chromium-driver)
if [ ${#need_packages[@]} -gt 0 ]; then
    echo "installing: ${need_packages[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${need_packages[@]}" >/dev/null
    # The package starts its own servers; the suite runs private ones.
    for unit in redis-server postgresql; do
        "${sudo_cmd[@]}" systemctl stop "$unit" >/dev/null 2>&1 ||
            "${sudo_cmd[@]}" service "$unit" stop >/dev/null 2>&1 || true
    done
fi

# Python packages the suite needs: the Kubernetes schemas, offline (tests/manifests).
python3 -c 'import kubernetes_validate' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        kubernetes-validate==1.37.0
# check-jsonschema: the compose files against the Compose specification's schema (tests/compose).
command -v check-jsonschema >/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        check-jsonschema==0.39.0
# Compose v2 (docker compose) as a Docker CLI plugin in a private DOCKER_CONFIG folder, which
# tests/compose uses for its v2 runs; ~/.docker and docker-compose 1.29 stay as they are.
COMPOSE_V2_DOCKER_CONFIG=$("$root/scripts/compose-v2.sh")
export COMPOSE_V2_DOCKER_CONFIG

# shellcheck source=scripts/local-servers.sh
. "$root/scripts/local-servers.sh"
trap stop_local_servers EXIT INT TERM

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
if [ "$rust_only" = false ]; then
    echo "== cargo clippy for macOS (dbtool)" >&2
    "$root/scripts/lint-macos.sh"
fi

start_local_servers

if [ "$rust_only" = false ]; then
# Steps that must run before the tests (one line each, each calling its own script):
"$root/scripts/build-base-images.sh"
"$root/scripts/build-images.sh"
# The stand-in for the official Rust image (Debian packages and this machine's toolchain):
# tests/compose builds the images through docker/Dockerfile's default build stage with it.
"$root/scripts/build-rust-image.sh"
# Kubernetes 1.20 from Debian's source package (built once, about 10 minutes on 2 cores, then
# cached outside the repository) and the packages its cluster needs: tests/kubernetes starts
# real single-node clusters with scripts/kube/cluster.sh.
"$root/scripts/kube/cluster.sh" prepare
# The same images for the other platform (linux/arm64 on an amd64 machine), from the same
# files; tests/compose runs the cluster on them under emulation.
other_platform=$(. "$root/scripts/platforms.sh" && for p in $supported_platforms; do
    [ "$p" = "$(engine_platform)" ] || echo "$p"
done)
"$root/scripts/build-base-images.sh" --platform "$other_platform"
"$root/scripts/build-images.sh" --platform "$other_platform"
# dbtool.exe, cross-built, and a private Wine prefix: tests/portability runs it under Wine.
windows_env=$("$root/scripts/windows-dbtool.sh")
eval "$windows_env"
export DBTOOL_WINDOWS_EXE WINEPREFIX
# (end of steps before the tests)
fi

echo "== cargo nextest" >&2
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    cargo test --workspace --locked --no-fail-fast "$@"
fi
