"""Find the run a command is asked about: a result file, a stored run's id (or prefix), or the
latest stored run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from driftvakt.errors import BadInputError
from driftvakt.store import Location, Store
from driftvakt.store.location import describe, exists


def load_run(ref: str | None, store_path: Location) -> dict[str, Any]:
    if ref and (ref.endswith(".json") or Path(ref).is_file()):
        try:
            data = json.loads(Path(ref).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInputError(f"{ref}: not a driftvakt result file ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise BadInputError(f"{ref}: not a driftvakt result file (no results list)")
        return data
    if not exists(store_path):
        raise BadInputError(f"no run store at {store_path}: run driftvakt audit or use --store")
    with Store(store_path) as store:
        if ref and ref != "latest":
            return store.load(ref)
        latest = store.latest(1)
    if not latest:
        raise BadInputError(
            f"the run store {describe(store_path)} holds no runs yet: run driftvakt audit"
        )
    return latest[0]
