#!/usr/bin/env bash
# Builds, without a registry, a local stand-in for the official Rust image: the image the
# default `build` stage of docker/Dockerfile compiles in (its RUST_IMAGE), so the build a Mac
# or a connected Linux machine runs (cargo-chef, cache mounts) can run here too.
#
#   docker-cluster-rust/rust:<version>-bookworm   Debian bookworm with gcc, libc6-dev and CA
#                                                 certificates (from Debian packages, by
#                                                 mmdebstrap), and this machine's Rust
#                                                 toolchain in /usr/local/rustup and
#                                                 /usr/local/cargo, as the official images
#                                                 keep theirs (RUSTUP_HOME, CARGO_HOME, PATH)
#
#   scripts/build-rust-image.sh             build it when missing or out of date
#   scripts/build-rust-image.sh --force     rebuild it
#   scripts/build-rust-image.sh --print-env RUST_IMAGE=<its name>, for docker build
#                                           --build-arg and the compose files
#
# The toolchain is the one `rustc` runs here (rustup's), for the engine's own platform, with
# its host standard library only (no docs, no other targets). A local name, never the public
# `rust:` one. Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/docker-build.sh
. scripts/docker-build.sh
# shellcheck source=scripts/platforms.sh
. scripts/platforms.sh

force=false
print=false
case ${1:-} in
"") ;;
--force) force=true ;;
--print-env) print=true ;;
*)
    echo "usage: $0 [--force|--print-env]" >&2
    exit 2
    ;;
esac

die() {
    echo "error: $*" >&2
    exit 1
}
command -v rustc >/dev/null && command -v rustup >/dev/null ||
    die "no rustup toolchain here: install Rust with rustup (https://rustup.rs)"
version=$(rustc -vV | sed -n 's/^release: //p')
host=$(rustc -vV | sed -n 's/^host: //p')
suite=bookworm
image=docker-cluster-rust/rust:$version-$suite
if [ "$print" = true ]; then
    echo "RUST_IMAGE=$image"
    exit 0
fi

log() { echo "build-rust-image: $*" >&2; }
command -v docker >/dev/null || die "no docker client on PATH: install docker.io (apt-get) or Docker Desktop"
platform=$(engine_platform)
want=$(platform_rust_target "$platform") || exit 2
[ "$host" = "$want" ] ||
    die "the Rust toolchain here is for $host, the Docker engine runs $platform ($want): build on a machine whose toolchain matches"

# The recipe: this script, the Dockerfile, and the toolchain's exact version. When any
# changes, the image is rebuilt.
recipe_label=io.github.docker-cluster-rust.base-recipe
recipe=$({
    cat "$0" docker/base/rust/Dockerfile
    rustc -vV
    cargo -V
} | sha256sum | cut -c1-16)
if [ "$force" = false ] &&
    [ "$(docker image inspect --format "{{ index .Config.Labels \"$recipe_label\" }}" "$image" 2>/dev/null)" = "$recipe" ]; then
    log "$image is up to date"
    exit 0
fi

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        mmdebstrap >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dcr-rust.XXXXXX")
trap '"${sudo_cmd[@]}" rm -rf "$work"' EXIT
started=$SECONDS

# The toolchain, as rustup-init lays it out in the official images: rustup and its proxies
# in cargo/bin, the toolchain under rustup/toolchains/<version>-<host>, chosen as default.
log "copying the Rust $version toolchain ($host)"
sysroot=$(rustc --print sysroot)
toolchain=$version-$host
mkdir -p "$work/toolchain/rustup/toolchains/$toolchain" "$work/toolchain/cargo/bin"
excludes=(--exclude=./share/doc --exclude=./lib/rustlib/src)
for dir in "$sysroot"/lib/rustlib/*/; do
    name=$(basename "$dir")
    case $name in
    "$host" | etc | components) ;;
    *) excludes+=("--exclude=./lib/rustlib/$name") ;;
    esac
done
tar -C "$sysroot" "${excludes[@]}" -cf - . | tar -C "$work/toolchain/rustup/toolchains/$toolchain" -xf -
printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" \
    >"$work/toolchain/rustup/settings.toml"
install -m 755 "$(command -v rustup)" "$work/toolchain/cargo/bin/rustup"
for tool in "$sysroot"/bin/*; do
    ln -s rustup "$work/toolchain/cargo/bin/$(basename "$tool")"
done
# Writable by everyone, as in the official images: a build as any user can add to the registry.
chmod -R a+w "$work/toolchain/rustup" "$work/toolchain/cargo"
mkdir -p "$work/context"
tar -C "$work/toolchain" --numeric-owner --owner=0 --group=0 -cf "$work/context/toolchain.tar" .

# Debian with what the official image adds for building: the C toolchain (ring and other
# crates compile C; static linking needs libc6-dev's archives) and CA certificates. The
# machine's own additional CAs (/usr/local/share/ca-certificates: a company's TLS-inspecting
# proxy, say) are trusted too, so cargo reaches crates.io from the build as it does here.
log "root file system from Debian $suite packages"
setsid --wait mmdebstrap --quiet --mode=root --variant=minbase \
    --aptopt='APT::Install-Recommends "false"' \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/etc/hostname "$1"/etc/resolv.conf "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    --arch="$(platform_arch "$platform")" --skip=output/dev \
    --include=ca-certificates,gcc,libc6-dev,make,pkg-config \
    --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ &&
        chroot "$1" update-ca-certificates >/dev/null; fi' \
    "$suite" "$work/context/rootfs.tar" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$work/mmdebstrap.log" 2>&1 || {
    cat "$work/mmdebstrap.log" >&2
    die "mmdebstrap failed (above): check DEBIAN_MIRROR and the network"
}

cp docker/base/rust/Dockerfile "$work/context/"
docker_build --quiet --platform "$platform" --build-arg "RUST_VERSION=$version" \
    --label "org.opencontainers.image.title=rust" \
    --label "org.opencontainers.image.description=Rust $version on Debian $suite: a local stand-in for rust:$version-$suite" \
    --label "org.opencontainers.image.base.name=debian:$suite (built locally from Debian packages)" \
    --label "org.opencontainers.image.vendor=docker-cluster-rust" \
    --label "$recipe_label=$recipe" \
    -t "$image" "$work/context" >/dev/null
log "built $image ($(($(docker image inspect --format '{{.Size}}' "$image") / 1024 / 1024)) MiB, $((SECONDS - started)) s)"
