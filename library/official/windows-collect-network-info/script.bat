@echo off
rem Collect Network and System Information
rem Writes ipconfig /all, systeminfo, routes, listening ports, ARP cache and a DNS lookup
rem into one text file named after the computer and the time, then prints where it went
rem (and, if ShowReport is true, the report itself). Read-only apart from the report file.
rem Variables (environment): OutputFolder, LookupHost, ShowReport
setlocal EnableExtensions

set "TARGET_DIR=%OutputFolder%"
if not defined TARGET_DIR set "TARGET_DIR=%ProgramData%\AssemblyEngine\Diagnostics"
set "LOOKUP=%LookupHost%"
if not defined LOOKUP set "LOOKUP=www.microsoft.com"
set "SHOW=0"
for %%V in (1 true yes on) do if /i "%ShowReport%"=="%%V" set "SHOW=1"

if not exist "%TARGET_DIR%\" mkdir "%TARGET_DIR%"
if not exist "%TARGET_DIR%\" (
    echo ERROR: cannot create output folder "%TARGET_DIR%". 1>&2
    exit /b 2
)

rem %DATE% and %TIME% depend on the regional settings, so ask PowerShell for a stable stamp.
set "STAMP="
for /f "usebackq delims=" %%T in (`powershell -NoProfile -NonInteractive -Command "Get-Date -Format yyyyMMdd-HHmmss"`) do set "STAMP=%%T"
if not defined STAMP set "STAMP=%RANDOM%%RANDOM%"
set "REPORT=%TARGET_DIR%\%COMPUTERNAME%-network-%STAMP%.txt"

echo Collecting diagnostics for %COMPUTERNAME%...
> "%REPORT%" (
    echo ==== Report for %COMPUTERNAME% at %STAMP% ====
    echo.
    echo ==== ipconfig /all ====
    ipconfig /all
    echo.
    echo ==== systeminfo ====
    systeminfo
    echo.
    echo ==== route print ====
    route print
    echo.
    echo ==== netstat -ano, listening ====
    netstat -ano | findstr /i "LISTENING"
    echo.
    echo ==== arp -a ====
    arp -a
    echo.
    echo ==== nslookup %LOOKUP% ====
    nslookup "%LOOKUP%" 2>&1
)
if not exist "%REPORT%" (
    echo ERROR: could not write "%REPORT%". 1>&2
    exit /b 1
)

echo Report written to "%REPORT%"
if "%SHOW%"=="1" type "%REPORT%"
exit /b 0
