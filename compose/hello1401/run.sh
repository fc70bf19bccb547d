#!/bin/sh
# Starts one container from the hello image, publishes its port 1401 on the host, and
# prints where to reach it. The container removes itself when stopped:
#   docker stop hello1401
#
# Environment: HELLO_IMAGE (default docker-cluster-rust/hello:dev), CONTAINER_NAME (default
# hello1401), HOST_PORT (default 1401).
set -eu
image=${HELLO_IMAGE:-docker-cluster-rust/hello:dev}
name=${CONTAINER_NAME:-hello1401}
host_port=${HOST_PORT:-1401}

# -d: in the background; --rm: removed when it stops; -p HOST:CONTAINER: publish the port.
docker run -d --rm --name "$name" -p "$host_port:1401" "$image" >/dev/null
echo "$name is running: curl http://localhost:$host_port/ (stop it with: docker stop $name)"
