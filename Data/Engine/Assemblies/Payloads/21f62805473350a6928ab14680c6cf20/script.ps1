# Disk Space Report
# Lists the fixed drives of this computer with size and free space, and flags every drive
# whose free space is below ThresholdPercent. Read-only. Exits 1 when a drive is low so the
# platform can raise an alert, 2 on bad input.
# Variables (environment): ThresholdPercent, DriveLetters

$ErrorActionPreference = 'Stop'
# Write-Error would throw under ErrorActionPreference=Stop and lose our exit codes.
function Write-Failure([string]$Message) { [Console]::Error.WriteLine("ERROR: $Message") }
$invariant = [System.Globalization.CultureInfo]::InvariantCulture

$threshold = 15.0
if (-not [string]::IsNullOrWhiteSpace($env:ThresholdPercent)) {
    $parsed = 0.0
    $ok = [double]::TryParse($env:ThresholdPercent.Trim(),
        [System.Globalization.NumberStyles]::Float, $invariant, [ref]$parsed)
    if (-not $ok -or $parsed -lt 0 -or $parsed -gt 100) {
        Write-Failure "ThresholdPercent must be a number from 0 to 100, got '$($env:ThresholdPercent)'."
        exit 2
    }
    $threshold = $parsed
}

# Optional list such as "C, D:" or "C:\;E"; empty means every fixed drive.
$wanted = @()
if (-not [string]::IsNullOrWhiteSpace($env:DriveLetters)) {
    $wanted = @($env:DriveLetters -split '[,; ]+' | Where-Object { $_ } | ForEach-Object {
        $_.Trim().TrimEnd('\').TrimEnd(':').ToUpperInvariant() + ':'
    })
}

$disks = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType = 3')
if ($wanted.Count -gt 0) {
    foreach ($letter in $wanted) {
        if (-not ($disks.DeviceID -contains $letter)) {
            Write-Warning "Drive $letter is not a fixed drive on this computer; skipped."
        }
    }
    $disks = @($disks | Where-Object { $wanted -contains $_.DeviceID })
}

$report = @(foreach ($disk in $disks) {
    if (-not $disk.Size) { continue }  # unformatted or offline volume
    $freePercent = [math]::Round(($disk.FreeSpace / $disk.Size) * 100, 1)
    [pscustomobject]@{
        Drive       = $disk.DeviceID
        Label       = $disk.VolumeName
        SizeGB      = [math]::Round($disk.Size / 1GB, 1)
        FreeGB      = [math]::Round($disk.FreeSpace / 1GB, 1)
        FreePercent = $freePercent
        Status      = if ($freePercent -lt $threshold) { 'LOW' } else { 'OK' }
    }
})

if ($report.Count -eq 0) {
    Write-Output 'No matching fixed drives found.'
    exit 0
}

Write-Output "Disk space on $env:COMPUTERNAME (threshold: $threshold% free)"
$report | Format-Table -AutoSize | Out-String -Width 200 | Write-Output

$low = @($report | Where-Object { $_.Status -eq 'LOW' })
if ($low.Count -gt 0) {
    Write-Output ("{0} drive(s) below {1}% free: {2}" -f $low.Count, $threshold, ($low.Drive -join ', '))
    exit 1
}
Write-Output "All drives have at least $threshold% free space."
exit 0
