"""The GX 1.x expectation suites, stored as reviewed JSON next to this module.

Each expectation's `meta` carries the rule id, the field key (or "*" and the frame column that
lists the fields) and the Chinese message and fix templates; `render` fills them, here, so the
reader (flows.workbook) and the gates (flows.validate) word a rule the same way. Importing this
package is cheap; GX is imported only when a suite is loaded or run (expectations.runner).

The per-field rules are not listed in the JSON: a suite's `generate` entry says which rule and
wording each kind of template field gets, and `suite_data` expands it for the year's
template_fields.csv (bounds, whole numbers, allowed values), so a field added or removed in a
year's files has its rules, or none, with no edit here.
"""

from __future__ import annotations

import copy
import csv
import json
import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidefund.reference import Field

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
        # Suite name → (template fields, frame columns) it ran with: its Data Docs page shows
        # the expectations generated for that year, not only the JSON's.
        self.shapes: dict[str, tuple[Any, Any]] = {}


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


def suite_data(
    name: str, fields: Sequence[Field] = (), columns: Collection[str] | None = None
) -> dict[str, Any]:
    """The suite as it runs for a year: its JSON, with the `generate` entry replaced by one
    expectation per rule of each template field in `fields` (field_expectations). Given the
    frame's `columns`, a JSON expectation looking at a column the year does not have (its field
    was removed from template_fields.csv) is left out."""
    cols = None if columns is None else frozenset(columns)
    return copy.deepcopy(_suite_data(name, tuple(fields), cols))


@lru_cache(maxsize=64)
def _suite_data(
    name: str, fields: tuple[Field, ...], columns: frozenset[str] | None
) -> dict[str, Any]:
    data = _stored(name)
    expanded: list[dict[str, Any]] = []
    for e in data["expectations"]:
        if "generate" in e:
            expanded += field_expectations(e, fields)
        elif columns is None or all(c in columns for c in _columns(e["kwargs"])):
            expanded.append(e)
    return {**data, "expectations": expanded}


@cache
def _stored(name: str) -> dict[str, Any]:
    path = suite_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite '{name}' at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _columns(kwargs: Mapping[str, Any]) -> list[str]:
    named = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    return [c for c in [*named, *(kwargs.get("column_list") or ())] if c]


BETWEEN = "expect_column_values_to_be_between"
NUMBER_KINDS = ("money", "int", "pct")


def field_expectations(spec: Mapping[str, Any], fields: Sequence[Field]) -> list[dict[str, Any]]:
    """The per-field expectations of template_fields.csv, by the suite's `generate` entry: for
    each field (in template order, the submission's keys skipped) its kind's expectations from
    `by_kind`; a bound check takes the field's 下限/上限 (none when it has neither) and, when
    they differ from the entry's `bounds`, the wording of `other_bounds`; a field with 可选值
    gets its kind's `allowed` entry, or else `allowed_values`. A field the year does not have
    gets nothing."""
    skip = set(spec.get("skip", ()))
    out: list[dict[str, Any]] = []

    def add(kind: str, kwargs: dict[str, Any], meta: Mapping[str, Any], key: str) -> None:
        out.append({"type": kind, "kwargs": kwargs, "meta": {**meta, "field": key},
                    "severity": spec["severity"]})  # fmt: skip

    for f in fields:
        if f.key in skip:
            continue
        bounds = (f.lower, f.upper)
        entries = spec["by_kind"].get(f.kind, [])
        has_between = any(e["type"] == BETWEEN for e in entries)
        if not has_between and f.kind in NUMBER_KINDS:
            entries = [spec["other_bounds"], *entries]
        checks_choices = False
        for e in entries:
            kwargs: dict[str, Any] = {"column": f.key, **e.get("kwargs", {})}
            meta = e["meta"]
            if e.get("allowed"):
                if not f.choices:
                    continue
                kwargs["value_set"] = list(f.choices)
                checks_choices = True
            if e["type"] == BETWEEN:
                if bounds == (None, None):
                    continue
                if "bounds" not in e or bounds != tuple(_dec(b) for b in e["bounds"]):
                    meta = spec["other_bounds"]["meta"]
                for k, b in (("min_value", f.lower), ("max_value", f.upper)):
                    if b is not None:
                        kwargs[k] = _json_number(b)
            add(e["type"], kwargs, meta, f.key)
        if f.choices and not checks_choices:
            allowed = spec["allowed_values"]
            add(allowed["type"], {"column": f.key, "value_set": list(f.choices)},
                allowed["meta"], f.key)  # fmt: skip
    return out


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def load_suite(
    name: str,
    only: Sequence[int] | None = None,
    fields: Sequence[Field] = (),
    columns: Collection[str] | None = None,
) -> ExpectationSuite:
    """Build the GX suite of `<name>.json` as it runs for `fields` and `columns` (suite_data),
    or only its expectations at positions `only`, in that order; an expectation GX cannot build
    is an error.

    `ExpectationSuite(expectations=[...dicts])` logs and drops an invalid expectation, so each
    one is built first, where GX raises instead.
    """
    from great_expectations import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    data = suite_data(name, fields, columns)
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
    """The meta (rule, field, message, fix) of the first stored expectation of `name` with
    `rule`, so a check made outside GX (the reader's template check) words its finding the
    same way."""
    for e in _stored(name)["expectations"]:
        if e.get("meta", {}).get("rule") == rule:
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
