"""Windows checks: read the host's one JSON collection, judge it with pure functions.

``windows_facts(host)`` runs the collection (``driftvakt.windows.collect_command()``, which the
audit's WinRM transport expands to ``collect.ps1``) and parses it once per distinct answer. Each
``judge_<control>(facts, hostvars)`` returns the problems found (empty: compliant), each one a
line of evidence. A section the host could not read raises ``FactsUnavailable`` - the check
then reports an error, never a pass or a fail. Unit-tested on documented-shape fixtures in
audit/tests/test_windows_eval.py.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from driftvakt.windows import collect_command

Facts = dict[str, Any]
HostVars = dict[str, Any]

ADMINISTRATORS_SID = "S-1-5-32-544"
NETWORK_SERVICE_SID = "S-1-5-20"
# Windows Server builds that are the current or the previous version (SKA-SRV-01), with the end
# of Microsoft's extended support (SKA-SRV-02, RST-9.5.1). Sources: Microsoft Lifecycle pages
# "Windows Server 2022" and "Windows Server 2025". A region overrides with windows_os_support.
OS_SUPPORT = {
    "20348": ("Windows Server 2022", "2031-10-14"),
    "26100": ("Windows Server 2025", "2034-11-14"),
}
# Advanced audit subcategories (auditpol GUIDs, locale-independent) and the bits required:
# 1 success, 2 failure. Source: Microsoft Learn, "Advanced security audit policy settings".
AUDIT_REQUIRED = {
    "{0CCE9215-69AE-11D9-BED3-505054503030}": ("Logon", 3),
    "{0CCE921B-69AE-11D9-BED3-505054503030}": ("Special Logon", 1),
    "{0CCE923F-69AE-11D9-BED3-505054503030}": ("Credential Validation", 3),
    "{0CCE9228-69AE-11D9-BED3-505054503030}": ("Sensitive Privilege Use", 3),
    "{0CCE9235-69AE-11D9-BED3-505054503030}": ("User Account Management", 3),
    "{0CCE9237-69AE-11D9-BED3-505054503030}": ("Security Group Management", 1),
}
PROTOCOLS_OFF = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1")
WEAK_CIPHERS = re.compile(r"^(RC2|RC4|DES|Triple DES|NULL)\b", re.I)
WEAK_SUITES = re.compile(r"(_RC4_|_DES_|_3DES_|_NULL_|_EXPORT_|_MD5$)")
PLUGINS = re.compile(r"flash player|shockwave|silverlight", re.I)
SECURITY_CATEGORIES = {"Security Updates", "Critical Updates"}
DEFAULT_SECURITY_LOG_BYTES = 192 * 1024 * 1024
DEFAULT_SIGNATURE_AGE_DAYS = 2
DEFAULT_PATCH_HOURS = 48
DEFAULT_PASSWORD_LENGTH = 14


class FactsUnavailable(RuntimeError):
    """The collection could not read what this check needs: an error, never a verdict."""


@lru_cache(maxsize=64)
def parse_collection(stdout: str) -> Facts:
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        raise FactsUnavailable(f"the Windows collection is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise FactsUnavailable("the Windows collection has an unknown schema")
    return data


def windows_facts(host: Any) -> Facts:
    """The host's collection; one remote run per audit (the replay backend answers again)."""
    result = host.run(collect_command())
    if result.rc != 0:
        raise FactsUnavailable(
            f"the Windows collection failed (rc {result.rc}): {str(result.stderr).strip()[:200]}"
        )
    return parse_collection(str(result.stdout))


def section(facts: Facts, name: str) -> Any:
    error = (facts.get("errors") or {}).get(name)
    if error:
        raise FactsUnavailable(f"the host could not read '{name}': {error}")
    if name not in facts or facts[name] is None:
        raise FactsUnavailable(f"the collection has no '{name}' section")
    return facts[name]


def _when(text: str) -> datetime:
    """An ISO 8601 time as PowerShell's ToString('o') writes it (7 fraction digits, Z)."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    value = datetime.fromisoformat(cleaned)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _services(facts: Facts) -> dict[str, dict[str, Any]]:
    return {str(s["Name"]).lower(): s for s in section(facts, "services")}


def _require(hostvars: HostVars, name: str) -> Any:
    value = hostvars.get(name)
    if value in (None, "", []):
        raise LookupError(f"the inventory sets no {name} for this host")
    return value


# --- time sync -------------------------------------------------------------------------------


def ntp_peers(value: str | None) -> list[str]:
    """W32Time's NtpServer value: space-separated peers, each 'name,0xFLAGS'."""
    return [p.split(",")[0].lower() for p in (value or "").split() if p.split(",")[0]]


def judge_ntp_region_servers(facts: Facts, hostvars: HostVars) -> list[str]:
    expected = [str(s).lower() for s in _require(hostvars, "timesync_ntp_servers")]
    time = section(facts, "time")
    peers = ntp_peers(time.get("NtpServer"))
    problems = []
    if str(time.get("Type") or "").upper() != "NTP":
        problems.append(f"W32Time Type is {time.get('Type')!r}, expected 'NTP' (manual peers)")
    foreign = [p for p in peers if p not in expected]
    missing = [s for s in expected if s not in peers]
    if foreign or missing:
        problems.append(
            f"W32Time NtpServer {time.get('NtpServer')!r}: not the region's {foreign}, "
            f"region servers missing {missing} (expected {expected})"
        )
    return problems


def judge_ntp_service_enabled(facts: Facts, hostvars: HostVars) -> list[str]:
    service = _services(facts).get("w32time")
    if service is None:
        return ["service W32Time does not exist"]
    problems = []
    if service.get("StartMode") != "Auto":
        problems.append(f"W32Time start mode is {service.get('StartMode')}, expected Auto")
    if service.get("State") != "Running":
        problems.append(f"W32Time is {service.get('State')}, expected Running")
    return problems


def judge_ntp_source_selected(facts: Facts, hostvars: HostVars) -> list[str]:
    expected = [str(s).lower() for s in _require(hostvars, "timesync_ntp_servers")]
    time = section(facts, "time")
    source = str(time.get("Source") or "").strip()
    name = source.split(",")[0].lower()
    if time.get("SourceRc") not in (0, None) or name not in expected:
        return [f"time source in use (w32tm /query /source): {source!r}; region servers {expected}"]
    return []


# --- patching --------------------------------------------------------------------------------


def judge_win_updates_critical_48h(facts: Facts, hostvars: HostVars) -> list[str]:
    now = _when(str(facts["collected"]))
    limit = timedelta(hours=int(hostvars.get("windows_patch_max_age_hours", DEFAULT_PATCH_HOURS)))
    late = []
    for update in section(facts, "updates"):
        critical = update.get("MsrcSeverity") == "Critical"
        security = bool(SECURITY_CATEGORIES & set(update.get("Categories") or []))
        released = update.get("LastDeploymentChangeTime")
        if not (critical or security) or not released:
            continue
        age = now - _when(str(released))
        if age > limit:
            late.append(
                f"{update.get('Title')} (severity {update.get('MsrcSeverity') or 'n/a'}, "
                f"released {released[:10]}, {age.days} days ago)"
            )
    if late:
        return [f"{len(late)} critical/security update(s) missing past {limit}: " + "; ".join(late)]
    return []


# --- antivirus -------------------------------------------------------------------------------


def judge_win_antivirus_active(facts: Facts, hostvars: HostVars) -> list[str]:
    vendor_services = [str(s).lower() for s in hostvars.get("windows_antivirus_services") or []]
    if vendor_services:  # another vendor's product: its services must run
        services = _services(facts)
        return [
            f"antivirus service {name}: "
            + (
                "missing"
                if name not in services
                else f"{services[name]['State']}/{services[name]['StartMode']}"
            )
            for name in vendor_services
            if name not in services
            or (services[name]["State"], services[name]["StartMode"]) != ("Running", "Auto")
        ]
    defender = section(facts, "defender")
    problems = []
    for key in ("AMServiceEnabled", "AntivirusEnabled", "RealTimeProtectionEnabled"):
        if defender.get(key) is not True:
            problems.append(f"Defender {key} is {defender.get(key)}")
    max_age = int(hostvars.get("windows_av_signature_max_age_days", DEFAULT_SIGNATURE_AGE_DAYS))
    age = defender.get("AntivirusSignatureAge")
    if not isinstance(age, int) or age > max_age:
        problems.append(
            f"Defender signatures are {age} day(s) old (last updated "
            f"{defender.get('AntivirusSignatureLastUpdated')}), at most {max_age} allowed"
        )
    return problems


# --- services --------------------------------------------------------------------------------


def judge_win_spooler_disabled(facts: Facts, hostvars: HostVars) -> list[str]:
    if hostvars.get("windows_print_spooler_required"):
        return []
    spooler = _services(facts).get("spooler")
    if spooler and (spooler.get("StartMode") != "Disabled" or spooler.get("State") != "Stopped"):
        return [
            f"Print Spooler is {spooler.get('State')}/{spooler.get('StartMode')}, expected "
            "Stopped/Disabled (windows_print_spooler_required is not set)"
        ]
    return []


def judge_win_smb1_removed(facts: Facts, hostvars: HostVars) -> list[str]:
    smb = section(facts, "smb")
    problems = []
    if smb.get("EnableSMB1Protocol") is not False:
        problems.append(f"SMB server EnableSMB1Protocol is {smb.get('EnableSMB1Protocol')}")
    if smb.get("FeatureState") not in (
        "Available",
        "Removed",
        "Disabled",
        "DisabledWithPayloadRemoved",
    ):
        problems.append(f"the SMB 1.0 feature is {smb.get('FeatureState')}")
    return problems


BUILTIN_PRIVILEGED = ("localsystem", "nt authority\\system", "system")


def judge_win_app_services_least_privilege(facts: Facts, hostvars: HostVars) -> list[str]:
    wanted = [str(s) for s in hostvars.get("windows_app_services") or []]
    services = _services(facts)
    admins = _admin_names(facts)
    problems = []
    for name in wanted:
        service = services.get(name.lower())
        if service is None:
            problems.append(f"application service {name} does not exist")
            continue
        account = str(service.get("StartName") or "")
        if service.get("StartMode") != "Auto" or service.get("State") != "Running":
            problems.append(
                f"{name} is {service.get('State')}/{service.get('StartMode')}, "
                "expected Running/Auto (a background service)"
            )
        if account.lower() in BUILTIN_PRIVILEGED or account.lower() in admins:
            problems.append(f"{name} runs as {account}, which has administrator rights")
        elif not (
            account.lower().startswith("nt service\\")
            or account.endswith("$")
            or account.lower()
            in {str(a).lower() for a in hostvars.get("windows_service_accounts") or []}
        ):
            problems.append(
                f"{name} runs as {account}: not a virtual (NT SERVICE\\…), managed "
                "(…$) or approved service account (windows_service_accounts)"
            )
    return problems


# --- firewall --------------------------------------------------------------------------------


def judge_firewall_inbound_default_deny(facts: Facts, hostvars: HostVars) -> list[str]:
    firewall = section(facts, "firewall")
    problems = []
    seen = {str(p.get("Name")) for p in firewall.get("Profiles") or []}
    for name in sorted({"Domain", "Private", "Public"} - seen):
        problems.append(f"firewall profile {name} was not reported")
    for profile in firewall.get("Profiles") or []:
        # NotConfigured in the active store means Windows' default: enabled, inbound Block.
        if profile.get("Enabled") not in ("True", "NotConfigured"):
            problems.append(f"firewall profile {profile['Name']} is off")
        if profile.get("DefaultInboundAction") not in ("Block", "NotConfigured"):
            problems.append(
                f"firewall profile {profile['Name']} inbound default is "
                f"{profile.get('DefaultInboundAction')}, expected Block"
            )
    return problems


def _network(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """A rule's RemoteAddress entry as networks; None for keywords such as Any or LocalSubnet."""
    try:
        if "-" in text:
            low, high = (ipaddress.ip_address(p) for p in text.split("-", 1))
            return list(ipaddress.summarize_address_range(low, high))
        return [ipaddress.ip_network(text, strict=False)]
    except ValueError:
        return None


def host_paths(hostvars: HostVars) -> list[dict[str, Any]]:
    names = {"all", str(hostvars.get("inventory_hostname", "")), *hostvars.get("group_names", [])}
    return [
        p for p in hostvars.get("firewall_approved_paths") or [] if p.get("destination") in names
    ]


def approving_path(rule: dict[str, Any], paths: list[dict[str, Any]]) -> str | None:
    """The approved path a rule stays within (origin, protocol, local port), if any."""
    raw = str(rule.get("Protocol"))
    protocol = {"6": "tcp", "17": "udp"}.get(raw, raw.lower())
    ports = [str(p) for p in rule.get("LocalPort") or []]
    parsed = [_network(str(a)) for a in rule.get("RemoteAddress") or []]
    if not parsed or any(n is None for n in parsed):
        return None  # Any, LocalSubnet or another keyword: not one origin
    nets = [net for entry in parsed if entry for net in entry]
    for path in paths:
        source = ipaddress.ip_network(str(path["source"]), strict=False)
        if (
            protocol == str(path["proto"]).lower()
            and ports == [str(path["port"])]
            and all(n.version == source.version and n.subnet_of(source) for n in nets)  # type: ignore[arg-type]
        ):
            return str(path["name"])
    return None


def judge_firewall_approved_paths_only(facts: Facts, hostvars: HostVars) -> list[str]:
    firewall = section(facts, "firewall")
    paths = host_paths(hostvars)
    exceptions = {str(e) for e in hostvars.get("windows_firewall_exceptions") or []}
    stray = []
    for rule in firewall.get("InboundAllowRules") or []:
        if rule.get("Name") in exceptions or approving_path(rule, paths):
            continue
        stray.append(
            f"{rule.get('Name')} ({rule.get('Protocol')} {','.join(rule.get('LocalPort') or [])} "
            f"from {','.join(rule.get('RemoteAddress') or [])})"
        )
    if stray:
        return [
            f"inbound allow rules outside the approved paths "
            f"{[p['name'] for p in paths]}: " + "; ".join(stray)
        ]
    return []


# --- accounts --------------------------------------------------------------------------------


def _admin_names(facts: Facts) -> set[str]:
    return {
        str(m.get("Name")).lower() for m in section(facts, "accounts").get("Administrators") or []
    }


def judge_win_local_admins_approved(facts: Facts, hostvars: HostVars) -> list[str]:
    approved = [str(a).lower() for a in _require(hostvars, "windows_local_admins")]
    members = section(facts, "accounts").get("Administrators") or []
    stray, present = [], set()
    for member in members:
        name = str(member.get("Name"))
        short = name.split("\\")[-1].lower()
        local = member.get("PrincipalSource") == "Local"
        match = (
            name.lower()
            if name.lower() in approved
            else short
            if local and short in approved
            else None
        )
        if match is None:
            stray.append(f"{name} ({member.get('SID')})")
        else:
            present.add(match)
    missing = [a for a in approved if a not in present]
    if stray or missing:
        return [
            f"local Administrators members not approved: {', '.join(stray) or 'none'}; "
            f"approved but absent: {', '.join(missing) or 'none'}"
        ]
    return []


def _users_by_rid(facts: Facts) -> dict[str, dict[str, Any]]:
    return {
        str(u["SID"]).rsplit("-", 1)[-1]: u for u in section(facts, "accounts").get("Users") or []
    }


def judge_win_builtin_accounts(facts: Facts, hostvars: HostVars) -> list[str]:
    users = _users_by_rid(facts)
    problems = []
    guest = users.get("501")
    if guest and guest.get("Enabled"):
        problems.append(f"the built-in Guest account ({guest['Name']}) is enabled")
    admin = users.get("500")
    baseline = str(hostvars.get("windows_builtin_administrator", "disabled"))
    if admin:
        if baseline == "disabled" and admin.get("Enabled"):
            problems.append(
                f"the built-in Administrator ({admin['Name']}) is enabled; the "
                "baseline (windows_builtin_administrator) says disabled"
            )
        if baseline == "renamed" and str(admin.get("Name")).lower() == "administrator":
            problems.append("the built-in Administrator still has its default name")
    return problems


def judge_win_password_policy(facts: Facts, hostvars: HostVars) -> list[str]:
    policy = section(facts, "accounts").get("SystemAccess") or {}
    minimum = int(hostvars.get("windows_password_min_length", DEFAULT_PASSWORD_LENGTH))
    problems = []
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < minimum:
        problems.append(f"MinimumPasswordLength is {length}, at least {minimum} required")
    if str(policy.get("PasswordComplexity")) != "1":
        problems.append(f"PasswordComplexity is {policy.get('PasswordComplexity')}, expected 1")
    if str(policy.get("ClearTextPassword", "0")) != "0":
        problems.append("passwords are stored with reversible encryption (ClearTextPassword)")
    lockout = int(policy.get("LockoutBadCount") or 0)
    if not 1 <= lockout <= 10:
        problems.append(f"LockoutBadCount is {lockout}, expected 1-10")
    return problems


def judge_win_no_blank_passwords(facts: Facts, hostvars: HostVars) -> list[str]:
    accounts = section(facts, "accounts")
    problems = []
    if accounts.get("LimitBlankPasswordUse") != 1:
        problems.append(
            f"LimitBlankPasswordUse is {accounts.get('LimitBlankPasswordUse')}, expected 1"
        )
    lax = [
        u["Name"]
        for u in accounts.get("Users") or []
        if u.get("Enabled") and u.get("PasswordRequired") is False
    ]
    if lax:
        problems.append(
            f"enabled accounts that may have a blank password (PasswordRequired False): {lax}"
        )
    return problems


# --- remote access ---------------------------------------------------------------------------


def _rdp(facts: Facts, name: str) -> Any:
    rdp = section(facts, "rdp")
    policy = (rdp.get("Policies") or {}).get(name)
    return policy if policy is not None else (rdp.get("RdpTcp") or {}).get(name)


def judge_win_rdp_nla_tls(facts: Facts, hostvars: HostVars) -> list[str]:
    rdp = section(facts, "rdp")
    deny = (rdp.get("Policies") or {}).get("fDenyTSConnections")
    deny = deny if deny is not None else (rdp.get("Local") or {}).get("fDenyTSConnections")
    if deny == 1:
        return []  # RDP is off: nothing to protect
    problems = []
    if _rdp(facts, "UserAuthentication") != 1:
        problems.append(
            f"RDP UserAuthentication (NLA) is {_rdp(facts, 'UserAuthentication')}, expected 1"
        )
    if _rdp(facts, "SecurityLayer") != 2:
        problems.append(f"RDP SecurityLayer is {_rdp(facts, 'SecurityLayer')}, expected 2 (TLS)")
    return problems


def judge_win_rdp_idle_limit(facts: Facts, hostvars: HostVars) -> list[str]:
    limit_ms = int(hostvars.get("session_lock_tmout", 900)) * 1000
    idle = (section(facts, "rdp").get("Policies") or {}).get("MaxIdleTime")
    if not isinstance(idle, int) or idle == 0 or idle > limit_ms:
        return [
            f"RDP idle session limit (MaxIdleTime) is {idle} ms, at most {limit_ms} ms required"
        ]
    return []


def judge_win_winrm_https_only(facts: Facts, hostvars: HostVars) -> list[str]:
    winrm = section(facts, "winrm")
    listeners = winrm.get("Listeners") or []
    problems = []
    if not any(
        str(x.get("Transport")).upper() == "HTTPS" and x.get("CertificateThumbprint")
        for x in listeners
    ):
        problems.append(
            f"no HTTPS listener with a certificate (listeners: "
            f"{[(x.get('Transport'), x.get('Port')) for x in listeners]})"
        )
    if str(winrm.get("AllowUnencrypted")).lower() != "false":
        problems.append(f"WinRM AllowUnencrypted is {winrm.get('AllowUnencrypted')}")
    http = any(str(x.get("Transport")).upper() == "HTTP" for x in listeners)
    if http and str(winrm.get("BasicAuth")).lower() != "false":
        problems.append("Basic authentication is on while an HTTP listener exists")
    return problems


# --- crypto ----------------------------------------------------------------------------------


def judge_win_schannel_protocols(facts: Facts, hostvars: HostVars) -> list[str]:
    protocols = section(facts, "schannel").get("Protocols") or {}
    problems = []
    for name in PROTOCOLS_OFF:
        for side in ("Server", "Client"):
            value = protocols.get(f"{name}/{side}") or {}
            if value.get("Enabled") != 0:
                problems.append(f"{name} {side} is not disabled (Enabled={value.get('Enabled')})")
    tls12 = protocols.get("TLS 1.2/Server") or {}
    if tls12.get("Enabled") == 0 or tls12.get("DisabledByDefault") == 1:
        problems.append(f"TLS 1.2 Server is disabled ({tls12})")
    return problems


def judge_win_schannel_ciphers(facts: Facts, hostvars: HostVars) -> list[str]:
    schannel = section(facts, "schannel")
    ciphers = schannel.get("Ciphers") or {}
    problems = [
        f"weak cipher {name} is not disabled (Enabled={value})"
        for name, value in sorted(ciphers.items())
        if WEAK_CIPHERS.match(name) and value != 0
    ]
    for name in ("RC4 128/128", "DES 56/56", "Triple DES 168", "NULL"):
        if name not in ciphers:
            problems.append(f"cipher {name} has no SCHANNEL key (Enabled=0 required)")
    weak_suites = [s for s in schannel.get("CipherSuites") or [] if WEAK_SUITES.search(s)]
    if weak_suites:
        problems.append(f"weak TLS cipher suites enabled: {weak_suites}")
    return problems


# --- logging ---------------------------------------------------------------------------------


def judge_win_audit_policy(facts: Facts, hostvars: HostVars) -> list[str]:
    audit = section(facts, "audit")
    settings = {
        str(r["SubcategoryGuid"]).upper(): int(r.get("SettingValue") or 0)
        for r in audit.get("Subcategories") or []
    }
    problems = []
    for guid, (name, bits) in AUDIT_REQUIRED.items():
        have = settings.get(guid, 0)
        if have & bits != bits:
            want = {1: "success", 2: "failure", 3: "success and failure"}[bits]
            problems.append(f"{name} audits {have} (bits), needs {want}")
    if audit.get("SCENoApplyLegacyAuditPolicy") != 1:
        problems.append("SCENoApplyLegacyAuditPolicy is not 1: legacy categories may override")
    return problems


def judge_win_security_log_size(facts: Facts, hostvars: HostVars) -> list[str]:
    log = section(facts, "eventlog")
    minimum = int(hostvars.get("windows_security_log_min_bytes", DEFAULT_SECURITY_LOG_BYTES))
    size = int(log.get("SecurityMaximumSizeInBytes") or 0)
    problems = []
    if size < minimum:
        problems.append(f"Security log maximum size is {size} bytes, at least {minimum} required")
    if log.get("SecurityIsEnabled") is not True:
        problems.append("the Security log is disabled")
    return problems


def judge_win_event_forwarding(facts: Facts, hostvars: HostVars) -> list[str]:
    collector = str(_require(hostvars, "logging_central_host")).lower()
    log = section(facts, "eventlog")
    managers = [str(m) for m in log.get("SubscriptionManagers") or []]
    problems = []
    if not any(
        f"server=http://{collector}:" in m.lower() or f"server=https://{collector}:" in m.lower()
        for m in managers
    ):
        problems.append(
            f"no subscription manager points at the collector {collector} (found {managers})"
        )
    if NETWORK_SERVICE_SID not in (log.get("EventLogReaders") or []):
        problems.append(
            "NETWORK SERVICE is not in Event Log Readers: the Security log cannot be forwarded"
        )
    winrm = _services(facts).get("winrm")
    if not winrm or (winrm.get("State"), winrm.get("StartMode")) != ("Running", "Auto"):
        problems.append("WinRM (which forwards events) is not running/automatic")
    return problems


# --- session lock, plug-ins, platform --------------------------------------------------------


def judge_win_session_lock(facts: Facts, hostvars: HostVars) -> list[str]:
    limit = int(hostvars.get("session_lock_tmout", 900))
    value = section(facts, "session").get("InactivityTimeoutSecs")
    if not isinstance(value, int) or value == 0 or value > limit:
        return [f"machine inactivity limit (InactivityTimeoutSecs) is {value}, at most {limit} s"]
    return []


def judge_win_browser_plugins_absent(facts: Facts, hostvars: HostVars) -> list[str]:
    software = section(facts, "software")
    found = [
        f"{s['DisplayName']} {s.get('DisplayVersion') or ''}".strip()
        for s in software.get("Installed") or []
        if PLUGINS.search(str(s.get("DisplayName")))
    ]
    found += [f"files at {p}" for p in software.get("PluginPaths") or []]
    return [f"browser plug-ins present: {found}"] if found else []


def judge_win_os_supported(facts: Facts, hostvars: HostVars) -> list[str]:
    os_ = section(facts, "os")
    support = {
        str(k): tuple(v) for k, v in (hostvars.get("windows_os_support") or OS_SUPPORT).items()
    }
    build = str(os_.get("BuildNumber"))
    label = f"{os_.get('Caption')} build {build}.{os_.get('UBR')}"
    if build not in support:
        return [
            f"{label} is not a supported Windows Server version (supported builds: "
            f"{', '.join(f'{b} {n}' for b, (n, _) in sorted(support.items()))})"
        ]
    name, end = support[build]
    if _when(str(facts["collected"])) > _when(f"{end}T00:00:00Z"):
        return [f"{label} ({name}) left Microsoft's extended support on {end}"]
    if os_.get("ProductType") not in (2, 3):
        return [f"{label} is not a server product (ProductType {os_.get('ProductType')})"]
    return []


# --- backup agent ----------------------------------------------------------------------------

# backup_agent -> its Windows services, as patterns matched in full (case-insensitive) against a
# service's name or display name: Commvault names its services per instance, IBM Storage
# Protect's setup wizard names them (backup_windows_services replaces the list). Sources: each
# vendor's Windows client documentation. roles/backup/vars/Windows.yml holds the same patterns.
BACKUP_AGENT_SERVICES: dict[str, tuple[str, ...]] = {
    "veeam": ("VeeamEndpointBackupSvc", "Veeam Agent for Microsoft Windows Service"),
    "commvault": (r"GxCVD\(Instance\d+\)", r"GxClMgrS\(Instance\d+\)"),
    "spectrum_protect": ("TSM Client Acceptor", "TSM Client Scheduler"),
    "netbackup": ("bpinetd", "NetBackup Client Service", "VRTSpbx"),
    "rubrik": ("Rubrik Backup Service",),
    "cohesity": ("CohesityAgent", "Cohesity Agent"),
    "bareos": ("Bareos-fd",),
    "bacula": ("Bacula-fd",),
}


def backup_applies(hostvars: HostVars) -> bool:
    """backup_required in the inventory, as YAML or as a string (as tests/test_backup.py)."""
    return str(hostvars.get("backup_required", False)).strip().lower() in ("true", "yes", "1")


def backup_service_patterns(hostvars: HostVars) -> tuple[str, list[str]]:
    """The product's name and its service patterns; an unknown product is a LookupError."""
    agent = str(hostvars.get("backup_agent") or "")
    if agent not in BACKUP_AGENT_SERVICES:
        raise LookupError(
            f"backup_required is true but backup_agent {agent!r} is not one of "
            f"{sorted(BACKUP_AGENT_SERVICES)}"
        )
    named = [re.escape(str(s)) for s in hostvars.get("backup_windows_services") or []]
    return agent, named or list(BACKUP_AGENT_SERVICES[agent])


def judge_backup_agent_running(facts: Facts, hostvars: HostVars) -> list[str]:
    """At least one of the agent's services exists, and every one that exists is Running/Auto.
    Only for hosts where backup_applies(hostvars); the check skips the others."""
    agent, patterns = backup_service_patterns(hostvars)
    wanted = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    found = [
        s
        for s in section(facts, "services")
        if wanted.fullmatch(str(s.get("Name") or ""))
        or wanted.fullmatch(str(s.get("DisplayName") or ""))
    ]
    if not found:
        return [f"the {agent} backup agent is not installed: no service matches {patterns}"]
    return [
        f"{agent} backup agent service {s.get('Name')} is {s.get('State')}/{s.get('StartMode')}, "
        "expected Running/Auto"
        for s in found
        if (s.get("State"), s.get("StartMode")) != ("Running", "Auto")
    ]


# --- Swedish character set -------------------------------------------------------------------

# The Swedish alphabet's letters beyond ASCII, and é (in Swedish names: André, Lindén).
SWEDISH_LETTERS = "åäöÅÄÖéÉ"
LOCALE_CODE_PAGES = {
    "SystemLocaleAnsiCodePage": "the system locale's ANSI code page",
    "SystemLocaleOemCodePage": "the system locale's OEM code page",
    "AnsiCodePage": "the configured ANSI code page (Nls\\CodePage ACP)",
    "OemCodePage": "the configured OEM code page (Nls\\CodePage OEMCP)",
    "ActiveAnsiCodePage": "the ANSI code page in effect",
}


def holds_swedish(code_page: int) -> bool:
    """Whether a Windows code page encodes every Swedish letter (65001 is UTF-8). A code page
    Python has no codec for is a LookupError: not a verdict."""
    codec = "utf-8" if code_page == 65001 else f"cp{code_page}"
    try:
        SWEDISH_LETTERS.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def judge_win_system_locale_swedish(facts: Facts, hostvars: HostVars) -> list[str]:
    locale = section(facts, "locale")
    problems = []
    for key, what in LOCALE_CODE_PAGES.items():
        try:
            code_page = int(str(locale.get(key)))
        except ValueError as exc:
            raise FactsUnavailable(f"the collection has no {what} ({key})") from exc
        if not holds_swedish(code_page):
            problems.append(f"{what} is {code_page}")
    if problems:
        return [
            f"system locale {locale.get('SystemLocale')}: {'; '.join(problems)}: cannot "
            f"represent the Swedish letters {SWEDISH_LETTERS} for non-Unicode programs"
        ]
    return []


# --- VPN, tunnel and remote-control software -------------------------------------------------

# Products that open a path around the region's VPN: VPN clients and servers, tunnels, remote
# control. Each pattern is searched (case-insensitive) in installed programs' names, services'
# names, display names and binaries, and running processes' names and paths. The region's own
# VPN client is allowed by key (windows_remote_software_allowed). The patterns use only syntax
# .NET and Python regexes share: roles/windows/vars/main.yml holds the same table.
REMOTE_SOFTWARE: dict[str, str] = {
    "openvpn": r"openvpn|ovpnconnect",
    "wireguard": r"wireguard",
    "tailscale": r"tailscale",
    "zerotier": r"zerotier",
    "ngrok": r"\bngrok\b",
    "cloudflared": r"cloudflared|cloudflare warp",
    "hamachi": r"hamachi",
    "softether": r"softether|\bsevpn",
    "nordvpn": r"nordvpn",
    "expressvpn": r"expressvpn",
    "protonvpn": r"proton ?vpn",
    "mullvad": r"mullvad",
    "cisco_secure_client": r"anyconnect|cisco secure client",
    "globalprotect": r"globalprotect|\bpangp",
    "forticlient": r"forticlient",
    "ivanti_secure_access": r"pulse secure|ivanti secure access",
    "checkpoint_vpn": r"check point.*vpn",
    "teamviewer": r"teamviewer",
    "anydesk": r"anydesk",
    "rustdesk": r"rustdesk",
    "splashtop": r"splashtop",
    "logmein": r"\blogmein\b(?! hamachi)",
    "screenconnect": r"screenconnect|connectwise control",
    "chrome_remote_desktop": r"chrome remote desktop|chromoting",
    "vnc": r"vnc|tvnserver",
    "radmin": r"radmin|\brserver3\b",
}
# Windows' own VPN server: Routing and Remote Access, judged by its service running.
RRAS_SERVICE = "remoteaccess"


def remote_software_allowed(hostvars: HostVars) -> set[str]:
    allowed = {str(k) for k in hostvars.get("windows_remote_software_allowed") or []}
    unknown = sorted(allowed - set(REMOTE_SOFTWARE) - {"rras"})
    if unknown:
        raise LookupError(
            f"windows_remote_software_allowed names unknown products {unknown}; known: "
            f"{sorted([*REMOTE_SOFTWARE, 'rras'])}"
        )
    return allowed


def _remote_product(text: str, allowed: set[str]) -> str | None:
    for key, pattern in REMOTE_SOFTWARE.items():
        if key not in allowed and re.search(pattern, text, re.I):
            return key
    return None


def judge_win_unapproved_remote_software_absent(facts: Facts, hostvars: HostVars) -> list[str]:
    allowed = remote_software_allowed(hostvars)
    found: dict[str, list[str]] = {}
    for program in section(facts, "software").get("Installed") or []:
        name = str(program.get("DisplayName") or "")
        if key := _remote_product(name, allowed):
            found.setdefault(key, []).append(
                f"installed {name} {program.get('DisplayVersion') or ''}".strip()
            )
    services = section(facts, "services")
    for service in services:
        text = " ".join(str(service.get(k) or "") for k in ("Name", "DisplayName", "PathName"))
        if key := _remote_product(text, allowed):
            found.setdefault(key, []).append(
                f"service {service.get('Name')} ({service.get('State')})"
            )
    for process in section(facts, "processes"):
        text = f"{process.get('Name') or ''} {process.get('ExecutablePath') or ''}"
        if key := _remote_product(text, allowed):
            found.setdefault(key, []).append(
                f"process {process.get('Name')} ({process.get('ExecutablePath')})"
            )
    rras = next((s for s in services if str(s.get("Name")).lower() == RRAS_SERVICE), None)
    if "rras" not in allowed and rras and rras.get("State") == "Running":
        found["rras"] = ["service RemoteAccess (Routing and Remote Access) is Running"]
    if not found:
        return []
    return [
        f"unapproved VPN, tunnel or remote-control software ({key}): " + ", ".join(evidence)
        for key, evidence in sorted(found.items())
    ] + [f"approved here (windows_remote_software_allowed): {sorted(allowed) or 'none'}"]


# --- certificates (crypto_certificates_valid; judged as on Linux, tests/certificates.py) ------


def store_cert_facts(entry: dict[str, Any]) -> Any:
    """One collect.ps1 ``certificates`` item -> certificates.CertFacts. Windows built and
    verified the chain: element 1 is the issuing CA (absent for a self-signed or a partial chain).
    Source: X509Certificate2 and X509Chain, Microsoft Learn (.NET API reference)."""
    from . import certificates as certs

    chain = entry.get("Chain") or []
    status = [str(s) for s in entry.get("ChainStatus") or []]
    issuer = None
    if len(chain) > 1 and "PartialChain" not in status and "NotSignatureValid" not in status:
        issuer = certs.Issuer(str(chain[1]["Subject"]), str(chain[1]["Sha256"]).lower())
    algorithm = str(entry.get("SignatureAlgorithm") or "").lower()
    hash_name = re.match(r"(md5|sha1|sha256|sha384|sha512)", algorithm)
    key_kind = str(entry.get("KeyAlgorithm") or "")
    return certs.CertFacts(
        name=f"Cert:\\LocalMachine\\My\\{entry.get('Thumbprint')}",
        subject=str(entry.get("Subject") or ""),
        not_before=_when(str(entry["NotBefore"])),
        not_after=_when(str(entry["NotAfter"])),
        key_type={"ECC": "EC"}.get(key_kind, key_kind),
        key_bits=int(entry.get("KeySize") or 0),
        signature_hash=hash_name.group(1) if hash_name else None,
        issuer_name=str(entry.get("Issuer") or ""),
        issuer=issuer,
        revoked="Revoked" in status,
    )


def judge_crypto_certificates_valid(facts: Facts, hostvars: HostVars) -> list[str]:
    from . import certificates as certs

    wanted = _require(hostvars, "crypto_certificates")
    prints, subjects = certs.approved_cas(hostvars)
    days = certs.min_days(hostvars)
    store = section(facts, "certificates")
    now = _when(str(facts["collected"]))
    problems = []
    for want in wanted:
        thumbprint = str(want.get("thumbprint") or "").replace(" ", "").upper()
        subject = str(want.get("subject") or "")
        if not thumbprint and not subject:
            raise LookupError("crypto_certificates entries need a thumbprint or a subject here")
        matches = [
            c
            for c in store
            if (thumbprint and str(c.get("Thumbprint")).upper() == thumbprint)
            or (
                not thumbprint
                and certs.normalize_dn(str(c.get("Subject"))) == certs.normalize_dn(subject)
            )
        ]
        if not matches:
            problems.append(f"certificate {thumbprint or subject} is not in LocalMachine\\My")
            continue
        newest = max(matches, key=lambda c: _when(str(c["NotAfter"])))
        problems += certs.problems(store_cert_facts(newest), now, days, prints, subjects)
    return problems


JUDGES = {
    name.removeprefix("judge_"): fn for name, fn in globals().items() if name.startswith("judge_")
}
