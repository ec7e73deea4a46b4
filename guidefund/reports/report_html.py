"""The year's figures as one self-contained HTML page with inline SVG charts (no scripts, no
network): completion per indicator against the 100 % and note-6 lines, execution by direction,
the grade distribution; then the tables behind them.

Chart elements carry data-* attributes with the exact figures, so a test (or a reader's tool)
can check a chart against the numbers without measuring pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path

from guidefund.evaluate.figures import Figures
from guidefund.evaluate.scores import score_text, signed
from guidefund.htmlpage import page
from guidefund.htmlpage import table as _table
from guidefund.numbers import plain
from guidefund.records import TOTAL
from guidefund.reports.text import actual_cell, reason_cell, summary_text, target_cell

WIDTH, LABEL, ROW = 960, 330, 24
PLOT = WIDTH - LABEL - 70
COLOURS = {"miss": "#c0392b", "over": "#e67e22", "ok": "#2e8b57", "none": "#999999"}
GRADE_COLOURS = ("#2e8b57", "#4f9fd6", "#e6b422", "#c0392b", "#bbbbbb")


def _axis_max(values: Sequence[Decimal], floor: Decimal, cap: Decimal) -> Decimal:
    top = max([floor, *values])
    return min(Decimal(math.ceil(top / 50) * 50), cap)


def _x(value: Decimal, top: Decimal) -> float:
    return LABEL + float(min(value, top) / top) * PLOT


def _line(pct: Decimal, top: Decimal, height: int, label: str) -> str:
    x = _x(pct, top)
    return (
        f'<line class="ref-line" data-pct="{plain(pct)}" x1="{x:.1f}" y1="20" x2="{x:.1f}" '
        f'y2="{height - 10}" stroke="#333" stroke-dasharray="4 3"/>'
        f'<text x="{x + 3:.1f}" y="14">{escape(label)}</text>'
    )


def _bar(kind: str, attrs: dict[str, str], y: int, value: Decimal, top: Decimal, text: str) -> str:
    data = " ".join(f'data-{k}="{escape(v)}"' for k, v in attrs.items())
    width = _x(value, top) - LABEL
    clipped = "»" if value > top else ""
    return (
        f'<rect class="bar" {data} data-value="{plain(value)}" x="{LABEL}" y="{y}" '
        f'width="{width:.1f}" height="{ROW - 6}" fill="{COLOURS[kind]}"><title>{escape(text)}</title></rect>'
        f'<text x="{LABEL + width + 4:.1f}" y="{y + ROW - 10}">{plain(value)}%{clipped}</text>'
    )


def _label(y: int, text: str) -> str:
    return f'<text x="{LABEL - 6}" y="{y + ROW - 10}" text-anchor="end">{escape(text)}</text>'


def completion_chart(fig: Figures) -> str:
    rows = fig.results
    height = 30 + ROW * len(rows)
    shown = [r.completion_pct for r in rows if r.completion_pct is not None]
    top = _axis_max(shown, fig.explain_over_pct + 20, Decimal(300))
    parts = []
    for i, r in enumerate(rows):
        y = 24 + i * ROW
        parts.append(_label(y, r.indicator))
        if r.completion_pct is None:
            parts.append(
                f'<text x="{LABEL + 4}" y="{y + ROW - 10}" fill="#777">未设指标值，不计完成率</text>'
            )
            continue
        kind = "ok"
        if r.needs_explanation:
            kind = "miss" if r.met is False else "over"
        tip = f"{r.indicator}：完成率 {plain(r.completion_pct)}%"
        parts.append(_bar(kind, {"indicator": r.indicator}, y, r.completion_pct, top, tip))
    parts.append(_line(Decimal(100), top, height, "100%"))
    parts.append(_line(fig.explain_over_pct, top, height, f"{plain(fig.explain_over_pct)}%"))
    return _svg("completion", "各指标完成率", height, parts)


def execution_chart(fig: Figures) -> str:
    rows = [g for g in fig.groups["类别"] if g.execution_pct is not None]
    height = 30 + ROW * len(rows)
    top = _axis_max([g.execution_pct for g in rows], Decimal(100), Decimal(150))  # type: ignore[misc]
    parts = []
    for i, g in enumerate(rows):
        y = 24 + i * ROW
        kind = "miss" if g.execution_pct < fig.year_end_min_pct else "ok"  # type: ignore[operator]
        tip = f"{g.group}：支出 {plain(g.spent)} / 安排 {plain(g.allocation)} 万元"
        parts += [_label(y, g.group), _bar(kind, {"group": g.group}, y, g.execution_pct, top, tip)]  # type: ignore[arg-type]
    parts.append(_line(fig.year_end_min_pct, top, height, f"{plain(fig.year_end_min_pct)}%"))
    parts.append(_line(Decimal(100), top, height, "100%"))
    return _svg("execution", "各方向预算执行率", height, parts)


def grade_chart(fig: Figures) -> str:
    rows = [(d, c) for d, c in fig.grades.items() if d != TOTAL]
    grades = list(fig.grades[TOTAL])
    height = 60 + ROW * len(rows)
    most = max([sum(c.values()) for _, c in rows] + [1])
    parts = []
    for i, (direction, counts) in enumerate(rows):
        y = 24 + i * ROW
        parts.append(_label(y, direction))
        x = float(LABEL)
        for grade, colour in zip(grades, GRADE_COLOURS, strict=False):
            n = counts.get(grade, 0)
            if not n:
                continue
            w = n / most * PLOT
            parts.append(
                f'<rect class="seg" data-direction="{escape(direction)}" data-grade="{escape(grade)}" '
                f'data-count="{n}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 6}" '
                f'fill="{colour}"><title>{escape(direction)} {escape(grade)}：{n} 项</title></rect>'
            )
            if w > 18:
                parts.append(f'<text x="{x + 3:.1f}" y="{y + ROW - 10}" fill="#fff">{n}</text>')
            x += w
    legend_y = 30 + ROW * len(rows)
    for j, (grade, colour) in enumerate(zip(grades, GRADE_COLOURS, strict=False)):
        lx = LABEL + j * 90
        parts.append(
            f'<rect x="{lx}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{legend_y + 11}">{escape(grade)} {fig.grades[TOTAL][grade]}</text>'
        )
    return _svg("grades", "项目自评等级分布", height, parts)


def _svg(ident: str, title: str, height: int, parts: list[str]) -> str:
    return (
        f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def render_html(fig: Figures) -> str:
    ref, s = fig.ref, fig.scores
    title = f"{ref.year} 年度{ref.region_name}{ref.fund_name}绩效自评"
    indicators = [
        [r.level1, r.level2, r.indicator, target_cell(r), actual_cell(r),
         "" if r.completion_pct is None else f"{plain(r.completion_pct)}%",
         "" if r.deviation_pct is None else f"{plain(r.deviation_pct)}%", reason_cell(fig, r)]
        for r in fig.results
    ]  # fmt: skip
    scores = [
        [p.part, plain(p.points), p.formula, score_text(p.score), plain(p.self_score),
         signed(p.difference)]
        for p in s.parts
    ]  # fmt: skip
    scores.append(
        [TOTAL, "", s.grade, score_text(s.total), plain(s.self_total), signed(s.difference)]
    )
    budget = [
        [
            b.source,
            plain(b.budget),
            plain(b.executed),
            "" if b.rate_pct is None else f"{plain(b.rate_pct)}%",
        ]
        for b in fig.budget
    ]
    groups = "".join(
        f"<h3>按{escape(by)}</h3>"
        + _table(
            f"by-{i}",
            [by, "项目数", "已报", "安排资金（万元）", "实际支出（万元）", "执行率"],
            [
                [
                    g.group,
                    str(g.projects),
                    str(g.submitted),
                    plain(g.allocation),
                    plain(g.spent),
                    "—" if g.execution_pct is None else f"{plain(g.execution_pct)}%",
                ]
                for g in rows
            ],
        )  # fmt: skip
        for i, (by, rows) in enumerate(fig.groups.items())
    )
    partial, missing = "", ""
    if not fig.complete:
        partial = (
            f'<p class="incomplete" id="status">{escape(fig.status)}：本页数字只含已提交项目，'
            f"未计入的 {len(fig.missing)} 个项目列在页末。</p>"
        )
        missing = "<h2>未计入的项目</h2>" + _table(
            "missing", ["序号", "项目名称", "承担单位", "状态"],
            [[str(p.no), p.name, p.unit, p.state] for p in fig.missing],
        )  # fmt: skip
    dated = f'<p id="as-of">数据截至 {fig.as_of.isoformat()}</p>' if fig.as_of else ""
    return page(
        title,
        f'{partial}{dated}<p id="summary">{escape(summary_text(fig))}</p>'
        f"<h2>指标完成率</h2>{completion_chart(fig)}"
        f"<h2>各方向预算执行率</h2>{execution_chart(fig)}"
        f"<h2>项目自评等级分布</h2>{grade_chart(fig)}"
        f"<h2>资金情况（万元）</h2>{_table('budget', ['资金类别', '全年预算数（A）', '全年执行数（B）', '预算执行率（B/A）'], budget)}"
        f"<h2>绩效指标</h2>{_table('indicators', ['一级指标', '二级指标', '三级指标', '指标值', '全年实际完成值', '完成率', '偏差率', '未完成原因和改进措施'], indicators)}"
        f"<h2>得分（财预〔2020〕10号）</h2>{_table('scores', ['部分', '满分', '计算式', '得分', '自评得分', '差'], scores)}"
        f"<h2>分组情况</h2>{groups}{missing}",
    )


def write_html(path: Path, fig: Figures) -> Path:
    path.write_text(render_html(fig), encoding="utf-8")
    return path
