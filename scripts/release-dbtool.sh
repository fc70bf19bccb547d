#!/usr/bin/env bash
# Release archives of dbtool, the program people run on their own machines, with SHA-256 sums:
#
#   dbtool-<version>-linux-x86_64.tar.gz     static (glibc linked in): runs on any Linux
#   dbtool-<version>-linux-aarch64.tar.gz    the same for 64-bit ARM Linux
#   dbtool-<version>-windows-x86_64.zip      dbtool.exe (MinGW build)
#   SHA256SUMS                               `sha256sum -c SHA256SUMS` checks them
#
#   scripts/release-dbtool.sh [--out DIR] [linux-x86_64|linux-aarch64|windows-x86_64 ...]
#
# Default: every archive, into target/release-dbtool. Cross targets are added with rustup
# and their linkers (Debian's gcc-aarch64-linux-gnu, gcc-mingw-w64-x86-64) installed with
# apt-get when missing. Each archive holds the program, the README and the licence files.
# macOS builds need Apple's linker and SDK: build them on a Mac with
# `cargo install --path dbtool`.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/release-dbtool
wanted=()
while [ $# -gt 0 ]; do
    case $1 in
    --out)
        [ $# -ge 2 ] || {
            echo "usage: $0 [--out DIR] [linux-x86_64|linux-aarch64|windows-x86_64 ...]" >&2
            exit 2
        }
        out=$2
        shift
        ;;
    linux-x86_64 | linux-aarch64 | windows-x86_64) wanted+=("$1") ;;
    *)
        echo "error: unknown argument '$1'; usage: $0 [--out DIR] [linux-x86_64|linux-aarch64|windows-x86_64 ...]" >&2
        exit 2
        ;;
    esac
    shift
done
[ ${#wanted[@]} -gt 0 ] || wanted=(linux-x86_64 linux-aarch64 windows-x86_64)

log() { echo "release-dbtool: $*" >&2; }

version=$(cargo metadata --no-deps --format-version 1 --locked |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "dbtool"))')

# Installs Debian packages when `command` is missing.
need() {
    command -v "$1" >/dev/null && return
    shift
    log "installing $*"
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
archives=()
for name in "${wanted[@]}"; do
    rustflags=
    exe=dbtool
    case $name in
    linux-x86_64)
        target=x86_64-unknown-linux-gnu
        linker=x86_64-linux-gnu-gcc
        need "$linker" gcc-x86-64-linux-gnu libc6-dev-amd64-cross
        rustflags="-C target-feature=+crt-static"
        ;;
    linux-aarch64)
        target=aarch64-unknown-linux-gnu
        linker=aarch64-linux-gnu-gcc
        need "$linker" gcc-aarch64-linux-gnu libc6-dev-arm64-cross
        rustflags="-C target-feature=+crt-static"
        ;;
    windows-x86_64)
        target=x86_64-pc-windows-gnu
        linker=x86_64-w64-mingw32-gcc
        need "$linker" gcc-mingw-w64-x86-64
        exe=dbtool.exe
        ;;
    esac
    # On an x86_64 host, the host's own gcc links x86_64 Linux programs.
    if [ "$target" = "$(rustc -vV | sed -n 's/^host: //p')" ]; then linker=cc; fi
    if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
        log "rustup target add $target"
        rustup target add "$target" >&2
    fi
    target_variable=$(echo "$target" | tr '[:lower:]-' '[:upper:]_')
    log "cargo build --release --target $target -p dbtool"
    started=$SECONDS
    env "CARGO_TARGET_${target_variable}_LINKER=$linker" \
        RUSTFLAGS="${RUSTFLAGS:-} $rustflags" \
        cargo build --release --locked --target "$target" -p dbtool --bin dbtool >&2
    log "compiled in $((SECONDS - started)) s"
    program=${CARGO_TARGET_DIR:-target}/$target/release/$exe
    if [ "$name" != windows-x86_64 ] && readelf -l "$program" | grep -q 'Requesting program interpreter'; then
        echo "error: $program is dynamically linked; the Linux archives hold static programs" >&2
        exit 1
    fi

    dir=$staging/dbtool-$version-$name
    mkdir -p "$dir"
    cp "$program" "$dir/"
    cp README.md "$dir/README.md"
    for licence in LICENSE*; do
        [ -e "$licence" ] && cp "$licence" "$dir/"
    done
    case $name in
    windows-*)
        archive=dbtool-$version-$name.zip
        rm -f "$out/$archive"
        (cd "$staging" && python3 -m zipfile -c "$out/$archive" "dbtool-$version-$name")
        ;;
    *)
        archive=dbtool-$version-$name.tar.gz
        tar -C "$staging" --owner=0 --group=0 --numeric-owner -czf "$out/$archive" "dbtool-$version-$name"
        ;;
    esac
    archives+=("$archive")
    log "$out/$archive"
done

# Sums of every archive in the folder, so archives built by earlier runs stay listed.
shopt -s nullglob
(cd "$out" && sums=(dbtool-"$version"-*.tar.gz dbtool-"$version"-*.zip) && sha256sum "${sums[@]}" >SHA256SUMS)
(cd "$out" && sha256sum -c --quiet SHA256SUMS)
log "$out/SHA256SUMS: ${archives[*]}"
