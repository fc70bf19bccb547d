#!/usr/bin/env bash
# Builds the project's images, docker-cluster-rust/<binary>:dev, from binaries compiled once
# on this machine, outside Docker: one `cargo build --release` of every binary, static (glibc
# with crt-static), then one small `docker build` per image with docker/Dockerfile's
# prebuilt stage. No registry is needed. Linux only (the binaries are Linux programs).
#
#   scripts/build-images.sh                 every image, for the Docker engine's platform
#   scripts/build-images.sh hello echo      only these
#   scripts/build-images.sh --platform linux/arm64 [binary...]
#                                           for another platform: cross-compiled (the Rust
#                                           target is added with rustup, the C cross linker
#                                           installed with apt when missing), same Dockerfile,
#                                           tags ending in -<arch> (scripts/platforms.sh)
#   scripts/build-images.sh [--platform P] --print-env
#                                           the compose variables that select the images
#                                           (HELLO_IMAGE=..., one per binary)
#
# The final stage's base is RUNTIME_IMAGE when set; otherwise the platform's
# docker-cluster-rust/runtime image when it exists (scripts/build-base-images.sh), else the
# Dockerfile's public default.
# On a machine with a registry, `docker build -f docker/Dockerfile ...` compiles inside
# Docker instead (see the Dockerfile's header).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/docker-build.sh
. scripts/docker-build.sh
# shellcheck source=scripts/platforms.sh
. scripts/platforms.sh

# binary  kind    port  description
images="
hello1400 service 1400 The bare-metal hello server: std only, hello world to any request
hello     service 1401 The hello service; with UPSTREAM_URL it returns that URL's body
echo      service 1402 Answers the host name it runs on
catalog   service 8081 JSON API over the catalog database, with a Redis cache and change events
activity  service 8082 Consumes the catalog's change events into the activity feed
web       service 8080 The web app: catalog entries, activity feed, cluster panel
dbtool    tool    -    Versioned PostgreSQL migrations with rollback, locking and drift checks
cluster-load tool -   Mixed fixed-rate load through web and catalog (compose/app's load profile)
"

platform=
print=false
wanted=()
while [ $# -gt 0 ]; do
    case $1 in
    --platform)
        [ $# -ge 2 ] || {
            echo "usage: $0 [--platform PLATFORM] [--print-env] [binary...]" >&2
            exit 2
        }
        platform=$2
        shift
        ;;
    --print-env) print=true ;;
    -*)
        echo "usage: $0 [--platform PLATFORM] [--print-env] [binary...]" >&2
        exit 2
        ;;
    *) wanted+=("$1") ;;
    esac
    shift
done
suffix=$(platform_tag_suffix "$platform")
if [ ${#wanted[@]} -eq 0 ]; then
    read -r -a wanted <<<"$(awk 'NF { printf "%s ", $1 }' <<<"$images")"
fi
for binary in "${wanted[@]}"; do
    if ! awk -v b="$binary" '$1 == b { found = 1 } END { exit !found }' <<<"$images"; then
        echo "error: no image for binary '$binary'; known: $(awk 'NF { printf "%s ", $1 }' <<<"$images")" >&2
        exit 2
    fi
done

if [ "$print" = true ]; then
    for binary in "${wanted[@]}"; do
        echo "$(echo "$binary" | tr '[:lower:]-' '[:upper:]_')_IMAGE=docker-cluster-rust/$binary:dev$suffix"
    done
    exit 0
fi

log() { echo "build-images: $*" >&2; }
[ -n "$platform" ] || platform=$(engine_platform)

runtime_image=${RUNTIME_IMAGE:-}
if [ -z "$runtime_image" ]; then
    platform_runtime=$(scripts/build-base-images.sh --platform "$platform" --print-env | sed -n 's/^RUNTIME_IMAGE=//p')
    if docker image inspect "$platform_runtime" >/dev/null 2>&1; then
        runtime_image=$platform_runtime
    fi
fi
runtime_args=()
if [ -n "$runtime_image" ]; then
    runtime_args=(--build-arg "RUNTIME_IMAGE=$runtime_image")
    log "final stage base: $runtime_image"
else
    log "final stage base: the Dockerfile's default"
fi

# One cargo run for all binaries: the shared crates compile once. An explicit --target keeps
# crt-static off the build scripts and proc macros, which must stay dynamic.
target=$(platform_rust_target "$platform")
if [ "$target" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then
    # Another platform: its standard library, and a C toolchain whose gcc links for it.
    if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
        log "rustup target add $target"
        rustup target add "$target"
    fi
    linker=$(platform_gcc "$platform")-gcc
    # gcc prints the bare name when it has no C library to link against for the target.
    if ! command -v "$linker" >/dev/null || [ "$("$linker" -print-file-name=crt1.o)" = crt1.o ]; then
        packages="gcc-$(platform_gcc "$platform" | tr _ -) libc6-dev-$(platform_arch "$platform")-cross"
        log "installing $packages (the linker for $target and its C library)"
        sudo_cmd=()
        [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
            $packages >/dev/null
    fi
    target_variable=$(echo "$target" | tr '[:lower:]-' '[:upper:]_')
    export "CARGO_TARGET_${target_variable}_LINKER=$linker"
fi
bin_args=(--bin healthcheck)
for binary in "${wanted[@]}"; do bin_args+=(--bin "$binary"); done
log "cargo build --release --target $target ${bin_args[*]}"
started=$SECONDS
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$target" "${bin_args[@]}"
log "compiled in $((SECONDS - started)) s"

target_dir=${CARGO_TARGET_DIR:-target}
out=$target_dir/$target/release
# The commit's own time, not the clock's: an unchanged binary gives an unchanged image, so
# compose does not recreate containers whose image did not change.
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || echo unknown)

inputs_label=io.github.docker-cluster-rust.image-inputs
for binary in "${wanted[@]}"; do
    read -r _ kind port description <<<"$(awk -v b="$binary" '$1 == b' <<<"$images")"
    # A binary that needs a loader or shared libraries would fail in the libc-free image.
    if readelf -l "$out/$binary" | grep -q 'Requesting program interpreter'; then
        echo "error: $out/$binary is dynamically linked; the images need static binaries" >&2
        exit 1
    fi
    # Each image's context is a folder holding just its two binaries and files/, what the
    # image carries below / besides them: nothing else is sent.
    context=$target_dir/image-context/$target/$binary
    rm -rf "$context"
    mkdir -p "$context/files"
    ln -f "$out/$binary" "$out/healthcheck" "$context/"
    if [ "$binary" = dbtool ]; then
        # The migration Jobs and init containers read /migrations/<database> in the image.
        cp -R migrations "$context/files/migrations"
        chmod -R a+rX,go-w "$context/files"
    fi
    args=(--build-arg BINARY_SOURCE=prebuilt --build-arg "BINARY=$binary"
        --build-arg "DESCRIPTION=$description" --build-arg "REVISION=$revision"
        --build-arg "CREATED=$created" ${runtime_args[@]+"${runtime_args[@]}"} --build-arg "KIND=$kind")
    if [ "$kind" = service ]; then args+=(--build-arg "PORT=$port"); fi
    started=$SECONDS
    image=docker-cluster-rust/$binary:dev$suffix
    # Everything the image is made of: when none of it changed, the image is kept as it is
    # and the engine is not asked to build at all.
    inputs=$({
        printf '%s\n' "$platform" "${args[@]}"
        if [ -n "$runtime_image" ]; then docker image inspect --format '{{.Id}}' "$runtime_image"; fi
        cat docker/Dockerfile
        (cd "$context" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    } | sha256sum | cut -c1-16)
    if [ "$(docker image inspect --format "{{ index .Config.Labels \"$inputs_label\" }}" "$image" 2>/dev/null)" = "$inputs" ]; then
        log "$image is up to date"
        continue
    fi
    docker_build --quiet --platform "$platform" -f docker/Dockerfile "${args[@]}" \
        --label "$inputs_label=$inputs" -t "$image" "$context" >/dev/null
    size=$(docker image inspect --format '{{.Size}}' "$image")
    log "$image  $((size / 1024)) KiB  ($((SECONDS - started)) s)"
done
