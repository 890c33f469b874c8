# Export Installed Software
# Lists installed programs from the uninstall registry keys (64-bit, 32-bit and per-user
# installs of loaded profiles) and optionally writes them to a CSV file. Win32_Product is
# deliberately not used: querying it makes Windows Installer re-validate every MSI package.
# Variables (environment): NameFilter, OutputPath

$ErrorActionPreference = 'Stop'

$filter = if ([string]::IsNullOrWhiteSpace($env:NameFilter)) { '*' } else { $env:NameFilter.Trim() }

$keys = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
)
# Per-user installs of every loaded profile (skip the *_Classes hives).
foreach ($hive in (Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -ErrorAction SilentlyContinue)) {
    if ($hive.PSChildName -like '*_Classes') { continue }
    $keys += "Registry::HKEY_USERS\$($hive.PSChildName)\Software\Microsoft\Windows\CurrentVersion\Uninstall\*"
}

$software = @(foreach ($key in $keys) {
    $scope = if ($key -like 'Registry::HKEY_USERS*') { 'User' }
             elseif ($key -like '*WOW6432Node*') { 'Machine (32-bit)' }
             else { 'Machine' }
    foreach ($entry in (Get-ItemProperty -Path $key -ErrorAction SilentlyContinue)) {
        # Hidden components and updates carry SystemComponent=1 or a ParentKeyName.
        if (-not $entry.DisplayName) { continue }
        if ($entry.SystemComponent -eq 1 -or $entry.ParentKeyName) { continue }
        if ($entry.DisplayName -notlike $filter) { continue }
        [pscustomobject]@{
            Name        = $entry.DisplayName.Trim()
            Version     = $entry.DisplayVersion
            Publisher   = $entry.Publisher
            InstallDate = $entry.InstallDate
            Scope       = $scope
        }
    }
}) | Sort-Object Name, Version -Unique

Write-Output "Installed software on $env:COMPUTERNAME matching '$filter': $($software.Count)"
$software | Format-Table -AutoSize | Out-String -Width 250 | Write-Output

if (-not [string]::IsNullOrWhiteSpace($env:OutputPath)) {
    $target = [Environment]::ExpandEnvironmentVariables($env:OutputPath.Trim())
    $parent = Split-Path -Parent $target
    if ($parent -and -not (Test-Path -LiteralPath $parent)) {
        New-Item -ItemType Directory -Path $parent -Force | Out-Null
    }
    $software | Export-Csv -LiteralPath $target -NoTypeInformation -Encoding UTF8
    Write-Output "Written to $target"
}
exit 0
