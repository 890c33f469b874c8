#!/usr/bin/env bash
# Compress Old Logs
# Gzips log files in LogDirectory (recursively) that were last modified more than
# MinAgeDays ago, and optionally deletes compressed logs older than DeleteAfterDays.
# DryRun is on by default: it only prints what would happen. Symbolic links are not
# followed and the search stays on one filesystem.
# Variables (environment): LogDirectory, FilePattern, MinAgeDays, DeleteAfterDays, DryRun

set -euo pipefail

fail() {
    echo "ERROR: $*" >&2
    exit 2
}

log_dir="${LogDirectory:-}"
[[ -n "$log_dir" ]] || fail "LogDirectory is required."
[[ -d "$log_dir" ]] || fail "LogDirectory '$log_dir' is not a directory."
log_dir="$(cd -- "$log_dir" && pwd -P)"
case "$log_dir" in
    / | /bin | /boot | /dev | /etc | /lib | /lib64 | /proc | /sbin | /sys | /usr)
        fail "refusing to work on system directory '$log_dir'." ;;
esac

pattern="${FilePattern:-*.log}"
[[ "$pattern" != */* ]] || fail "FilePattern is a file name pattern and cannot contain '/'."

min_age="${MinAgeDays:-7}"
[[ "$min_age" =~ ^[0-9]+$ ]] && ((min_age >= 1)) || fail "MinAgeDays must be a whole number (1 or more)."
delete_after="${DeleteAfterDays:-0}"
[[ "$delete_after" =~ ^[0-9]+$ ]] || fail "DeleteAfterDays must be a whole number (0 keeps everything)."

dry_run=true
case "${DryRun:-true}" in
    [Ff]alse | 0 | [Nn]o | [Oo]ff) dry_run=false ;;
esac

if $dry_run; then
    echo "DRY RUN: nothing is changed. Set DryRun=false to compress and delete."
fi
echo "Directory: $log_dir, pattern: $pattern, compress after ${min_age} day(s)," \
    "delete after ${delete_after} day(s) (0 = never)"

compressed=0
skipped=0
# find -mtime +N means "more than N whole days ago", so N-1 gives "at least N days".
while IFS= read -r -d '' file; do
    if [[ -e "$file.gz" ]]; then
        echo "skip (already has $file.gz): $file"
        skipped=$((skipped + 1))
        continue
    fi
    if $dry_run; then
        echo "would compress: $file"
    elif gzip -9 -- "$file"; then
        echo "compressed: $file"
    else
        echo "failed to compress: $file" >&2
        skipped=$((skipped + 1))
        continue
    fi
    compressed=$((compressed + 1))
done < <(find "$log_dir" -xdev -type f -name "$pattern" ! -name '*.gz' \
    -mtime +$((min_age - 1)) -print0)

deleted=0
if ((delete_after > 0)); then
    while IFS= read -r -d '' file; do
        if $dry_run; then
            echo "would delete: $file"
        else
            rm -f -- "$file"
            echo "deleted: $file"
        fi
        deleted=$((deleted + 1))
    done < <(find "$log_dir" -xdev -type f -name "$pattern.gz" \
        -mtime +$((delete_after - 1)) -print0)
fi

verb="Compressed"
$dry_run && verb="Would compress"
echo "$verb $compressed file(s); $deleted old archive(s) $($dry_run && echo 'would be ' || true)deleted; $skipped skipped."
exit 0
