@echo off
rem Flush DNS and Renew IP
rem Clears the DNS resolver cache, re-registers this computer in DNS and renews the DHCP
rem lease. ReleaseFirst (default false) also releases the lease before renewing: that
rem drops the network for a moment and can cut off the remote session, so it is opt-in.
rem Variables (environment): AdapterName, RenewLease, ReleaseFirst, RegisterDns
setlocal EnableExtensions

set "OPT_RENEW=1"
if defined RenewLease call :is_false "%RenewLease%" && set "OPT_RENEW=0"
set "OPT_RELEASE=0"
if defined ReleaseFirst call :is_true "%ReleaseFirst%" && set "OPT_RELEASE=1"
set "OPT_REGISTER=1"
if defined RegisterDns call :is_false "%RegisterDns%" && set "OPT_REGISTER=0"

rem An empty adapter name means every adapter; otherwise ipconfig accepts a name or
rem a wildcard pattern such as "Ethernet*".
set "ADAPTER="
if defined AdapterName set "ADAPTER="%AdapterName%""

set "FAILED=0"
echo === Flush DNS resolver cache on %COMPUTERNAME% ===
ipconfig /flushdns
if errorlevel 1 set "FAILED=1"

if "%OPT_RELEASE%"=="1" (
    echo === Release DHCP lease ===
    ipconfig /release %ADAPTER%
    if errorlevel 1 set "FAILED=1"
)

if "%OPT_RENEW%"=="1" (
    echo === Renew DHCP lease ===
    ipconfig /renew %ADAPTER%
    if errorlevel 1 set "FAILED=1"
)

if "%OPT_REGISTER%"=="1" (
    echo === Register DNS ===
    ipconfig /registerdns
    if errorlevel 1 set "FAILED=1"
)

echo === Current IPv4 configuration ===
ipconfig | findstr /i /c:"adapter" /c:"IPv4" /c:"Default Gateway"

if "%FAILED%"=="1" (
    echo One or more steps failed; see the output above.
    exit /b 1
)
echo Done.
exit /b 0

:is_true
for %%V in (1 true yes on) do if /i "%~1"=="%%V" exit /b 0
exit /b 1

:is_false
for %%V in (0 false no off) do if /i "%~1"=="%%V" exit /b 0
exit /b 1
