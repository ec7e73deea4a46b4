"""The region's indicator table, computed from aggregates by the rules in targets.csv.

Pure functions: the warehouse supplies SQL aggregates (sums and fund-weighted means of the
current accepted submissions), the reference supplies targets and rules, and this module turns
them into 实际完成值, 完成率 and 偏差率 exactly (Decimal, half-up rounding at the end).

Rules (targets.csv 聚合规则), following the attachment's notes 4 and 5:

* ``sum``: absolute values are added up (yes/no fields count the projects answering 是);
* ``count_plan``: projects of the plan matching the condition (e.g. 科技创新基地建设 projects with
  a 2024 allocation: 39);
* ``ratio``: SUM(field) / SUM(denominator), ×100 when the unit is %;
* ``weighted_mean``: relative values weighted by the fund amount (安排资金). A project whose
  allocation is 0 (the 后补助 projects and 45) has weight 0: it does not move the mean. When no
  submitted project has a positive allocation the mean is empty (no actual);
* ``qualitative``: each unit states a completion share in the bands of note 5 (100–80 %,
  80–60 %, 60–0 %); the fund-weighted mean is the completion, shown as its band's wording.

The edge rules live here and nowhere else (`completion_fraction`, `is_met`), and the table, the
scores, the summary sentence, section 四 and the alerts all read them:

* ≥ (or no operator): 完成率 = actual / target; met when actual ≥ target;
* ≤: met by staying under it: 完成率 = target / actual (an actual of 0 meets it fully: 100 %);
* a target of 0 (≥0, ≤0): 完成率 is 100 % when met, 0 % when missed;
* qualitative: 完成率 is the fund-weighted completion share; met while it stays in the target's
  band (95 % is still 稳步提升: met, though under 100 %).

An indicator without a target (指标值 empty, e.g. 支持央地协同重大科技项目数量) is reported with its
actual but has no 完成率, is neither met nor missed, and is not scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from guidefund.numbers import HUNDRED, rounded
from guidefund.records import BudgetRow, IndicatorResult, Reason
from guidefund.reference import Band, Project, Reference, Target


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


@lru_cache(maxsize=64)
def plan_count(plan: tuple[Project, ...], condition: str) -> int:
    """How many plan projects meet a count_plan condition (the plan does not change within a
    year, and a night evaluates it once per period checked)."""
    return sum(1 for p in plan if matches(p, condition))


def actual_value(
    t: Target, ref: Reference, sums: Mapping[str, Decimal], means: Mapping[str, Decimal]
) -> Decimal | None:
    if t.rule == "count_plan":
        return Decimal(plan_count(ref.plan, t.condition))
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


def band_of(ref: Reference, pct: Decimal) -> Band | None:
    """The note-5 band of a completion share; bands are listed best first, so a boundary value
    (80, 60) falls in the upper band, as the note's （含） says."""
    for b in ref.bands:
        if b.lower <= pct <= b.upper:
            return b
    return None


def band_wording(ref: Reference, pct: Decimal) -> str:
    band = band_of(ref, pct)
    return band.wording if band else ""


def completion_fraction(operator: str, target: Decimal, actual: Decimal) -> Fraction:
    """完成率 exactly (1 = 100 %): actual / target, target / actual for ≤ (an actual of 0 meets
    it: 1); a target of 0 is 1 when met and 0 when missed."""
    if target == 0:
        met = actual <= 0 if operator == "≤" else actual >= 0
        return Fraction(1 if met else 0)
    if operator == "≤":
        return Fraction(1) if actual == 0 else Fraction(target) / Fraction(actual)
    return Fraction(actual) / Fraction(target)


def completion(t: Target, actual: Decimal) -> Decimal | None:
    """完成率 in percent, unrounded (`completion_fraction`); None without a numeric target."""
    if t.target is None:
        return None
    ratio = completion_fraction(t.operator, t.target, actual)
    return Decimal(ratio.numerator) / Decimal(ratio.denominator) * HUNDRED


def is_met(t: Target, actual: Decimal | None, band: Band | None = None) -> bool | None:
    """Whether the indicator reached its target: a number by its operator (≥ actual ≥ target,
    ≤ actual ≤ target), a qualitative one by staying in the target's band (its lowest share,
    `band`); None when there is nothing to compare (no target or no actual)."""
    if actual is None:
        return None
    if t.rule == "qualitative":
        return None if band is None else actual >= band.lower
    if t.target is None:
        return None
    return actual <= t.target if t.operator == "≤" else actual >= t.target


def evaluate(
    ref: Reference,
    sums: Mapping[str, Decimal],
    means: Mapping[str, Decimal],
    explain_under_pct: Decimal,
    explain_over_pct: Decimal,
) -> list[IndicatorResult]:
    """One result per target, in the order of the 区域绩效目标表."""
    wordings = {b.wording: b for b in ref.bands}
    results = []
    for t in ref.targets:
        raw = actual_value(t, ref, sums, means)
        actual = None if raw is None else rounded(raw, t.decimals)
        done = None
        if t.rule == "qualitative" and actual is not None:
            done = rounded(actual, 2)
            text = band_wording(ref, actual)
        else:
            text = "" if actual is None else f"{actual}"
            pct = None if actual is None else completion(t, actual)
            done = None if pct is None else rounded(pct, 2)
        deviation = None if done is None else abs(done - HUNDRED)
        wanted = wordings.get(t.target_text)
        met = is_met(t, done if t.rule == "qualitative" else actual, wanted)
        needs = done is not None and (done < explain_under_pct or done >= explain_over_pct)
        if t.rule == "qualitative" and done is not None and wanted is not None:
            # A qualitative target is a band: reaching it (e.g. 95 % is still 稳步提升) is not a miss.
            needs = not met
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
                completion_pct=done,
                deviation_pct=deviation,
                needs_explanation=needs,
                met=met,
            )
        )
    return results


def budget_rows(ref: Reference, sums: Mapping[str, Decimal]) -> list[BudgetRow]:
    """The 自评表 budget block, only from the submissions: each line's 全年执行数 is the sum of
    its field (budget.csv 执行数字段) over the current submissions, 0 when it has none."""
    rows = []
    for line in ref.budget_lines:
        executed = sums.get(line.field, Decimal(0)) if line.field else Decimal(0)
        rate = rounded(executed / line.budget * HUNDRED, 2) if line.budget else None
        rows.append(BudgetRow(line.source, line.budget, executed, rate))
    total_budget = sum((r.budget for r in rows), Decimal(0))
    total_exec = sum((r.executed for r in rows), Decimal(0))
    total_rate = rounded(total_exec / total_budget * HUNDRED, 2) if total_budget else None
    return [BudgetRow("年度资金总额", total_budget, total_exec, total_rate), *rows]


def contribution_share(
    t: Target,
    row: Mapping[str, object],
    totals: Mapping[str, Decimal],
    counted: frozenset[int] = frozenset(),
) -> Decimal:
    """What share (percent) of the region's figure one submission contributed: its value of
    the summed field (for a ratio, the numerator), its allocation for a fund-weighted mean, or
    for a plan count one project's share of the projects `counted`."""
    if t.rule == "count_plan":
        member = row.get("project_no") in counted
        return HUNDRED / len(counted) if member else Decimal(0)
    key = "allocation" if t.rule in ("weighted_mean", "qualitative") else t.field
    value, total = row.get(key), totals.get(key)
    if value is None or not total:
        return Decimal(0)
    return Decimal(int(value) if isinstance(value, bool) else value) / total * HUNDRED  # type: ignore[arg-type]


def gather_reasons(
    ref: Reference,
    results: Sequence[IndicatorResult],
    stated: Sequence[Mapping[str, object]],
    totals: Mapping[str, Decimal],
    min_share_pct: Decimal,
) -> dict[int, list[Reason]]:
    """For each indicator that needs explaining, the reasons stated by units whose project
    contributed at least `min_share_pct` of it, largest contribution first.

    `stated` holds one row per current submission with a reason (project_no, deviation_reason
    and its field values); `totals` the region's sums of those fields. The share floor keeps a
    reason about one thing (say slow procurement) from being listed under every indicator its
    project added a few units to.
    """
    by_no = {t.no: t for t in ref.targets}
    projects = {p.no: p for p in ref.plan}
    out: dict[int, list[Reason]] = {}
    for r in results:
        if not r.needs_explanation:
            continue
        t = by_no[r.no]
        counted = frozenset(
            p.no for p in ref.plan if t.rule == "count_plan" and matches(p, t.condition)
        )
        found = []
        for row in stated:
            text = str(row.get("deviation_reason") or "").strip()
            project = projects.get(row.get("project_no"))  # type: ignore[arg-type]
            share = contribution_share(t, row, totals, counted)
            if text and project and share > 0 and share >= min_share_pct:
                found.append(
                    Reason(project.no, project.name, project.unit, text, rounded(share, 2))
                )
        out[r.no] = sorted(found, key=lambda x: (-x.share_pct, x.project_no))
    return out
