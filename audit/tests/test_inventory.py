"""The audit reads inventories with Ansible's own code: every source and pattern behaves alike."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from driftvakt.errors import BadInputError
from driftvakt.inventory import _load, forget_host_variables, host_variables, targets


def _tree(tmp_path: Path) -> Path:
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "host_vars").mkdir()
    (inv / "hosts.ini").write_text(
        "[web]\nw1 ansible_host=10.1.1.1 ansible_port=2222\nw2 ansible_host=10.1.1.2\n"
        "[db]\nd1 ansible_host=10.1.2.1\n[win]\nwin1 ansible_host=10.1.3.1\n"
    )
    (inv / "more.yml").write_text("all:\n  children:\n    db:\n      hosts:\n        d2:\n")
    (inv / "group_vars" / "all.yml").write_text(
        "ansible_user: ops\nansible_become: true\n"
        "ansible_ssh_private_key_file: keys/id\n"
        "ansible_ssh_common_args: -o UserKnownHostsFile=/k -J jump.example\n"
    )
    (inv / "group_vars" / "win.yml").write_text(
        "ansible_connection: winrm\nansible_winrm_transport: ntlm\n"
    )
    (inv / "host_vars" / "d2.yml").write_text("ansible_host: 10.1.2.2\nansible_user: dba\n")
    return inv


def test_directory_mixing_ini_yaml_group_and_host_vars(tmp_path: Path) -> None:
    found = {t.name: t for t in targets(str(_tree(tmp_path)))}
    assert set(found) == {"w1", "w2", "d1", "d2", "win1"}
    assert (found["w1"].address, found["w1"].port, found["w1"].user) == ("10.1.1.1", 2222, "ops")
    assert found["d2"].user == "dba"
    assert found["d2"].address == "10.1.2.2"
    assert found["w1"].become is True
    assert found["w1"].private_key == "keys/id"  # relative to the cwd, as Ansible's ssh plugin
    assert "-J jump.example" in found["w1"].ssh_common_args
    assert found["win1"].connection == "winrm"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web", {"w1", "w2"}),
        ("web:db", {"w1", "w2", "d1", "d2"}),
        ("all:!win", {"w1", "w2", "d1", "d2"}),
        ("web:&all", {"w1", "w2"}),
        ("d*", {"d1", "d2"}),
        ("~w[12]", {"w1", "w2"}),
    ],
)
def test_limit_uses_ansible_host_patterns(tmp_path: Path, pattern: str, expected: set[str]) -> None:
    assert {t.name for t in targets(str(_tree(tmp_path)), pattern)} == expected


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("all:\n  hosts:\n    a: [broken\n")
    with pytest.raises(BadInputError, match=r"bad\.yml:\d+"):
        targets(str(bad))


def test_missing_inventory_and_no_match(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        targets(str(tmp_path / "nope"))
    with pytest.raises(BadInputError, match="no hosts match"):
        targets(str(_tree(tmp_path)), "nothing*")


@pytest.mark.fault(
    "secrets",
    "an INI inventory line Ansible refuses, with a password",
    "one line, the password masked",
)
def test_a_refused_ini_line_is_quoted_without_its_password(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text('[lab]\nweb1 ansible_host=10.0.0.1 ansible_password=Hunter2Secret "open\n')
    with pytest.raises(BadInputError) as caught:
        targets(str(inv), None)
    message = str(caught.value)
    assert "Error parsing host definition" in message
    assert "ansible_password=[secret redacted]" in message
    assert "Hunter2" not in message


@pytest.mark.parametrize(
    ("variables", "ssh", "winrm"),
    [
        ({"ansible_ssh_password": "s1"}, "s1", None),
        ({"ansible_ssh_pass": "s1", "ansible_ssh_password": "s2"}, "s2", None),
        ({"ansible_password": "p", "ansible_winrm_pass": "w"}, "p", "w"),
        ({"ansible_psrp_password": "ps"}, None, "ps"),
        ({"ansible_password": ""}, None, None),
    ],
)
def test_every_ansible_password_alias_is_used_and_redacted(
    variables: dict[str, str], ssh: str | None, winrm: str | None
) -> None:
    from driftvakt.credentials import SSH_PASSWORD, WINRM_PASSWORD, first_set, secret_values

    assert first_set(variables, SSH_PASSWORD) == ssh
    assert first_set(variables, WINRM_PASSWORD) == winrm
    every = {"ansible_sudo_pass": "b", "ansible_ssh_private_key_passphrase": "k", **variables}
    assert secret_values(every) == {v for v in every.values() if v}


@pytest.mark.fault(
    "input",
    "a host given twice in a YAML inventory",
    "one line naming file:line, exit 3 (was: the last silently won)",
)
def test_a_host_given_twice_in_yaml_is_an_error_naming_the_line(tmp_path: Path) -> None:
    # Ansible keeps the last silently: the second entry replaced the first host's address.
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  hosts:\n    web1:\n      ansible_host: 10.0.0.1\n"
        "    web1:\n      ansible_host: 10.0.0.2\n"
    )
    with pytest.raises(BadInputError, match=r"hosts\.yml:5: 'web1' is given twice"):
        targets(str(inv), None)


def test_one_host_in_two_ini_groups_is_still_one_host(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[a]\nweb1 ansible_host=10.0.0.1\n[b]\nweb1\n")
    [host] = targets(str(inv), None)
    assert (host.name, host.address, set(host.groups) >= {"a", "b"}) == ("web1", "10.0.0.1", True)


def test_connection_settings_are_templated_with_every_variable_in_scope(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  vars:\n    site: sto\n    ansible_user: 'ops-{{ site }}'\n"
        "  children:\n    web:\n      hosts:\n"
        "        w1:\n          ansible_host: '{{ inventory_hostname }}.example'\n"
        "        w2:\n          ansible_port: '{{ 2200 + 22 }}'\n"
        "          driftvakt_peer: \"{{ groups['web'] | first }}\"\n"
    )
    found = {t.name: t for t in targets(str(inv))}
    assert (found["w1"].address, found["w1"].user) == ("w1.example", "ops-sto")
    assert (found["w2"].address, found["w2"].port) == ("w2", 2222)
    assert found["w2"].vars["driftvakt_peer"] == "w1"
    assert "site" not in found["w1"].vars  # the rest is templated when the checks ask


def test_the_checks_still_see_every_variable_templated(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  vars:\n    site: sto\n    banner: 'region {{ site }} {{ inventory_hostname }}'\n"
        "  hosts:\n    w1:\n    w2:\n"
    )
    variables = host_variables(str(inv), "w1")
    forget_host_variables(str(inv), "w1")
    assert variables["banner"] == "region sto w1"
    assert sorted(variables["groups"]["all"]) == ["w1", "w2"]


def _cpu_per_host(tmp_path: Path, count: int) -> float:
    inv = tmp_path / f"fleet{count}.yml"
    entry = "    h{0}:\n      ansible_host: 10.9.{1}.{2}\n"
    hosts = "".join(entry.format(i, i // 250, i % 250) for i in range(count))
    inv.write_text("all:\n  hosts:\n" + hosts)
    _load(str(inv))  # parsing the file is Ansible's, once per audit: not what is measured
    start = time.process_time()
    assert len(targets(str(inv))) == count
    return (time.process_time() - start) / count


def test_the_cost_of_a_host_does_not_grow_with_the_fleet(tmp_path: Path) -> None:
    # Each host's variables used to be templated with ``groups`` (every host) in scope: 4x the
    # hosts cost 4x per host. The factor is generous: CPU time on a shared machine still wavers.
    small, large = _cpu_per_host(tmp_path, 150), _cpu_per_host(tmp_path, 600)
    assert large < 2.0 * small, f"{small * 1000:.2f} ms per host at 150, {large * 1000:.2f} at 600"


def test_only_values_with_jinja_markers_are_templated(tmp_path: Path) -> None:
    # Text without {{ {% {# templates to itself; skipping the templar for it is most of a
    # fleet's loading time. A marker anywhere (nested too) is still templated.
    from driftvakt.inventory import _has_template

    assert not _has_template("plain {text} 50%")
    assert not _has_template(["a", {"b": 1}, 2.5, None])
    assert _has_template({"k": ["x", "{{ y }}"]})
    assert _has_template("{% if x %}1{% endif %}")
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_host: '{{ inventory_hostname }}.example'\n"
        "      ansible_user: 'plain {user}'\n"
    )
    [target] = targets(str(tmp_path / "hosts.yml"))
    assert (target.address, target.user) == ("h1.example", "plain {user}")
