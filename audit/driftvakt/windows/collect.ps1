# driftvakt: every read the Windows checks need, in one PowerShell run, as one JSON document.
# Runs as the audit account (a member of the local Administrators group) on Windows Server
# 2022 and 2025, Windows PowerShell 5.1. Read-only: it changes nothing on the host. A section
# that cannot be read is recorded under "errors" (the checks that need it report an error,
# never a pass). ASCII only: the script travels over WinRM stdin in the OEM code page.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$facts = [ordered]@{
    schema    = 1
    collected = (Get-Date).ToUniversalTime().ToString('o')
    errors    = [ordered]@{}
}

function Add-Section {
    # A section that is one object (an ordered dictionary).
    param([string]$Name, [scriptblock]$Read)
    try {
        $facts[$Name] = & $Read
    } catch {
        $facts.errors[$Name] = $_.Exception.Message
    }
}

function Add-ListSection {
    # A section that is a list. PowerShell unrolls what a script block emits: no item would
    # be $null and one item the bare item, so @() collects them into an array that
    # ConvertTo-Json always writes as a JSON array ([] for none, [x] for one). Every list inside
    # a section is likewise an @() expression (tests/windows_facts.py LISTS; test_windows_shapes.py).
    param([string]$Name, [scriptblock]$Read)
    try {
        $facts[$Name] = @(& $Read)
    } catch {
        $facts.errors[$Name] = $_.Exception.Message
    }
}

function Get-Iso {
    # A local time (Kind Local, as .NET and CIM give them) as ISO 8601 UTC.
    param($Value)
    if ($null -eq $Value) { return $null }
    return ([datetime]$Value).ToUniversalTime().ToString('o')
}

function Get-UtcIso {
    # A time that already is UTC but reaches PowerShell without a Kind (a COM DATE):
    # ToUniversalTime() would shift it by the host's offset.
    param($Value)
    if ($null -eq $Value) { return $null }
    return [datetime]::SpecifyKind([datetime]$Value, [DateTimeKind]::Utc).ToString('o')
}

function Get-RegValues {
    # The named values of one registry key (null where a value or the key is absent).
    param([string]$Path, [string[]]$Names)
    $result = [ordered]@{}
    $item = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue
    foreach ($n in $Names) {
        if ($null -ne $item -and $item.PSObject.Properties.Name -contains $n) {
            $result[$n] = $item.$n
        } else {
            $result[$n] = $null
        }
    }
    return $result
}

Add-Section 'os' {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $cv = Get-RegValues 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' @(
        'ProductName', 'DisplayVersion', 'UBR', 'InstallationType', 'EditionID', 'CurrentBuild')
    [ordered]@{
        Caption          = $os.Caption
        Version          = $os.Version
        BuildNumber      = $os.BuildNumber
        ProductType      = $os.ProductType
        ProductName      = $cv.ProductName
        DisplayVersion   = $cv.DisplayVersion
        UBR              = $cv.UBR
        InstallationType = $cv.InstallationType
        EditionID        = $cv.EditionID
    }
}

Add-ListSection 'services' {
    @(Get-CimInstance -ClassName Win32_Service | ForEach-Object {
        [ordered]@{
            Name        = $_.Name
            DisplayName = $_.DisplayName
            State       = $_.State
            StartMode   = $_.StartMode
            StartName   = $_.StartName
            PathName    = $_.PathName
        }
    })
}

Add-Section 'time' {
    $p = Get-RegValues 'HKLM:\SYSTEM\CurrentControlSet\Services\W32Time\Parameters' @('NtpServer', 'Type')
    # Windows PowerShell 5.1 turns a native program's stderr, redirected with 2>&1, into error
    # records, and under 'Stop' the first one would end the section: 'Continue' in this scope.
    $ErrorActionPreference = 'Continue'
    $lines = @(& w32tm.exe /query /source 2>&1 | ForEach-Object { [string]$_ })
    $rc = $LASTEXITCODE
    [ordered]@{
        NtpServer = $p.NtpServer
        Type      = $p.Type
        Source    = ($lines -join "`n").Trim()
        SourceRc  = $rc
    }
}

Add-ListSection 'updates' {
    # The search runs in a runspace of its own, limited to $limit seconds, so one slow update
    # service costs this section only, not the whole collection (the batch has 600 s).
    # Categories are matched by CategoryID (ICategory.Name is localised); the deployment time
    # is UTC (IUpdate.LastDeploymentChangeTime).
    $limit = 240
    $search = [powershell]::Create().AddScript({
        $session = New-Object -ComObject Microsoft.Update.Session
        $found = $session.CreateUpdateSearcher().Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
        foreach ($u in $found.Updates) {
            [ordered]@{
                Title                    = $u.Title
                KBArticleIDs             = @($u.KBArticleIDs | ForEach-Object { [string]$_ })
                MsrcSeverity             = $u.MsrcSeverity
                Categories               = @($u.Categories | ForEach-Object { [string]$_.Name })
                CategoryIDs              = @($u.Categories | ForEach-Object { [string]$_.CategoryID })
                LastDeploymentChangeTime = $u.LastDeploymentChangeTime
            }
        }
    })
    $pending = $search.BeginInvoke()
    if (-not $pending.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($limit))) {
        [void]$search.BeginStop($null, $null)
        throw "the Windows Update search did not finish within $limit s (update service slow or unreachable)"
    }
    $items = @($search.EndInvoke($pending))
    if ($search.Streams.Error.Count -gt 0) { throw $search.Streams.Error[0].Exception }
    foreach ($item in $items) {
        $update = $item.PSObject.BaseObject  # the runspace hands back wrapped dictionaries
        $update['LastDeploymentChangeTime'] = Get-UtcIso $update['LastDeploymentChangeTime']
        $update
    }
}

Add-Section 'defender' {
    $s = Get-MpComputerStatus
    [ordered]@{
        AMServiceEnabled              = $s.AMServiceEnabled
        AntivirusEnabled              = $s.AntivirusEnabled
        RealTimeProtectionEnabled     = $s.RealTimeProtectionEnabled
        AntivirusSignatureAge         = $s.AntivirusSignatureAge
        AntivirusSignatureLastUpdated = Get-Iso $s.AntivirusSignatureLastUpdated
        AMRunningMode                 = $s.AMRunningMode
    }
}

Add-Section 'smb' {
    $server = Get-SmbServerConfiguration
    $feature = $null
    if (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue) {
        $feature = [string](Get-WindowsFeature -Name FS-SMB1).InstallState
    } else {
        $feature = [string](Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol).State
    }
    [ordered]@{
        EnableSMB1Protocol = $server.EnableSMB1Protocol
        FeatureState       = $feature
    }
}

Add-Section 'firewall' {
    $profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
            Name                 = [string]$_.Name
            Enabled              = [string]$_.Enabled
            DefaultInboundAction = [string]$_.DefaultInboundAction
        }
    })
    $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Enabled True -Direction Inbound -Action Allow |
        ForEach-Object {
            $port = $_ | Get-NetFirewallPortFilter
            $address = $_ | Get-NetFirewallAddressFilter
            $app = $_ | Get-NetFirewallApplicationFilter
            [ordered]@{
                Name          = $_.Name
                DisplayName   = $_.DisplayName
                Profile       = [string]$_.Profile
                Protocol      = [string]$port.Protocol
                LocalPort     = @($port.LocalPort | ForEach-Object { [string]$_ })
                RemoteAddress = @($address.RemoteAddress | ForEach-Object { [string]$_ })
                Program       = [string]$app.Program
            }
        })
    [ordered]@{ Profiles = $profiles; InboundAllowRules = $rules }
}

Add-Section 'accounts' {
    $group = Get-LocalGroup -SID 'S-1-5-32-544'
    try {
        $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
            [ordered]@{
                Name            = $_.Name
                SID             = [string]$_.SID
                ObjectClass     = $_.ObjectClass
                PrincipalSource = [string]$_.PrincipalSource
            }
        })
    } catch {
        # Get-LocalGroupMember fails on an unresolvable member; ADSI lists them all. An ADsPath
        # is WinNT://DOMAIN/name for a domain member and WinNT://DOMAIN/COMPUTER/name for a
        # local one: the name is its last two parts (DOMAIN\name, COMPUTER\name), the SID
        # tells local (the machine's own prefix) from domain.
        $adsi = [ADSI]("WinNT://./" + $group.Name + ",group")
        $machine = (Get-LocalUser | Select-Object -First 1).SID.AccountDomainSid
        $members = @($adsi.Invoke('Members') | ForEach-Object {
            $path = $_.GetType().InvokeMember('ADsPath', 'GetProperty', $null, $_, $null)
            $sidBytes = $_.GetType().InvokeMember('objectSid', 'GetProperty', $null, $_, $null)
            $sid = New-Object System.Security.Principal.SecurityIdentifier($sidBytes, 0)
            $parts = @(($path -replace '^WinNT://', '') -split '/')
            $source = if ($null -ne $machine -and $sid.AccountDomainSid -eq $machine) { 'Local' } else { 'Unknown' }
            [ordered]@{
                Name            = ($parts | Select-Object -Last 2) -join '\'
                SID             = $sid.Value
                ObjectClass     = $_.GetType().InvokeMember('Class', 'GetProperty', $null, $_, $null)
                PrincipalSource = $source
            }
        })
    }
    $users = @(Get-LocalUser | ForEach-Object {
        [ordered]@{
            Name             = $_.Name
            SID              = [string]$_.SID
            Enabled          = $_.Enabled
            PasswordRequired = $_.PasswordRequired
        }
    })
    $tmp = Join-Path $env:TEMP ("driftvakt-" + [guid]::NewGuid().ToString() + ".inf")
    $policy = [ordered]@{}
    try {
        & secedit.exe /export /cfg $tmp /areas SECURITYPOLICY /quiet | Out-Null
        $section = ''
        foreach ($line in (Get-Content -LiteralPath $tmp)) {
            if ($line -match '^\[(.+)\]$') { $section = $Matches[1]; continue }
            if ($section -eq 'System Access' -and $line -match '^\s*(\w+)\s*=\s*(.*?)\s*$') {
                $policy[$Matches[1]] = $Matches[2]
            }
        }
    } finally {
        Remove-Item -LiteralPath $tmp -ErrorAction SilentlyContinue
    }
    $lsa = Get-RegValues 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa' @('LimitBlankPasswordUse')
    [ordered]@{
        AdministratorsGroup   = $group.Name
        Administrators        = $members
        Users                 = $users
        SystemAccess          = $policy
        LimitBlankPasswordUse = $lsa.LimitBlankPasswordUse
    }
}

Add-Section 'rdp' {
    $ts = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
    $policy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
    [ordered]@{
        Local    = Get-RegValues $ts @('fDenyTSConnections')
        RdpTcp   = Get-RegValues "$ts\WinStations\RDP-Tcp" @('UserAuthentication', 'SecurityLayer', 'MinEncryptionLevel', 'PortNumber')
        Policies = Get-RegValues $policy @('fDenyTSConnections', 'UserAuthentication', 'SecurityLayer', 'MinEncryptionLevel', 'MaxIdleTime')
    }
}

Add-Section 'winrm' {
    $listeners = @(Get-ChildItem -Path WSMan:\localhost\Listener | ForEach-Object {
        $entry = [ordered]@{}
        foreach ($k in (Get-ChildItem -Path $_.PSPath)) {
            if ($k.Name -in @('Transport', 'Port', 'Address', 'Enabled', 'CertificateThumbprint', 'Hostname')) {
                $entry[$k.Name] = [string]$k.Value
            }
        }
        $entry
    })
    [ordered]@{
        Listeners        = $listeners
        AllowUnencrypted = [string](Get-Item -Path WSMan:\localhost\Service\AllowUnencrypted).Value
        BasicAuth        = [string](Get-Item -Path WSMan:\localhost\Service\Auth\Basic).Value
    }
}

Add-Section 'schannel' {
    $base = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL'
    $hklm = [Microsoft.Win32.Registry]::LocalMachine
    $protocols = [ordered]@{}
    foreach ($p in @('SSL 2.0', 'SSL 3.0', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3')) {
        foreach ($side in @('Server', 'Client')) {
            $key = $hklm.OpenSubKey("$base\Protocols\$p\$side")
            $protocols["$p/$side"] = [ordered]@{
                Enabled           = if ($key) { $key.GetValue('Enabled') } else { $null }
                DisabledByDefault = if ($key) { $key.GetValue('DisabledByDefault') } else { $null }
            }
            if ($key) { $key.Close() }
        }
    }
    # Cipher key names contain '/', which the registry provider reads as a path separator.
    $ciphers = [ordered]@{}
    $ck = $hklm.OpenSubKey("$base\Ciphers")
    if ($ck) {
        foreach ($name in $ck.GetSubKeyNames()) {
            $sub = $ck.OpenSubKey($name)
            $ciphers[$name] = $sub.GetValue('Enabled')
            $sub.Close()
        }
        $ck.Close()
    }
    $suites = @()
    if (Get-Command -Name Get-TlsCipherSuite -ErrorAction SilentlyContinue) {
        $suites = @(Get-TlsCipherSuite | ForEach-Object { $_.Name })
    }
    [ordered]@{ Protocols = $protocols; Ciphers = $ciphers; CipherSuites = $suites }
}

Add-Section 'audit' {
    $tmp = Join-Path $env:TEMP ("driftvakt-" + [guid]::NewGuid().ToString() + ".csv")
    try {
        & auditpol.exe /backup "/file:$tmp" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "auditpol /backup exited $LASTEXITCODE" }
        $rows = @(Import-Csv -LiteralPath $tmp | Where-Object { $_.'Subcategory GUID' } | ForEach-Object {
            [ordered]@{
                Subcategory     = $_.Subcategory
                SubcategoryGuid = $_.'Subcategory GUID'
                SettingValue    = $_.'Setting Value'
            }
        })
    } finally {
        Remove-Item -LiteralPath $tmp -ErrorAction SilentlyContinue
    }
    $lsa = Get-RegValues 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa' @('SCENoApplyLegacyAuditPolicy')
    [ordered]@{ Subcategories = $rows; SCENoApplyLegacyAuditPolicy = $lsa.SCENoApplyLegacyAuditPolicy }
}

Add-Section 'eventlog' {
    $log = Get-WinEvent -ListLog Security
    $fwd = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager' -ErrorAction SilentlyContinue
    $managers = @()
    if ($fwd) {
        $managers = @($fwd.PSObject.Properties | Where-Object { $_.Name -notlike 'PS*' } | ForEach-Object { [string]$_.Value })
    }
    $readers = @(Get-LocalGroupMember -SID 'S-1-5-32-573' -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.SID })
    [ordered]@{
        SecurityMaximumSizeInBytes = $log.MaximumSizeInBytes
        SecurityLogMode            = [string]$log.LogMode
        SecurityIsEnabled          = $log.IsEnabled
        SubscriptionManagers       = $managers
        EventLogReaders            = $readers
    }
}

Add-Section 'session' {
    Get-RegValues 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' @('InactivityTimeoutSecs')
}

Add-Section 'software' {
    $keys = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*')
    $installed = @(Get-ItemProperty -Path $keys -ErrorAction SilentlyContinue |
        Where-Object { $_.DisplayName } | ForEach-Object {
            [ordered]@{
                DisplayName      = [string]$_.DisplayName
                DisplayVersion   = [string]$_.DisplayVersion
                Publisher        = [string]$_.Publisher
                Key              = $_.PSChildName
                WindowsInstaller = ($_.WindowsInstaller -eq 1)
            }
        })
    $paths = @(
        "$env:SystemRoot\System32\Macromed\Flash",
        "$env:SystemRoot\SysWOW64\Macromed\Flash",
        "$env:SystemRoot\System32\Adobe\Shockwave 12",
        "$env:SystemRoot\SysWOW64\Adobe\Shockwave 12",
        "$env:ProgramFiles\Microsoft Silverlight",
        "${env:ProgramFiles(x86)}\Microsoft Silverlight")
    [ordered]@{
        Installed    = $installed
        PluginPaths  = @($paths | Where-Object { Test-Path -LiteralPath $_ })
    }
}

Add-Section 'locale' {
    # The system locale (language for non-Unicode programs) and the code pages it brings: as
    # configured (Get-WinSystemLocale, Nls\CodePage; take effect at the next boot) and in effect
    # now (Encoding.Default is the process's ANSI code page on .NET Framework). The
    # 'Beta: Use Unicode UTF-8' option shows as code page 65001 in Nls\CodePage.
    $system = Get-WinSystemLocale
    $nls = Get-RegValues 'HKLM:\SYSTEM\CurrentControlSet\Control\Nls\CodePage' @('ACP', 'OEMCP')
    [ordered]@{
        SystemLocale             = $system.Name
        SystemLocaleAnsiCodePage = $system.TextInfo.ANSICodePage
        SystemLocaleOemCodePage  = $system.TextInfo.OEMCodePage
        AnsiCodePage             = $nls.ACP
        OemCodePage              = $nls.OEMCP
        ActiveAnsiCodePage       = [System.Text.Encoding]::Default.CodePage
    }
}

Add-ListSection 'processes' {
    @(Get-CimInstance -ClassName Win32_Process | ForEach-Object {
        [ordered]@{ Name = $_.Name; ExecutablePath = $_.ExecutablePath }
    })
}

Add-ListSection 'certificates' {
    # Every certificate in LocalMachine\My with its chain as Windows builds it (revocation of
    # the end certificate checked online, at most 5 s per certificate). The checks pick the
    # inventory's certificates (crypto_certificates) by thumbprint or subject.
    $sha256 = [System.Security.Cryptography.SHA256]::Create()
    $hex = { param($c) ([BitConverter]::ToString($sha256.ComputeHash($c.RawData))).Replace('-', '').ToLower() }
    @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | ForEach-Object {
        $cert = $_
        $chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain
        $chain.ChainPolicy.RevocationMode = 'Online'
        $chain.ChainPolicy.RevocationFlag = 'EndCertificateOnly'
        $chain.ChainPolicy.UrlRetrievalTimeout = New-TimeSpan -Seconds 5
        [void]$chain.Build($cert)
        $bits = 0
        $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPublicKey($cert)
        if ($null -ne $rsa) { $bits = $rsa.KeySize } else {
            $ecdsa = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPublicKey($cert)
            if ($null -ne $ecdsa) { $bits = $ecdsa.KeySize }
        }
        [ordered]@{
            Thumbprint         = $cert.Thumbprint
            Subject            = $cert.Subject
            Issuer             = $cert.Issuer
            NotBefore          = Get-Iso $cert.NotBefore
            NotAfter           = Get-Iso $cert.NotAfter
            KeyAlgorithm       = $cert.PublicKey.Oid.FriendlyName
            KeySize            = $bits
            SignatureAlgorithm = $cert.SignatureAlgorithm.FriendlyName
            Sha256             = & $hex $cert
            Chain              = @($chain.ChainElements | ForEach-Object {
                [ordered]@{ Subject = $_.Certificate.Subject; Sha256 = & $hex $_.Certificate }
            })
            ChainStatus        = @($chain.ChainStatus | ForEach-Object { [string]$_.Status })
        }
        $chain.Reset()
    })
}

$facts | ConvertTo-Json -Depth 8 -Compress
# The collection succeeded once the JSON is out; a native program's exit code (auditpol,
# secedit, w32tm) belongs to its section, not to the run, which the driver reports by
# LASTEXITCODE.
$global:LASTEXITCODE = 0
