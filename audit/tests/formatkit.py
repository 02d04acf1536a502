"""Validators shared by the unit and lab tests of the machine formats (docs/formats.md)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import regex
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from driftvakt.formats import csv_export, json_schema

OSCAL_SCHEMA = (
    Path(__file__).parent / "fixtures" / "oscal" / "oscal_assessment-results_schema-1.0.6.json"
)
# sha256 of the file as published in usnistgov/OSCAL at tag v1.0.6 (fixtures/oscal/SOURCE.md)
OSCAL_SCHEMA_SHA256 = "73fd7503ec274f5a4039a6dd3976c13ce2052d483a74a87b6e24145d88193cb2"


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # OSCAL's patterns use Unicode classes (\p{L}, \p{N}) that Python's re rejects.
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


OscalValidator = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})


def validate_run(data: dict[str, Any]) -> None:
    schema = json_schema.schema()
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(data)


def validate_oscal(doc: dict[str, Any]) -> None:
    raw = OSCAL_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OSCAL_SCHEMA_SHA256, "the vendored schema changed"
    schema = json.loads(raw)
    errors = sorted(
        OscalValidator(schema, format_checker=FormatChecker()).iter_errors(doc),
        key=lambda e: list(e.absolute_path),
    )
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def check_junit(text: str, run: dict[str, Any]) -> ET.Element:
    """Structure as the Jenkins/GitLab JUnit schema wants it, and counts that match the run."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text)  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == run["hosts"]
    for suite in suites:
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp"):
            assert suite.get(attr) is not None, attr
        cases = suite.findall("testcase")
        mine = [r for r in run["results"] if r["host"] == suite.get("name")]
        assert [c.get("name") for c in cases] == [r["control"] for r in mine]
        assert int(suite.get("tests", "")) == len(cases)
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attr, "")) == sum(c.find(tag) is not None for c in cases)
        tags = [child.tag for child in suite]
        assert tags == ["properties", *["testcase"] * len(cases), "system-out", "system-err"]
        for case, result in zip(cases, mine, strict=True):
            outcome = [c.tag for c in case if c.tag != "system-out"]
            expected = {"pass": [], "fail": ["failure"], "error": ["error"]}.get(
                result["status"], ["skipped"]
            )
            assert outcome == expected, (result, outcome)
            if expected and result["reason"]:
                assert result["reason"] in (case.find(expected[0]).get("message") or "")  # type: ignore[union-attr]
            out = case.findtext("system-out") or ""
            assert all(line in out for line in result["evidence"])
    total = sum(int(s.get("tests", "")) for s in suites)
    assert int(root.get("tests", "")) == total == len(run["results"])
    return root


def check_csv(text: str, run: dict[str, Any]) -> list[dict[str, str]]:
    assert "\r\n" in text, "RFC 4180 records end in CRLF"
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) if rows else True
    assert tuple(csv.reader(io.StringIO(text)).__next__()) == csv_export.COLUMNS
    assert len(rows) == len(run["results"])
    for row, result in zip(rows, run["results"], strict=True):
        assert (row["host"], row["control"], row["status"]) == (
            result["host"],
            result["control"],
            result["status"],
        )
        assert row["reason"] == result["reason"]
        assert row["evidence"] == "\n".join(result["evidence"])
        assert row["run_id"] == run["id"]
    return rows
