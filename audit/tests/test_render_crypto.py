"""The crypto role's platform method and packages, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars
from driftvakt_checks import test_crypto as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "crypto"
METHOD = {"Debian": "openssl-conf", "RedHat": "crypto-policies", "Suse": "openssl-conf"}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


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


# crypto_certificates_valid: the anchors directory the role fills is one the check reads, and
# the trust store is rebuilt with the family's own command.
TRUST = {
    "Debian": ("/usr/local/share/ca-certificates", "update-ca-certificates"),
    "RedHat": ("/etc/pki/ca-trust/source/anchors", "update-ca-trust extract"),
    "Suse": ("/etc/pki/trust/anchors", "update-ca-certificates"),
}


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_ca_certificates_go_where_the_check_reads_anchors(family: str) -> None:
    variables = _vars(family)
    trust_dir, update = TRUST[FAMILY_FACTS[family]["ansible_os_family"]]
    assert variables["__crypto_trust_dir"] == trust_dir
    assert trust_dir in CHECK.ANCHOR_DIRS
    assert variables["__crypto_trust_update"] == update
    assert variables["__crypto_ca_package"] == "ca-certificates"


def test_certificate_tasks_deploy_the_paths_the_check_reads_and_never_log_keys() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "crypto_certificates_valid.yml").read_text())
    by_name = {t["name"].split(" | ")[1]: t for t in tasks}
    cert = by_name["Deploy the host's certificates (with their chain)"]["ansible.builtin.copy"]
    assert cert["dest"] == "{{ item.path }}"  # the check reads crypto_certificates[].path
    key = by_name["Deploy the private keys that belong to the certificates"]
    assert key["no_log"] is True
    assert key["ansible.builtin.copy"]["mode"] == "{{ item.key_mode | default('0600') }}"
    ca = by_name["Deploy the approved CA certificates as trust anchors"]
    assert ca["ansible.builtin.copy"]["dest"].endswith(".crt")  # update-ca-certificates wants it
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["crypto_certificate_min_days"] == CHECK.certs.DEFAULT_MIN_DAYS
