#!/usr/bin/env bash
# Top Memory Processes
# Shows overall memory and swap use and the ProcessCount processes with the largest
# resident memory (RSS). Read-only.
# Variables (environment): ProcessCount

set -euo pipefail

count="${ProcessCount:-10}"
count="${count//[[:space:]]/}"
if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 1 || count > 500)); then
    echo "ERROR: ProcessCount must be a whole number from 1 to 500, got '${ProcessCount:-}'." >&2
    exit 2
fi

echo "Memory on $(hostname) at $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
awk '
    /^MemTotal:/     { total = $2 }
    /^MemAvailable:/ { available = $2 }
    /^SwapTotal:/    { swap_total = $2 }
    /^SwapFree:/     { swap_free = $2 }
    END {
        used = total - available
        printf "  RAM : %8.1f MiB used of %8.1f MiB (%.0f%%), %8.1f MiB available\n",
            used / 1024, total / 1024, (total ? used * 100 / total : 0), available / 1024
        swap_used = swap_total - swap_free
        printf "  Swap: %8.1f MiB used of %8.1f MiB\n", swap_used / 1024, swap_total / 1024
    }' /proc/meminfo
echo

printf '%8s %-12s %10s %6s  %s\n' "PID" "USER" "RSS(MiB)" "MEM%" "COMMAND"
# ps may be closed early by head; that SIGPIPE is expected, so do not fail on it.
{ ps -eo pid=,user=,rss=,pmem=,args= --sort=-rss || true; } | head -n "$count" |
    awk '{
        pid = $1; user = $2; rss = $3; pmem = $4
        $1 = $2 = $3 = $4 = ""
        sub(/^ +/, "")
        printf "%8s %-12s %10.1f %6s  %s\n", pid, substr(user, 1, 12), rss / 1024, pmem, substr($0, 1, 120)
    }'
