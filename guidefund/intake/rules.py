"""The version of the rules a file is judged by: a rejected file's bytes are "known" (a
duplicate, not validated again) only while these rules are unchanged (issue 9, item 5).

The rules are everything that decides acceptance besides the bytes: the year's reference data
(every file in data/reference/<year>/), the expectation suites (expectations/*.json), the
reading limits, and READER, which changes whenever this package's reading or normalising rules
change what a file gets. A correction to any of them makes yesterday's rejections worth
another look; nothing else does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from guidefund.expectations import SUITES_DIR
from guidefund.reference import Reference

READER = "2026-12-03.1"


def rules_version(ref: Reference, limits: object) -> str:
    """A SHA-256 over the rules `ref` and `limits` stand for (64 hex digits)."""
    h = hashlib.sha256(f"reader {READER}\nlimits {limits!r}\n".encode())
    for path in _files(ref.year_dir) + _files(SUITES_DIR, "*.json"):
        h.update(f"{path.parent.name}/{path.name} {path.stat().st_size}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _files(directory: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in directory.glob(pattern) if p.is_file())
