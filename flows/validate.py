"""Gate submissions and the consolidated set with the GX suites in expectations/.

A GX validation run costs ~250 ms whatever the batch size, so each gate is ONE run over one
DataFrame: one row per submission, or one row per direction (类别) and period. Failing rows
come back by `row_key` and become findings worded for the unit that must fix them; the
wording lives in each expectation's `meta`, not here.

Importing this module imports GX (~6 s): import it where validation runs, not at start-up.
"""

from __future__ import annotations

import logging
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations import load_suite
from flows.records import CRITICAL, Finding, Submission, Value
from flows.reference import Field, Reference

SUBMISSION_SUITE = "submission.critical"
CONSOLIDATED_SUITE = "consolidated.critical"
CONSOLIDATED_FILE = "汇总"
EMPTY = "空"
DATASOURCE = "guidefund"

# Template field → Project attribute it must equal; the frame carries it as `plan_<field>`.
PLAN_ATTRS: dict[str, str] = {
    "project_name": "name",
    "unit_name": "unit",
    "category": "category",
    "project_type": "project_type",
    "support_mode": "support_mode",
    "allocation": "allocation",
}

# Money and rates become float64 for comparison only; sums are done elsewhere in Decimal.
_DTYPES: dict[str, str] = {
    "money": "float64",
    "pct": "float64",
    "int": "Int64",
    "yesno": "boolean",
    "text": "str",
    "grade": "str",
    "period": "str",
    "date": "object",
}

_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_key"],
}


@dataclass(frozen=True)
class Failure:
    """One failed expectation of a run: its position, meta and the rows it failed on."""

    order: int
    meta: dict[str, Any]
    kwargs: dict[str, Any]
    row_keys: tuple[int, ...]


# ---------------------------------------------------------------------------- GX plumbing


@lru_cache(maxsize=1)
def quiet_gx_context() -> AbstractDataContext:
    """The process's one ephemeral GX context: in memory, no progress bars, no analytics.

    GX 1.24 sends nothing by itself (its usage-statistics sender is gone and the PyPI version
    check is never called); `analytics_enabled=False` is still set so the config says so.
    """
    # Creating the context logs at INFO where it puts its ephemeral docs site; not news to staff.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@cache
def _batch_definition(asset: str) -> BatchDefinition:
    sources = quiet_gx_context().data_sources
    try:
        datasource = sources.get(DATASOURCE)
    except KeyError:
        datasource = sources.add_pandas(DATASOURCE)
    return datasource.add_dataframe_asset(asset).add_batch_definition_whole_dataframe(asset)


@cache
def _suite(name: str) -> Any:
    return load_suite(name)


def _raised(info: Mapping[str, Any]) -> str | None:
    """The exception message GX recorded for an expectation, at top level or per metric."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or info)
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or value)
    return None


def run_suite(frame: pd.DataFrame, suite: str, parameters: dict[str, Any]) -> list[Failure]:
    """Validate `frame` (with a `row_key` column) against a suite in ONE GX run.

    A passing batch returns []; an expectation GX could not evaluate (a missing column, a bad
    parameter) is a bug, not a finding, and raises.
    """
    batch = _batch_definition(suite).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        _suite(suite), result_format=_RESULT_FORMAT, expectation_parameters=parameters
    )
    if result.success:
        return []
    failures: list[Failure] = []
    for order, r in enumerate(result.results):
        config = r.expectation_config
        error = _raised(r.exception_info or {})
        if error:
            raise RuntimeError(f"{suite} {config.type} {config.kwargs}: {error}")
        if r.success:
            continue
        rows = r.result.get("unexpected_index_list")
        if not rows:
            raise RuntimeError(f"{suite} {config.type}: failed without naming its rows")
        keys = tuple(sorted({int(row["row_key"]) for row in rows}))
        failures.append(Failure(order, dict(config.meta or {}), dict(config.kwargs), keys))
    return failures


# ---------------------------------------------------------------------------- wording


def text(value: object) -> str:
    """A value as the unit typed it: Decimal without exponent, 是/否, ISO dates, 空 for None."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Context(dict[str, str]):
    """Message placeholders; an unknown one stays visible instead of breaking a batch."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(meta: Mapping[str, Any], context: Mapping[str, str]) -> str:
    """`meta.message，meta.fix` with the placeholders filled."""
    parts = [str(meta[k]).format_map(_Context(context)) for k in ("message", "fix") if meta.get(k)]
    return "，".join(parts)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _allowed(kwargs: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    values = kwargs.get("value_set")
    if isinstance(values, Mapping) and "$PARAMETER" in values:
        values = parameters.get(values["$PARAMETER"])
    return "、".join(text(v) for v in values) if isinstance(values, Iterable) else ""


# ---------------------------------------------------------------------------- submissions


def _number(value: Value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return None
    return float(value)


def _integer(value: Value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: Value) -> bool | None:
    return value if isinstance(value, bool) else None


def _string(value: Value) -> str | None:
    return None if value is None else text(value)


def _as_is(value: Value) -> Value:
    return value


# A value of the wrong type (which the reader has already reported) compares as missing.
_CONVERT: dict[str, Callable[[Value], Any]] = {
    "money": _number,
    "pct": _number,
    "int": _integer,
    "yesno": _flag,
    "text": _string,
    "grade": _string,
    "period": _string,
    "date": _as_is,
}


def submission_frame(subs: list[Submission], ref: Reference) -> pd.DataFrame:
    """One row per submission: `row_key` (its index in `subs`), `file`, every template field,
    and the plan's columns for its project_no (`plan_known`, `plan_<field>`)."""
    projects = [ref.project(s.project_no) if s.project_no is not None else None for s in subs]
    columns: dict[str, pd.Series] = {
        "row_key": pd.Series(range(len(subs)), dtype="int64"),
        "file": pd.Series([s.file_name for s in subs], dtype="str"),
    }
    for f in ref.fields:
        convert = _CONVERT[f.kind]
        columns[f.key] = pd.Series(
            [convert(s.values.get(f.key)) for s in subs], dtype=_DTYPES[f.kind]
        )
    columns["plan_known"] = pd.Series([p is not None for p in projects], dtype="bool")
    for key, attr in PLAN_ATTRS.items():
        convert = _CONVERT[ref.field(key).kind]
        values = [convert(getattr(p, attr)) if p else None for p in projects]
        columns[f"plan_{key}"] = pd.Series(values, dtype=_DTYPES[ref.field(key).kind])
    return pd.DataFrame(columns)


def submission_parameters(ref: Reference) -> dict[str, Any]:
    """The reference data the submission suite's `$PARAMETER`s stand for."""
    return {
        "accepted_template_versions": list(ref.template_versions),
        "plan_project_nos": [p.no for p in ref.plan],
    }


def _where(sub: Submission, f: Field) -> tuple[str, str]:
    found = sub.cells.get(f.key, "")
    if "!" in found:
        sheet, cell = found.rsplit("!", 1)
        return sheet, cell
    return f.sheet, f.cell


def _submission_finding(
    sub: Submission, ref: Reference, failure: Failure, parameters: Mapping[str, Any]
) -> Finding:
    f = ref.field(failure.meta["field"])
    sheet, cell = _where(sub, f)
    project = ref.project(sub.project_no) if sub.project_no is not None else None
    context = _Context({k: text(v) for k, v in sub.values.items()})
    for key, attr in PLAN_ATTRS.items():
        context[f"plan_{key}"] = text(getattr(project, attr)) if project else EMPTY
    value = text(sub.values.get(f.key))
    context.update(
        label=f.label,
        value=value,
        unit=f.unit,
        sheet=sheet,
        cell=cell,
        year=str(ref.year),
        plan=context.get(f"plan_{f.key}", EMPTY),
        allowed=_allowed(failure.kwargs, parameters),
    )
    return Finding(
        file=sub.file_name,
        sheet=sheet,
        cell=cell,
        field=f.key,
        label=f.label,
        value=value,
        rule=str(failure.meta["rule"]),
        message=render(failure.meta, context),
        severity=CRITICAL,
    )


def validate_submissions(subs: list[Submission], ref: Reference) -> dict[int, list[Finding]]:
    """Critical findings by index in `subs` (rows without findings are absent); ONE GX run.

    Within a row, findings follow the template's field order, then the suite's order.
    """
    if not subs:
        return {}
    parameters = submission_parameters(ref)
    failures = run_suite(submission_frame(subs, ref), SUBMISSION_SUITE, parameters)
    field_order = {f.key: i for i, f in enumerate(ref.fields)}
    found: dict[int, list[tuple[int, int, Finding]]] = defaultdict(list)
    for failure in failures:
        for key in failure.row_keys:
            finding = _submission_finding(subs[key], ref, failure, parameters)
            found[key].append((field_order[finding.field], failure.order, finding))
    return {
        key: [f for *_, f in sorted(items, key=lambda t: t[:2])]
        for key, items in sorted(found.items())
    }


# ---------------------------------------------------------------------------- consolidated


def _numbers(nos: Iterable[int]) -> str:
    return "、".join(str(n) for n in sorted(nos))


def consolidated_frame(rows: list[dict[str, Any]], ref: Reference) -> pd.DataFrame:
    """One row per period × direction (every category of the budget, plus any unknown one).

    `allocation` is the exact Decimal sum of the rows' plan allocation and `budget` the plan's
    category total; `submissions` vs `project_periods` counts rows vs distinct project_no.
    With no rows at all the annual period is checked, so an empty set fails.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(str(row.get("period") or ""), str(row.get("category") or ""))].append(row)
    periods = sorted({period for period, _ in groups}) or [str(ref.year)]
    unknown = sorted({cat for _, cat in groups} - set(ref.budget))
    plan_nos: dict[str, set[int]] = defaultdict(set)
    for p in ref.plan:
        plan_nos[p.category].add(p.no)
    records = []
    for period in periods:
        for category in [*ref.budget, *unknown]:
            members = groups.get((period, category), [])
            counts = Counter(int(r["project_no"]) for r in members)
            budget = ref.budget.get(category)
            records.append(
                {
                    "period": period,
                    "category": category,
                    "allocation": sum((Decimal(r["allocation"]) for r in members), Decimal(0)),
                    "budget": budget.total if budget else None,
                    "submissions": len(members),
                    "project_periods": len(counts),
                    "missing_projects": _numbers(plan_nos[category] - set(counts)),
                    "extra_projects": _numbers(set(counts) - plan_nos[category]),
                    "duplicate_projects": "、".join(
                        f"序号 {no}（{n} 份）" for no, n in sorted(counts.items()) if n > 1
                    ),
                }
            )
    frame = pd.DataFrame.from_records(records)
    frame.insert(0, "row_key", pd.Series(range(len(frame)), dtype="int64"))
    # Decimal objects, so the GX pair comparison is exact.
    frame["allocation"] = frame["allocation"].astype("object")
    frame["budget"] = frame["budget"].astype("object")
    return frame


def _gaps(row: Mapping[str, Any]) -> str:
    parts = []
    if row["missing_projects"]:
        parts.append(f"缺少序号 {row['missing_projects']} 的报送")
    if row["extra_projects"]:
        parts.append(f"序号 {row['extra_projects']} 不属于该方向")
    return "；".join(parts) or "各项目的安排资金与计划不符"


def validate_consolidated(rows: list[dict[str, Any]], ref: Reference) -> list[Finding]:
    """Critical findings about the consolidated set (rows: project_no, period, category,
    allocation as Decimal), in frame order then suite order; ONE GX run."""
    frame = consolidated_frame(rows, ref)
    by_key = frame.set_index("row_key").to_dict("index")
    found: list[tuple[int, int, Finding]] = []
    for failure in run_suite(frame, CONSOLIDATED_SUITE, {}):
        f = ref.field(failure.meta["field"])
        for key in failure.row_keys:
            row = by_key[key]
            context = _Context({k: text(v) for k, v in row.items()})
            context.update(label=f.label, unit=f.unit, gaps=_gaps(row))
            value = text(row[failure.meta["value_column"]])
            finding = Finding(
                file=CONSOLIDATED_FILE,
                sheet="",
                cell="",
                field=f.key,
                label=f"{row['category']}（{row['period']}）{f.label}",
                value=value,
                rule=str(failure.meta["rule"]),
                message=render(failure.meta, context),
                severity=CRITICAL,
            )
            found.append((key, failure.order, finding))
    return [f for *_, f in sorted(found, key=lambda t: (t[0], t[1]))]
