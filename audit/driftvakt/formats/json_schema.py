"""The run as JSON, exactly as stored, described by ``schemas/run.schema.json``."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_ID = "urn:driftvakt:schema:run:1"


def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of a run."""
    text = resources.files("driftvakt").joinpath("schemas/run.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def render(run: dict[str, Any], lang: str = "en") -> str:
    del lang  # the run JSON is language-neutral: ids and statuses, no titles
    return json.dumps(run, indent=2, ensure_ascii=False) + "\n"
