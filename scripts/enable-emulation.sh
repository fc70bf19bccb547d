#!/usr/bin/env bash
# Lets this Linux machine run another platform's programs: in containers of images built for
# it, and in the chroot where mmdebstrap installs that platform's packages. It registers
# qemu-user-static with the kernel's binfmt_misc, with the "fix binary" flag, so the kernel
# opens the emulator itself and containers need no copy of it. Docker Desktop (macOS,
# Windows) has this built in. Debian or Ubuntu, as root or with sudo.
#
#   scripts/enable-emulation.sh linux/arm64
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/platforms.sh
. scripts/platforms.sh

if [ $# -ne 1 ]; then
    echo "usage: $0 PLATFORM (one of: $supported_platforms)" >&2
    exit 2
fi
platform=$1
check_platform "$platform"
arch=$(platform_arch "$platform")
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    exit 0 # this machine's own platform
fi

log() { echo "enable-emulation: $*" >&2; }
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

need=()
[ -x "/usr/bin/$(platform_qemu "$platform")-static" ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v arch-test >/dev/null || need+=(arch-test)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
    "${sudo_cmd[@]}" mount -t binfmt_misc binfmt_misc "$binfmt" || {
        echo "error: cannot mount binfmt_misc on $binfmt: the machine cannot emulate $platform" >&2
        exit 1
    }
fi
entry=$binfmt/$(platform_qemu "$platform")
if [ ! -e "$entry" ]; then
    # The package registers its formats when binfmt_misc is mounted at install time only.
    "${sudo_cmd[@]}" update-binfmts --import "$(platform_qemu "$platform")"
fi
if [ "$(head -n 1 "$entry")" != enabled ]; then
    # Writing 1 enables an entry the kernel holds disabled; update-binfmts may think it on.
    echo 1 | "${sudo_cmd[@]}" tee "$entry" >/dev/null
fi

# Without F, the kernel looks the emulator up inside each container, where it is missing.
if ! grep -q '^flags:.*F' "$entry"; then
    echo "error: $entry is registered without the F (fix binary) flag: containers cannot use it" >&2
    exit 1
fi
if ! arch-test "$arch" >/dev/null; then
    echo "error: arch-test cannot run a $arch program even with $entry enabled" >&2
    exit 1
fi
log "$platform programs run here through $(sed -n 's/^interpreter //p' "$entry")"
