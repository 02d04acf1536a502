"""The session_lock role on every family (no host): the rendered profile.d script really makes
TMOUT read-only in a bash login shell, and tolerates being sourced twice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_session_lock as CHECK

ROLE = Path(__file__).resolve().parents[2] / "roles" / "session_lock"


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_profile_path_and_rendered_script(family: str) -> None:
    variables = _vars(family)
    assert variables["__session_lock_profile_path"] == "/etc/profile.d/driftvakt-tmout.sh"
    text = render_template(ROLE, "etc/profile.d/driftvakt-tmout.sh.j2", variables)
    assert text.startswith("#")
    assert "TMOUT=900" in text and "readonly TMOUT" in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_makes_tmout_readonly_even_when_sourced_twice(tmp_path: Path) -> None:
    script = tmp_path / "tmout.sh"
    script.write_text(
        render_template(
            ROLE, "etc/profile.d/driftvakt-tmout.sh.j2", _vars("rhel9", session_lock_tmout=600)
        )
    )
    probe = f'. {script}; . {script}; printf "TMOUT=%s\\n" "$TMOUT"; readonly -p | grep " TMOUT="'
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=False)
    assert done.stderr == ""
    timeout = CHECK.parse_probe(done.stdout)
    assert (timeout.seconds, timeout.readonly) == (600, True)
    assert CHECK.problems(timeout, 900) == []
