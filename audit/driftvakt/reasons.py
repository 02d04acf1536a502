"""A result's reason in the reader's language: a catalog of reason patterns with parameters.

The checks write their reasons in English (``tests/*.py``, the engine's own messages); this
reads a reason back into its pattern and parameters and writes it again from the Swedish (or
English) template. Parameters are observed values (names, paths, lists, command output): they
are evidence and stay verbatim. A parameter marked as prose (``PROSE``) is itself a reason of
the catalog (``check could not run (...): <reason>``) and is rendered in turn. A reason no
pattern matches is shown as written; ``audit/tests/test_reasons.py`` lists which reasons of a
real run are not covered yet.
"""

# ruff: noqa: E501 -- the catalog is a table: each pattern and text whole on its line, greppable

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PROSE = "prose"  # a parameter that is a reason of its own, rendered through the catalog


@dataclass(frozen=True)
class Reason:
    key: str
    pattern: re.Pattern[str]
    text: dict[str, str]  # language -> template with {parameter}s
    prose: tuple[str, ...] = ()  # parameters rendered through the catalog

    def params(self) -> tuple[str, ...]:
        return tuple(self.pattern.groupindex)


def _r(key: str, pattern: str, en: str, sv: str, prose: tuple[str, ...] = ()) -> Reason:
    return Reason(key, re.compile(pattern + r"\Z", re.S), {"en": en, "sv": sv}, prose)


# Most specific first: the first pattern that matches the whole reason wins.
CATALOG: tuple[Reason, ...] = (
    # -- the engine: applicability, errors, waivers -------------------------------------------
    _r("na_windows_check", r"not applicable: a Windows check, and (?P<host>\S+) is not a Windows host",
       "not applicable: a Windows check, and {host} is not a Windows host",
       "ej tillämplig: en Windows-kontroll, och {host} är ingen Windows-värd"),
    _r("na_linux_check_windows_host", r"not applicable: a Linux check, and (?P<host>\S+) is a Windows host",
       "not applicable: a Linux check, and {host} is a Windows host",
       "ej tillämplig: en Linux-kontroll, och {host} är en Windows-värd"),
    _r("na_checked_on_linux", r"not applicable: (?P<what>.+?) (?:is )?checked on Linux(?: here)?, this is (?P<system>\S+)",
       "not applicable: {what} checked on Linux, this is {system}",
       "ej tillämplig: {what} granskas på Linux, detta är {system}"),
    _r("na_linux_check_system", r"not applicable: a Linux check, this is (?P<system>\S+)",
       "not applicable: a Linux check, this is {system}",
       "ej tillämplig: en Linux-kontroll, detta är {system}"),
    _r("na_var_not_true", r"not applicable: (?P<var>\w+) is not true for this host in the inventory",
       "not applicable: {var} is not true for this host in the inventory",
       "ej tillämplig: {var} är inte satt till true för värden i inventariet"),
    _r("na_inventory_names_no", r"not applicable: the inventory names no (?P<what>.+)",
       "not applicable: the inventory names no {what}",
       "ej tillämplig: inventariet anger inga {what}"),
    _r("na_inventory_declares_no", r"not applicable: the inventory declares no (?P<var>\S+)",
       "not applicable: the inventory declares no {var}",
       "ej tillämplig: inventariet deklarerar inga {var}"),
    _r("na_not_installed", r"not applicable: (?P<what>\S+) is not installed",
       "not applicable: {what} is not installed",
       "ej tillämplig: {what} är inte installerat"),
    _r("check_could_not_run", r"check could not run \((?P<kind>\w+)\): (?P<detail>.*)",
       "check could not run ({kind}): {detail}",
       "kontrollen kunde inte köras ({kind}): {detail}", ("detail",)),
    _r("command_not_found", r"command not found on (?P<host>\S+): (?P<output>.*)",
       "command not found on {host}: {output}",
       "kommandot finns inte på {host}: {output}"),
    _r("command_failed", r"command failed on the host: (?P<command>`.*`) exited (?P<rc>-?\d+)(?P<rest>.*)",
       "command failed on the host: {command} exited {rc}{rest}",
       "kommandot misslyckades på värden: {command} avslutades med {rc}{rest}"),
    _r("inventory_sets_no", r"the inventory sets no (?P<var>\S+) for this host",
       "the inventory sets no {var} for this host",
       "inventariet anger ingen {var} för värden"),
    _r("waived", r"waived until (?P<date>\d{4}-\d{2}-\d{2}) \((?P<analysis>.*?), approved by (?P<approver>.*?)\): (?P<why>.*)",
       "waived until {date} ({analysis}, approved by {approver}): {why}",
       "undantagen till {date} ({analysis}, godkänt av {approver}): {why}"),
    _r("waiver_expired", r"(?P<reason>.*) \[waiver (?P<source>\S+) expired on (?P<date>\d{4}-\d{2}-\d{2})\]",
       "{reason} [waiver {source} expired on {date}]",
       "{reason} [undantaget {source} upphörde {date}]", ("reason",)),
    # -- the transports (transport/ssh.py, batch.py): a host that could not be read ----------
    _r("unreachable_no_banner", r"(?P<host>\S+): unreachable at (?P<address>\S+): something accepts the connection but sends no SSH banner within (?P<seconds>\d+)s \(is sshd on this port\?\)",
       "{host}: unreachable at {address}: something accepts the connection but sends no SSH banner within {seconds}s (is sshd on this port?)",
       "{host}: nås inte på {address}: något tar emot anslutningen men skickar ingen SSH-banner inom {seconds} s (kör sshd på den porten?)"),
    _r("unreachable_refused", r"(?P<host>\S+): unreachable at (?P<address>\S+): nothing accepts SSH there \(connection refused\): is sshd up\?",
       "{host}: unreachable at {address}: nothing accepts SSH there (connection refused): is sshd up?",
       "{host}: nås inte på {address}: inget tar emot SSH där (anslutningen nekades): är sshd igång?"),
    _r("unreachable_no_answer", r"(?P<host>\S+): no answer from (?P<address>\S+) within (?P<seconds>\d+)s",
       "{host}: no answer from {address} within {seconds}s",
       "{host}: inget svar från {address} inom {seconds} s"),
    _r("unreachable_os", r"(?P<host>\S+): unreachable at (?P<address>\S+) \((?P<error>.*)\)",
       "{host}: unreachable at {address} ({error})",
       "{host}: nås inte på {address} ({error})"),
    _r("connection_lost", r"(?P<host>\S+): connection lost during the audit \((?P<detail>.*)\)",
       "{host}: connection lost during the audit ({detail})",
       "{host}: anslutningen bröts under granskningen ({detail})", ("detail",)),
    _r("batch_stopped", r"the batch stopped after (?P<done>\d+) of (?P<total>\d+) commands",
       "the batch stopped after {done} of {total} commands",
       "körningen avbröts efter {done} av {total} kommandon"),
    _r("batch_malformed", r"malformed result line: (?P<line>.*)",
       "malformed result line: {line}",
       "felaktig resultatrad: {line}"),
    _r("host_key_changed", r"host key of (?P<host>\S+) \((?P<address>\S+)\) has CHANGED since it was recorded in (?P<file>\S+): possible man-in-the-middle\. Verify the new key out of band before replacing it; nothing was audited",
       "host key of {host} ({address}) has CHANGED since it was recorded in {file}: possible man-in-the-middle. Verify the new key out of band before replacing it; nothing was audited",
       "värdnyckeln för {host} ({address}) har ÄNDRATS sedan den sparades i {file}: möjlig mellanhandsattack. Kontrollera den nya nyckeln via en annan kanal innan den ersätts; inget granskades"),
    _r("auth_failed", r"authentication failed for (?P<login>\S+): check ansible_user and the private key for (?P<host>\S+)",
       "authentication failed for {login}: check ansible_user and the private key for {host}",
       "inloggningen misslyckades för {login}: kontrollera ansible_user och den privata nyckeln för {host}"),
    # -- the checks (tests/*.py), by concern ---------------------------------------------------
    _r("service_not_installed", r"(?P<name>\S+) is not installed: none of its services exists \((?P<services>.*)\)",
       "{name} is not installed: none of its services exists ({services})",
       "{name} är inte installerat: ingen av dess tjänster finns ({services})"),
    _r("clamav_no_database", r"no ClamAV signature database in (?P<path>\S+)",
       "no ClamAV signature database in {path}",
       "ingen signaturdatabas för ClamAV i {path}"),
    _r("aide_not_installed", r"AIDE is not installed \(no aide command\)",
       "AIDE is not installed (no aide command)",
       "AIDE är inte installerat (inget aide-kommando)"),
    _r("aide_no_timer", r"no AIDE check timer is enabled and active: (?P<timers>.*)",
       "no AIDE check timer is enabled and active: {timers}",
       "ingen timer för AIDE-kontrollen är aktiverad och aktiv: {timers}"),
    _r("auditd_not_installed", r"auditd is not installed \(no auditctl\)",
       "auditd is not installed (no auditctl)",
       "auditd är inte installerat (ingen auditctl)"),
    _r("listeners_unapproved", r"unapproved listeners: (?P<listeners>.*) \(approved: (?P<approved>.*), loopback allowed: (?P<loopback>\w+)\)",
       "unapproved listeners: {listeners} (approved: {approved}, loopback allowed: {loopback})",
       "ej godkända lyssnande portar: {listeners} (godkända: {approved}, loopback tillåten: {loopback})"),
    _r("modules_not_blocked_loaded", r"protocol modules not blocked in (?P<dirs>.*?): (?P<modules>\[.*\]); loaded \((?P<kernel>.*?); in a container, the machine's kernel\): (?P<running>.*)",
       "protocol modules not blocked in {dirs}: {modules}; loaded ({kernel}; in a container, the machine's kernel): {running}",
       "protokollmoduler inte blockerade i {dirs}: {modules}; laddade ({kernel}; i en container maskinens kärna): {running}"),
    _r("modules_not_blocked", r"protocol modules not blocked in (?P<dirs>.*?): (?P<modules>\[.*)",
       "protocol modules not blocked in {dirs}: {modules}",
       "protokollmoduler inte blockerade i {dirs}: {modules}"),
    _r("updates_release_unknown", r"cannot tell whether these critical security updates are within 48 h of release: (?P<updates>.*)",
       "cannot tell whether these critical security updates are within 48 h of release: {updates}",
       "kan inte avgöra om dessa kritiska säkerhetsuppdateringar är inom 48 h från release: {updates}"),
    _r("admins_not_approved", r"administrators not in (?P<var>\w+) (?P<approved>\[.*?\]): (?P<admins>.*)",
       "administrators not in {var} {approved}: {admins}",
       "administratörer som inte finns i {var} {approved}: {admins}"),
    _r("empty_password", r"accounts with an empty password field \(log in without a password\): (?P<accounts>.*)",
       "accounts with an empty password field (log in without a password): {accounts}",
       "konton med tomt lösenordsfält (inloggning utan lösenord): {accounts}"),
    _r("default_passwords", r"accounts whose password is one of (?P<count>\d+) known default passwords: (?P<accounts>.*)",
       "accounts whose password is one of {count} known default passwords: {accounts}",
       "konton vars lösenord är ett av {count} kända standardlösenord: {accounts}"),
    _r("hashes_untestable", r"password hashes this host cannot test \(scheme\): (?P<hashes>.*)",
       "password hashes this host cannot test (scheme): {hashes}",
       "lösenordshashar som värden inte kan testa (schema): {hashes}"),
    _r("sudo_nopasswd_people", r"sudo rules without a password for people \(automation accounts: (?P<automation>.*?)\): (?P<rules>.*)",
       "sudo rules without a password for people (automation accounts: {automation}): {rules}",
       "sudo-regler utan lösenord för personer (automationskonton: {automation}): {rules}"),
    _r("clock_unreadable", r"cannot read the host's clock: (?P<output>.*)",
       "cannot read the host's clock: {output}",
       "kan inte läsa värdens klocka: {output}"),
    _r("chrony_stray", r"chronyd uses sources that are not the region's: (?P<stray>.*?) \(all: (?P<all>.*); region servers (?P<expected>.*?) = (?P<allowed>.*)\)",
       "chronyd uses sources that are not the region's: {stray} (all: {all}; region servers {expected} = {allowed})",
       "chronyd använder källor som inte är regionens: {stray} (alla: {all}; regionens servrar {expected} = {allowed})"),
    _r("ntp_configured", r"configured sources (?P<found>.*?); not the region's: (?P<foreign>.*?); region servers missing: (?P<missing>.*?); region servers: (?P<expected>.*)",
       "configured sources {found}; not the region's: {foreign}; region servers missing: {missing}; region servers: {expected}",
       "konfigurerade källor {found}; inte regionens: {foreign}; regionens servrar som saknas: {missing}; regionens servrar: {expected}"),
    _r("updates_overdue", r"critical security updates missing more than (?P<hours>\S+) h after release: (?P<updates>.*)",
       "critical security updates missing more than {hours} h after release: {updates}",
       "kritiska säkerhetsuppdateringar saknas mer än {hours} h efter release: {updates}"),
    _r("audit_rules_persistent", r"the persistent audit rules \((?P<files>.*?)\) do not record: (?P<missing>.*)",
       "the persistent audit rules ({files}) do not record: {missing}",
       "de beständiga granskningsreglerna ({files}) registrerar inte: {missing}"),
    _r("audit_rules_loaded", r"the rules loaded in the kernel do not record: (?P<missing>.*)",
       "the rules loaded in the kernel do not record: {missing}",
       "reglerna som är laddade i kärnan registrerar inte: {missing}"),
    _r("forbidden_packages", r"forbidden packages installed: (?P<packages>.*)",
       "forbidden packages installed: {packages}",
       "förbjudna paket är installerade: {packages}"),
    _r("log_forwards_foreign", r"forwards to hosts other than (?P<central>\S+): (?P<foreign>.*); all: (?P<all>.*)",
       "forwards to hosts other than {central}: {foreign}; all: {all}",
       "vidarebefordrar till andra värdar än {central}: {foreign}; alla: {all}"),
    _r("sshd_crypto", r"sshd -T allows algorithms outside NIST SP 800-131A: (?P<problems>.*)",
       "sshd -T allows algorithms outside NIST SP 800-131A: {problems}",
       "sshd -T tillåter algoritmer utanför NIST SP 800-131A: {problems}"),
    _r("sshd_each_no", r"sshd -T shows (?P<shown>\[.*?\]); each must be 'no'",
       "sshd -T shows {shown}; each must be 'no'",
       "sshd -T visar {shown}; var och en måste vara 'no'"),
    _r("locale_not_installed", r"system default LANG=(?P<lang>\S+) \((?P<path>\S+)\) is not installed; `locale -a`: (?P<available>.*)",
       "system default LANG={lang} ({path}) is not installed; `locale -a`: {available}",
       "systemets LANG={lang} ({path}) är inte installerad; `locale -a`: {available}"),
    _r("aide_unwatched", r"AIDE \((?P<conf>.*?)\) does not watch baseline files: (?P<files>.*)",
       "AIDE ({conf}) does not watch baseline files: {files}",
       "AIDE ({conf}) bevakar inte baslinjens filer: {files}"),
    _r("locale_no_lang", r"(?P<path>\S+) sets no LANG",
       "{path} sets no LANG",
       "{path} anger ingen LANG"),
    _r("locale_none", r"no system locale configured \((?P<files>.*)\)",
       "no system locale configured ({files})",
       "ingen systemlokal inställd ({files})"),
    _r("sshd_shows_seen", r"sshd -T shows (?P<shown>\[.*?\]) \((?P<seen>.*)\)",
       "sshd -T shows {shown} ({seen})",
       "sshd -T visar {shown} ({seen})"),
    _r("locale_not_utf8", r"system default LANG=(?P<lang>\S+) \((?P<path>\S+)\) is not a UTF-8 locale",
       "system default LANG={lang} ({path}) is not a UTF-8 locale",
       "systemets LANG={lang} ({path}) är ingen UTF-8-lokal"),
    _r("tmout_login_shell", r"(?P<problems>.*) \(login shell of (?P<user>\S+)\)",
       "{problems} (login shell of {user})",
       "{problems} (inloggningsskal för {user})", ("problems",)),
    _r("tmout_never", r"TMOUT is (?P<raw>.+?): idle shells never end",
       "TMOUT is {raw}: idle shells never end",
       "TMOUT är {raw}: inaktiva skal avslutas aldrig"),
    _r("tmout_too_long", r"TMOUT is (?P<seconds>\d+) s, longer than the allowed (?P<limit>\d+) s",
       "TMOUT is {seconds} s, longer than the allowed {limit} s",
       "TMOUT är {seconds} s, längre än tillåtna {limit} s"),
    _r("tmout_not_readonly", r"TMOUT is not read-only: a user can lift it",
       "TMOUT is not read-only: a user can lift it",
       "TMOUT är inte skrivskyddad: en användare kan ta bort den"),
    _r("login_shell_failed", r"a login shell failed \(rc (?P<rc>-?\d+)\): (?P<stderr>.*)",
       "a login shell failed (rc {rc}): {stderr}",
       "ett inloggningsskal misslyckades (rc {rc}): {stderr}"),
    _r("sshd_shows", r"sshd -T shows (?P<shown>\[.*?\]); expected (?P<expected>.*)",
       "sshd -T shows {shown}; expected {expected}",
       "sshd -T visar {shown}; förväntat {expected}"),
)  # fmt: skip


@lru_cache(maxsize=65536)  # a fleet repeats its reasons; each is matched once
def localise(reason: str, lang: str) -> tuple[str, bool]:
    """The reason in ``lang`` and whether the catalog covers it (all of it, prose included).
    English, and anything uncovered, is the reason as written."""
    for entry in CATALOG:
        found = entry.pattern.match(reason)
        if not found:
            continue
        values = {k: v or "" for k, v in found.groupdict().items()}
        covered = True
        for name in entry.prose:
            values[name], inner = localise(values[name], lang)
            covered = covered and inner
        return entry.text.get(lang, entry.text["en"]).format(**values), covered
    if "; " in reason:  # several problems, each a reason (a check joins them so)
        parts = [localise(part, lang) for part in reason.split("; ")]
        if all(covered for _, covered in parts):
            return "; ".join(text for text, _ in parts), True
    return reason, False


def shown(reason: str, lang: str) -> str:
    return localise(reason, lang)[0]
