#!/bin/sh
# mmdebstrap customize hook for the local PostgreSQL image; $1 is the root file system.
# It prepares what the official image prepares: a server that listens on every address of
# the container, the data, socket and init-script folders owned by postgres, the entrypoint.
set -eu
rootfs=$1
sed -ri "s/^#?(listen_addresses)\s*=\s*\S+.*/\1 = '*'/" \
    "$rootfs/usr/share/postgresql/15/postgresql.conf.sample"
grep -q "^listen_addresses = '\*'" "$rootfs/usr/share/postgresql/15/postgresql.conf.sample"
mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/var/run/postgresql" "$rootfs/docker-entrypoint-initdb.d"
chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
chmod 1777 "$rootfs/var/lib/postgresql/data"
chmod 3777 "$rootfs/var/run/postgresql"
install -m 755 "$(dirname "$0")/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
