#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, starts private
# PostgreSQL and Redis servers on loopback, checks formatting and lints, runs every test
# with cargo nextest, and stops what it started, even on failure.
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh -E 'package(dbtool)'   extra arguments go to cargo nextest
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Debian packages the suite needs, by the command or file that shows each is present.
need_packages=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_packages+=(postgresql-15)
command -v redis-server >/dev/null || need_packages+=(redis-server)
command -v shellcheck >/dev/null || need_packages+=(shellcheck)
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

# shellcheck source=scripts/local-servers.sh
. "$root/scripts/local-servers.sh"
trap stop_local_servers EXIT INT TERM

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings

start_local_servers

# Steps that must run before the tests (one line each, each calling its own script):
"$root/scripts/build-base-images.sh"
"$root/scripts/build-images.sh"
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
# (end of steps before the tests)

echo "== cargo nextest" >&2
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    cargo test --workspace --locked --no-fail-fast "$@"
fi
