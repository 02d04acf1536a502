"""``driftvakt schedule install``: the nightly service, timer and failure units, as systemd
itself reads them (``systemd-analyze verify``). That the timer fires is a lab test (not here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from driftvakt import schedule
from driftvakt.cli import main

DRIFTVAKT = Path(sys.executable).parent / "driftvakt"


def install(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    project = tmp_path / "my project"  # a space: the units must quote it
    project.mkdir(exist_ok=True)
    (project / "hosts.yml").write_text("all: {}\n")
    code = main(
        [
            "schedule",
            "install",
            "--root",
            str(tmp_path / "root"),
            "--project",
            str(project),
            "--inventory",
            "hosts.yml",
            "--driftvakt",
            str(DRIFTVAKT),
            *extra,
        ]
    )
    return code, tmp_path / "root" / "etc" / "systemd" / "system"


def analyze(folder: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("systemd-analyze"), "systemd-analyze is part of systemd (Debian)"
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(folder / schedule.TIMER),
         str(folder / schedule.SERVICE), str(folder / "driftvakt-failure@x.service")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_installed_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    code, folder = install(
        tmp_path,
        "--store", "postgresql://audit@db.example:5432/drift%2Dvakt",
        "--export-to", "sftp://drift@partner.example/in",
        "--ssh-key", "/etc/driftvakt/id_ed25519",
        "--known-hosts", "/etc/driftvakt/known_hosts",
        "--environment-file", "/etc/driftvakt/secrets.env",
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [schedule.SERVICE, schedule.TIMER, schedule.FAILURE]
    )
    # systemd-analyze loads a template through an instance name beside it
    shutil.copy(folder / schedule.FAILURE, folder / "driftvakt-failure@x.service")
    found = analyze(folder)
    assert found.returncode == 0, found.stderr
    service = (folder / schedule.SERVICE).read_text()
    assert "OnFailure=driftvakt-failure@%n.service" in service
    assert "SuccessExitStatus=1" in service  # failed controls are findings: export goes on
    assert f"WorkingDirectory={tmp_path}/my project\n" in service
    audit, export = [line for line in service.splitlines() if line.startswith("ExecStart=")]
    assert " audit --inventory " in audit and "drift%%2Dvakt" in audit  # % is systemd's
    assert " export --store " in export and "--to sftp://drift@partner.example/in" in export
    assert "Persistent=true" in (folder / schedule.TIMER).read_text()
    assert oct((folder / schedule.SERVICE).stat().st_mode & 0o777) == "0o644"


def test_odd_arguments_are_quoted_and_escaped_as_systemd_parses_them(tmp_path: Path) -> None:
    """systemd expands % and $ and splits on spaces; what it cannot parse, verify refuses."""
    odd = ["a b", 'say "hi"', "50%", "$HOME", "back\\slash"]
    line = schedule.command_line(["/bin/echo", *odd])
    assert line == '/bin/echo "a b" "say \\"hi\\"" 50%% $$HOME "back\\\\slash"'
    unit = tmp_path / "args.service"
    unit.write_text(f"[Service]\nType=oneshot\nExecStart={line}\n")
    found = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    unit.write_text('[Service]\nType=oneshot\nExecStart=/bin/echo "unbalanced\n')
    broken = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert broken.returncode != 0  # the check above can fail


@pytest.mark.fault(
    "input",
    "`schedule install --store` with a PostgreSQL URL holding a password",
    "refused in one line (unit files are world readable); no unit is written",
)
def test_a_password_in_the_store_url_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, folder = install(tmp_path, "--store", "postgresql://audit:hunter2@db/drift")
    assert code == 3
    err = capsys.readouterr().err
    assert "world readable" in err and "hunter2" not in err
    assert not folder.exists()


def test_export_to_without_keys_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = install(tmp_path, "--export-to", "sftp://drift@partner/in")
    assert code == 3
    assert "--export-to needs --ssh-key and --known-hosts" in capsys.readouterr().err
