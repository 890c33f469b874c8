# Restart Windows Service (safe)
# Restarts one service, waits until it reports Running and verifies it stays up. Refuses to
# touch a service with running dependent services unless IncludeDependents is true, and
# starts those dependents again afterwards. Exit codes: 0 running, 1 not running after the
# wait, 2 bad input or unknown service, 3 refused because of dependents.
# Variables (environment): ServiceName, WaitSeconds, IncludeDependents

$ErrorActionPreference = 'Stop'
# Write-Error would throw under ErrorActionPreference=Stop and lose our exit codes.
function Write-Failure([string]$Message) { [Console]::Error.WriteLine("ERROR: $Message") }

$name = $env:ServiceName
if ([string]::IsNullOrWhiteSpace($name)) {
    Write-Failure 'ServiceName is required (the service name or display name).'
    exit 2
}
$name = $name.Trim()

$wait = 60
if (-not [string]::IsNullOrWhiteSpace($env:WaitSeconds)) {
    $parsed = 0
    if (-not [int]::TryParse($env:WaitSeconds.Trim(), [ref]$parsed) -or $parsed -lt 1) {
        Write-Failure "WaitSeconds must be a whole number of seconds (1 or more), got '$($env:WaitSeconds)'."
        exit 2
    }
    $wait = $parsed
}
$includeDependents = "$env:IncludeDependents" -match '^\s*(1|true|yes|on)\s*$'

$service = Get-Service -Name $name -ErrorAction SilentlyContinue
if (-not $service) { $service = Get-Service -DisplayName $name -ErrorAction SilentlyContinue }
if (-not $service) {
    Write-Failure "Service '$name' was not found on $env:COMPUTERNAME."
    exit 2
}
if (@($service).Count -gt 1) {
    Write-Failure "'$name' matches more than one service; use the exact service name."
    exit 2
}

if ($service.StartType -eq 'Disabled') {
    Write-Failure "Service '$($service.Name)' is disabled; enable it before restarting it."
    exit 2
}

$runningDependents = @($service.DependentServices | Where-Object { $_.Status -eq 'Running' })
if ($runningDependents.Count -gt 0 -and -not $includeDependents) {
    Write-Failure ("'{0}' has running dependent services ({1}); set IncludeDependents=true to restart them too." -f
        $service.Name, ($runningDependents.Name -join ', '))
    exit 3
}

Write-Output "Service $($service.Name) ($($service.DisplayName)) is $($service.Status)."
if ($service.Status -eq 'Stopped') {
    Write-Output 'Starting it...'
    Start-Service -InputObject $service
} else {
    Write-Output 'Restarting it...'
    Restart-Service -InputObject $service -Force:$includeDependents
}

$deadline = (Get-Date).AddSeconds($wait)
do {
    Start-Sleep -Seconds 1
    $service.Refresh()
} while ($service.Status -ne 'Running' -and (Get-Date) -lt $deadline)

if ($service.Status -ne 'Running') {
    Write-Failure "Service '$($service.Name)' is $($service.Status) after $wait seconds."
    exit 1
}

# Services that crash right after start flip back to Stopped within a few seconds.
Start-Sleep -Seconds 5
$service.Refresh()
if ($service.Status -ne 'Running') {
    Write-Failure "Service '$($service.Name)' started but then went to $($service.Status)."
    exit 1
}

foreach ($dependent in $runningDependents) {
    $dependent.Refresh()
    if ($dependent.Status -ne 'Running') {
        Write-Output "Starting dependent service $($dependent.Name)..."
        Start-Service -InputObject $dependent
    }
}

$details = Get-CimInstance -ClassName Win32_Service -Filter "Name = '$($service.Name)'"
Write-Output ("Service {0} is Running (process id {1})." -f $service.Name, $details.ProcessId)
exit 0
