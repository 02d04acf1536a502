"""Where the audit writes is checked before any host is contacted (it used to fail after every
host was audited, with a traceback, losing the night's results)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from driftvakt.cli import main

INVENTORY = "all:\n  hosts:\n    web1:\n      ansible_host: 192.0.2.77\n"  # never contacted


@pytest.mark.fault(
    "input",
    "an unwritable results or store folder",
    "one line, exit 3, before any host is contacted; was: traceback after the audit",
)
@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--output", r"results file .*: cannot write in .*blocker"),
        ("--store", r"run store .*: cannot write in .*blocker"),
    ],
)
def test_an_unusable_output_or_store_folder_is_bad_input_before_any_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, message: str
) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be\n")
    paths = {"--output": tmp_path / "r.json", "--store": tmp_path / "s.db"}
    paths[option] = blocker / "inside"
    argv = ["audit", "-i", str(inventory), "--quiet"]
    for name, path in paths.items():
        argv += [name, str(path)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert re.search(message, err), err
    assert "nothing was audited" in err


@pytest.mark.fault("input", "a results path that is a folder", "one line, exit 3")
def test_a_results_path_that_is_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    code = main(
        [
            "audit",
            "-i",
            str(inventory),
            "--quiet",
            "--output",
            str(tmp_path),
            "--store",
            str(tmp_path / "s.db"),
        ]
    )
    assert code == 3
    assert "is a folder: give a file name" in capsys.readouterr().err
