"""Record a real Windows host's collection as a fixture (the first-real-host kit, docs/windows.md).

Run once per test VM from a checkout, with the region's test inventory:

    python audit/tests/record_windows.py -i inventories/test-win --host win2022 \\
        --redact region.example --out audit/tests/fixtures/windows/recorded-2022.json

It runs collect.ps1 through the audit's own WinRM transport (one batch, as ``driftvakt audit``
does), or reads a collection saved on the VM itself (``--from-file``: ``powershell -NoProfile
-ExecutionPolicy Bypass -File collect.ps1 > raw.json``) when WinRM is what fails. Names that
identify the region are replaced with stable placeholders: the host's name and address, every
name under the ``--redact`` domains, IP addresses (to documentation ranges) and the domain and
machine parts of SIDs (the RIDs, which the checks read, stay). The collection holds no
passwords or keys; private keys and password hashes are redacted all the same. The recording
is then checked against the shapes the judges accept (windows_facts.LISTS) and every section
that is not in that shape, or that the host could not read, is printed: the first real run
turns each unverified assumption into a recorded fact.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftvakt.redact import redact

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "windows"
META = ("_documentation", "_about", "_recorded", "schema", "collected", "errors")
SID = re.compile(r"\bS-1-5-21-(\d+)-(\d+)-(\d+)(?=-\d+\b|\b)")
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
IPV6 = re.compile(r"(?<![\w:])([0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:])")


class Redactor:
    """Stable placeholders: the same value always becomes the same placeholder."""

    def __init__(self, names: list[str], domains: list[str]) -> None:
        self.names = sorted({n for n in names if n}, key=len, reverse=True)
        self.domains = sorted({d.lower().strip(".") for d in domains if d}, key=len, reverse=True)
        self.seen: dict[str, str] = {}

    def _placeholder(self, kind: str, value: str, make: Callable[[int], str]) -> str:
        key = f"{kind}:{value.lower()}"
        if key not in self.seen:
            self.seen[key] = make(sum(k.startswith(kind + ":") for k in self.seen) + 1)
        return self.seen[key]

    def _address(self, match: re.Match[str]) -> str:
        text = match.group(1)
        try:
            address = ipaddress.ip_address(text.split("/")[0])
        except ValueError:
            return text
        if address.is_loopback or address.is_unspecified:
            return text
        if address.version == 4:
            if any(int(part) > 255 for part in text.split(".")) or text.startswith("255."):
                return text  # a netmask or not an address
            return self._placeholder("v4", text, lambda n: f"192.0.2.{n % 250 + 1}")
        return self._placeholder("v6", text, lambda n: f"2001:db8::{n:x}")

    def text(self, value: str) -> str:
        for name in self.names:
            value = re.sub(
                re.escape(name),
                lambda m: self._placeholder("host", m.group(0), lambda n: f"host{n}"),
                value,
                flags=re.I,
            )
        for domain in self.domains:
            label = domain.split(".")[0]
            pattern = rf"\b(?:[\w-]+\.)*{re.escape(domain)}\b|\b{re.escape(label)}\b(?=\\)"
            value = re.sub(
                pattern,
                lambda m: self._placeholder(
                    "domain",
                    m.group(0),
                    lambda n: f"redacted{n}.example" if "." in m.group(0) else f"REDACTED{n}",
                ),
                value,
                flags=re.I,
            )
        value = SID.sub(
            lambda m: self._placeholder(
                "sid",
                m.group(0),
                lambda n: f"S-1-5-21-{1000000000 + n}-{2000000000 + n}-{3000000000 + n}",
            ),
            value,
        )
        value = IPV4.sub(self._address, value)
        return IPV6.sub(self._address, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(redact(value))
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def redact_collection(
    facts: dict[str, Any], names: list[str], domains: list[str]
) -> dict[str, Any]:
    """The collection with the region's identifying values replaced; its shape unchanged."""
    redactor = Redactor(names, domains)
    return {k: (v if k in ("schema", "collected") else redactor.value(v)) for k, v in facts.items()}


def shape_report(facts: dict[str, Any]) -> list[str]:
    """One line per section the judges would report as an error: unreadable or misshapen."""
    from driftvakt_checks.windows_facts import FactsUnavailable, section

    problems = []
    for name in sorted(k for k in facts if k not in META):
        try:
            section(facts, name)
        except FactsUnavailable as exc:
            problems.append(f"{name}: {exc}")
    problems += [f"{name}: {error}" for name, error in sorted((facts.get("errors") or {}).items())]
    return problems


def as_fixture(facts: dict[str, Any], about: str, recorded: dict[str, Any]) -> dict[str, Any]:
    """The repo's fixture format: _documentation and _about first, then the collection."""
    documented = json.loads((FIXTURES / "compliant-2022.json").read_text())["_documentation"]
    return {
        "_documentation": {k: v for k, v in documented.items() if k in facts},
        "_about": about,
        "_recorded": recorded,
        **copy.deepcopy(facts),
    }


def _collect_over_winrm(inventory: str, host: str) -> tuple[int, str, str]:
    from driftvakt.collect import WINDOWS_CONNECTIONS, _transport
    from driftvakt.errors import DriftvaktError
    from driftvakt.inventory import targets
    from driftvakt.windows import collect_command

    found = [t for t in targets(inventory, host) if t.name == host]
    if not found or found[0].connection not in WINDOWS_CONNECTIONS:
        raise SystemExit(f"record_windows: {host} is not a WinRM host of {inventory}")
    transport = _transport(found[0], 20)
    try:
        output = transport.run_batch([collect_command()])[collect_command()]
    except DriftvaktError as exc:
        raise SystemExit(f"record_windows: {exc} (or record with --from-file)") from exc
    finally:
        transport.close()
    return (
        output.rc,
        output.stdout.decode("utf-8", "replace"),
        output.stderr.decode("utf-8", "replace"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-i", "--inventory")
    parser.add_argument("--host", required=True, help="the inventory name of the test VM")
    parser.add_argument("--from-file", type=Path, help="a collection saved on the VM instead")
    parser.add_argument("--redact", action="append", default=[], help="a domain to redact")
    parser.add_argument("--about", default="", help="what the host is (edition, build, role)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.from_file:
        rc, stdout, stderr = 0, args.from_file.read_text("utf-8-sig"), ""
        how = f"collect.ps1 run on the host, saved to {args.from_file.name}"
    elif args.inventory:
        rc, stdout, stderr = _collect_over_winrm(args.inventory, args.host)
        how = "collect.ps1 through driftvakt's WinRM transport"
    else:
        parser.error("give -i INVENTORY (over WinRM) or --from-file RAW.json")
    if rc != 0:
        print(f"record_windows: the collection exited {rc} (stderr: {stderr.strip()[:300]})")
    try:
        facts = json.loads(stdout)
    except ValueError as exc:
        print(f"record_windows: the collection is not JSON ({exc}); first 300 characters:")
        print(stdout[:300])
        return 1
    names = [args.host, args.host.split(".")[0]]
    fixture = as_fixture(
        redact_collection(facts, names, args.redact),
        args.about or f"Recorded from a real host ({how}); identifying values redacted.",
        {"how": how, "rc": rc, "stderr": stderr.strip()[:2000]},
    )
    args.out.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", "utf-8")
    problems = shape_report(fixture)
    print(f"record_windows: wrote {args.out} ({len(fixture) - len(META)} sections)")
    for line in problems:
        print(f"  error: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
