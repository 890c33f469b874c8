# Clear Temp Folders
# Removes files older than MinAgeDays from the Windows temp folder and from every user
# profile's AppData\Local\Temp. DryRun is on by default: it only lists what would be
# removed. Junctions and symbolic links are never followed; files in use are skipped.
# Variables (environment): MinAgeDays, DryRun, IncludeWindowsTemp, IncludeUserProfiles

$ErrorActionPreference = 'Stop'
# Write-Error would throw under ErrorActionPreference=Stop and lose our exit codes.
function Write-Failure([string]$Message) { [Console]::Error.WriteLine("ERROR: $Message") }

function Test-Enabled([string]$Value, [bool]$Default) {
    if ([string]::IsNullOrWhiteSpace($Value)) { return $Default }
    return $Value -match '^\s*(1|true|yes|on)\s*$'
}

$minAgeDays = 7
if (-not [string]::IsNullOrWhiteSpace($env:MinAgeDays)) {
    $parsed = 0
    if (-not [int]::TryParse($env:MinAgeDays.Trim(), [ref]$parsed) -or $parsed -lt 1) {
        Write-Failure "MinAgeDays must be a whole number of days (1 or more), got '$($env:MinAgeDays)'."
        exit 2
    }
    $minAgeDays = $parsed
}
$dryRun = Test-Enabled $env:DryRun $true
$includeWindows = Test-Enabled $env:IncludeWindowsTemp $true
$includeUsers = Test-Enabled $env:IncludeUserProfiles $true
$cutoff = (Get-Date).AddDays(-$minAgeDays)

$folders = New-Object System.Collections.Generic.List[string]
if ($includeWindows) { $folders.Add((Join-Path $env:SystemRoot 'Temp')) }
if ($includeUsers) {
    foreach ($userProfile in (Get-CimInstance -ClassName Win32_UserProfile)) {
        if ($userProfile.Special -or -not $userProfile.LocalPath) { continue }
        $folders.Add((Join-Path $userProfile.LocalPath 'AppData\Local\Temp'))
    }
}

# Walk a tree without following reparse points (a junction in a temp folder could point
# anywhere on the disk) and return files last written before $Before.
function Get-OldFile([string]$Root, [datetime]$Before) {
    $pending = New-Object System.Collections.Generic.Stack[string]
    $pending.Push($Root)
    while ($pending.Count -gt 0) {
        $directory = $pending.Pop()
        foreach ($item in (Get-ChildItem -LiteralPath $directory -Force -ErrorAction SilentlyContinue)) {
            if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) { continue }
            if ($item.PSIsContainer) {
                $pending.Push($item.FullName)
            } elseif ($item.LastWriteTime -lt $Before) {
                $item
            }
        }
    }
}

$mode = if ($dryRun) { 'DRY RUN (nothing is deleted; set DryRun=false to delete)' } else { 'DELETE' }
Write-Output "Clear temp folders: files older than $minAgeDays day(s), mode: $mode"

$totalFiles = 0
$totalBytes = [long]0
$skipped = 0
foreach ($folder in $folders) {
    if (-not (Test-Path -LiteralPath $folder -PathType Container)) { continue }
    $files = 0
    $bytes = [long]0
    foreach ($file in (Get-OldFile -Root $folder -Before $cutoff)) {
        if ($dryRun) {
            $files++
            $bytes += $file.Length
            continue
        }
        try {
            $length = $file.Length
            Remove-Item -LiteralPath $file.FullName -Force
            $files++
            $bytes += $length
        } catch {
            $skipped++  # in use or access denied: leave it for next time
        }
    }
    Write-Output ("{0,-60} {1,8} file(s) {2,10:N1} MB" -f $folder, $files, ($bytes / 1MB))
    $totalFiles += $files
    $totalBytes += $bytes
}

$verb = if ($dryRun) { 'Would remove' } else { 'Removed' }
Write-Output ("{0} {1} file(s), {2:N1} MB in total." -f $verb, $totalFiles, ($totalBytes / 1MB))
if ($skipped -gt 0) { Write-Output "$skipped file(s) skipped because they were in use or protected." }
exit 0
