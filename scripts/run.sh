#!/usr/bin/env bash
# `make run`: the development server on SQLite, with the outbox worker beside it, so every email the
# demo queues is delivered (to files under instance/mail/ when no SMTP server is set) and readable by
# the admin at /staff/outbox. HOST and PORT come from the Makefile (defaults 127.0.0.1:5000).
set -euo pipefail
cd "$(dirname "$0")/.."
# Both run in the background and the script waits, so Ctrl-C or a TERM stops both at once.
.venv/bin/flask imh outbox run &
worker=$!
.venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" &
server=$!
trap 'kill "$worker" "$server" 2>/dev/null || true' EXIT INT TERM
wait "$server"
