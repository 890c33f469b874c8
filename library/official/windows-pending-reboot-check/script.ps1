# Check Pending Reboot
# Reports whether Windows is waiting for a restart and why: component servicing, Windows
# Update, pending file rename operations, a pending computer rename, or the Configuration
# Manager client. Read-only. Exits 1 when a reboot is pending and FailWhenPending is true.
# Variables (environment): IncludeFileRenames, FailWhenPending

$ErrorActionPreference = 'Stop'

function Test-Enabled([string]$Value, [bool]$Default) {
    if ([string]::IsNullOrWhiteSpace($Value)) { return $Default }
    return $Value -match '^\s*(1|true|yes|on)\s*$'
}

$includeFileRenames = Test-Enabled $env:IncludeFileRenames $true
$failWhenPending = Test-Enabled $env:FailWhenPending $false
$reasons = New-Object System.Collections.Generic.List[string]

$cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
if (Test-Path -LiteralPath $cbs) { $reasons.Add('Component Based Servicing') }

$wu = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
if (Test-Path -LiteralPath $wu) { $reasons.Add('Windows Update') }

if ($includeFileRenames) {
    # Many installers leave rename operations behind, so this source can be switched off.
    $sessionManager = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
    if ($sessionManager.PSObject.Properties['PendingFileRenameOperations'] -and
        $sessionManager.PendingFileRenameOperations) {
        $reasons.Add('Pending file rename operations')
    }
}

$computerName = 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName'
$active = (Get-ItemProperty -LiteralPath "$computerName\ActiveComputerName").ComputerName
$pending = (Get-ItemProperty -LiteralPath "$computerName\ComputerName").ComputerName
if ($active -ne $pending) { $reasons.Add("Computer rename ($active -> $pending)") }

try {
    $ccm = Invoke-CimMethod -Namespace 'ROOT\ccm\ClientSDK' -ClassName 'CCM_ClientUtilities' `
        -MethodName 'DetermineIfRebootPending' -ErrorAction Stop
    if ($ccm.RebootPending -or $ccm.IsHardRebootPending) { $reasons.Add('Configuration Manager client') }
} catch {
    # No Configuration Manager client on this computer: nothing to check.
}

$bootTime = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
Write-Output "Computer: $env:COMPUTERNAME (last boot: $($bootTime.ToString('u')))"
if ($reasons.Count -eq 0) {
    Write-Output 'No reboot pending.'
    exit 0
}

Write-Output 'Reboot pending. Reasons:'
$reasons | ForEach-Object { Write-Output " - $_" }
if ($failWhenPending) { exit 1 }
exit 0
