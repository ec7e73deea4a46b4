"""Checks whose inputs did not change are not run again: their findings are kept, keyed by a
hash of everything they depend on, in <workdir>/.checked.json (issue 10, item 7: bounded fixed
cost).

A night with nothing new to validate would otherwise import Great Expectations (5.7–12 s here)
only to check the unchanged plan and the unchanged consolidated set again. plan.critical
depends on the reference data and the suites (the rules version); consolidated.critical on
those and on the current submissions it is given. Same key, same findings: GX runs when there
is something it has not judged yet.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from guidefund.records import Finding


def key_of(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Memo:
    def __init__(self, workdir: Path):
        self.path = workdir / ".checked.json"

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, check: str, key: str) -> list[Finding] | None:
        """The findings `check` gave for inputs `key`, or None when it has not seen them."""
        entry = self._read().get(check)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            return [Finding(**f) for f in entry["findings"]]  # type: ignore[union-attr]
        except (KeyError, TypeError):
            return None

    def put(self, check: str, key: str, findings: Sequence[Finding]) -> None:
        data = self._read()
        data[check] = {"key": key, "findings": [asdict(f) for f in findings]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)
