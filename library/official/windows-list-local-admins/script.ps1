# List Local Administrators
# Lists the members of the local Administrators group (found by its well-known SID, so it
# works on localized Windows). When ExpectedMembers is set, every other member is reported
# as unexpected and the script exits 1. Read-only.
# Variables (environment): ExpectedMembers

$ErrorActionPreference = 'Stop'

$group = Get-LocalGroup -SID 'S-1-5-32-544'
try {
    $members = @(Get-LocalGroupMember -Group $group | ForEach-Object {
        [pscustomobject]@{
            Name        = $_.Name
            ObjectClass = $_.ObjectClass
            Source      = "$($_.PrincipalSource)"
            SID         = $_.SID.Value
        }
    })
} catch {
    # Get-LocalGroupMember fails when the group holds an orphaned SID; ADSI still lists it.
    $adsiGroup = [ADSI]"WinNT://$env:COMPUTERNAME/$($group.Name),group"
    $members = @(@($adsiGroup.Invoke('Members')) | ForEach-Object {
        $path = $_.GetType().InvokeMember('ADsPath', 'GetProperty', $null, $_, $null)
        $class = $_.GetType().InvokeMember('Class', 'GetProperty', $null, $_, $null)
        [pscustomobject]@{
            Name        = ($path -replace '^WinNT://', '') -replace '/', '\'
            ObjectClass = $class
            Source      = 'ADSI'
            SID         = ''
        }
    })
}

Write-Output "Members of $($group.Name) on $($env:COMPUTERNAME): $($members.Count)"
$members | Sort-Object Name | Format-Table -AutoSize | Out-String -Width 200 | Write-Output

if ([string]::IsNullOrWhiteSpace($env:ExpectedMembers)) { exit 0 }

# Expected entries may be "DOMAIN\Name" or just "Name"; comparison ignores case.
$expected = @($env:ExpectedMembers -split '[,;]' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
$unexpected = @($members | Where-Object {
    $full = $_.Name
    $short = ($full -split '\\')[-1]
    -not ($expected | Where-Object { $_ -ieq $full -or $_ -ieq $short })
})

if ($unexpected.Count -gt 0) {
    Write-Output "Unexpected administrators: $(($unexpected.Name) -join ', ')"
    exit 1
}
Write-Output 'Every administrator is in the expected list.'
exit 0
