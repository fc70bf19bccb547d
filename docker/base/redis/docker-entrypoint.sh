#!/bin/sh
# Entrypoint of the local Redis image (scripts/build-base-images.sh), with the behaviour of
# the official `redis` image that the compose files rely on: options alone go to
# redis-server, the server runs as the `redis` user with /data as its working directory, and
# protected mode is off because the container network, not Redis, decides who may connect.
set -eu

case "${1:-}" in
-*) set -- redis-server "$@" ;;
esac

if [ "${1:-}" = redis-server ]; then
    # Appended, so `redis-server --version` and a config file as first argument still work;
    # a command that sets protected-mode itself keeps its own value.
    case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
    esac
    if [ "$(id -u)" = 0 ]; then
        # A fresh bind mount may belong to root; the server must be able to write its dumps.
        find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi

exec "$@"
