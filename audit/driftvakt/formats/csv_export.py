"""One CSV row per host x control (RFC 4180: comma, double quotes, CRLF), UTF-8.

Multi-valued cells (requirements, evidence) are joined with ``; `` and a newline respectively;
the csv module quotes them, so a spreadsheet shows them in one cell.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from driftvakt.formats import rows

COLUMNS = (
    "run_id",
    "run_started",
    "host",
    "control",
    "status",
    "severity",
    "requirements",
    "title",
    "reason",
    "evidence",
    "duration_s",
)
BOM = "\ufeff"


def render(run: dict[str, Any], lang: str = "en", bom: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(run, lang):
        writer.writerow(
            (
                run["id"],
                run["started"],
                row.host,
                row.control,
                row.status,
                row.severity,
                "; ".join(row.requirements),
                row.title,
                row.reason,
                "\n".join(row.evidence),
                f"{row.duration:.3f}",
            )
        )
    # Excel only reads UTF-8 (åäö) right when the file starts with a byte order mark; other
    # CSV readers take the BOM as part of the first column name, so it is opt-in.
    return (BOM if bom else "") + out.getvalue()
