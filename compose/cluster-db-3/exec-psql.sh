#!/bin/sh
# psql inside the running database container, as the superuser on database `cluster`; the
# arguments go to psql:  ./exec-psql.sh -c 'SELECT * FROM info'
# No port is published: `exec` runs the client next to the server, over its Unix socket.
set -eu
cd "$(dirname "$0")"
if docker compose version >/dev/null 2>&1; then
    compose="docker compose"
else
    compose=docker-compose
fi
# -T (no terminal) when there is no terminal, as in scripts and tests.
tty_flag=
[ -t 0 ] || tty_flag=-T
# shellcheck disable=SC2086 # both are lists of words on purpose
exec $compose exec $tty_flag db psql -U postgres -d cluster "$@"
