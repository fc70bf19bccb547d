#!/bin/sh
# A runc for machines whose root lacks CAP_SYS_RESOURCE (some sandboxes and CI
# containers): there runc cannot give a process a negative oom_score_adj, and every Pod
# fails to start, because the kubelet asks -998 for each Pod's sandbox ("pause") container
# ("can't get final child's PID from pipe: EOF"). scripts/kube/cluster.sh registers this
# script as the node's default Docker runtime only on such a machine, and says so. It raises
# a negative process.oomScoreAdj in the bundle's config.json to 0, then runs the real runc
# with the same arguments. A normal Linux host never uses it.
set -eu

bundle=
command=
previous=
for argument in "$@"; do
    case $previous in
    --bundle | -b) bundle=$argument ;;
    esac
    case $argument in
    --bundle=*) bundle=${argument#--bundle=} ;;
    create | run) [ -n "$command" ] || command=$argument ;;
    esac
    previous=$argument
done

if [ -n "$command" ] && [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
    config=$bundle/config.json
    if [ "$(jq '(.process.oomScoreAdj // 0) < 0' "$config")" = true ]; then
        jq '.process.oomScoreAdj = 0' "$config" >"$config.clamped"
        mv "$config.clamped" "$config"
    fi
fi
exec runc "$@"
