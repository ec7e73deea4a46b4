"""Gate submissions, the plan and the consolidated set with the suites in expectations/.

Each gate validates ONE DataFrame per batch (expectations.runner: one GX run, plus a detail run
of what failed): one row per submission, per direction, or per period × direction. Failing rows
come back by `row_key` and become findings worded for the unit that must fix them; the wording
lives in each expectation's `meta`, not here. What a row-wise expectation cannot say by itself
(the plan's support mode, the direction's median) is put in derived columns, named in each
suite's meta.

Importing this module imports pandas, not GX: GX (~6 s) is imported on the first suite run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from guidefund.expectations import (
    CONSOLIDATED_SUITE,
    EMPTY,
    PLAN_SUITE,
    SUBMISSION_SUITE,
    WARNING_SUITE,
    Context,
    DocsRun,
    Failure,
    placeholders,
    render,
    text,
)
from guidefund.intake.normalise import canonical
from guidefund.intake.outliers import Outlier, Thresholds, find_outliers
from guidefund.intake.workbook import FATAL_RULES, SHEET_MISSING
from guidefund.numbers import as_decimal
from guidefund.records import CRITICAL, TOTAL, WARNING, Finding, Submission, Value, period_month
from guidefund.reference import (
    CARRIED,
    DIRECT,
    NEW,
    POST,
    Field,
    Project,
    Reference,
    WarningRules,
)

__all__ = ["placeholders", "quiet_gx_context", "text"]  # re-exported for callers and tests

# (frame, suite, parameters, docs, the year's template fields) → failures
Evaluator = Callable[
    [pd.DataFrame, str, Mapping[str, Any], DocsRun | None, Sequence[Field]], list[Failure]
]


def run_suite(
    frame: pd.DataFrame,
    name: str,
    parameters: Mapping[str, Any],
    docs: DocsRun | None = None,
    fields: Sequence[Field] = (),
) -> list[Failure]:
    """One Great Expectations run of suite `name`, with the per-field expectations of `fields`
    (GX is imported on first use, ~6 s)."""
    from guidefund.expectations.runner import run_suite as gx_run_suite

    return gx_run_suite(frame, name, parameters, docs, fields)


def quiet_gx_context() -> Any:
    from guidefund.expectations.runner import quiet_gx_context as context

    return context()


CONSOLIDATED_FILE = "汇总"
PLAN_FILE = "plan.csv"

# Template field → Project attribute it must equal; the frame carries it as `plan_<field>`.
PLAN_ATTRS: dict[str, str] = {
    "project_name": "name",
    "unit_name": "unit",
    "category": "category",
    "project_type": "project_type",
    "support_mode": "support_mode",
    "allocation": "allocation",
}
# Pre-filled texts compare in canonical form: （ and ( or a stray space are the same name.
_IDENTITY = frozenset(k for k in PLAN_ATTRS if k != "allocation")

# Money, rates and counts become float64 for comparison only; sums are done in Decimal.
_DTYPES = {"money": "float64", "pct": "float64", "int": "float64", "yesno": "boolean"}


def _float(value: Value) -> float | None:
    """A number as float64, for the comparison frame only (sums stay Decimal); text and yes/no
    compare as missing: the reader has already reported them."""
    if isinstance(value, bool | str):
        return None
    number = as_decimal(value)
    return None if number is None else float(number)


def _convert(f: Field, value: Value) -> Any:
    """A value of the wrong type (already reported by the reader) compares as missing."""
    if f.kind in _DTYPES and f.kind != "yesno":
        return _float(value)
    if f.kind == "yesno":
        return value if isinstance(value, bool) else None
    if value is None:
        return None
    return canonical(str(value)) if f.key in _IDENTITY else text(value)


def submission_frame(
    subs: Sequence[Submission],
    ref: Reference,
    outliers: Mapping[tuple[int, str], Outlier] | None = None,
) -> pd.DataFrame:
    """One row per submission: `row_key` (its index in `subs`), `file`, every template field,
    the plan's columns for its project_no (`plan_known`, `plan_<field>`) and the derived
    columns the suites name in their meta."""
    rules = ref.warning_rules
    plans = [ref.project(s.project_no) if s.project_no is not None else None for s in subs]
    n = range(len(subs))
    cols: dict[str, pd.Series] = {
        "row_key": pd.Series(n, dtype="int64"),
        "file": pd.Series([s.file_name for s in subs], dtype="str"),
    }
    missing: list[list[str]] = [[] for _ in n]
    for f in ref.fields:
        values = [_convert(f, s.values.get(f.key)) for s in subs]
        cols[f.key] = pd.Series(values, dtype=_DTYPES.get(f.kind, "object"))
        if f.required:
            for i, v in enumerate(values):
                if v is None:
                    missing[i].append(f.key)
    # template_fields.csv's 必填, for the one `required` expectation (see the suite's meta).
    cols["missing_required"] = pd.Series([",".join(m) or None for m in missing], dtype="object")
    cols["plan_known"] = pd.Series([p is not None for p in plans], dtype="bool")
    for key, attr in PLAN_ATTRS.items():
        f = ref.field(key)
        values = [_convert(f, getattr(p, attr)) if p else None for p in plans]
        cols[f"plan_{key}"] = pd.Series(values, dtype=_DTYPES.get(f.kind, "object"))

    pairs = list(zip(subs, plans, strict=True))

    def when(test: Any, key: str) -> pd.Series:
        values = [_float(s.values.get(key)) if p and test(p) else None for s, p in pairs]
        return pd.Series(values, dtype="float64")

    cols["period_year"] = pd.Series([_year(s.period) for s in subs], dtype="Int64")
    cols["direct_allocation"] = pd.Series(
        [float(p.allocation) if p and p.support_mode == DIRECT else None for p in plans],
        dtype="float64",
    )
    cols["post_funds_spent"] = when(lambda p: p.support_mode == POST, "funds_spent")
    enterprise = lambda p: p.unit_type == rules.enterprise_unit_type  # noqa: E731
    cols["enterprise_self_raised"] = when(enterprise, "self_raised")
    minimum = [_float(_minimum(s, rules)) if p and enterprise(p) else None for s, p in pairs]
    cols["enterprise_self_raised_min"] = pd.Series(minimum, dtype="float64")
    flagged: dict[int, list[str]] = defaultdict(list)
    for i, key in outliers or {}:
        flagged[i].append(key)
    cols["outliers"] = pd.Series([",".join(flagged[i]) or None for i in n], dtype="object")
    return pd.DataFrame(cols)


def _year(period: str | None) -> int | None:
    return int(period[:4]) if period and period[:4].isdigit() else None


def _minimum(sub: Submission, rules: WarningRules) -> Decimal | None:
    base = sub.values.get(rules.ratio_base)
    return rules.self_raised_ratio * base if isinstance(base, Decimal | int) else None


def submission_parameters(ref: Reference, thresholds: Thresholds) -> dict[str, Any]:
    """The reference data and settings the submission suites' `$PARAMETER`s stand for."""
    return {
        "accepted_template_versions": list(ref.template_versions),
        "plan_project_nos": [p.no for p in ref.plan],
        "plan_year": ref.year,
        "satisfaction_warn_below_pct": float(thresholds.satisfaction_warn_below_pct),
    }


def _allowed(kwargs: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    values = kwargs.get("value_set")
    if isinstance(values, Mapping) and "$PARAMETER" in values:
        values = parameters.get(values["$PARAMETER"])
    return "、".join(text(v) for v in values) if isinstance(values, Iterable) else ""


def _where(sub: Submission, f: Field) -> tuple[str, str]:
    found = sub.cells.get(f.key, "")
    if "!" in found:
        sheet, cell = found.rsplit("!", 1)
        return sheet, cell
    return f.sheet, f.cell


@dataclass(frozen=True)
class _Batch:
    ref: Reference
    rules: WarningRules
    thresholds: Thresholds
    parameters: Mapping[str, Any]
    outliers: Mapping[tuple[int, str], Outlier]


def _bound(value: object) -> str:
    return "" if value is None else text(Decimal(str(value)))


def _submission_finding(
    sub: Submission, key: int, f: Field, failure: Failure, severity: str, b: _Batch
) -> Finding:
    sheet, cell = _where(sub, f)
    project = b.ref.project(sub.project_no) if sub.project_no is not None else None
    context = Context({k: text(v) for k, v in sub.values.items()})
    for k, attr in PLAN_ATTRS.items():
        context[f"plan_{k}"] = text(getattr(project, attr)) if project else EMPTY
    value = text(sub.values.get(f.key))
    context.update(
        label=f.label, value=value, unit=f.unit, sheet=sheet, cell=cell, year=str(b.ref.year),
        plan=context.get(f"plan_{f.key}", EMPTY), allowed=_allowed(failure.kwargs, b.parameters),
        threshold=text(b.thresholds.satisfaction_warn_below_pct),
        ratio=text(b.rules.self_raised_ratio), base=text(sub.values.get(b.rules.ratio_base)),
        minimum=text(_minimum(sub, b.rules)), lower=_bound(failure.kwargs.get("min_value")),
        upper=_bound(failure.kwargs.get("max_value")),
    )  # fmt: skip
    outlier = b.outliers.get((key, f.key))
    if outlier is not None:
        context["comparison"] = outlier.comparison(f.unit)
    return Finding(
        file=sub.file_name,
        sheet=sheet,
        cell=cell,
        field=f.key,
        label=f.label,
        value=value,
        rule=str(failure.meta["rule"]),
        message=render(failure.meta, context),
        severity=severity,
    )


def _covered(sub: Submission, ref: Reference) -> set[str]:
    """Fields the reader already reported (or whose sheet is missing): the suites stay silent."""
    missing = {p.sheet for p in sub.problems if p.rule == SHEET_MISSING}
    return {p.field for p in sub.problems if p.field} | {
        f.key for f in ref.fields if f.sheet in missing
    }


def validate_submissions(
    subs: Sequence[Submission],
    ref: Reference,
    thresholds: Thresholds | None = None,
    history: Mapping[int, Mapping[str, Any]] | None = None,
    docs: DocsRun | None = None,
    evaluate: Evaluator | None = None,
) -> dict[int, list[Finding]]:
    """Every finding of each submission, by index in `subs` (rows without any are absent): the
    reader's, submission.critical's and submission.warning's; critical first, then in template
    order. `history` maps an index to the project's previous accepted figures (warehouse).
    One GX run per suite for the whole batch; a file the reader could not trust is not run.
    `evaluate` runs a suite (default: GX; `guidefund check` passes expectations.light)."""
    if thresholds is None:
        from guidefund.settings import Settings

        thresholds = Thresholds.of(Settings())
    rules = ref.warning_rules
    keep = [i for i, s in enumerate(subs) if not any(p.rule in FATAL_RULES for p in s.problems)]
    batch = [subs[i] for i in keep]
    past = {j: history[i] for j, i in enumerate(keep) if history and i in history}
    factor, peers = thresholds.outlier_factor, rules.outlier_min_peers
    outliers = find_outliers(batch, ref, rules.outlier_fields, peers, factor, past)
    b = _Batch(ref, rules, thresholds, submission_parameters(ref, thresholds), outliers)
    order = {f.key: i for i, f in enumerate(ref.fields)}
    found: dict[int, list[tuple[tuple[int, int, int], Finding]]] = defaultdict(list)
    for i, sub in enumerate(subs):
        for n, p in enumerate(sub.problems):
            found[i].append(((p.severity != CRITICAL, order.get(p.field, -1), n), p))
    if batch:
        frame = submission_frame(batch, ref, outliers)
        covered = [_covered(s, ref) for s in batch]
        for suite, severity in ((SUBMISSION_SUITE, CRITICAL), (WARNING_SUITE, WARNING)):
            for failure in (evaluate or run_suite)(frame, suite, b.parameters, docs, ref.fields):
                for j in failure.row_keys:
                    keys = _failure_fields(failure, frame, j)
                    for key in keys:
                        if key in covered[j]:
                            continue
                        f = ref.field(key)
                        finding = _submission_finding(batch[j], j, f, failure, severity, b)
                        rank = (severity != CRITICAL, order[key], 100 + failure.order)
                        found[keep[j]].append((rank, finding))
    return {i: fs for i, items in sorted(found.items()) if (fs := _ordered(items))}


def _ordered(items: list[tuple[tuple[int, int, int], Finding]]) -> list[Finding]:
    """Critical first, then template order; a warning on a field that is already wrong is
    dropped (satisfaction -1 is out of range, not 'low')."""
    wrong = {f.field for _, f in items if f.severity == CRITICAL and f.field}
    kept = [(rank, f) for rank, f in items if f.severity == CRITICAL or f.field not in wrong]
    return [f for _, f in sorted(kept, key=lambda t: t[0])]


def _failure_fields(failure: Failure, frame: pd.DataFrame, row: int) -> list[str]:
    """The field(s) a failure is about: meta.field, or for a multi-field expectation the field
    keys listed in the row's `meta.fields_column`."""
    if failure.meta["field"] != "*":
        return [str(failure.meta["field"])]
    return str(frame.at[row, failure.meta["fields_column"]]).split(",")


# ---------------------------------------------------------------------------- plan, consolidated


def _kinds(projects: Iterable[Project]) -> dict[str, Any]:
    """Allocation and counts by 立项类型 × 支持方式 of some plan projects (Decimal sums)."""
    ps = list(projects)
    zero = Decimal(0)
    return {
        "allocation": sum((p.allocation for p in ps), zero),
        "carried_allocation": sum((p.allocation for p in ps if p.project_type == CARRIED), zero),
        "new_allocation": sum((p.allocation for p in ps if p.project_type == NEW), zero),
        "projects": len(ps),
        "carried_projects": sum(p.project_type == CARRIED for p in ps),
        "new_direct_projects": sum(p.project_type == NEW and p.support_mode == DIRECT for p in ps),
        "new_post_projects": sum(p.project_type == NEW and p.support_mode == POST for p in ps),
    }


def _budget(ref: Reference, category: str) -> dict[str, Any]:
    """What the plan says a direction (or the total, TOTAL) must add up to; None = not stated."""
    if category == TOTAL:
        c = ref.counts
        return {"budget": ref.annual_amount, "budget_carried": None, "budget_new": None,
                "budget_projects": c["项目总数"], "budget_carried_projects": c["结转项目数"],
                "budget_new_direct_projects": c["新上直接补助项目数"],
                "budget_new_post_projects": c["新上后补助项目数"]}  # fmt: skip
    b = ref.budget.get(category)
    if b is None:
        return dict.fromkeys(_budget(ref, TOTAL))
    return {"budget": b.total, "budget_carried": b.carried, "budget_new": b.new,
            "budget_projects": b.projects, "budget_carried_projects": b.carried_projects,
            "budget_new_direct_projects": b.new_direct_projects,
            "budget_new_post_projects": b.new_post_projects}  # fmt: skip


def _reported(projects: Sequence[Project]) -> dict[str, Any]:
    """For a monthly period: what the plan says the projects that reported must add up to
    (the others' reports are not due in full, and a missing one is its own alert)."""
    k = _kinds(projects)
    return {"budget": k["allocation"], "budget_carried": k["carried_allocation"],
            "budget_new": k["new_allocation"], "budget_projects": k["projects"],
            "budget_carried_projects": k["carried_projects"],
            "budget_new_direct_projects": k["new_direct_projects"],
            "budget_new_post_projects": k["new_post_projects"]}  # fmt: skip


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    frame.insert(0, "row_key", pd.Series(range(len(frame)), dtype="int64"))
    # Decimal objects (and ints with None), so the GX pair comparisons are exact.
    for column in frame.columns[1:]:
        if column not in ("category", "period"):
            frame[column] = frame[column].astype("object")
    return frame


def plan_frame(ref: Reference) -> pd.DataFrame:
    """One row per direction of the budget, plus TOTAL: plan.csv's sums and counts beside
    category_budget.csv's (region.csv's for TOTAL)."""
    by_cat: dict[str, list[Project]] = defaultdict(list)
    for p in ref.plan:
        by_cat[p.category].append(p)
    cats = [*ref.budget, *sorted(set(by_cat) - set(ref.budget)), TOTAL]
    return _frame([
        {"category": c, **_kinds(ref.plan if c == TOTAL else by_cat[c]), **_budget(ref, c)}
        for c in cats
    ])  # fmt: skip


def _gate(frame: pd.DataFrame, suite: str, ref: Reference, file: str, docs: DocsRun | None,
          extra: Any = None) -> list[Finding]:  # fmt: skip
    """Run a per-direction suite; findings in frame order, then suite order. An expectation
    whose meta says `unless: <rule>` stays silent on rows where that rule already failed."""
    rows = frame.set_index("row_key").to_dict("index")
    failures = run_suite(frame, suite, {}, docs)
    failed = {(str(x.meta["rule"]), key) for x in failures for key in x.row_keys}
    found: list[tuple[int, int, Finding]] = []
    for failure in failures:
        f = ref.field(failure.meta["field"])
        for key in failure.row_keys:
            if (failure.meta.get("unless"), key) in failed:
                continue
            row = rows[key]
            context = Context({k: text(v) for k, v in row.items()})
            context.update(label=f.label, unit=f.unit, **(extra(row) if extra else {}))
            where = row["category"] + (f"（{row['period']}）" if "period" in row else "")
            finding = Finding(
                file=file, sheet="", cell="", field=f.key, label=f"{where}{f.label}",
                value=text(row[failure.meta["value_column"]]), rule=str(failure.meta["rule"]),
                message=render(failure.meta, context), severity=CRITICAL,
            )  # fmt: skip
            found.append((key, failure.order, finding))
    return [f for *_, f in sorted(found, key=lambda t: (t[0], t[1]))]


def validate_plan(ref: Reference, docs: DocsRun | None = None) -> list[Finding]:
    """plan.critical over the reference data: ONE GX run; [] when the plan is consistent."""
    return _gate(plan_frame(ref), PLAN_SUITE, ref, PLAN_FILE, docs)


def _numbers(nos: Iterable[int]) -> str:
    return "、".join(str(n) for n in sorted(nos))


def consolidated_frame(rows: Sequence[Mapping[str, Any]], ref: Reference) -> pd.DataFrame:
    """One row per period × direction (every category of the budget, plus any unknown one),
    plus a TOTAL row per period: the current submissions' plan allocation (exact Decimal sum)
    and counts by 立项类型 × 支持方式 beside the plan's; `submissions` vs `project_periods`
    counts rows vs distinct projects. With no rows at all the annual period is checked.
    A monthly period is compared with the plan of the projects that reported for it (what was
    reported), the annual one with the whole plan."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        period = str(row.get("period") or "")
        groups[(period, str(row.get("category") or ""))].append(row)
        groups[(period, TOTAL)].append(row)
    periods = sorted({period for period, _ in groups}) or [str(ref.year)]
    unknown = sorted({cat for _, cat in groups} - set(ref.budget) - {TOTAL})
    plan_nos: dict[str, set[int]] = defaultdict(set)
    for p in ref.plan:
        plan_nos[p.category].add(p.no)
        plan_nos[TOTAL].add(p.no)
    records = []
    for period in periods:
        for category in [*ref.budget, *unknown, TOTAL]:
            members = groups.get((period, category), [])
            counts = Counter(int(r["project_no"]) for r in members)
            projects = [p for no in counts if (p := ref.project(no)) is not None]
            kinds = _kinds(projects)
            kinds["allocation"] = sum((Decimal(r["allocation"]) for r in members), Decimal(0))
            monthly = period_month(period) is not None
            if monthly and not members:
                continue
            plan = (
                _reported(projects) if monthly and category in plan_nos else _budget(ref, category)
            )
            expected = set(counts) if monthly else plan_nos[category]
            records.append({
                "period": period, "category": category, **kinds, **plan,
                "submissions": len(members), "project_periods": len(counts),
                "missing_projects": _numbers(expected - set(counts)),
                "extra_projects": _numbers(set(counts) - plan_nos[category]),
                "duplicate_projects": "、".join(
                    f"序号 {no}（{n} 份）" for no, n in sorted(counts.items()) if n > 1
                ),
            })  # fmt: skip
    return _frame(records)


def _gaps(row: Mapping[str, Any]) -> dict[str, str]:
    parts = []
    if row["missing_projects"]:
        parts.append(f"缺少序号 {row['missing_projects']} 的报送")
    if row["extra_projects"]:
        parts.append(f"序号 {row['extra_projects']} 不属于该方向")
    return {"gaps": "；".join(parts) or "各项目的安排资金与计划不符"}


def validate_consolidated(
    rows: Sequence[Mapping[str, Any]], ref: Reference, docs: DocsRun | None = None
) -> list[Finding]:
    """Critical findings about the consolidated set (rows: project_no, period, category,
    allocation as Decimal), in frame order then suite order; ONE GX run."""
    frame = consolidated_frame(rows, ref)
    return _gate(frame, CONSOLIDATED_SUITE, ref, CONSOLIDATED_FILE, docs, _gaps)
