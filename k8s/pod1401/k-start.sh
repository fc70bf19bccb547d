#!/bin/sh
# Runs the hello Pod on the current kubectl context, waits until it is ready (instead of
# failing while the container starts) and forwards host port 1401 to it until Ctrl-C.
#
#   k8s/pod1401/k-start.sh            K_START_TIMEOUT=300s k8s/pod1401/k-start.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
pod=hello1401
timeout=${K_START_TIMEOUT:-120s}

kubectl apply -f "$here/pod.yaml"

echo "waiting up to $timeout for pod/$pod to be ready" >&2
if ! kubectl wait --for=condition=Ready "pod/$pod" --timeout="$timeout"; then
    kubectl get pod "$pod" -o wide >&2 || true
    echo "pod/$pod is not ready. If its status is ErrImagePull or ImagePullBackOff, the node" >&2
    echo "lacks the image: build docker-cluster-rust/hello:dev (and on kind, 'kind load" >&2
    echo "docker-image docker-cluster-rust/hello:dev'). 'kubectl describe pod $pod' says more." >&2
    exit 1
fi

echo "http://localhost:1401 now reaches pod/$pod (Ctrl-C stops forwarding;" >&2
echo "'kubectl delete pod $pod' removes the Pod)" >&2
exec kubectl port-forward "pod/$pod" 1401:1401
