#!/usr/bin/env bash
# Production-style serving: gunicorn with several workers against PostgreSQL and Redis.
# Settings (environment): IMH_SECRET_KEY and IMH_BASE_URL (required), IMH_DATABASE_URL, IMH_RATELIMIT_STORAGE_URI,
# IMH_WORKERS, IMH_THREADS, IMH_BIND, IMH_PROXY_COUNT. See README "Production serving".
set -euo pipefail
cd "$(dirname "$0")/.."
export IMH_ENV=production
export IMH_DATABASE_URL="${IMH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/imh}"
export IMH_RATELIMIT_STORAGE_URI="${IMH_RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379}"
: "${IMH_SECRET_KEY:?set IMH_SECRET_KEY to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(48))')}"
: "${IMH_BASE_URL:?set IMH_BASE_URL to the public address, e.g. https://training.example.org (emailed links use it)}"
export FLASK_APP=app:create_app
.venv/bin/flask db upgrade
.venv/bin/flask imh content sync
# The outbox worker delivers queued email beside gunicorn (several may run: claims never overlap)
# and queues meeting reminders / no-sign-out notices every IMH_REMINDER_SCAN_SECONDS.
# Both run in the background and the script waits, so a TERM (systemd, make load) stops gunicorn and
# the worker together; a foreground gunicorn would have delayed the trap and been left orphaned.
.venv/bin/flask imh outbox run &
worker=$!
.venv/bin/gunicorn --config scripts/gunicorn_conf.py "app:create_app()" &
server=$!
trap 'kill "$worker" "$server" 2>/dev/null || true' EXIT INT TERM
wait "$server"
