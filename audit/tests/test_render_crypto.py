"""The crypto role's platform method and packages, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_parse_crypto import CHECK

from driftvakt.rendering import FAMILY_FACTS, role_vars

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "crypto"
METHOD = {"Debian": "openssl-conf", "RedHat": "crypto-policies", "Suse": "openssl-conf"}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    facts = FAMILY_FACTS[family]
    ansible_facts = {k.removeprefix("ansible_"): v for k, v in facts.items()}
    variables: dict[str, Any] = role_vars(ROLE, facts, {"ansible_facts": ansible_facts, **extra})
    return variables


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_method(family: str) -> None:
    variables = _vars(family)
    method = METHOD[FAMILY_FACTS[family]["ansible_os_family"]]
    assert variables["__crypto_method"] == method
    if method == "openssl-conf":
        # the file the role edits is one the check reads
        assert variables["__crypto_openssl_cnf"] in CHECK.OPENSSL_CONFIGS
        assert variables["__crypto_packages"] == ["openssl"]
    else:
        assert variables["crypto_policy"] in CHECK.APPROVED_POLICIES


def test_defaults_satisfy_the_check() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["crypto_policy"] in CHECK.APPROVED_POLICIES
    assert defaults["crypto_tls_min_protocol"] in ("TLSv1.2", "TLSv1.3")
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(options["crypto_policy"]["choices"]) == set(CHECK.APPROVED_POLICIES)


def test_managed_block_sets_min_protocol() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "crypto_tls_minimum.yml").read_text())
    block = next(t for t in tasks if "ansible.builtin.blockinfile" in t)
    text = block["ansible.builtin.blockinfile"]["block"].replace(
        "{{ crypto_tls_min_protocol }}", "TLSv1.2"
    )
    assert CHECK.min_protocols(text) == ["TLSv1.2"]
    assert "system_default = driftvakt_system_default_sect" in text
    line = next(t for t in tasks if "ansible.builtin.lineinfile" in t)
    assert line["ansible.builtin.lineinfile"]["line"] == "ssl_conf = driftvakt_ssl_sect"
