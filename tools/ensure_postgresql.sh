#!/usr/bin/env bash
# The PostgreSQL tests start a throwaway server from Debian's postgresql binaries (initdb,
# pg_ctl; no server is expected to be running). Install them when they are missing and we
# may (root); otherwise say what to do.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
  echo "PostgreSQL is missing: install Debian's package (apt-get install postgresql) for the PostgreSQL tests" >&2
  exit 1
fi
