"""Reasons in the reader's language (#19 item 1): every reason of the catalog renders in
Swedish and English with all its parameters, observed values stay verbatim, and the reasons of
a real run (a simulated fleet replaying a recorded host) are measured against the catalog: the
ones not covered yet are listed (docs/reports.md), not hidden."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_report_html import BEFORE, CURRENT

from driftvakt import report
from driftvakt.reasons import CATALOG, localise

# Share of a real run's distinct reasons (host names set aside) the catalog renders in
# Swedish. A ratchet: raise it as patterns are added; never lower it.
COVERED_AT_LEAST = 0.9


SAMPLES = {
    "date": "2027-06-30",
    "rc": "1",
    "command": "`sudo id`",
    "rest": "",
    "seconds": "900",
    "done": "4",
    "total": "41",
    "limit": "600",
    "count": "3",
    "left": "0",
    "days": "30",
    "bits": "1024",
    "minimum": "2048",
    "when": "2025-06-20 10:00",
}


def sample(name: str) -> str:
    """A value the parameter's pattern accepts: one word, a date, a code, a list."""
    if name in ("approved", "modules", "shown", "foreign", "missing"):
        return "['x', 'y']"
    return SAMPLES.get(name, f"observed_{name}")


@pytest.mark.parametrize("entry", CATALOG, ids=[e.key for e in CATALOG])
def test_every_reason_renders_in_both_languages(entry) -> None:  # type: ignore[no-untyped-def]
    assert set(entry.text) == {"sv", "en"}, f"{entry.key}: a language is missing"
    for lang in ("sv", "en"):
        used = set(re.findall(r"\{(\w+)\}", entry.text[lang]))
        assert used == set(entry.params()), f"{entry.key} ({lang}): parameters {used}"
    assert entry.text["sv"] != entry.text["en"], f"{entry.key}: not translated"
    # the English template writes the very reason its pattern reads back
    values = {p: sample(p) for p in entry.params()}
    english = entry.text["en"].format(**values)
    found = entry.pattern.match(english)
    assert found and {k: v or "" for k, v in found.groupdict().items()} == values, english
    swedish, _ = localise(english, "sv")
    for name in set(entry.params()) - set(entry.prose):
        assert values[name] in swedish  # observed values verbatim


def test_the_issues_examples_read_in_swedish() -> None:
    admins = (
        "administrators not in accounts_admins ['ops']: appadmin (member of sudo, sudo ALL via "
        "%sudo)"
    )
    assert localise(admins, "sv") == (
        "administratörer som inte finns i accounts_admins ['ops']: appadmin (member of sudo, "
        "sudo ALL via %sudo)",
        True,
    )
    nested = (
        "check could not run (LookupError): the inventory sets no timesync_ntp_servers for "
        "this host"
    )
    assert localise(nested, "sv") == (
        "kontrollen kunde inte köras (LookupError): inventariet anger ingen timesync_ntp_servers "
        "för värden",
        True,
    )
    assert localise(nested, "en") == (nested, True)
    joined = "local Administrators members not approved: W\\helpdesk; approved but absent: none"
    assert localise(joined, "sv") == (
        "medlemmar i lokala Administrators som inte är godkända: W\\helpdesk; "
        "godkända men saknas: none",
        True,
    )
    assert localise("something new", "sv") == ("something new", False)
    firewall = (
        "nftables: nftables.service is inactive/disabled, expected active/enabled (and firewalld "
        "does not run); no input chain with policy drop covers both IPv4 and IPv6. nftables "
        "input chains: none"
    )
    assert localise(firewall, "sv") == (
        "nftables: nftables.service är inactive/disabled, förväntat active/enabled (och att "
        "firewalld inte körs); ingen indatakedja med policy drop täcker både IPv4 och IPv6. "
        "nftables indatakedjor: none",
        True,
    )


def test_the_swedish_report_shows_the_swedish_reason() -> None:
    sv = report.render(CURRENT, "sv", BEFORE)
    assert "sshd -T visar [&#39;permitrootlogin yes&#39;]; förväntat permitrootlogin no" in sv
    assert "kontrollen kunde inte köras (CommandMissing): auditctl" in sv
    en = report.render(CURRENT, "en", BEFORE)
    assert "sshd -T shows [&#39;permitrootlogin yes&#39;]; expected permitrootlogin no" in en


def test_the_windows_checks_reasons_are_covered() -> None:
    """The reasons the Windows checks give for the drifted host's recorded collection."""
    from test_windows_eval import CHECKS, DRIFT_EVIDENCE, collected
    from windowskit import HOSTVARS, load

    missing = []
    for cid in sorted(DRIFT_EVIDENCE):
        with pytest.raises(AssertionError) as failed:
            CHECKS[cid](collected(load("drifted.json")), HOSTVARS)
        reason = str(failed.value).split("\nassert")[0]
        if not localise(reason, "sv")[1]:
            missing.append(f"{cid}: {reason}")
    assert missing == []


def test_the_reasons_of_a_real_run_are_covered(tmp_path: Path) -> None:
    from fleetreport import audit_nights

    last = audit_nights(10, 1, tmp_path, 100 + os.getpid() % 100)[-1]
    reasons = {r["reason"].replace(r["host"], "HOST") for r in last["results"] if r["reason"]}
    missing = sorted(r for r in reasons if not localise(r, "sv")[1])
    for reason in missing:  # shown with -s: what the catalog lacks
        print("no Swedish rendering:", reason[:200])
    covered = 1 - len(missing) / len(reasons)
    print(f"{len(reasons) - len(missing)} of {len(reasons)} reasons covered ({covered:.0%})")
    assert covered >= COVERED_AT_LEAST, missing
