"""The region's indicator table, computed from aggregates by the rules in targets.csv.

Pure functions: the warehouse supplies SQL aggregates (sums and fund-weighted means of the
current accepted submissions), the reference supplies targets and rules, and this module turns
them into 实际完成值, 完成率 and 偏差率 exactly (Decimal, half-up rounding at the end).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from flows.reference import Project, Reference, Target

HUNDRED = Decimal(100)


def rounded(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IndicatorResult:
    no: int
    level1: str
    level2: str
    indicator: str
    operator: str
    target: Decimal | None
    target_text: str
    unit: str
    rule: str
    actual: Decimal | None
    actual_text: str
    completion_pct: Decimal | None
    deviation_pct: Decimal | None
    needs_explanation: bool

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in asdict(self).items():
            out[k] = float(v) if isinstance(v, Decimal) else v  # JSON numbers; text keeps exactness
        return out


@dataclass(frozen=True)
class BudgetRow:
    source: str
    budget: Decimal
    executed: Decimal
    rate_pct: Decimal | None


def matches(project: Project, condition: str) -> bool:
    """A count_plan condition such as '类别=科技创新基地建设;安排资金>0'."""
    attrs = {
        "类别": project.category,
        "立项类型": project.project_type,
        "支持方式": project.support_mode,
        "单位类型": project.unit_type,
        "安排资金": project.allocation,
    }
    for clause in filter(None, (c.strip() for c in condition.split(";"))):
        for op in (">=", "<=", ">", "<", "="):
            if op in clause:
                name, want = (s.strip() for s in clause.split(op, 1))
                have = attrs[name]
                if isinstance(have, Decimal):
                    w = Decimal(want)
                    ok = {
                        ">=": have >= w,
                        "<=": have <= w,
                        ">": have > w,
                        "<": have < w,
                        "=": have == w,
                    }[op]
                else:
                    ok = op == "=" and have == want
                if not ok:
                    return False
                break
        else:
            raise ValueError(f"无法理解的条件: {clause}")
    return True


def actual_value(
    t: Target, ref: Reference, sums: Mapping[str, Decimal], means: Mapping[str, Decimal]
) -> Decimal | None:
    if t.rule == "count_plan":
        return Decimal(sum(1 for p in ref.plan if matches(p, t.condition)))
    if t.rule == "sum":
        return sums.get(t.field)
    if t.rule in ("weighted_mean", "qualitative"):
        return means.get(t.field)
    if t.rule == "ratio":
        num, den = sums.get(t.field), sums.get(t.denominator)
        if num is None or not den:
            return None
        return num / den * (HUNDRED if t.unit == "%" else 1)
    raise ValueError(f"未知聚合规则 {t.rule}")


def band_wording(ref: Reference, pct: Decimal) -> str:
    for b in ref.bands:
        if b.lower <= pct <= b.upper:
            return b.wording
    return ""


def evaluate(
    ref: Reference,
    sums: Mapping[str, Decimal],
    means: Mapping[str, Decimal],
    explain_under_pct: Decimal,
    explain_over_pct: Decimal,
) -> list[IndicatorResult]:
    """One result per target, in the order of the 区域绩效目标表."""
    results = []
    for t in ref.targets:
        raw = actual_value(t, ref, sums, means)
        actual = None if raw is None else rounded(raw, t.decimals)
        completion = None
        if t.rule == "qualitative" and actual is not None:
            completion = rounded(actual, 2)
            text = band_wording(ref, actual)
        else:
            text = "" if actual is None else f"{actual}"
            if actual is not None and t.target:
                ratio = t.target / actual if t.operator == "≤" and actual else actual / t.target
                completion = rounded(ratio * HUNDRED, 2)
        deviation = None if completion is None else abs(completion - HUNDRED)
        needs = completion is not None and (
            completion < explain_under_pct or completion >= explain_over_pct
        )
        results.append(
            IndicatorResult(
                no=t.no,
                level1=t.level1,
                level2=t.level2,
                indicator=t.name,
                operator=t.operator,
                target=t.target,
                target_text=t.target_text or "—",
                unit=t.unit,
                rule=t.rule,
                actual=actual,
                actual_text=text,
                completion_pct=completion,
                deviation_pct=deviation,
                needs_explanation=needs,
            )
        )
    return results


def budget_rows(ref: Reference, spent: Decimal) -> list[BudgetRow]:
    """The 自评表 budget block: 中央财政资金 executed from submissions, the others as stated."""
    rows = []
    for line in ref.budget_lines:
        executed = spent if line.source == "中央财政资金" else line.executed
        rate = rounded(executed / line.budget * HUNDRED, 2) if line.budget else None
        rows.append(BudgetRow(line.source, line.budget, executed, rate))
    total_budget = sum((r.budget for r in rows), Decimal(0))
    total_exec = sum((r.executed for r in rows), Decimal(0))
    total_rate = rounded(total_exec / total_budget * HUNDRED, 2) if total_budget else None
    return [BudgetRow("年度资金总额", total_budget, total_exec, total_rate), *rows]
