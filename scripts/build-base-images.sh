#!/usr/bin/env bash
# Builds, from Debian packages, the base images the project needs on a machine that cannot
# pull from any container registry, under local names (never a public image's name):
#
#   docker-cluster-rust/runtime:bookworm       CA certificates and a non-root user, no libc:
#                                              the final stage of every Rust image
#   docker-cluster-rust/postgres:15-bookworm   PostgreSQL 15 with the official image's contract
#   docker-cluster-rust/redis:7-bookworm       Redis 7 as the official image runs it
#
# and, for compose/app's `observability` profile (the machine's own platform only):
#
#   docker-cluster-rust/prometheus:2-bookworm          Prometheus, run as prom/prometheus runs
#   docker-cluster-rust/postgres-exporter:0-bookworm   the PostgreSQL exporter
#   docker-cluster-rust/redis-exporter:1-bookworm      the Redis exporter
#
# Each root file system comes from mmdebstrap (installed through apt when missing) and becomes
# an image through docker/base/<kind>/Dockerfile (`FROM scratch`, `ADD rootfs.tar /`). An
# image that exists with the same recipe (a hash of this script and the files under
# docker/base/) is kept, so a second run takes a second.
#
#   scripts/build-base-images.sh            build the missing images
#   scripts/build-base-images.sh --force    rebuild them all
#   scripts/build-base-images.sh --print-env
#                                           print the compose variables that select them
#   scripts/build-base-images.sh --platform linux/arm64 [--force|--print-env]
#                                           the same for another platform: its packages run
#                                           under emulation (scripts/enable-emulation.sh),
#                                           and its tags end in -<arch> (scripts/platforms.sh)
#
# On a machine that can pull images none of this is needed: the compose files default to the
# public images. Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/docker-build.sh
. scripts/docker-build.sh
# shellcheck source=scripts/platforms.sh
. scripts/platforms.sh

usage() { echo "usage: $0 [--platform PLATFORM] [--force|--print-env]" >&2; }
force=false
print=false
platform=
while [ $# -gt 0 ]; do
    case $1 in
    --force) force=true ;;
    --print-env) print=true ;;
    --platform)
        [ $# -ge 2 ] || {
            usage
            exit 2
        }
        platform=$2
        shift
        ;;
    *)
        usage
        exit 2
        ;;
    esac
    shift
done
suffix=$(platform_tag_suffix "$platform")

suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
runtime_image=docker-cluster-rust/runtime:$suite$suffix
postgres_image=docker-cluster-rust/postgres:15-$suite$suffix
redis_image=docker-cluster-rust/redis:7-$suite$suffix
prometheus_image=docker-cluster-rust/prometheus:2-$suite$suffix
postgres_exporter_image=docker-cluster-rust/postgres-exporter:0-$suite$suffix
redis_exporter_image=docker-cluster-rust/redis-exporter:1-$suite$suffix

if [ "$print" = true ]; then
    # The variables every compose file reads its image names from.
    echo "POSTGRES_IMAGE=$postgres_image"
    echo "REDIS_IMAGE=$redis_image"
    echo "RUNTIME_IMAGE=$runtime_image"
    if [ -z "$suffix" ]; then
        echo "PROMETHEUS_IMAGE=$prometheus_image"
        echo "POSTGRES_EXPORTER_IMAGE=$postgres_exporter_image"
        echo "REDIS_EXPORTER_IMAGE=$redis_exporter_image"
    fi
    exit 0
fi
[ -n "$platform" ] || platform=$(engine_platform)
arch=$(platform_arch "$platform")

log() { echo "build-base-images: $*" >&2; }

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        mmdebstrap >/dev/null
fi

# An image's recipe: this script and its files under docker/base/. When either changes, the
# image is rebuilt.
recipe_label=io.github.docker-cluster-rust.base-recipe
recipe_of() {
    {
        cat "$0"
        if [ -d docker/base/"$1" ]; then cat docker/base/"$1"/*; fi
    } | sha256sum | cut -c1-16
}

up_to_date() {
    [ "$force" = false ] || return 1
    local have
    have=$(docker image inspect --format "{{ index .Config.Labels \"$recipe_label\" }}" "$2" 2>/dev/null) || return 1
    [ "$have" = "$(recipe_of "$1")" ]
}

# Builds image $1 of kind $2 from the root file system $work/$2.tar with
# docker/base/$2/Dockerfile, for the platform; $3 describes it. The context is a folder of
# its own: the Dockerfile and the tar, nothing else.
build_image() {
    local image=$1 kind=$2 description=$3
    local context=$work/$kind-context
    mkdir -p "$context"
    cp docker/base/"$kind"/Dockerfile "$context"/
    mv "$work/$kind.tar" "$context"/rootfs.tar
    docker_build --quiet --platform "$platform" \
        --label "org.opencontainers.image.title=$kind" \
        --label "org.opencontainers.image.description=$description" \
        --label "org.opencontainers.image.base.name=debian:$suite (built locally from Debian packages)" \
        --label "org.opencontainers.image.vendor=docker-cluster-rust" \
        --label "$recipe_label=$(recipe_of "$kind")" \
        -t "$image" "$context" >/dev/null
    rm -rf "$context"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/dcr-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Options shared by the two full root file systems: the size of debian:bookworm-slim.
slim=(
    --mode=root --variant=minbase
    --aptopt='APT::Install-Recommends "false"'
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/groff/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    --dpkgopt='path-exclude=/usr/share/linda/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --customize-hook='rm -rf "$1"/etc/hostname "$1"/etc/resolv.conf "$1"/var/lib/apt/lists/* "$1"/var/log/*'
)

# System user $1 with uid and gid 999, as in the official images, added before the package
# that would otherwise pick the next free id.
system_user_hook() {
    echo "echo '$1:x:999:' >>\"\$1/etc/group\";" \
        "echo '$1:x:999:999:$1:$2:/bin/sh' >>\"\$1/etc/passwd\";" \
        "echo '$1:*:19000:0:99999:7:::' >>\"\$1/etc/shadow\""
}

build_runtime() {
    # Only the files a static binary may read: CA certificates for TLS clients, name service
    # configuration, and a non-root user (uid 65532, as the distroless images use).
    local rootfs=$work/runtime
    setsid --wait mmdebstrap --quiet --mode=root --arch="$arch" --variant=extract \
        --include=ca-certificates,netbase "$suite" "$work/runtime-src" "$mirror"
    mkdir -p "$rootfs"/etc/ssl/certs "$rootfs"/tmp "$rootfs"/home/nonroot \
        "$rootfs"/usr/share/doc/ca-certificates "$rootfs"/usr/share/doc/netbase
    chmod 1777 "$rootfs"/tmp
    # What update-ca-certificates would write; maintainer scripts do not run in extract mode.
    cat "$work"/runtime-src/usr/share/ca-certificates/mozilla/*.crt >"$rootfs"/etc/ssl/certs/ca-certificates.crt
    cp "$work"/runtime-src/etc/services "$work"/runtime-src/etc/protocols "$rootfs"/etc/
    cp "$work"/runtime-src/usr/share/doc/ca-certificates/copyright "$rootfs"/usr/share/doc/ca-certificates/
    cp "$work"/runtime-src/usr/share/doc/netbase/copyright "$rootfs"/usr/share/doc/netbase/
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' \
        >"$rootfs"/etc/passwd
    printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$rootfs"/etc/group
    printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' 'services: files' >"$rootfs"/etc/nsswitch.conf
    chown 65532:65532 "$rootfs"/home/nonroot
    tar -C "$rootfs" --numeric-owner -cf "$work/runtime.tar" .
    build_image "$runtime_image" runtime "CA certificates and a non-root user for static binaries"
}

# Builds image $1 of kind $2 ("postgres" or "redis"), described by $3: a root file system from
# mmdebstrap with the remaining arguments, then docker/base/$2/Dockerfile.
build_server() {
    local image=$1 kind=$2 description=$3
    shift 3
    # A file rather than a pipe: mmdebstrap stops its whole process group when a pipe breaks.
    # Its /dev entries are left out: the engine gives every container its own /dev.
    setsid --wait mmdebstrap --quiet "${slim[@]}" --arch="$arch" --skip=output/dev "$@" \
        "$suite" "$work/$kind.tar" "$mirror"
    build_image "$image" "$kind" "$description"
}

build_postgres() {
    build_server "$postgres_image" postgres \
        "PostgreSQL 15 from Debian with the official postgres image's entrypoint contract" \
        --include=postgresql-15 \
        --essential-hook="$(system_user_hook postgres /var/lib/postgresql)" \
        --essential-hook='mkdir -p "$1"/etc/postgresql-common/createcluster.d && echo "create_main_cluster = false" >"$1"/etc/postgresql-common/createcluster.d/00-docker.conf' \
        --customize-hook=docker/base/postgres/customize-hook.sh
}

build_redis() {
    build_server "$redis_image" redis "Redis 7 from Debian, run as the official redis image runs it" \
        --include=redis-server \
        --essential-hook="$(system_user_hook redis /var/lib/redis)" \
        --customize-hook='mkdir -p "$1"/data && chroot "$1" chown redis:redis /data' \
        --customize-hook='install -m 755 docker/base/redis/docker-entrypoint.sh "$1"/usr/local/bin/'
}

# The monitoring images: one Debian package each, its binary the entrypoint, run as nobody
# (65534) as the public images run. Their kinds name the image folder under docker/base/.
build_monitoring() {
    local image=$1 kind=$2 description=$3 package=$4
    shift 4
    build_server "$image" "$kind" "$description" --include="$package" "$@"
}

build_prometheus() {
    build_monitoring "$prometheus_image" prometheus \
        "Prometheus from Debian, run as the prom/prometheus image runs it" prometheus \
        --customize-hook='mkdir -p "$1"/prometheus && chown 65534:65534 "$1"/prometheus' \
        --customize-hook='rm -rf "$1"/var/lib/prometheus/*'
}

build_postgres_exporter() {
    build_monitoring "$postgres_exporter_image" postgres-exporter \
        "The Prometheus PostgreSQL exporter from Debian" prometheus-postgres-exporter
}

build_redis_exporter() {
    build_monitoring "$redis_exporter_image" redis-exporter \
        "The Prometheus Redis exporter from Debian" prometheus-redis-exporter
}

kinds=(runtime postgres redis)
if [ -z "$suffix" ]; then
    kinds+=(prometheus postgres_exporter redis_exporter)
fi

if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    log "building for $platform, tags ending in $suffix"
    # Another platform's maintainer scripts run in mmdebstrap's chroot under emulation.
    scripts/enable-emulation.sh "$platform"
fi

# The builds download in parallel; each logs to its own file, shown only when it fails.
pids=() names=()
for kind in "${kinds[@]}"; do
    image_var=${kind}_image
    if up_to_date "${kind//_/-}" "${!image_var}"; then
        log "${!image_var} is up to date"
        continue
    fi
    log "building ${!image_var}"
    (cd "$root" && "build_$kind") >"$work/$kind.log" 2>&1 &
    pids+=($!) names+=("$kind")
done
failed=0
for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
        log "built $(eval echo "\$${names[$i]}_image")"
    else
        log "building ${names[$i]} failed:"
        cat "$work/${names[$i]}.log" >&2
        failed=1
    fi
done
exit "$failed"
