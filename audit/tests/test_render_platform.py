"""The platform role on every family (no host): locale packages, the locale file, os-release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_platform as CHECK

ROLE = Path(__file__).resolve().parents[2] / "roles" / "platform"

EXPECTED = {
    "debian12": ("/etc/default/locale", ["locales"], True),
    "rhel8": ("/etc/locale.conf", ["glibc-langpack-sv", "glibc-langpack-en"], False),
    "rhel9": ("/etc/locale.conf", ["glibc-langpack-sv", "glibc-langpack-en"], False),
    "rhel10": ("/etc/locale.conf", ["glibc-langpack-sv", "glibc-langpack-en"], False),
    "sles15": ("/etc/locale.conf", ["glibc-locale"], False),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_locale_paths_and_packages(family: str) -> None:
    variables = _vars(family)
    conf, packages, generate = EXPECTED[family]
    assert variables["__platform_locale_conf"] == conf
    assert variables["__platform_locale_packages"] == packages
    assert variables["__platform_generate_locales"] is generate
    assert variables["__platform_os_release"] == "/etc/os-release"
    assert variables["__platform_os_release_target"] == "../usr/lib/os-release"


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_rendered_locale_file_passes_the_check(family: str) -> None:
    text = render_template(ROLE, "etc/locale.conf.j2", _vars(family, platform_lang="sv_SE.UTF-8"))
    assert text.startswith("#")
    lang = CHECK.parse_lang(text)
    assert lang == "sv_SE.UTF-8" and CHECK.is_utf8(lang)


def test_defaults_are_utf8_and_match_the_argument_specs() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    assert set(defaults) == set(specs["argument_specs"]["main"]["options"])
    assert defaults["platform_lang"] in defaults["platform_locales"]
    assert all(CHECK.is_utf8(name) for name in defaults["platform_locales"])
