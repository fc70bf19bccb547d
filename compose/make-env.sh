#!/bin/sh
# Creates DIR/.env from DIR/.env.example when DIR/.env does not exist yet, replacing every
# value written as `generate` with a new random password (32 hex characters, safe inside a
# database URL). An existing .env is never touched. .env is ignored by git: the passwords
# stay on this machine.
#
#   compose/make-env.sh compose/app
set -eu

dir=${1:?usage: make-env.sh DIR (a compose step folder with a .env.example)}
example=$dir/.env.example
env_file=$dir/.env
if [ -f "$env_file" ]; then
    exit 0
fi
if [ ! -f "$example" ]; then
    echo "error: $example is missing" >&2
    exit 1
fi

tmp=$(mktemp "$dir/.env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    *=generate)
        secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        printf '%s=%s\n' "${line%%=*}" "$secret"
        ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$example" >"$tmp"
chmod 600 "$tmp"
mv "$tmp" "$env_file"
trap - EXIT
echo "created $env_file with new passwords (kept out of git)" >&2
