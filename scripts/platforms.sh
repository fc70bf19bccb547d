# shellcheck shell=bash
# Sourced by the image scripts (scripts/build-base-images.sh, scripts/build-images.sh,
# scripts/enable-emulation.sh). The one file that names CPU architectures: it maps a Docker
# platform to the names other tools give it. The Dockerfiles and compose files name none, so
# one file builds every platform.
#
#   engine_platform        the Docker engine's own platform, such as linux/amd64
#   check_platform P       fails with the supported list when P is not one of them
#   platform_arch P        Docker's and Debian's name of P's architecture (amd64, arm64)
#   platform_rust_target P the Rust target triple of P (glibc, linked statically)
#   platform_gcc P         the GNU triple prefix of P's C toolchain (its gcc links Rust code)
#   platform_qemu P        the name of P's qemu-user emulator, as binfmt-support registers it
#   platform_tag_suffix P  "" for the engine's own platform (or an empty P), "-<arch>" for
#                          another one: a tag holds one platform in the engine's image
#                          store, so images built for another platform sit beside the
#                          native ones

supported_platforms="linux/amd64 linux/arm64"

engine_platform() {
    docker version --format '{{.Server.Os}}/{{.Server.Arch}}'
}

check_platform() {
    case " $supported_platforms " in
    *" $1 "*) ;;
    *)
        echo "error: unsupported platform '$1'; supported: $supported_platforms" >&2
        return 2
        ;;
    esac
}

platform_arch() { echo "${1#linux/}"; }

platform_rust_target() {
    case $1 in
    linux/amd64) echo x86_64-unknown-linux-gnu ;;
    linux/arm64) echo aarch64-unknown-linux-gnu ;;
    *) check_platform "$1" ;;
    esac
}

platform_gcc() {
    case $1 in
    linux/amd64) echo x86_64-linux-gnu ;;
    linux/arm64) echo aarch64-linux-gnu ;;
    *) check_platform "$1" ;;
    esac
}

platform_qemu() {
    case $1 in
    linux/amd64) echo qemu-x86_64 ;;
    linux/arm64) echo qemu-aarch64 ;;
    *) check_platform "$1" ;;
    esac
}

platform_tag_suffix() {
    [ -z "$1" ] || check_platform "$1" || return
    if [ -z "$1" ] || [ "$1" = "$(engine_platform)" ]; then
        echo ""
    else
        echo "-$(platform_arch "$1")"
    fi
}
