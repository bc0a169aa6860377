"""The end of every benchmark: the verdict, the time taken and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path


def finish(result: dict, json_path: Path | None) -> int:
    """Print each of ``result["failures"]`` (or PASS) and ``result["seconds"]``, write ``result`` as JSON to
    ``json_path`` when given, and return the exit status: 1 when a threshold failed, else 0."""
    for failure in result["failures"]:
        print(f"FAIL: {failure}")
    if not result["failures"]:
        print("PASS")
    print(f"({result['seconds']:.0f} s)")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results written to {json_path}")
    return 1 if result["failures"] else 0
