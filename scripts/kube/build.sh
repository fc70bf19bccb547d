#!/usr/bin/env bash
# Builds Kubernetes' server binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet, kube-proxy) and the pause program from Debian's own `kubernetes` source package,
# with Debian's Go, without any container registry or Go module proxy: the source package
# carries the whole tree with its vendor/ folder. The result is cached outside the
# repository, one folder per Debian source version, so only the first run builds (about 10
# minutes on 2 cores); later runs print the cached folder at once.
#
#   scripts/kube/build.sh          prints the folder holding bin/ (the binaries) and version
#
# Environment:
#   KUBE_CACHE_DIR        the cache (default ${XDG_CACHE_HOME:-~/.cache}/docker-cluster-rust/kubernetes)
#   KUBE_DEBIAN_SUITE     the Debian release whose source package is built (default bookworm)
#   DEBIAN_MIRROR         default http://deb.debian.org/debian
#
# The Debian packages it needs (golang-go, dpkg-dev, rsync, gcc, make) are installed with apt
# when missing. The system's apt sources and lists are left alone: the source package is
# looked up through a private apt configuration in a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kube_name=kube-build
# shellcheck source=scripts/kube/lib.sh
. "$here/lib.sh"

cache=$(kube_cache_root)
suite=${KUBE_DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
binaries="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"

reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
kube_need_packages go=golang-go dpkg-source=dpkg-dev rsync=rsync gcc=gcc make=make \
    /usr/share/keyrings/debian-archive-keyring.gpg=debian-archive-keyring \
    "$reflect2/unsafe_map.go=golang-github-modern-go-reflect2-dev"
# How the binaries are built: bumped when this script changes what it builds, so a cached
# build of the same Debian version made the old way is rebuilt.
recipe=2

mkdir -p "$cache"
# One build at a time per cache (two test runs starting together share the result).
exec 9>"$cache/.lock"
flock 9

# The source package's version, through a private apt configuration: a deb-src line for
# the suite, its own lists and cache, nothing of the system's touched.
apt_dir=$(mktemp -d)
work=
cleanup() {
    rm -rf "$apt_dir"
    [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
    >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Sandbox::User=$(id -un)")

version=
if apt-get "${apt_opts[@]}" update -qq >"$apt_dir/update.log" 2>&1; then
    version=$(apt-cache "${apt_opts[@]}" showsrc kubernetes 2>/dev/null |
        sed -n 's/^Version: //p' | sort -V | tail -n 1)
fi
if [ -z "$version" ]; then
    # No mirror reachable: the newest version already built will do.
    version=$(find "$cache" -mindepth 2 -maxdepth 2 -name complete -printf '%h\n' 2>/dev/null |
        xargs -r -n1 basename | sort -V | tail -n 1)
    [ -n "$version" ] || kube_die "cannot look up Debian's kubernetes source package ($suite at $mirror) and nothing is cached in $cache: $(tail -n 3 "$apt_dir/update.log")"
    kube_log "Debian's mirror is not reachable; using the cached build of $version"
fi

out=$cache/$version
if [ -e "$out/complete" ] && [ "$(cat "$out/recipe" 2>/dev/null)" = "$recipe" ]; then
    kube_log "cached: Kubernetes $(cat "$out/version") from Debian source $version in $out"
    echo "$out"
    exit 0
fi

# Upstream version: 1.20.5+really1.20.2-1 is Kubernetes 1.20.2.
upstream=${version%-*}
upstream=${upstream##*really}
upstream=${upstream#*:}
major=${upstream%%.*}
minor=${upstream#*.}
minor=${minor%%.*}
kube_log "building Kubernetes $upstream from Debian's source package $version (about 10 minutes on 2 cores)"
started=$SECONDS

rm -rf "$out.partial"
work=$(mktemp -d "$cache/build.XXXXXX")
(cd "$work" && apt-get "${apt_opts[@]}" source -qq "kubernetes=$version" >"$work/source.log" 2>&1) ||
    kube_die "apt-get source kubernetes=$version failed: $(tail -n 5 "$work/source.log")"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
[ -n "$tree" ] || kube_die "apt-get source left no kubernetes-* folder in $work"

# GOPATH mode, offline: the tree as $GOPATH/src/k8s.io/kubernetes, everything from vendor/.
# (Module mode fails: the vendored go.mod asks for updates that need the network.)
mkdir -p "$work/gopath/src/k8s.io"
mv "$tree" "$work/gopath/src/k8s.io/kubernetes"
src=$work/gopath/src/k8s.io/kubernetes
# The vendored github.com/modern-go/reflect2 1.0.1 predates Go 1.18's map iterators: built
# with Debian's Go 1.19, kube-apiserver crashes ("unexpected fault address" in
# mapiterinit) when it encodes a map, as serving its OpenAPI document does. Debian's
# package of reflect2 1.0.2, the release that fixed it, replaces it (the same API).
rm -f "$src/vendor/github.com/modern-go/reflect2/"*.go
find "$reflect2" -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec cp {} "$src/vendor/github.com/modern-go/reflect2/" \;
export GOPATH=$work/gopath GO111MODULE=off GOPROXY=off GOFLAGS='' GOCACHE=$work/gocache
export GOTOOLCHAIN=local GOTELEMETRY=off

# Generated code first (deepcopy, defaults, conversions, OpenAPI definitions): without it
# kube-apiserver fails with `undefined: openapi.GetOpenAPIDefinitions`.
kube_log "make generated_files"
(cd "$src" && make generated_files >"$work/generated.log" 2>&1) ||
    kube_die "make generated_files failed: $(tail -n 20 "$work/generated.log")"
kube_log "generated files in $((SECONDS - started)) s"

build_date=$(date -u -d "@$(dpkg-parsechangelog -l "$src/debian/changelog" -STimestamp)" +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for package in k8s.io/kubernetes/vendor/k8s.io/component-base/version \
    k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
    ldflags+=" -X $package.gitVersion=v$upstream -X $package.gitMajor=$major"
    ldflags+=" -X $package.gitMinor=$minor -X $package.gitTreeState=clean"
    ldflags+=" -X $package.buildDate=$build_date"
done
packages=()
for binary in $binaries; do packages+=("k8s.io/kubernetes/cmd/$binary"); done
mkdir -p "$out.partial/bin"
kube_log "go build ${binaries}"
(cd "$src" && go build -o "$out.partial/bin/" -ldflags "$ldflags" "${packages[@]}" >"$work/build.log" 2>&1) ||
    kube_die "go build failed: $(tail -n 20 "$work/build.log")"

# The pod sandbox ("pause") container: one static C program, imported as an image by
# scripts/kube/cluster.sh under a local name.
pause_version=$(sed -n 's/^TAG[ ?:]*= *//p' "$src/build/pause/Makefile" | head -n 1)
[ -n "$pause_version" ] || kube_die "no TAG in $src/build/pause/Makefile"
gcc -Os -Wall -Werror -static -DVERSION="v$pause_version" -o "$out.partial/bin/pause" \
    "$src/build/pause/linux/pause.c"
echo "$pause_version" >"$out.partial/pause-version"
echo "$upstream" >"$out.partial/version"
echo "$recipe" >"$out.partial/recipe"
touch "$out.partial/complete"
rm -rf "$out"
mv "$out.partial" "$out"
kube_log "built Kubernetes $upstream in $((SECONDS - started)) s: $out ($(du -sh "$out" | cut -f1))"
echo "$out"
