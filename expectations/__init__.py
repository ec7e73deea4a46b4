"""The GX 1.x expectation suites, stored as reviewed JSON next to this module.

Each expectation's `meta` carries the rule id, the field key and the Chinese message and fix
templates that `flows.validate` turns into findings. Importing this package is cheap; GX is
imported only when a suite is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITES_DIR = Path(__file__).resolve().parent


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


def suite_data(name: str) -> dict[str, Any]:
    """The suite's JSON as stored, without GX (for reading rules and their meta)."""
    path = suite_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite '{name}' at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_suite(name: str) -> ExpectationSuite:
    """Build the GX suite from `<name>.json`; an expectation GX cannot build is an error.

    `ExpectationSuite(expectations=[...dicts])` logs and drops an invalid expectation, so each
    one is built first, where GX raises instead.
    """
    from great_expectations import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    data = suite_data(name)
    expectations = [ExpectationConfiguration(**e).to_domain_obj() for e in data["expectations"]]
    for e in expectations:
        if not e.meta or "rule" not in e.meta or "field" not in e.meta:
            raise ValueError(f"{name}: every expectation needs meta.rule and meta.field: {e}")
    suite = ExpectationSuite(
        name=data["name"], expectations=expectations, meta=data.get("meta"), notes=data.get("notes")
    )
    if len(suite.expectations) != len(data["expectations"]):
        raise ValueError(
            f"{name}: GX kept {len(suite.expectations)} of {len(data['expectations'])}"
        )
    return suite
