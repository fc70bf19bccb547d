#!/usr/bin/env bash
# Requests per second of `hello` (release build) against Node.js's bare `http` hello-world
# server (server.js) and against nginx returning the same body (one worker, no access log:
# the practical ceiling of a request loop on this kernel), side by side with the same load
# tool (wrk) on loopback, plus hello's resident memory when idle and after the load. Prints
# figures; asserts nothing.
#
#   bench/hello-vs-node/run.sh
#   DURATION=10s ROUNDS=5 CONNECTIONS=64 bench/hello-vs-node/run.sh
#
# Two loads, each against both servers:
# - keep-alive: one request in flight per connection. On loopback most of the time per
#   request is the kernel's (about three quarters in `perf`), the same for both servers,
#   so this mostly measures the kernel.
# - pipelined: 16 requests sent at once per connection (pipeline.lua), the method of the
#   TechEmpower "plaintext" test; the server's own cost per request shows.
# With two or more cores, each server runs pinned to one core and wrk to another, so Node's
# single thread and hello's runtime get the same CPU.
#
# Targets: hello at least 0.9x nginx's requests/s (nginx is about 1.9x Node here, so 3x
# Node is beyond what the kernel allows); idle RSS under 10 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-32}
depth=${DEPTH:-16}
hello_port=${HELLO_PORT:-18401}
node_port=${NODE_PORT:-18402}
nginx_port=${NGINX_PORT:-18403}

packages=()
command -v wrk >/dev/null || packages+=(wrk)
[ -x /usr/sbin/nginx ] || packages+=(nginx-light)
if [ ${#packages[@]} -gt 0 ]; then
    echo "installing ${packages[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
    # The package starts its own nginx on port 80; this benchmark runs a private one.
    "${sudo_cmd[@]}" systemctl stop nginx >/dev/null 2>&1 || "${sudo_cmd[@]}" service nginx stop \
        >/dev/null 2>&1 || true
fi
command -v node >/dev/null || { echo "error: node is not installed" >&2; exit 1; }

cargo build --release --locked -p hello >&2
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
hello_bin="$target_dir/release/hello"

server_cpu=() load_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 1)
    load_cpu=(taskset -c 0)
fi

pids=()
nginx_dir=$(mktemp -d)
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$nginx_dir"
}
trap cleanup EXIT
# One worker process, no access log, the same body and content type as hello.
cat >"$nginx_dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $nginx_dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $nginx_dir/body;
    proxy_temp_path $nginx_dir/proxy;
    fastcgi_temp_path $nginx_dir/fastcgi;
    uwsgi_temp_path $nginx_dir/uwsgi;
    scgi_temp_path $nginx_dir/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        default_type "text/plain; charset=utf-8";
        location / { return 200 "hello world"; }
    }
}
EOF

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "error: nothing listens on port $1" >&2
    exit 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Requests per second reported by wrk after a short warm-up; extra arguments (a script
# and, after `--`, its arguments) follow the URL.
measure() {
    "${load_cpu[@]}" wrk -t1 -c"$connections" -d2s "$@" >/dev/null
    "${load_cpu[@]}" wrk -t1 -c"$connections" -d"$duration" "$@" \
        | awk '/^Requests\/sec:/ { print $2 }'
}
pipelined() { measure "$1" -s bench/hello-vs-node/pipeline.lua -- "$depth"; }

# Per-request logs off (RUST_LOG=warn), as Node logs nothing either.
PORT=$hello_port RUST_LOG=warn "${server_cpu[@]}" "$hello_bin" 2>/dev/null &
hello_pid=$!; pids+=("$hello_pid")
PORT=$node_port "${server_cpu[@]}" node bench/hello-vs-node/server.js &
node_pid=$!; pids+=("$node_pid")
"${server_cpu[@]}" /usr/sbin/nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" &
nginx_pid=$!; pids+=("$nginx_pid")
wait_port "$hello_port"
wait_port "$node_port"
wait_port "$nginx_port"
sleep 1
hello_idle_kb=$(rss_kb "$hello_pid")
node_idle_kb=$(rss_kb "$node_pid")

# The servers take turns, ROUNDS times, and the median of each is kept, so a burst of other
# work on the machine does not land on one server only.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
hello_ka_runs=() node_ka_runs=() nginx_ka_runs=()
hello_pipe_runs=() node_pipe_runs=() nginx_pipe_runs=()
for _ in $(seq "$rounds"); do
    hello_ka_runs+=("$(measure "http://127.0.0.1:$hello_port/")")
    node_ka_runs+=("$(measure "http://127.0.0.1:$node_port/")")
    nginx_ka_runs+=("$(measure "http://127.0.0.1:$nginx_port/")")
    hello_pipe_runs+=("$(pipelined "http://127.0.0.1:$hello_port/")")
    node_pipe_runs+=("$(pipelined "http://127.0.0.1:$node_port/")")
    nginx_pipe_runs+=("$(pipelined "http://127.0.0.1:$nginx_port/")")
done
hello_ka=$(printf '%s\n' "${hello_ka_runs[@]}" | median)
node_ka=$(printf '%s\n' "${node_ka_runs[@]}" | median)
hello_pipe=$(printf '%s\n' "${hello_pipe_runs[@]}" | median)
node_pipe=$(printf '%s\n' "${node_pipe_runs[@]}" | median)
nginx_ka=$(printf '%s\n' "${nginx_ka_runs[@]}" | median)
nginx_pipe=$(printf '%s\n' "${nginx_pipe_runs[@]}" | median)
hello_loaded_kb=$(rss_kb "$hello_pid")

echo "load: wrk -t1 -c$connections -d$duration on loopback, median of $rounds rounds; $(nproc) cores; pinned: ${server_cpu[*]:-no}"
printf '%-26s %14s %14s\n' "server" "keep-alive/s" "pipelined/s"
printf '%-26s %14.0f %14.0f\n' "hello (RUST_LOG=warn)" "$hello_ka" "$hello_pipe"
printf '%-26s %14.0f %14.0f\n' "node $(node --version) http" "$node_ka" "$node_pipe"
printf '%-26s %14.0f %14.0f\n' "nginx $(/usr/sbin/nginx -v 2>&1 | sed 's|.*/||')" "$nginx_ka" "$nginx_pipe"
awk -v hk="$hello_ka" -v nk="$node_ka" -v hp="$hello_pipe" -v np="$node_pipe" 'BEGIN {
    printf "ratio hello/node: keep-alive %.2fx, pipelined (depth '"$depth"') %.2fx\n", hk / nk, hp / np }'
awk -v hk="$hello_ka" -v gk="$nginx_ka" -v hp="$hello_pipe" -v gp="$nginx_pipe" 'BEGIN {
    printf "ratio hello/nginx: keep-alive %.2fx, pipelined %.2fx; target 0.9x\n", hk / gk, hp / gp }'
awk -v i="$hello_idle_kb" -v l="$hello_loaded_kb" -v n="$node_idle_kb" 'BEGIN {
    printf "RSS: hello idle %.1f MB, after load %.1f MB (target idle < 10 MB); node idle %.1f MB\n",
        i / 1024, l / 1024, n / 1024 }'
