"""JUnit XML as CI servers read it (the Jenkins/GitLab schema): one ``testsuite`` per host, one
``testcase`` per control. fail -> ``failure``, error -> ``error``, waived and not_applicable ->
``skipped`` with the reason; the evidence goes to the test case's ``system-out``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # building only: nothing untrusted is parsed here
from datetime import datetime
from typing import Any

from driftvakt.formats import Row, rows

# Characters XML 1.0 cannot carry at all (even escaped): a command's raw output may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _timestamp(run: dict[str, Any]) -> str:
    # The schema's xs:dateTime without zone (ISO 8601 local form); driftvakt's times are UTC.
    try:
        when = datetime.fromisoformat(run["started"])
    except (TypeError, ValueError):
        return "1970-01-01T00:00:00"
    return when.replace(tzinfo=None).isoformat(timespec="seconds")


def _case(suite: ET.Element, row: Row) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=row.control,
        classname=f"driftvakt.{row.host}",
        time=f"{row.duration:.3f}",
    )
    message = _text(row.reason or row.status)
    if row.status == "fail":
        ET.SubElement(case, "failure", message=message, type="drift").text = message
    elif row.status == "error":
        ET.SubElement(case, "error", message=message, type="not-assessed").text = message
    elif row.status in ("waived", "not_applicable"):
        ET.SubElement(case, "skipped", message=_text(f"{row.status}: {row.reason}".rstrip(": ")))
    out = [
        f"{row.control}: {row.title}",
        f"status: {row.status}",
        f"severity: {row.severity}",
        f"requirements: {', '.join(row.requirements)}",
    ]
    if row.reason:
        out.append(f"reason: {row.reason}")
    out += ["evidence:", *(f"  {line}" for line in row.evidence)] if row.evidence else []
    ET.SubElement(case, "system-out").text = _text("\n".join(out))


def render(run: dict[str, Any], lang: str = "en") -> str:
    by_host: dict[str, list[Row]] = {host: [] for host in run["hosts"]}
    for row in rows(run, lang):
        by_host.setdefault(row.host, []).append(row)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", name=f"driftvakt audit {run['id']}")
    for index, (host, host_rows) in enumerate(by_host.items()):
        counts = {
            "tests": len(host_rows),
            "failures": sum(r.status == "fail" for r in host_rows),
            "errors": sum(r.status == "error" for r in host_rows),
            "skipped": sum(r.status in ("waived", "not_applicable") for r in host_rows),
        }
        attrs = {
            "name": host,
            "tests": str(counts["tests"]),
            "failures": str(counts["failures"]),
            "errors": str(counts["errors"]),
            "skipped": str(counts["skipped"]),
            "time": f"{sum(r.duration for r in host_rows):.3f}",
            "timestamp": _timestamp(run),
            "hostname": host,
            "id": str(index),
            "package": "driftvakt",
        }
        suite = ET.SubElement(root, "testsuite", attrs)
        props = ET.SubElement(suite, "properties")
        for name in ("id", "user", "driftvakt_version", "baseline_revision", "inventory"):
            ET.SubElement(props, "property", name=f"run.{name}", value=_text(str(run[name])))
        for row in host_rows:
            _case(suite, row)
        # Required, in this order, by the strictest common schema (Apache Ant's JUnit XSD).
        ET.SubElement(suite, "system-out").text = ""
        ET.SubElement(suite, "system-err").text = ""
        for key in total:
            total[key] += counts[key]
    root.attrib.update({k: str(v) for k, v in total.items()})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
