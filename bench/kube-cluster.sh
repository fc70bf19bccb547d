#!/usr/bin/env bash
# Real-cluster benchmark (scripts/kube/cluster.sh: Kubernetes 1.20 built from Debian's
# source package, one node). Prints, for each run:
#   - start: `scripts/kube/cluster.sh start` with the binaries cached, until the node is
#     Ready (and the part of it from the kubelet's start to node Ready);
#   - images: copying the app's images from the host's engine into the node's;
#   - app: `kubectl apply -k k8s/app/offline` until both migration Jobs are Complete and
#     every Deployment and StatefulSet is Ready (fresh volumes: the databases initialise).
#     Target: under 60 s.
# then the median of each over the runs.
#
#   bench/kube-cluster.sh [RUNS]        RUNS defaults to 3
#
# Runs offline: the images come from scripts/build-base-images.sh and
# scripts/build-images.sh, run first (they keep what is up to date). Every cluster is
# stopped, also on failure. Needs root, as the cluster does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-3}
case $runs in
'' | *[!0-9]*)
    echo "usage: $0 [RUNS]" >&2
    exit 2
    ;;
esac

scripts/build-base-images.sh >/dev/null
scripts/build-images.sh >/dev/null
scripts/kube/cluster.sh prepare

work=$(mktemp -d)
name=bench
state=$work/state
cleanup() {
    scripts/kube/cluster.sh stop --name "$name" --state "$state" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
namespace=docker-cluster-rust
in_cluster() { scripts/kube/cluster.sh exec --name "$name" --state "$state" -- "$@"; }

# A clean copy of k8s/ as a fresh clone has it, with the dev overlay's secrets.
git ls-files -z --cached --others --exclude-standard -- k8s | (cd "$root" && xargs -0 cp --parents -t "$work")
sh "$work/k8s/app/dev/make-secrets.sh" 2>/dev/null
images=$(kubectl kustomize "$work/k8s/app/offline" | sed -n 's/^ *image: *//p' | sort -u)

# Every Job Complete and every Deployment and StatefulSet with all replicas Ready.
app_ready() {
    in_cluster kubectl get deployments,statefulsets,jobs -n "$namespace" -o json 2>/dev/null |
        jq -e '.items | length > 0 and all(
            if .kind == "Job" then any(.status.conditions[]?; .type == "Complete" and .status == "True")
            else (.status.readyReplicas // 0) == .spec.replicas
                and (.status.updatedReplicas // 0) == .spec.replicas end)' >/dev/null
}

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

starts=()
readies=()
loads=()
apps=()
for run in $(seq 1 "$runs"); do
    t0=$(now)
    scripts/kube/cluster.sh start --name "$name" --state "$state" >/dev/null 2>"$work/start.log" || {
        cat "$work/start.log" >&2
        exit 1
    }
    t1=$(now)
    kubelet_to_ready=$(sed -n 's/.*node [^ ]* Ready \([0-9]*\)s after the kubelet started.*/\1/p' "$work/start.log")
    # shellcheck disable=SC2086 # one image per word
    scripts/kube/cluster.sh load --name "$name" --state "$state" $images 2>/dev/null
    t2=$(now)
    in_cluster kubectl apply -k "$work/k8s/app/offline" >/dev/null
    deadline=$((SECONDS + 600))
    until app_ready; do
        [ $SECONDS -lt $deadline ] || {
            in_cluster kubectl get pods -n "$namespace" >&2
            echo "the app was not ready after 600 s" >&2
            exit 1
        }
        sleep 0.5
    done
    t3=$(now)
    scripts/kube/cluster.sh stop --name "$name" --state "$state" --purge >/dev/null 2>&1
    starts+=("$(seconds "$t0" "$t1")")
    readies+=("$kubelet_to_ready")
    loads+=("$(seconds "$t1" "$t2")")
    apps+=("$(seconds "$t2" "$t3")")
    echo "run $run: start to node Ready ${starts[$((run - 1))]} s (kubelet to node Ready ${kubelet_to_ready} s)," \
        "images ${loads[$((run - 1))]} s, apply -k k8s/app/offline to every workload Ready ${apps[$((run - 1))]} s"
done
echo "median of $runs: start to node Ready $(printf '%s\n' "${starts[@]}" | median) s," \
    "kubelet to node Ready $(printf '%s\n' "${readies[@]}" | median) s," \
    "images $(printf '%s\n' "${loads[@]}" | median) s," \
    "app to every workload Ready $(printf '%s\n' "${apps[@]}" | median) s (target: under 60 s)"
