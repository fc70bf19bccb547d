# shellcheck shell=bash
# Sourced by scripts/kube/build.sh and scripts/kube/cluster.sh (bash).
#
#   kube_log MESSAGE...          one line on stderr, prefixed with the calling script's name
#   kube_die MESSAGE...          the same, then exit 1
#   kube_need_packages CMD=PKG…  installs (apt) the Debian packages whose command or file is
#                                missing; CMD is a command name or an absolute path
#   kube_cache_root              where built Kubernetes binaries are kept between runs

kube_log() { echo "${kube_name:-kube}: $*" >&2; }
kube_die() {
    kube_log "error: $*"
    exit 1
}

kube_need_packages() {
    local pair command package missing=()
    for pair in "$@"; do
        command=${pair%%=*}
        package=${pair#*=}
        case $command in
        /*) [ -e "$command" ] && continue ;;
        *) command -v "$command" >/dev/null && continue ;;
        esac
        missing+=("$package")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    kube_log "installing ${missing[*]}"
    local sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    # etcd-server starts the host's own etcd where services start on install: the cluster
    # runs a private one.
    if printf '%s\n' "${missing[@]}" | grep -qx etcd-server; then
        "${sudo_cmd[@]}" systemctl stop etcd >/dev/null 2>&1 ||
            "${sudo_cmd[@]}" service etcd stop >/dev/null 2>&1 || true
    fi
}

kube_cache_root() {
    echo "${KUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/docker-cluster-rust/kubernetes}"
}
