"""The self-evaluation table's words and cells, shared by every form that shows it: the text
printed by `guidefund demo`/`year-end`/`indicators`, the 自评表, the report draft and the HTML."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from guidefund.evaluate.figures import Figures, Missing, completeness_json, completeness_text
from guidefund.evaluate.scores import compute_scores, render_scores, score_text
from guidefund.numbers import number_ranges, plain
from guidefund.records import BudgetRow, IndicatorResult
from guidefund.reference import Reference

COLUMNS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标值",
    "全年实际完成值",
    "完成率",
    "偏差率",
    "需说明",
)
BUDGET_HEADER = ["资金情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"]
# Rules whose actual is counted from the year's plan, not from what the units submitted: their
# 100 % holds whatever came in, so every form says where the figure comes from.
PLAN_RULES = ("count_plan",)
PLAN_COUNTED = "（按年度计划统计）"


def todo(what: str) -> str:
    """The one placeholder style of every document: 【待补充：what】, where staff must write."""
    return f"【待补充：{what}】"


NO_REASON = todo("单位未说明原因，请补充未完成（或超出）原因和改进措施")


def pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value}%"


def with_unit(text: str, unit: str) -> str:
    if not text or text == "—" or not text[0].isdigit():
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}".rstrip()


def target_cell(r: IndicatorResult) -> str:
    """'≥39 个' for a numeric target; a qualitative or missing target as written ('稳步提升', '—')."""
    shown = with_unit(r.target_text, r.unit)
    return f"{r.operator}{shown}" if r.target is not None else shown


def plan_counted(r: IndicatorResult) -> bool:
    return r.rule in PLAN_RULES


def actual_cell(r: IndicatorResult) -> str:
    """全年实际完成值 as the attachment writes it: '2172 万元', '100%', '稳步提升'; a figure
    counted from the plan says so: '39 个（按年度计划统计）'."""
    if r.rule == "qualitative" or r.actual is None:
        return r.actual_text
    shown = with_unit(plain(r.actual), r.unit)
    return shown + PLAN_COUNTED if plan_counted(r) else shown


def table_rows(results: Sequence[IndicatorResult]) -> list[list[str]]:
    return [
        [
            r.level1,
            r.level2,
            r.indicator,
            target_cell(r),
            with_unit(r.actual_text, r.unit) + (PLAN_COUNTED if plan_counted(r) else ""),
            pct(r.completion_pct),
            pct(r.deviation_pct),
            "是" if r.needs_explanation else "",
        ]
        for r in results
    ]


def budget_lines(rows: Sequence[BudgetRow]) -> list[list[str]]:
    return [[r.source, f"{r.budget}", f"{r.executed}", pct(r.rate_pct)] for r in rows]


def completeness_lines(planned: int, missing: Sequence[Missing]) -> list[str]:
    """The console's mark of an incomplete year: what is missing, by project number."""
    if not missing:
        return []
    rejected = [p.no for p in missing if p.rejected]
    lines = [
        f"{completeness_text(planned, len(missing))}：以下数字只含已提交项目。",
        f"  未计入的项目（{len(missing)} 个）：序号 {number_ranges(p.no for p in missing)}",
    ]
    if rejected:
        lines.append(f"  其中退回待改：序号 {number_ranges(rejected)}")
    return lines


def render_text(
    ref: Reference,
    results: Sequence[IndicatorResult],
    budget: Sequence[BudgetRow],
    missing: Sequence[Missing] = (),
) -> str:
    """The table printed by `guidefund demo`, `year-end` and `indicators`, then the scores with
    their formulas (computed here from the same figures, so every caller prints them). While
    plan projects are `missing` it says so first and last."""
    partial = completeness_lines(len(ref.plan), missing)
    out = [f"{ref.fund_name}区域绩效目标自评表（{ref.year} 年度，{ref.region_name}）", ""]
    if partial:
        out[1:1] = [partial[0]]
    out.append(_grid(BUDGET_HEADER, budget_lines(budget)))
    out.append("")
    out.append(_grid(list(COLUMNS), table_rows(results)))
    out.append("")
    out.append(render_scores(compute_scores(ref, results, budget)))
    if partial:
        out += ["", *partial]
    return "\n".join(out)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def indicators_json(
    results: Sequence[IndicatorResult], planned: int, missing: Sequence[Missing]
) -> dict[str, object]:
    """indicators.json: whether the year is complete (and what is missing), then the table; an
    indicator counted from the plan says so (plan_counted)."""
    return {
        **completeness_json(planned, list(missing)),
        "indicators": [{**r.as_json(), "plan_counted": plan_counted(r)} for r in results],
    }


def reason_cell(fig: Figures, r: IndicatorResult) -> str:
    """未完成原因和改进措施: the units' reasons gathered under the indicator, when it needs one."""
    if not r.needs_explanation:
        return ""
    lines = [x.line() for x in fig.reasons.get(r.no, [])]
    return "\n".join(lines) if lines else NO_REASON


def summary_text(fig: Figures) -> str:
    """全年实际完成情况: the year in figures, for the 自评表 and the report."""
    scored = [r for r in fig.results if r.completion_pct is not None]
    missed = [r.indicator for r in scored if r.met is False]
    over = [r for r in scored if r.completion_pct >= fig.explain_over_pct]  # type: ignore[operator]
    total, region = fig.budget[0], fig.groups["类别"][-1]
    partial = "" if fig.complete else f"（{fig.status}，以下数字只含已提交项目）"
    return (
        f"{fig.ref.year} 年度共支持项目 {region.projects} 个{partial}，全年执行 {plain(total.executed)} 万元，"
        f"预算执行率 {plain(total.rate_pct)}%。{len(scored)} 项有指标值的指标中，"
        f"{len(scored) - len(missed)} 项达到指标值，{len(missed)} 项未达到"
        f"{'（' + '、'.join(missed) + '）' if missed else ''}，{len(over)} 项超过指标值 "
        f"{plain(fig.explain_over_pct - 100)}% 及以上。按财预〔2020〕10号计分 "
        f"{score_text(fig.scores.total)} 分，等级“{fig.scores.grade}”。"
    )
