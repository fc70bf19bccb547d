#!/bin/sh
# Cluster DNS for the single-node cluster of scripts/kube/cluster.sh, which has no CoreDNS
# (Debian packages none): dnsmasq answers from a hosts file, and this loop rewrites that file
# every 2 seconds from the API server:
#   <name>.<namespace>.svc.cluster.local           a Service's cluster IP, or for a headless
#                                                  Service each ready endpoint's address
#   <hostname>.<name>.<namespace>.svc.cluster.local  a headless Service's named endpoints
#                                                  (StatefulSet Pods: catalog-db-0.catalog-db…)
# dnsmasq reads the folder with inotify, so a renamed-in file takes effect at once.
#
#   scripts/kube/cluster-dns.sh STATE_DIR      runs until killed (cluster.sh starts and stops it)
set -eu

state=$1
server=$(cat "$state/server")
token=$(cat "$state/pki/admin.token")
hosts=$state/dns/hosts
work=$state/dns-work
mkdir -p "$work"

get() {
    curl -fsS --max-time 5 --cacert "$state/pki/ca.crt" -H "Authorization: Bearer $token" \
        "$server/api/v1/$1" >"$work/$1.json"
}

while :; do
    if get services && get endpoints; then
        # shellcheck disable=SC2016 # a jq program, not shell
        jq -r -n --slurpfile services "$work/services.json" --slurpfile endpoints "$work/endpoints.json" '
            ($services[0].items) as $svc
            | ($svc | map(select(.spec.clusterIP == "None")
                  | {key: "\(.metadata.namespace)/\(.metadata.name)", value: true}) | from_entries) as $headless
            | ($svc[] | select(.spec.clusterIP != "None" and (.spec.clusterIP // "") != "")
                | "\(.spec.clusterIP) \(.metadata.name).\(.metadata.namespace).svc.cluster.local"),
              ($endpoints[0].items[]
                | select($headless["\(.metadata.namespace)/\(.metadata.name)"])
                | . as $ep
                | (.subsets // [])[] | (.addresses // [])[]
                | "\(.ip) \($ep.metadata.name).\($ep.metadata.namespace).svc.cluster.local",
                  (select(.hostname) | "\(.ip) \(.hostname).\($ep.metadata.name).\($ep.metadata.namespace).svc.cluster.local"))
        ' | sort >"$work/hosts" || true
        if ! cmp -s "$work/hosts" "$hosts"; then
            mv "$work/hosts" "$hosts"
        fi
    fi
    sleep 2
done
