#!/usr/bin/env bash
# TLS Certificate Expiry Check
# Connects to each endpoint in Endpoints (host or host:port, comma separated; SNI is the
# host name), reads the served certificate and reports how many days it has left.
# Exits 1 when a certificate expires within WarnDays, has expired, or cannot be read.
# Needs openssl and GNU date.
# Variables (environment): Endpoints, WarnDays, TimeoutSeconds

set -euo pipefail

if [[ -z "${Endpoints:-}" ]]; then
    echo "ERROR: Endpoints is required, for example 'example.com, mail.example.com:993'." >&2
    exit 2
fi
warn_days="${WarnDays:-30}"
timeout_seconds="${TimeoutSeconds:-10}"
if ! [[ "$warn_days" =~ ^[0-9]+$ && "$timeout_seconds" =~ ^[0-9]+$ ]] || ((timeout_seconds < 1)); then
    echo "ERROR: WarnDays and TimeoutSeconds must be whole numbers (TimeoutSeconds 1 or more)." >&2
    exit 2
fi
command -v openssl >/dev/null 2>&1 || {
    echo "ERROR: openssl is not installed." >&2
    exit 2
}

now=$(date -u +%s)
problems=0
printf '%-40s %-8s %-26s %s\n' "ENDPOINT" "DAYS" "EXPIRES (UTC)" "SUBJECT"

IFS=',' read -r -a entries <<<"$Endpoints"
for entry in "${entries[@]}"; do
    entry="${entry//[[:space:]]/}"
    [[ -n "$entry" ]] || continue
    host="${entry%%:*}"
    port="443"
    if [[ "$entry" == *:* ]]; then
        port="${entry##*:}"
    fi
    if ! [[ "$host" =~ ^[A-Za-z0-9.-]+$ && "$port" =~ ^[0-9]+$ ]]; then
        printf '%-40s %-8s %s\n' "$entry" "ERROR" "not a host or host:port"
        problems=$((problems + 1))
        continue
    fi

    pem="$(timeout "$timeout_seconds" openssl s_client -connect "$host:$port" \
        -servername "$host" </dev/null 2>/dev/null |
        openssl x509 2>/dev/null || true)"
    if [[ -z "$pem" ]]; then
        printf '%-40s %-8s %s\n' "$host:$port" "ERROR" "no certificate (unreachable or not TLS)"
        problems=$((problems + 1))
        continue
    fi

    end_date="$(openssl x509 -noout -enddate <<<"$pem" | cut -d= -f2-)"
    subject="$(openssl x509 -noout -subject <<<"$pem" | sed 's/^subject= *//')"
    end_epoch=$(date -u -d "$end_date" +%s)
    days_left=$(((end_epoch - now) / 86400))
    status=""
    if ((end_epoch <= now)); then
        status="EXPIRED"
    elif ((days_left < warn_days)); then
        status="EXPIRING"
    fi
    printf '%-40s %-8s %-26s %s %s\n' "$host:$port" "$days_left" \
        "$(date -u -d "@$end_epoch" '+%Y-%m-%d %H:%M')" "$subject" "${status:+<-- $status}"
    [[ -z "$status" ]] || problems=$((problems + 1))
done

if ((problems > 0)); then
    echo "$problems endpoint(s) need attention (warning window: $warn_days days)."
    exit 1
fi
echo "All certificates are valid for at least $warn_days more days."
exit 0
