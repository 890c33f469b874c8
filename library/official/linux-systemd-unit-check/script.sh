#!/usr/bin/env bash
# Check / Restart systemd Unit
# Reports the state of a systemd unit with its latest log lines. When the unit is not
# active and RestartIfInactive is true it is restarted and watched for WaitSeconds.
# Exit codes: 0 active, 1 not active, 2 bad input or unknown unit.
# Variables (environment): UnitName, RestartIfInactive, WaitSeconds

set -euo pipefail

unit="${UnitName:-}"
unit="${unit//[[:space:]]/}"
if [[ -z "$unit" ]]; then
    echo "ERROR: UnitName is required (for example nginx or nginx.service)." >&2
    exit 2
fi
if ! [[ "$unit" =~ ^[A-Za-z0-9@._:-]+$ ]]; then
    echo "ERROR: UnitName '$unit' contains characters a systemd unit name cannot have." >&2
    exit 2
fi

wait_seconds="${WaitSeconds:-30}"
if ! [[ "$wait_seconds" =~ ^[0-9]+$ ]] || ((wait_seconds < 1)); then
    echo "ERROR: WaitSeconds must be a whole number of seconds (1 or more)." >&2
    exit 2
fi

restart=false
case "${RestartIfInactive:-false}" in
    [Tt]rue | 1 | [Yy]es | [Oo]n) restart=true ;;
esac

if ! command -v systemctl >/dev/null 2>&1; then
    echo "ERROR: systemctl not found; this host does not use systemd." >&2
    exit 2
fi

load_state="$(systemctl show --property=LoadState --value -- "$unit" 2>/dev/null || true)"
if [[ -z "$load_state" ]]; then
    echo "ERROR: systemd is not reachable on $(hostname) (systemctl show failed)." >&2
    exit 2
fi
if [[ "$load_state" == "not-found" ]]; then
    echo "ERROR: unit '$unit' does not exist on $(hostname)." >&2
    exit 2
fi

show_state() {
    systemctl show --property=Id,ActiveState,SubState,NRestarts,ActiveEnterTimestamp -- "$unit" |
        sed 's/^/  /'
}

echo "Unit $unit on $(hostname):"
show_state
if systemctl is-active --quiet -- "$unit"; then
    echo "Unit is active."
    exit 0
fi

echo "Recent log lines:"
journalctl --unit="$unit" --no-pager --lines=20 2>/dev/null | sed 's/^/  /' || true

if ! $restart; then
    echo "Unit is NOT active. Set RestartIfInactive=true to restart it."
    exit 1
fi

echo "Restarting $unit..."
if ! systemctl restart -- "$unit"; then
    echo "ERROR: systemctl restart failed." >&2
    exit 1
fi

deadline=$((SECONDS + wait_seconds))
while ((SECONDS < deadline)); do
    if systemctl is-active --quiet -- "$unit"; then
        break
    fi
    sleep 1
done

# A unit that crashes right after start looks active for a moment; look again shortly after.
sleep 3
if systemctl is-active --quiet -- "$unit"; then
    echo "Unit is active after restart:"
    show_state
    exit 0
fi
echo "ERROR: unit is still not active ${wait_seconds}s after the restart:" >&2
show_state
journalctl --unit="$unit" --no-pager --lines=20 2>/dev/null | sed 's/^/  /' || true
exit 1
