#!/usr/bin/env bash
# A real single-node Kubernetes on this Linux machine, without a registry or the internet:
# Kubernetes built from Debian's own source package (scripts/kube/build.sh, cached), etcd,
# the CNI plugins and dnsmasq from Debian, a private dockerd as the node's container runtime.
# Everything runs inside a network namespace of its own, and the node's daemons (dockerd,
# kubelet, kube-proxy) in a private mount namespace too: node ports, cluster IPs, iptables
# rules, container mounts and the node's /run and /var/log never reach the host. The host's
# network, kernel settings and Docker engine are left as they were. `stop` stops every
# process by its pid and removes the namespaces, cgroups and mounts, also after a failed
# start. See docs/kubernetes.md ("A real cluster on your Linux machine").
#
#   scripts/kube/cluster.sh prepare             install the Debian packages it needs and
#                                               build (or find cached) the binaries
#   scripts/kube/cluster.sh start [--name N] [--state DIR]   start; prints the env file's path
#   scripts/kube/cluster.sh stop  [--name N] [--state DIR] [--purge]
#                                               stop everything; --purge also deletes DIR
#   scripts/kube/cluster.sh exec  [--name N] [--state DIR] -- COMMAND...
#                                               run COMMAND inside the cluster's network
#                                               (KUBECONFIG set): kubectl, curl, k-start.sh
#   scripts/kube/cluster.sh load  [--name N] [--state DIR] IMAGE...
#                                               copy images from the host's Docker engine
#                                               into the node's (docker save | docker load)
#   scripts/kube/cluster.sh docker [--name N] [--state DIR] -- ARGS...
#                                               the docker CLI against the node's engine
#
# N defaults to `dcr`; DIR to /var/tmp/docker-cluster-rust-kube/N (etcd, certificates, the
# node's images and volumes, and every component's log under DIR/log). Needs root (it uses
# sudo otherwise), the host's Docker engine (for the images) and kubectl on PATH; installs
# the Debian packages it needs. Inside the cluster's network: the node is NODE_IP (printed),
# node ports answer on it and on 127.0.0.1, Services on their cluster IPs.
#
# On a machine where kubelet's kernel settings differ from the host's, or where root lacks
# CAP_SYS_RESOURCE, it takes measures that a plain host does not need, and says so on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kube_name=kube-cluster
# shellcheck source=scripts/kube/lib.sh
. "$here/lib.sh"

usage() {
    sed -n '/^#   scripts\/kube\/cluster.sh prepare/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
arguments=("$@")
command=$1
shift
name=${KUBE_CLUSTER_NAME:-dcr}
state=
purge=false
while [ $# -gt 0 ]; do
    case $1 in
    --name)
        [ $# -ge 2 ] || usage
        name=$2
        shift
        ;;
    --state)
        [ $# -ge 2 ] || usage
        state=$2
        shift
        ;;
    --purge) purge=true ;;
    --)
        shift
        break
        ;;
    -*) usage ;;
    *) break ;;
    esac
    shift
done
case $name in
*[!a-z0-9-]* | "" | ???????????*) kube_die "--name: 1 to 10 characters of a-z, 0-9 and -" ;;
esac
[ -n "$state" ] || state=/var/tmp/docker-cluster-rust-kube/$name
# An absolute path: pids, mounts and logs are matched against it.
if [ -d "$state" ]; then state=$(cd "$state" && pwd); fi

if [ "$(id -u)" != 0 ]; then
    exec sudo --preserve-env=KUBE_CLUSTER_NAME,KUBE_CACHE_DIR,XDG_CACHE_HOME,DEBIAN_MIRROR,KUBE_DEBIAN_SUITE \
        "$0" "${arguments[@]}"
fi

# The addresses inside the cluster's network namespace: nothing here is routed to or from
# the host, so they cannot collide with the host's networks.
node_ip=10.88.0.2
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/16
dns_ip=10.96.0.10
node_name=node-$name
netns=dcr-$name
cgroup_root=/dcr-$name

pidfile() { echo "$state/pids/$1"; }
# The pid in $1's pid file if that process still runs the program it was started as.
running_pid() {
    local file pid expected
    file=$(pidfile "$1")
    [ -f "$file" ] || return 1
    read -r pid expected <"$file" || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$expected" || return 1
    echo "$pid"
}
holder_pid() { running_pid holder; }

# Runs a command inside the cluster's network namespace with the host's file system view.
in_net() { nsenter --net="/run/netns/$netns" -- "$@"; }
# Runs a command inside the node: its network and its private mount namespace.
in_node() {
    local holder
    holder=$(holder_pid) || kube_die "the cluster $name is not running (no node namespace holder)"
    nsenter --target "$holder" --net --mount -- "$@"
}

# Starts a long-running component in the node, its output in DIR/log/NAME.log, and records
# its pid with a word of its command line (checked before it is ever signalled). nsenter and
# env exec the program, so the pid recorded is the program's own.
spawn() {
    local component=$1 marker=$2 holder
    shift 2
    holder=$(holder_pid) || kube_die "the node's namespace holder is gone"
    nsenter --target "$holder" --net --mount -- \
        env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
        >>"$state/log/$component.log" 2>&1 </dev/null &
    echo "$! $marker" >"$(pidfile "$component")"
}

# Whether process $1 has left the host's mount namespace.
own_mount_namespace() {
    [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

log_tail() {
    local component=$1
    [ -f "$state/log/$component.log" ] || return 0
    echo "--- last lines of $state/log/$component.log:" >&2
    tail -n 15 "$state/log/$component.log" >&2
}

# Polls CHECK (a command) every half second for up to SECONDS; on timeout prints COMPONENT's
# log and fails.
wait_for() {
    local what=$1 seconds=$2 component=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$component" ] && ! running_pid "$component" >/dev/null; then
            log_tail "$component"
            kube_die "$component exited while waiting for $what"
        fi
        if [ $SECONDS -ge $deadline ]; then
            [ -z "$component" ] || log_tail "$component"
            kube_die "gave up after ${seconds}s waiting for $what"
        fi
        sleep 0.5
    done
}

kubectl_admin() { in_net env KUBECONFIG="$state/admin.kubeconfig" kubectl "$@"; }

# ---- stop ------------------------------------------------------------------------------
stop_pid() {
    local component=$1 grace=$2 pid
    pid=$(running_pid "$component") || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if [ -d "/proc/$pid" ]; then
        kill -KILL "$pid" 2>/dev/null || true
        while [ -d "/proc/$pid" ]; do sleep 0.1; done
    fi
}

# Every process in the cgroups below the cluster's cgroup root (the Pods' containers),
# then the cgroups themselves, deepest first.
clean_cgroups() {
    local hierarchy dir pid round
    for round in 1 2 3 4 5 6 7 8 9 10; do
        local left=false
        for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
            dir=${hierarchy%/}$cgroup_root
            [ -d "$dir" ] || continue
            while read -r pid; do
                [ -n "$pid" ] || continue
                kill -KILL "$pid" 2>/dev/null || true
                left=true
            done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
            find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
            [ ! -d "$dir" ] || left=true
        done
        [ "$left" = true ] || return 0
        [ "$round" -lt 10 ] || break
        sleep 0.5
    done
    kube_log "warning: cgroups left under $cgroup_root"
}

stop_cluster() {
    [ -f "$state/cluster.env" ] || [ -e "/run/netns/$netns" ] || return 0
    # The kubelet first, so it restarts nothing; then the Pods' containers through the
    # node's engine, then the engine, the node's other daemons and the control plane.
    stop_pid kubelet 10
    stop_pid kube-proxy 5
    if running_pid dockerd >/dev/null && [ -S "$state/docker.sock" ]; then
        local ids
        ids=$(timeout 20 docker -H "unix://$state/docker.sock" ps -aq 2>/dev/null || true)
        if [ -n "$ids" ]; then
            # shellcheck disable=SC2086 # one id per word
            timeout 60 docker -H "unix://$state/docker.sock" rm -f $ids >/dev/null 2>&1 || true
        fi
    fi
    stop_pid dockerd 30
    local component
    for component in cluster-dns dnsmasq kube-scheduler kube-controller-manager kube-apiserver etcd holder; do
        stop_pid "$component" 10
    done
    # Anything left in the network namespace (containerd, its shims) and in the Pods'
    # cgroups, by pid; then the namespace itself, with every interface in it.
    if [ -e "/run/netns/$netns" ]; then
        local pid round
        for round in 1 2 3 4 5 6 7 8 9 10; do
            local pids
            pids=$(ip netns pids "$netns" 2>/dev/null || true)
            [ -n "$pids" ] || break
            for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
            sleep 0.3
        done
        [ -z "$(ip netns pids "$netns" 2>/dev/null)" ] || kube_log "warning: processes left in $netns"
    fi
    clean_cgroups
    if [ -e "/run/netns/$netns" ]; then
        ip netns delete "$netns" || kube_log "warning: could not delete network namespace $netns"
    fi
    # /run/netns as it was, once no namespace is left in it.
    if [ -f "$state/made-run-netns" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
        if grep -qx mount "$state/made-run-netns" && mountpoint -q /run/netns; then
            umount /run/netns || kube_log "warning: could not unmount /run/netns"
        fi
        if grep -qx dir "$state/made-run-netns"; then rmdir /run/netns 2>/dev/null || true; fi
        rm -f "$state/made-run-netns"
    fi
    # Nothing of the node's is mounted on the host (its mounts lived in its own mount
    # namespace, gone with its last process); this catches anything that was.
    local mounts
    mounts=$(awk -v s="$state" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    if [ -n "$mounts" ]; then
        kube_log "unmounting leftovers: $mounts"
        echo "$mounts" | xargs -r -n1 umount -l
    fi
    rm -f "$state/pids/"* "$state/cluster.env" 2>/dev/null || true
}

# ---- start -----------------------------------------------------------------------------
write_certificates() {
    local pki=$state/pki
    mkdir -p "$pki"
    (
        cd "$pki"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
            -subj "/CN=docker-cluster-rust-$name-ca" 2>/dev/null
        cat >apiserver.ext <<EOF
subjectAltName = IP:$node_ip, IP:10.96.0.1, IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage = serverAuth
EOF
        openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
            -subj "/CN=kube-apiserver" 2>/dev/null
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out apiserver.crt -days 30 -extfile apiserver.ext 2>/dev/null
        # The API server's client certificate for the kubelet (logs, exec, port-forward).
        echo "extendedKeyUsage = clientAuth" >client.ext
        openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr \
            -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
        openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out kubelet-client.crt -days 30 -extfile client.ext 2>/dev/null
        # Service-account tokens are signed with this pair.
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
        chmod 644 ca.crt
        local user
        for user in admin kubelet kube-proxy kube-controller-manager kube-scheduler; do
            od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$user.token"
        done
        {
            echo "$(cat admin.token),admin,admin,system:masters"
            echo "$(cat kubelet.token),system:node:$node_name,system:node:$node_name,system:nodes"
            echo "$(cat kube-proxy.token),system:kube-proxy,system:kube-proxy"
            echo "$(cat kube-controller-manager.token),system:kube-controller-manager,system:kube-controller-manager"
            echo "$(cat kube-scheduler.token),system:kube-scheduler,system:kube-scheduler"
        } >tokens.csv
    )
    local user
    for user in admin kubelet kube-proxy kube-controller-manager kube-scheduler; do
        cat >"$state/$user.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $name
    cluster:
      server: https://$node_ip:6443
      certificate-authority: $pki/ca.crt
users:
  - name: $user
    user:
      token: $(cat "$pki/$user.token")
contexts:
  - name: $name
    context:
      cluster: $name
      user: $user
current-context: $name
EOF
        chmod 600 "$state/$user.kubeconfig"
    done
    echo "https://$node_ip:6443" >"$state/server"
}

# kubelet's kernel settings (pkg/kubelet/cm: setupKernelTunables in 1.20) and the values it
# insists on.
kubelet_sysctls="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"

# The node's own file system view, inside its mount namespace: a fresh /run (its docker
# socket, containerd's state, iptables lock), its own /var/log (/var/log/pods,
# /var/log/containers), /etc/docker and /etc/resolv.conf, mount propagation for the
# kubelet, and where needed the kernel settings shown to the kubelet.
prepare_node_mounts() {
    mkdir -p "$state/node/run" "$state/node/log" "$state/node/etc-docker" "$state/sysctl"
    # The node resolves names with the cluster's DNS only: nothing it looks up leaves.
    echo "nameserver $node_ip" >"$state/resolv.conf"
    local script="mount -t tmpfs -o mode=755 node-run /run && mount --bind '$state/node/log' /var/log"
    script+=" && mount --bind '$state/resolv.conf' /etc/resolv.conf"
    if [ -d /etc/docker ]; then
        script+=" && mount --bind '$state/node/etc-docker' /etc/docker"
    fi
    local shielded=() pair path want have
    for pair in $kubelet_sysctls; do
        path=${pair%=*}
        want=${pair#*=}
        have=$(cat "/proc/sys/$path")
        [ "$have" != "$want" ] || continue
        echo "$want" >"$state/sysctl/${path//\//.}"
        script+=" && mount --bind '$state/sysctl/${path//\//.}' '/proc/sys/$path'"
        shielded+=("$(echo "$path" | tr / .)=$want (host: $have)")
    done
    script+=" && mount --make-rshared /"
    in_node sh -c "$script"
    if [ ${#shielded[@]} -gt 0 ]; then
        kube_log "MEASURE: kubelet sets kernel settings that differ from this host's: ${shielded[*]}."
        kube_log "  It sees files holding its values in the node's own mount namespace instead; the host's settings are not changed."
    fi
}

# Whether root here may lower a process's oom_score_adj (CAP_SYS_RESOURCE).
can_lower_oom_score() {
    sh -c 'echo -998 >/proc/self/oom_score_adj' 2>/dev/null
}

start_node_engine() {
    local runtime_config=""
    if ! can_lower_oom_score; then
        kube_log "MEASURE: root on this machine cannot set a negative oom_score_adj (no CAP_SYS_RESOURCE), which the"
        kube_log "  kubelet asks for every Pod's sandbox container: the node's engine runs containers through"
        kube_log "  scripts/kube/runc-clamp-oom.sh, which raises negative values to 0 before calling runc."
        runtime_config='"runtimes": {"runc-clamp-oom": {"path": "'"$here"'/runc-clamp-oom.sh"}}, "default-runtime": "runc-clamp-oom",'
        echo yes >"$state/measure-oom"
    fi
    cat >"$state/daemon.json" <<EOF
{
  $runtime_config
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"}
}
EOF
    spawn dockerd dockerd dockerd \
        --config-file "$state/daemon.json" \
        --data-root "$state/docker" \
        --exec-root /run/docker \
        --pidfile /run/docker.pid \
        -H "unix://$state/docker.sock" -H unix:///run/docker.sock \
        --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
        --exec-opt native.cgroupdriver=cgroupfs \
        --storage-driver=overlay2
    wait_for "the node's Docker engine" 60 dockerd docker -H "unix://$state/docker.sock" info
}

# A start that fails stops what it had started.
on_start_exit() {
    local status=$?
    [ "$status" -ne 0 ] || return 0
    kube_log "start failed; stopping what was started (logs in $state/log)"
    stop_cluster
}

# What a start needs on the machine: the Debian packages (installed when missing) and the
# Kubernetes binaries (built once, then cached). Prints the cache folder.
prepare() {
    command -v kubectl >/dev/null || kube_die "kubectl is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/)"
    [ -x /usr/sbin/dockerd ] || command -v dockerd >/dev/null ||
        kube_die "dockerd is missing: the node runs a private Docker engine (apt-get install docker.io)"
    kube_need_packages etcd=etcd-server /usr/lib/cni/bridge=containernetworking-plugins \
        dnsmasq=dnsmasq-base socat=socat conntrack=conntrack jq=jq curl=curl openssl=openssl \
        nsenter=util-linux ip=iproute2 iptables=iptables
    "$here/build.sh"
}

start_cluster() {
    local cache
    cache=$(prepare)
    local bin=$cache/bin version
    version=$(cat "$cache/version")

    if [ -e "/run/netns/$netns" ] || [ -f "$state/cluster.env" ]; then
        kube_die "a cluster named $name exists (network namespace $netns or $state): $0 stop --name $name${state:+ --state $state} first"
    fi
    [ ${#state} -le 80 ] || kube_die "--state path too long for the node's sockets (at most 80 characters): $state"
    # A stopped cluster's folder is cleared (each start is a new cluster); any other
    # folder must be empty or new.
    if [ -f "$state/.docker-cluster-rust-kube" ]; then
        find "$state" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    elif [ -d "$state" ] && [ -n "$(ls -A "$state")" ]; then
        kube_die "--state $state is not empty and is not a stopped cluster's folder"
    fi
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    touch "$state/.docker-cluster-rust-kube"
    mkdir -p "$state/pids" "$state/log" "$state/dns" "$state/etcd" "$state/cni/net.d" \
        "$state/cni/cache" "$state/cni/ipam" "$state/kubelet" "$state/volumes"
    chmod 755 "$state"
    cat >"$state/cluster.env" <<EOF
KUBE_CLUSTER_NAME=$name
KUBE_VERSION=$version
KUBE_NETNS=$netns
KUBE_NODE_IP=$node_ip
KUBE_NODE_NAME=$node_name
KUBE_CGROUP_ROOT=$cgroup_root
KUBECONFIG=$state/admin.kubeconfig
DOCKER_HOST=unix://$state/docker.sock
EOF
    trap on_start_exit EXIT

    local started=$SECONDS
    # The network: a namespace with loopback, one veth pair whose first end holds the
    # node's address, and a default route into it so components that look for one find it.
    # `ip netns add` mounts /run/netns the first time; stop undoes that if it was us.
    [ -d /run/netns ] || echo dir >"$state/made-run-netns"
    mountpoint -q /run/netns 2>/dev/null || echo mount >>"$state/made-run-netns"
    ip netns add "$netns"
    in_net ip link set lo up
    in_net ip link add node0 type veth peer name node0-peer
    in_net ip addr add "$node_ip/24" dev node0
    in_net ip link set node0 up
    in_net ip link set node0-peer up
    in_net ip route add default dev node0
    # The node's mount namespace, held open by one sleeping process.
    nsenter --net="/run/netns/$netns" -- unshare --mount --propagation private sleep infinity \
        </dev/null >/dev/null 2>&1 &
    local holder=$!
    echo "$holder sleep" >"$(pidfile holder)"
    wait_for "the node's namespaces" 10 holder own_mount_namespace "$holder"
    prepare_node_mounts
    # The Pods' cgroups, under one root of the cluster's own.
    local hierarchy
    for hierarchy in /sys/fs/cgroup/*/; do
        [ -f "${hierarchy}cgroup.procs" ] || continue
        mkdir -p "${hierarchy%/}$cgroup_root"
        if [ -f "${hierarchy}cpuset.cpus" ]; then
            cat "${hierarchy}cpuset.cpus" >"${hierarchy%/}$cgroup_root/cpuset.cpus"
            cat "${hierarchy}cpuset.mems" >"${hierarchy%/}$cgroup_root/cpuset.mems"
        fi
    done
    write_certificates

    # Control plane.
    # etcd 3.4 runs on other architectures than its first-class ones only when told it
    # may (on those it ignores this).
    spawn etcd etcd env ETCD_UNSUPPORTED_ARCH="$(dpkg --print-architecture)" \
        etcd --name "$node_name" --data-dir "$state/etcd" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster "$node_name=http://127.0.0.1:2380" --log-level warn
    wait_for "etcd" 30 etcd in_net curl -fsS http://127.0.0.1:2379/health
    local pki=$state/pki
    spawn kube-apiserver kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers=http://127.0.0.1:2379 \
        --advertise-address="$node_ip" --bind-address=0.0.0.0 --secure-port=6443 \
        --service-cluster-ip-range="$service_cidr" --service-node-port-range=30000-32767 \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" --token-auth-file="$pki/tokens.csv" \
        --authorization-mode=AlwaysAllow --allow-privileged=true \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --api-audiences=https://kubernetes.default.svc.cluster.local \
        --kubelet-client-certificate="$pki/kubelet-client.crt" --kubelet-client-key="$pki/kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP \
        --feature-gates=TTLAfterFinished=true --profiling=false
    wait_for "the API server" 90 kube-apiserver kubectl_admin get --raw /readyz
    spawn kube-controller-manager kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig="$state/kube-controller-manager.kubeconfig" \
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
        --use-service-account-credentials=false --leader-elect=false \
        --bind-address=127.0.0.1 --port=0 --feature-gates=TTLAfterFinished=true --profiling=false
    spawn kube-scheduler kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig="$state/kube-scheduler.kubeconfig" --leader-elect=false \
        --bind-address=127.0.0.1 --port=0 --profiling=false

    # Cluster DNS: dnsmasq on the node's address, fed from the API server, behind the
    # kube-dns Service at the address the kubelet gives every Pod. Every other name is
    # answered "no such name" at once: nothing is forwarded anywhere.
    : >"$state/dns/hosts"
    spawn dnsmasq dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts \
        --hostsdir="$state/dns" --listen-address="$node_ip" --bind-interfaces --port=53 \
        --local=/#/ --no-negcache --user=root --pid-file= --log-facility=-
    spawn cluster-dns cluster-dns.sh sh "$here/cluster-dns.sh" "$state"
    kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  clusterIP: $dns_ip
  ports:
    - {name: dns, port: 53, protocol: UDP, targetPort: 53}
    - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: kube-dns
  namespace: kube-system
subsets:
  - addresses: [{ip: $node_ip}]
    ports:
      - {name: dns, port: 53, protocol: UDP}
      - {name: dns-tcp, port: 53, protocol: TCP}
EOF

    # The node: its engine with the pause image, the network plugin, kube-proxy, kubelet.
    start_node_engine
    local pause_image pause_dir
    pause_image=docker-cluster-rust/pause:$(cat "$cache/pause-version")
    pause_dir=$(mktemp -d "$state/pause.XXXXXX")
    cp "$bin/pause" "$pause_dir/pause"
    tar -C "$pause_dir" -c pause | docker -H "unix://$state/docker.sock" import \
        --change 'ENTRYPOINT ["/pause"]' - "$pause_image" >/dev/null
    rm -rf "$pause_dir"
    cat >"$state/cni/net.d/10-dcr.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "dcr",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$state/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    spawn kube-proxy kube-proxy "$bin/kube-proxy" \
        --kubeconfig="$state/kube-proxy.kubeconfig" --hostname-override="$node_name" \
        --proxy-mode=iptables --cluster-cidr="$pod_cidr" --bind-address="$node_ip" \
        --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 \
        --conntrack-max-per-core=0 --conntrack-min=0 \
        --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0
    local node_started=$SECONDS
    # DevicePlugins=false: the device manager's folder is fixed (/var/lib/kubelet/
    # device-plugins, whatever --root-dir says), and the host's /var/lib stays untouched.
    # A node status check every 4 s instead of 10 s: the node turns Ready sooner.
    spawn kubelet kubelet "$bin/kubelet" \
        --kubeconfig="$state/kubelet.kubeconfig" --hostname-override="$node_name" \
        --node-ip="$node_ip" --address="$node_ip" --port=10250 --read-only-port=0 \
        --healthz-bind-address=127.0.0.1 --anonymous-auth=false --client-ca-file="$pki/ca.crt" \
        --authorization-mode=AlwaysAllow \
        --container-runtime=docker --docker-endpoint="unix://$state/docker.sock" \
        --experimental-dockershim-root-directory="$state/dockershim" \
        --pod-infra-container-image="$pause_image" \
        --network-plugin=cni --cni-conf-dir="$state/cni/net.d" --cni-bin-dir=/usr/lib/cni \
        --cni-cache-dir="$state/cni/cache" \
        --root-dir="$state/kubelet" --cert-dir="$state/kubelet/pki" \
        --volume-plugin-dir="$state/kubelet/volume-plugins" \
        --seccomp-profile-root="$state/kubelet/seccomp" \
        --cluster-dns="$dns_ip" --cluster-domain=cluster.local --resolv-conf="$state/resolv.conf" \
        --cgroup-driver=cgroupfs --cgroup-root="$cgroup_root" --cgroups-per-qos=true \
        --fail-swap-on=false --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
        --eviction-hard='memory.available<100Mi,nodefs.available<1%,imagefs.available<1%' \
        --serialize-image-pulls=false --node-status-update-frequency=4s \
        --feature-gates=TTLAfterFinished=true,DevicePlugins=false
    wait_for "node $node_name to register" 60 kubelet kubectl_admin get node "$node_name"
    wait_for "node $node_name to be Ready" 120 kubelet kubectl_admin wait --for=condition=Ready \
        "node/$node_name" --timeout=2s
    local ready=$((SECONDS - node_started))

    # Storage: hostPath volumes for the StatefulSets' claims (no provisioner here), and the
    # default ServiceAccount, without which no Pod of the default namespace is admitted.
    local i volumes=""
    for i in 0 1 2 3 4 5 6 7; do
        mkdir -p "$state/volumes/pv-$i"
        chmod 1777 "$state/volumes/pv-$i"
        volumes+="---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: node-volume-$i
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $state/volumes/pv-$i, type: Directory}
"
    done
    kubectl_admin apply -f - >/dev/null <<<"$volumes"
    wait_for "the default ServiceAccount" 60 kube-controller-manager \
        kubectl_admin get serviceaccount default -n default

    trap - EXIT
    kube_log "Kubernetes $version is up: node $node_name Ready ${ready}s after the kubelet started, $((SECONDS - started))s in all"
    kube_log "  inside its network: scripts/kube/cluster.sh exec --name $name -- kubectl get nodes"
    echo "$state/cluster.env"
}

load_images() {
    [ $# -gt 0 ] || usage
    running_pid dockerd >/dev/null || kube_die "the cluster $name is not running"
    local started=$SECONDS
    docker save "$@" | docker -H "unix://$state/docker.sock" load -q >/dev/null
    kube_log "loaded $# images into node-$name's engine in $((SECONDS - started)) s"
}

case $command in
prepare) prepare >/dev/null ;;
start) start_cluster ;;
stop)
    stop_cluster
    if [ "$purge" = true ] && [ -d "$state" ]; then rm -rf "$state"; fi
    ;;
exec)
    [ $# -gt 0 ] || usage
    [ -e "/run/netns/$netns" ] || kube_die "the cluster $name is not running"
    exec nsenter --net="/run/netns/$netns" -- env KUBECONFIG="$state/admin.kubeconfig" "$@"
    ;;
load) load_images "$@" ;;
docker) exec docker -H "unix://$state/docker.sock" "$@" ;;
*) usage ;;
esac
