#!/usr/bin/env bash
# dbtool as a Windows program on Linux: cross-builds dbtool.exe for x86_64-pc-windows-gnu
# (Debian's MinGW-w64 as linker) and prepares a private Wine prefix to run it in, then prints
# what tests/portability's Windows test needs:
#
#   DBTOOL_WINDOWS_EXE=/…/target/x86_64-pc-windows-gnu/debug/dbtool.exe
#   WINEPREFIX=/…/target/wine
#
#   eval "$(scripts/windows-dbtool.sh)"; /usr/lib/wine/wine64 "$DBTOOL_WINDOWS_EXE" --version
#
# Installs what is missing: gcc-mingw-w64-x86-64, wine and wine64 (apt-get), the Rust
# target (rustup). The machine's own Wine prefix (~/.wine) is never touched.
#
# Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, whose ProcessPrng Rust's standard
# library calls on Windows (Rust 1.78 and later): the program would not start. The prefix
# gets a small stand-in DLL, built here with MinGW, whose ProcessPrng asks advapi32's
# RtlGenRandom (SystemFunction036) for the bytes. Windows itself has the real DLL.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { echo "windows-dbtool: $*" >&2; }
target=x86_64-pc-windows-gnu
linker=x86_64-w64-mingw32-gcc
wine=/usr/lib/wine/wine64

packages=()
command -v "$linker" >/dev/null || packages+=(gcc-mingw-w64-x86-64)
[ -x "$wine" ] || packages+=(wine wine64)
if [ ${#packages[@]} -gt 0 ]; then
    log "installing ${packages[*]}"
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
fi
command -v rustup >/dev/null || {
    echo "error: rustup is needed to add the $target target (https://rustup.rs)" >&2
    exit 1
}
rustup target list --installed | grep -qx "$target" || {
    log "rustup target add $target"
    rustup target add "$target" >&2
}

log "cargo build --target $target -p dbtool"
started=$SECONDS
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$linker \
    cargo build --locked --target "$target" -p dbtool --bin dbtool >&2
log "compiled in $((SECONDS - started)) s"
exe=${CARGO_TARGET_DIR:-$root/target}/$target/debug/dbtool.exe
case $exe in /*) ;; *) exe=$root/$exe ;; esac

export WINEPREFIX=$root/target/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -f "$dll" ]; then
    log "creating the Wine prefix $WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    "$wine" wineboot --init >/dev/null 2>&1 || true
    [ -d "$WINEPREFIX/drive_c/windows/system32" ] || {
        echo "error: wineboot did not create $WINEPREFIX" >&2
        exit 1
    }
    shim=$(mktemp -d)
    trap 'rm -rf "$shim"' EXIT
    cat >"$shim/bcryptprimitives.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
EOF
    "$linker" -O2 -shared -o "$dll" "$shim/bcryptprimitives.c" -ladvapi32
fi
"$wine" "$exe" --version >/dev/null || {
    echo "error: $exe does not run under $wine (WINEPREFIX=$WINEPREFIX)" >&2
    exit 1
}
echo "DBTOOL_WINDOWS_EXE=$exe"
echo "WINEPREFIX=$WINEPREFIX"
