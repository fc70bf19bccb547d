#!/bin/sh
# Writes the dev overlay's password files (catalog-db.env, activity-db.env) with random
# passwords, next to this script, unless they exist already. They are git-ignored; a
# password is set in the database when its volume is first initialised, so changing one
# later needs the volume deleted (dev data is lost) or an ALTER ROLE by hand.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# 32 hex digits from the kernel's random source: safe inside a URL without escaping.
random_password() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

for db in catalog activity; do
    file="$here/$db-db.env"
    if [ -e "$file" ]; then
        echo "keeping $file" >&2
        continue
    fi
    umask 077
    {
        echo "POSTGRES_PASSWORD=$(random_password)"
        echo "SERVICE_PASSWORD=$(random_password)"
    } >"$file"
    echo "wrote $file" >&2
done
