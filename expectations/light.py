"""The submission suites evaluated without Great Expectations, for `guidefund check` (issue 10,
item 5: one file checked in ≤ 3 s, where importing GX alone takes 5.7–12 s on this machine).

Same suites (the JSON in this folder, with their meta and $PARAMETERs), same findings: each
expectation type the suites use is evaluated here exactly as GX 1.x's pandas engine does it
(the metric implementations in great_expectations/expectations/metrics/…: nulls left out of
single-column checks, `ignore_row_if` dropping rows before pair checks, `str.contains` for
regular expressions), and tests/test_check_fast.py runs GX and this module over the same frames
and asserts the same failures, row for row. An expectation type not listed here is refused
(KeyError), so a suite cannot silently lose a rule here: the nightly flow always runs GX.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from guidefund.expectations import DocsRun, Failure, suite_data
from guidefund.reference import Field

ROW_KEY = "row_key"


def _resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _between(frame: pd.DataFrame, kw: Mapping[str, Any]) -> pd.Series:
    column = frame[kw["column"]]
    low, high = kw.get("min_value"), kw.get("max_value")
    ok = pd.Series(True, index=frame.index)
    if low is not None:
        ok &= column > low if kw.get("strict_min") else column >= low
    if high is not None:
        ok &= column < high if kw.get("strict_max") else column <= high
    return column.notna() & ~ok.fillna(False).astype(bool)


def _in_set(frame: pd.DataFrame, kw: Mapping[str, Any]) -> pd.Series:
    column = frame[kw["column"]]
    return column.notna() & ~column.isin(list(kw["value_set"]))


def _regex(frame: pd.DataFrame, kw: Mapping[str, Any]) -> pd.Series:
    column = frame[kw["column"]]
    present = column.notna()
    matches = column[present].astype(str).str.contains(kw["regex"])
    return present & ~matches.reindex(frame.index, fill_value=True).astype(bool)


def _null(frame: pd.DataFrame, kw: Mapping[str, Any]) -> pd.Series:
    return frame[kw["column"]].notna()


def _pair(test: Callable[[pd.Series, pd.Series, Mapping[str, Any]], pd.Series]):  # type: ignore[no-untyped-def]
    def check(frame: pd.DataFrame, kw: Mapping[str, Any]) -> pd.Series:
        a, b = frame[kw["column_A"]], frame[kw["column_B"]]
        ignore = kw.get("ignore_row_if", "both_values_are_missing")
        if ignore == "either_value_is_missing":
            kept = a.notna() & b.notna()
        elif ignore == "both_values_are_missing":
            kept = a.notna() | b.notna()
        elif ignore == "neither":
            kept = pd.Series(True, index=frame.index)
        else:
            raise ValueError(f"ignore_row_if {ignore!r}")
        result = pd.Series(False, index=frame.index)
        if kept.any():
            result[kept] = ~test(a[kept], b[kept], kw).astype(bool)
        return result

    return check


EVALUATE: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]] = {
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_values_to_be_null": _null,
    "expect_column_pair_values_to_be_equal": _pair(lambda a, b, kw: a == b),
    "expect_column_pair_values_a_to_be_greater_than_b": _pair(
        lambda a, b, kw: a >= b if kw.get("or_equal") else a > b
    ),
}


def run_suite(
    frame: pd.DataFrame,
    name: str,
    parameters: Mapping[str, Any],
    docs: DocsRun | None = None,
    fields: Sequence[Field] = (),
) -> list[Failure]:
    """As expectations.runner.run_suite, for the expectation types above; no Data Docs."""
    failures = []
    expectations = suite_data(name, fields, frame.columns)["expectations"]
    for order, e in enumerate(expectations):
        kwargs = {k: _resolve(v, parameters) for k, v in e["kwargs"].items()}
        unexpected = EVALUATE[e["type"]](frame, kwargs)
        keys = tuple(sorted(int(k) for k in frame.loc[unexpected.to_numpy(bool), ROW_KEY]))
        if keys:
            failures.append(Failure(order, dict(e.get("meta") or {}), dict(e["kwargs"]), keys))
    return failures
