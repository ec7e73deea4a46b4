"""The year's figures: the indicator table, the budget block, the scores, breakdowns per
direction (类别), 立项类型 and 支持方式, the grade distribution and the units' stated reasons,
computed once from the warehouse's grouped queries (guidefund.warehouse.queries).

Every query groups or filters in the database and returns one row per group (or per submission
that states a reason), never every stored row: the year-end stays as fast for 50,000 stored
submissions as for 136 (benchmarks/year_end_sql.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from guidefund.evaluate.indicators import budget_rows, evaluate, gather_reasons
from guidefund.evaluate.scores import Scores, compute_scores
from guidefund.numbers import HUNDRED, json_number, rounded
from guidefund.records import TOTAL, BudgetRow, GroupRow, IndicatorResult, Reason
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.queries import (
    field_totals,
    grade_counts,
    plan_groups,
    projects_without,
    stated_reasons,
    weighted_mean,
)

GROUPINGS = {"类别": "category", "立项类型": "project_type", "支持方式": "support_mode"}
NOT_REPORTED = "未报"
REASON_SHARE_KEY = "原因归集最低贡献占比（%）"


def consolidate(
    engine: Engine,
    ref: Reference,
    period: str,
    explain_under_pct: Decimal,
    explain_over_pct: Decimal,
    scale: Decimal | None = None,
) -> tuple[list[IndicatorResult], list[BudgetRow], dict[str, Decimal]]:
    """Indicator table, budget block and field sums of the current submissions for `period`.

    `scale` multiplies every sum before the rules apply (a month's year-to-date figures
    projected to the year); ratios and means are unaffected by it, plan counts too."""
    kinds = {f.key: f.kind for f in ref.fields}
    sums = field_totals(engine, ref.region_code, ref.year, period, kinds)
    means: dict[str, Decimal] = {}
    for t in ref.targets:
        if t.rule in ("weighted_mean", "qualitative"):
            mean = weighted_mean(
                engine, ref.region_code, ref.year, period, t.field, t.denominator or "allocation"
            )
            if mean is not None:
                means[t.field] = mean
    used = {k: v * scale for k, v in sums.items()} if scale is not None else sums
    results = evaluate(ref, used, means, explain_under_pct, explain_over_pct)
    return results, budget_rows(ref, sums), sums


def execution(spent: Decimal, allocation: Decimal) -> Decimal | None:
    return rounded(spent / allocation * HUNDRED, 2) if allocation else None


def breakdown(engine: Engine, ref: Reference, by: str, period: str) -> list[GroupRow]:
    """One row per value of the plan column `by` (类别, 立项类型 or 支持方式), in the plan's
    order, then the 合计 row: plan projects and allocation, submitted projects, funds received
    and spent for `period`, and execution = spent / allocation."""
    column = GROUPINGS[by]
    found = {r.grp: r for r in plan_groups(engine, ref.region_code, ref.year, column, period)}
    order = list(dict.fromkeys(getattr(p, column) for p in ref.plan))
    order += sorted(set(found) - set(order))
    rows = []
    for name in order:
        r = found.get(name)
        if r is None:
            rows.append(GroupRow(name, 0, 0, Decimal(0), Decimal(0), Decimal(0), None))
            continue
        alloc, spent = Decimal(r.allocation), Decimal(r.spent)
        rows.append(
            GroupRow(
                name, r.projects, r.submitted, alloc, Decimal(r.received), spent,
                execution(spent, alloc),
            )
        )  # fmt: skip
    alloc = sum((r.allocation for r in rows), Decimal(0))
    spent = sum((r.spent for r in rows), Decimal(0))
    rows.append(
        GroupRow(
            TOTAL, sum(r.projects for r in rows), sum(r.submitted for r in rows), alloc,
            sum((r.received for r in rows), Decimal(0)), spent, execution(spent, alloc),
        )
    )  # fmt: skip
    return rows


def grade_distribution(
    engine: Engine, ref: Reference, period: str, grades: tuple[str, ...]
) -> dict[str, dict[str, int]]:
    """Per direction (and 合计): how many current submissions graded themselves 优/良/中/差, and
    how many plan projects have no current submission (未报)."""
    counted = [
        (r.category, r.self_grade, int(r.n))
        for r in grade_counts(engine, ref.region_code, ref.year, period)
    ]
    planned: dict[str, int] = {}
    for p in ref.plan:
        planned[p.category] = planned.get(p.category, 0) + 1
    out: dict[str, dict[str, int]] = {}
    for category in [*planned, TOTAL]:
        out[category] = {g: 0 for g in grades} | {NOT_REPORTED: 0}
    for category, grade, n in counted:
        key = grade if grade in grades else NOT_REPORTED
        row = out.setdefault(category, {g: 0 for g in grades} | {NOT_REPORTED: 0})
        row[key] += n
        out[TOTAL][key] += n
    for category, n in planned.items():
        reported = sum(v for k, v in out[category].items() if k != NOT_REPORTED)
        out[category][NOT_REPORTED] += max(n - reported, 0)
        out[TOTAL][NOT_REPORTED] += max(n - reported, 0)
    return out


@dataclass(frozen=True)
class Missing:
    """A plan project without a current submission for the period (so not in the figures)."""

    no: int
    name: str
    unit: str
    rejected: bool  # files of its came and were rejected (退回待改), else none came (未提交)

    @property
    def state(self) -> str:
        return "退回待改" if self.rejected else "未提交"


def missing_projects(engine: Engine, ref: Reference, period: str) -> list[Missing]:
    """Plan projects the figures of `period` do not include, in project-number order."""
    rows = projects_without(engine, ref.region_code, ref.year, period)
    return [Missing(int(r.no), r.name, r.unit, bool(r.has_rejected)) for r in rows]


def completeness_text(planned: int, missing: int) -> str:
    """'' when every plan project is in; else the mark every year-end output carries."""
    if not missing:
        return ""
    return f"未完成汇总（已提交 {planned - missing} / 计划 {planned}）"


@dataclass
class Figures:
    """Everything the year-end documents show, computed once."""

    ref: Reference
    period: str
    results: list[IndicatorResult]
    budget: list[BudgetRow]
    scores: Scores
    groups: dict[str, list[GroupRow]]  # by 类别 / 立项类型 / 支持方式
    grades: dict[str, dict[str, int]]  # direction → grade → projects
    reasons: dict[int, list[Reason]]  # indicator no → units' stated reasons
    sums: dict[str, Decimal]  # SQL sums of every summable field for the period
    explain_under_pct: Decimal
    explain_over_pct: Decimal
    year_end_min_pct: Decimal
    missing: list[Missing] = field(default_factory=list)
    as_of: date | None = None  # the date the year-end run judged as of

    @property
    def planned(self) -> int:
        return len(self.ref.plan)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def status(self) -> str:
        """'未完成汇总（已提交 M / 计划 N）' while projects are missing, else ''."""
        return completeness_text(self.planned, len(self.missing))

    def text(self, key: str, default: str = "") -> str:
        return self.ref.text(key, default)

    def as_json(self) -> dict[str, Any]:
        """The year's figures as one JSON document (numbers as JSON numbers, exact to the cent)."""
        fig = self
        scores = {i.no: i for p in fig.scores.parts for i in p.indicators}
        indicators = []
        for r in fig.results:
            item = r.as_json()
            s = scores.get(r.no)
            item["weight"] = None if s is None else float(s.weight)
            item["score"] = None if s is None else float(round(s.score, 4))
            item["reasons"] = [x.line() for x in fig.reasons.get(r.no, [])]
            indicators.append(item)
        return {
            "year": fig.ref.year,
            "region_code": fig.ref.region_code,
            "region": fig.ref.region_name,
            "period": fig.period,
            **({"as_of": fig.as_of.isoformat()} if fig.as_of else {}),
            **completeness_json(fig.planned, fig.missing),
            "budget": [
                {
                    "source": b.source,
                    "budget": json_number(b.budget),
                    "executed": json_number(b.executed),
                    "rate_pct": None if b.rate_pct is None else json_number(b.rate_pct),
                }
                for b in fig.budget
            ],  # fmt: skip
            "indicators": indicators,
            "scores": fig.scores.as_json(),
            "breakdowns": {by: [g.as_json() for g in rows] for by, rows in fig.groups.items()},
            "grades": fig.grades,
            "thresholds": {
                "explain_under_pct": json_number(fig.explain_under_pct),
                "explain_over_pct": json_number(fig.explain_over_pct),
                "year_end_execution_min_pct": json_number(fig.year_end_min_pct),
            },
        }


def completeness_json(planned: int, missing: list[Missing]) -> dict[str, Any]:
    """complete, status, planned, submitted and the missing projects, for the JSON outputs."""
    return {
        "complete": not missing,
        "status": completeness_text(planned, len(missing)),
        "planned": planned,
        "submitted": planned - len(missing),
        "missing": [
            {"no": p.no, "name": p.name, "unit": p.unit, "state": p.state} for p in missing
        ],
    }


def collect_figures(engine: Engine, ref: Reference, settings: Settings, period: str) -> Figures:
    """The year's figures from the warehouse: a handful of grouped SQL queries."""
    under, over = settings.explain_under_pct, settings.explain_over_pct
    results, budget, sums = consolidate(engine, ref, period, under, over)
    share = Decimal(ref.text(REASON_SHARE_KEY) or 0)
    stated = stated_reasons(engine, ref.region_code, ref.year, period)
    return Figures(
        ref=ref,
        period=period,
        results=results,
        budget=budget,
        scores=compute_scores(ref, results, budget),
        groups={by: breakdown(engine, ref, by, period) for by in GROUPINGS},
        grades=grade_distribution(engine, ref, period, ref.grades),
        reasons=gather_reasons(ref, results, stated, sums, share),
        sums=sums,
        explain_under_pct=under,
        explain_over_pct=over,
        year_end_min_pct=settings.year_end_execution_min_pct,
        missing=missing_projects(engine, ref, period),
    )
