"""Generated garbage for every parser of outside input in the engine: each gives a clean error
(the one exception type its caller turns into one line) or a result, never anything else."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftvakt import waivers
from driftvakt.errors import BadInputError
from driftvakt.inventory import Target
from driftvakt.transport import TransportError, known_hosts
from driftvakt.transport.batch import MARK, BatchParseError, parse
from driftvakt.transport.ssh import SshTransport

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KNOWN = {"auditd_running", "ntp_region_servers"}
FIELDS = ("control", "hosts", "reason", "risk_analysis", "approver", "expires", "note")

# YAML-ish values of every shape a person could write into a waiver field
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates().map(str),
    st.sampled_from(["2027-13-45", "2027-06-30 10:00:00", "auditd_running", "*", "all", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
waiver_entries = st.dictionaries(st.sampled_from(FIELDS), values, max_size=7)


def _load_text(tmp_path: Path, text: str | bytes) -> None:
    path = tmp_path / "waivers.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    try:
        result = waivers.load(path, KNOWN)
    except BadInputError as exc:
        message = str(exc)
    else:
        assert all(isinstance(w, waivers.Waiver) for w in result)
        return
    assert "\n" not in message
    assert message.startswith(f"waivers {path}")


@pytest.mark.fault(
    "property",
    "generated waiver files of any shape, text or bytes",
    "a result or one line naming the file",
)
@SETTINGS
@given(entries=st.lists(waiver_entries, max_size=3))
def test_waivers_of_any_shape(tmp_path: Path, entries: list[dict[str, object]]) -> None:
    _load_text(tmp_path, yaml.safe_dump({"waivers": entries}))


@SETTINGS
@given(text=st.text(max_size=300))
def test_waivers_of_any_text(tmp_path: Path, text: str) -> None:
    _load_text(tmp_path, text)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_waivers_of_any_bytes(tmp_path: Path, data: bytes) -> None:
    _load_text(tmp_path, data)


@SETTINGS
@given(text=st.text(max_size=400))
def test_known_hosts_of_any_text(text: str) -> None:
    known = known_hosts.parse(text)
    assert known.keys_for("web1") == [] or known.by_name or known.hashed


frame_fields = st.lists(
    st.one_of(st.integers(-5, 10).map(str), st.text(string.printable, max_size=8), st.just("end")),
    max_size=6,
)


@pytest.mark.fault("property", "generated batch answers", "a result or a clean batch error")
@SETTINGS
@given(lines=st.lists(frame_fields, max_size=6), tail=st.binary(max_size=40))
def test_batch_output_of_any_shape(lines: list[list[str]], tail: bytes) -> None:
    commands = ["echo a", "echo b", "echo c"]
    stdout = "".join(f"{MARK} {' '.join(fields)}\n" for fields in lines).encode() + tail
    try:
        out = parse(commands, stdout)
    except BatchParseError:
        return
    assert set(out) <= set(commands)


def assert_one_line(message: str) -> None:
    assert "\n" not in message, message


@pytest.mark.fault(
    "property", "generated ansible_ssh_common_args", "parsed, or one line for that host"
)
@SETTINGS
@given(args=st.text(max_size=80))
def test_ssh_common_args_of_any_text(tmp_path: Path, args: str) -> None:
    target = Target("web1", "127.0.0.1", 22, "ops", None, "ssh", False, args, None, None, {})
    try:
        transport = SshTransport(target, 1)
    except TransportError as exc:
        message = str(exc)
        assert_one_line(message)
        return
    # Only parsing here: a generated jump host or proxy command is never contacted or started.
    assert isinstance(transport.options, dict)
    transport.close()


@pytest.mark.parametrize("args", ["-o 'ProxyCommand=unterminated", "-J a,b", "-J host:port"])
def test_unreadable_ssh_args_are_one_line(args: str) -> None:
    target = Target("web1", "127.0.0.1", 22, "ops", None, "ssh", False, args, None, None, {})
    with pytest.raises(TransportError, match=r"^web1: "):
        SshTransport(target, 1)._sock()


def _suite_parsers() -> list[Any]:
    """Every ``parse_*`` function of the compliance suites: a new parser is covered by itself."""
    import driftvakt_checks

    found = []
    for info in pkgutil.iter_modules(driftvakt_checks.__path__):
        module = importlib.import_module(f"driftvakt_checks.{info.name}")
        found += [
            fn
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("parse_") and fn.__module__ == module.__name__
        ]
    return sorted(found, key=lambda fn: f"{fn.__module__}.{fn.__name__}")


# Command output as a broken or hostile host might answer: random text, and random strings of
# the tokens the parsers look for (so that they get past their first line).
TOKENS = ["\n", " ", "\t", ":", "=", "{", "}", "[", "]", "-", "0", "1", "tcp", "ACCEPT", "*", "#"]
TOKENS += [",", "/", "@", "root", "ALL", "NOPASSWD", "<", ">", '"', "dport", "accept", "2026-01-01"]
host_output = st.text(max_size=200) | st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@pytest.mark.fault(
    "property",
    "generated command output for every parser of the suites",
    "a result or a ValueError the check reports as `error`",
)
@pytest.mark.parametrize("parser", _suite_parsers(), ids=lambda fn: fn.__name__)
def test_every_suite_parser_reads_garbage_as_a_result_or_a_value_error(parser: Any) -> None:
    # A ValueError (or its JSON subclass) is the parsers' "cannot read this" and becomes the
    # check's `error` with that message; anything else was a crash with a meaningless reason
    # (found: the patch record's shape, zypper's XML).
    @settings(max_examples=120, deadline=None, database=None)
    @given(text=host_output)
    def read(text: str) -> None:
        with contextlib.suppress(ValueError):
            parser(text)

    read()


@pytest.mark.fault(
    "property", "generated catalog files of any shape", "controls or one line naming the file"
)
@SETTINGS
@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "title", "rationale", "requirements", "severity", "platforms", "drift"]
            ),
            values,
            max_size=7,
        )
        | values,
        max_size=3,
    )
)
def test_catalog_files_of_any_shape(entries: list[Any]) -> None:
    from driftvakt.catalog import _load_yaml, parse_controls
    from driftvakt.errors import CatalogError

    try:
        parsed = parse_controls(_load_yaml(yaml.safe_dump({"controls": entries}), "x"), "x.yml")
    except CatalogError as exc:
        assert_one_line(str(exc))
        return
    assert len(parsed) == len(entries)
