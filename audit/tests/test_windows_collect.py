"""collect.ps1 against Microsoft's documentation (issue 16, findings 6 and 9). PowerShell cannot
run here: the script is read with tree-sitter's PowerShell grammar and each rule is checked where
it must hold; each test says which documented behaviour it guards against."""

from __future__ import annotations

import re

import pytest
from test_windows_shapes import _sections, _text, _tree

from driftvakt.transport.winrm import _DRIVER, COLLECT_BUDGET
from driftvakt.windows import collect_script


def _block(name: str, script: str | None = None) -> str:
    return _text(_sections(_tree(script or collect_script()))[name][1])


def _statements(script: str) -> list[str]:
    root = _tree(script)
    body = next(c for c in root.children if c.type == "statement_list")
    return [_text(c).strip() for c in body.named_children if c.type != "comment"]


def exits_clean(script: str) -> bool:
    """The last statements: the JSON out, then LASTEXITCODE reset to 0."""
    last = _statements(script)[-2:]
    return last[0].startswith("$facts | ConvertTo-Json") and last[1] == "$global:LASTEXITCODE = 0"


def test_a_failed_native_program_does_not_discard_the_collection() -> None:
    """The driver reports a command's rc as LASTEXITCODE, the exit code of the last native
    program the command ran; in collect.ps1 that was auditpol's (or secedit's, or w32tm's), so
    one failed auditpol made the whole collection rc != 0 and every Windows check an error. The
    native programs' failures belong to their sections: the script ends with LASTEXITCODE 0."""
    assert "if ($global:LASTEXITCODE) { $rc = $global:LASTEXITCODE }" in _DRIVER
    assert exits_clean(collect_script())
    assert not exits_clean(collect_script().replace("\n$global:LASTEXITCODE = 0", ""))


def test_the_update_search_has_its_own_time_limit_inside_the_batch() -> None:
    """One slow update service must cost the 'updates' section only. BeginSearch/EndSearch would
    be the asynchronous way, but Microsoft Learn, "Using WUA From a Remote Computer", lists
    "IUpdateSearcher::BeginSearch" and "IUpdateSearcher::EndSearch" among the "interfaces and
    properties that are not available to remote users and applications" (and IUpdateSearcher's
    Search among those available): the synchronous Search runs in a runspace of its own,
    waited for at most $limit seconds."""
    block = _block("updates")
    limit = re.search(r"\$limit = (\d+)", block)
    assert limit and 0 < int(limit.group(1)) < COLLECT_BUDGET / 2
    assert "[powershell]::Create()" in block and "AsyncWaitHandle.WaitOne(" in block
    assert "BeginSearch" not in block and "EndSearch" not in block
    assert ".Search(" in block


def test_the_deployment_time_is_read_as_utc() -> None:
    """Microsoft Learn, IUpdate::get_LastDeploymentChangeTime: "Gets the last published date of
    the update, in Coordinated Universal Time (UTC) date and time". A COM DATE has no Kind, and
    ToUniversalTime() would treat it as local time (one or two hours off in Sweden)."""
    script = collect_script()
    assert "Get-UtcIso $update['LastDeploymentChangeTime']" in _block("updates")
    utc = re.search(r"function Get-UtcIso \{(.*?)\n\}", script, re.S)
    assert utc and "SpecifyKind([datetime]$Value, [DateTimeKind]::Utc)" in utc.group(1)
    code = "\n".join(line for line in utc.group(1).splitlines() if not line.strip().startswith("#"))
    assert "ToUniversalTime" not in code


def test_w32tm_stderr_cannot_end_the_time_section() -> None:
    """Windows PowerShell 5.1 wraps a native program's redirected stderr lines (2>&1) in error
    records; under the script's ErrorActionPreference 'Stop' the first one is terminating, and
    'time' would be an error whenever w32tm wrote to stderr (W32Time stopped). The section sets
    'Continue' in its own scope before running w32tm, and keeps w32tm's exit code."""
    block = _block("time")
    relaxed = block.find("$ErrorActionPreference = 'Continue'")
    assert 0 <= relaxed < block.index("w32tm.exe /query /source 2>&1")
    assert re.search(r"\$rc = \$LASTEXITCODE", block)


def test_adsi_names_members_as_domain_or_computer_and_name() -> None:
    """An ADsPath is WinNT://DOMAIN/name for a domain account and WinNT://DOMAIN/COMPUTER/name
    for a local one; the fallback wrote WORKGROUP\\HOST\\name and labelled every member
    'Unknown', so an approved local administrator was reported stray."""
    block = _block("accounts")
    assert "Select-Object -Last 2) -join '\\'" in block
    assert "AccountDomainSid -eq $machine) { 'Local' }" in block


@pytest.mark.parametrize("section", ["time", "updates", "accounts"])
def test_the_sections_checked_here_exist(section: str) -> None:
    assert _block(section)
