#!/usr/bin/env bash
# `make deb` needs dpkg-deb and Debian's python3 with its venv module (the package's
# virtualenv runs on /usr/bin/python3). Install them when missing and we may (root).
set -euo pipefail
missing=()
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
[ -x /usr/bin/python3 ] || missing+=(python3)
/usr/bin/python3 -c "import venv" >/dev/null 2>&1 || missing+=(python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "make deb needs: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
