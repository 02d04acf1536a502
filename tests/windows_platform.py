"""The Windows platform: a supported Server version, a system locale for Swedish.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_platform.py.
"""

from __future__ import annotations

from .windows_facts import Facts, FactsUnavailable, HostVars, section, when

# Windows Server builds that are the current or the previous version (SKA-SRV-01), with the end
# of Microsoft's extended support (SKA-SRV-02, RST-9.5.1). Sources: Microsoft Lifecycle pages
# "Windows Server 2022" and "Windows Server 2025". A region overrides with windows_os_support.
OS_SUPPORT = {
    "20348": ("Windows Server 2022", "2031-10-14"),
    "26100": ("Windows Server 2025", "2034-11-14"),
}


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
    if when(str(facts["collected"])) > when(f"{end}T00:00:00Z"):
        return [f"{label} ({name}) left Microsoft's extended support on {end}"]
    if os_.get("ProductType") not in (2, 3):
        return [f"{label} is not a server product (ProductType {os_.get('ProductType')})"]
    return []


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
