"""The GX 1.x expectation suites, stored as reviewed JSON next to this module.

Each expectation's `meta` carries the rule id, the field key (or "*" and the frame column that
lists the fields) and the Chinese message and fix templates; `render` fills them, here, so the
reader (flows.workbook) and the gates (flows.validate) word a rule the same way. Importing this
package is cheap; GX is imported only when a suite is loaded or run (expectations.runner).
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITES_DIR = Path(__file__).resolve().parent
EMPTY = "空"
# The suites, named by what they guard and how hard (critical rejects, warning alerts).
SUBMISSION_SUITE = "submission.critical"
WARNING_SUITE = "submission.warning"
PLAN_SUITE = "plan.critical"
CONSOLIDATED_SUITE = "consolidated.critical"


@dataclass(frozen=True)
class Failure:
    """One failed expectation of a run: its position in the suite, meta and failing rows."""

    order: int
    meta: dict[str, Any]
    kwargs: dict[str, Any]
    row_keys: tuple[int, ...]


class DocsRun:
    """The validation results of one flow run, kept for its Data Docs (runner.build_data_docs).

    A plain class, not a dataclass: Prefect walks dataclass task inputs, and these hold GX
    results."""

    def __init__(self, name: str):
        self.name = name
        self.results: list[tuple[str, str, Any]] = []


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


def suite_data(name: str) -> dict[str, Any]:
    """The suite's JSON as stored, without GX (for reading rules and their meta)."""
    path = suite_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite '{name}' at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_suite(name: str, only: Sequence[int] | None = None) -> ExpectationSuite:
    """Build the GX suite from `<name>.json` (or only its expectations at positions `only`, in
    that order); an expectation GX cannot build is an error.

    `ExpectationSuite(expectations=[...dicts])` logs and drops an invalid expectation, so each
    one is built first, where GX raises instead.
    """
    from great_expectations import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    data = suite_data(name)
    chosen = data["expectations"] if only is None else [data["expectations"][i] for i in only]
    expectations = [ExpectationConfiguration(**e).to_domain_obj() for e in chosen]
    for e in expectations:
        if not e.meta or "rule" not in e.meta or "field" not in e.meta:
            raise ValueError(f"{name}: every expectation needs meta.rule and meta.field: {e}")
    suite = ExpectationSuite(
        name=data["name"], expectations=expectations, meta=data.get("meta"), notes=data.get("notes")
    )
    if len(suite.expectations) != len(chosen):
        raise ValueError(f"{name}: GX kept {len(suite.expectations)} of {len(chosen)}")
    return suite


@cache
def meta_of(name: str, rule: str) -> dict[str, Any]:
    """The meta (rule, field, message, fix) of the first expectation of `name` with `rule`, so
    a check made outside GX (the reader's template check) words its finding the same way."""
    for e in suite_data(name)["expectations"]:
        if e["meta"]["rule"] == rule:
            return dict(e["meta"])
    raise KeyError(f"{name}: no expectation with rule {rule!r}")


def text(value: object) -> str:
    """A value as the unit typed it: Decimal without exponent, 是/否, ISO dates, 空 for None."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        # As typed: 8314.25, -5 and 30, not -5.00 or 3E+1.
        return format(value.normalize(), "f") if value == value else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Context(dict[str, str]):
    """Message placeholders; an unknown one stays visible instead of breaking a batch."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(meta: Mapping[str, Any], context: Mapping[str, str]) -> str:
    """`meta.message，meta.fix` with the placeholders filled."""
    parts = [str(meta[k]).format_map(Context(context)) for k in ("message", "fix") if meta.get(k)]
    return "，".join(parts)


RULE_NAMES = SUITES_DIR / "rule_names.csv"
UNNAMED_RULE = "其他检查"


@cache
def rule_names() -> dict[str, str]:
    """Rule id → its Chinese name (rule_names.csv): what a unit and the staff read instead of
    the id, in errors.xlsx, on the console and in the validation summaries."""
    with RULE_NAMES.open(encoding="utf-8", newline="") as f:
        return {row["规则"]: row["名称"] for row in csv.DictReader(f)}


def rule_name(rule: str) -> str:
    return rule_names().get(rule, UNNAMED_RULE)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
