#!/usr/bin/env bash
# dbtool linted for macOS from Linux: cargo clippy for aarch64-apple-darwin and
# x86_64-apple-darwin, warnings as errors, as the test command runs it.
#
#   scripts/lint-macos.sh            both targets
#   scripts/lint-macos.sh aarch64-apple-darwin
#
# Nothing is linked, so no Apple linker or SDK is needed, except for one thing: dbtool's TLS
# (rustls with the ring provider) compiles ring's C and assembly in its build script, even for
# a check. ring builds without a C library when asked (RING_CORE_NOSTDLIBINC, as it does for
# targets without a sysroot): clang compiles it for the Apple target with only its own
# headers (freestanding), plus a TargetConditionals.h that says "macOS" where the SDK's would. That header is
# written under target/, for this lint alone; the objects are never linked into anything.
#
# Installs what is missing: clang (apt-get), the Rust targets (rustup).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "lint-macos: $*" >&2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin)
for target in "${targets[@]}"; do
    case $target in
    aarch64-apple-darwin | x86_64-apple-darwin) ;;
    *)
        echo "error: unknown target $target: give aarch64-apple-darwin or x86_64-apple-darwin" >&2
        exit 2
        ;;
    esac
done

if ! command -v clang >/dev/null; then
    log "installing clang (ring's C for the Apple targets)"
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        clang >/dev/null
fi
command -v rustup >/dev/null || {
    echo "error: rustup is needed to add the Apple targets (https://rustup.rs)" >&2
    exit 1
}

include=${CARGO_TARGET_DIR:-target}/macos-lint/include
mkdir -p "$include"
cat >"$include/TargetConditionals.h" <<'EOF'
/* What the macOS SDK's header says on a Mac, for linting from Linux (scripts/lint-macos.sh). */
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
EOF
include=$(cd "$include" && pwd)

for target in "${targets[@]}"; do
    if ! rustup target list --installed | grep -qx "$target"; then
        log "rustup target add $target"
        rustup target add "$target" >&2
    fi
    variable=$(echo "$target" | tr - _)
    log "cargo clippy -p dbtool --all-targets --target $target"
    env "CC_$variable=clang" \
        "CFLAGS_$variable=-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -I$include" \
        cargo clippy --quiet --locked -p dbtool --all-targets --target "$target" -- -D warnings
done
