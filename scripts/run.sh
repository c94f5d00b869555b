#!/usr/bin/env bash
# `make run`: prepare the embedded SQLite database with demo data, then serve the app.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
data_dir=${RAPPORT_DATA_DIR:-$PWD/var}
# Mail the demo sends (reminders, assignments) goes to files, not over the terminal: set EMAIL_URL for real SMTP.
export EMAIL_URL=${EMAIL_URL:-file://$data_dir/outbox}
$BIN/rapport migrate --noinput >/dev/null
if [ "$($BIN/rapport shell -c 'from rapport.parties.models import Contact; print(Contact.objects.exists())')" != "True" ]; then
  echo "Loading the demo data set (first run only)…"
  $BIN/rapport demo
fi
bind=${RAPPORT_BIND:-127.0.0.1:8000}
cat <<TXT

  Rapport is starting at http://$bind/
  Sign in as one of (password: rapport-demo):
    admin (administrator) · manager (sales manager) · rep (sales rep) · marketer
    service_manager · agent (service agent) · analyst
  API docs: http://$bind/api/docs   ·   Outgoing mail: $EMAIL_URL   ·   Stop with Ctrl-C

TXT
exec $BIN/rapport serve --bind "$bind"
