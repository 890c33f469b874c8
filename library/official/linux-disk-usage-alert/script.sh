#!/usr/bin/env bash
# Disk Usage Alert
# Reports space and inode usage of local filesystems and flags every mount point at or
# above ThresholdPercent. Read-only. Exits 1 when something is over the threshold, 2 on
# bad input. Needs GNU coreutils df (--output).
# Variables (environment): ThresholdPercent, Mounts, CheckInodes

set -euo pipefail

threshold="${ThresholdPercent:-80}"
threshold="${threshold//[[:space:]]/}"
if ! [[ "$threshold" =~ ^[0-9]+$ ]] || ((threshold < 1 || threshold > 100)); then
    echo "ERROR: ThresholdPercent must be a whole number from 1 to 100, got '${ThresholdPercent:-}'." >&2
    exit 2
fi

check_inodes=true
case "${CheckInodes:-true}" in
    [Ff]alse | 0 | [Nn]o | [Oo]ff) check_inodes=false ;;
esac

# Optional comma-separated list of mount points; empty means every local filesystem.
targets=()
if [[ -n "${Mounts:-}" ]]; then
    IFS=',' read -r -a requested <<<"$Mounts"
    for mount_point in "${requested[@]}"; do
        mount_point="$(echo "$mount_point" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
        if [[ -n "$mount_point" ]]; then
            targets+=("$mount_point")
        fi
    done
fi

df_args=(--local --output=pcent,ipcent,target
    -x tmpfs -x devtmpfs -x squashfs -x overlay -x efivarfs)
if ((${#targets[@]} > 0)); then
    df_args+=(-- "${targets[@]}")
fi

alerts=0
printf '%-6s %-7s %s\n' "USE%" "INODE%" "MOUNT"
# The mount point is the last column, so names containing spaces stay intact.
while read -r space_pct inode_pct target; do
    space="${space_pct%\%}"
    inodes="${inode_pct%\%}"
    flag=""
    if [[ "$space" =~ ^[0-9]+$ ]] && ((space >= threshold)); then
        flag="SPACE"
    fi
    if $check_inodes && [[ "$inodes" =~ ^[0-9]+$ ]] && ((inodes >= threshold)); then
        flag="${flag:+$flag+}INODES"
    fi
    printf '%-6s %-7s %s%s\n' "$space_pct" "$inode_pct" "$target" "${flag:+   <-- $flag}"
    if [[ -n "$flag" ]]; then
        alerts=$((alerts + 1))
    fi
done < <(df "${df_args[@]}" | tail -n +2)

if ((alerts > 0)); then
    echo "$alerts filesystem(s) at or above ${threshold}% on $(hostname)."
    exit 1
fi
echo "All filesystems below ${threshold}% on $(hostname)."
exit 0
