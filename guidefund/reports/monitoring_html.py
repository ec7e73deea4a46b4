"""The 运行监控表 as one self-contained HTML page (no script, nothing fetched): the same four
tables as the workbook, under the same heading (period, 序时进度, as-of date, due date)."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

from guidefund.evaluate.monitoring import Line, Monitoring
from guidefund.htmlpage import page, table
from guidefund.numbers import plain
from guidefund.reports.monitoring_xlsx import NO, NONE, YES, heading


def _pct(v: Decimal | None) -> str:
    return "" if v is None else f"{plain(v)}%"


def _money(v: Decimal | None) -> str:
    return "" if v is None else plain(v)


def _cells(x: Line) -> list[str]:
    gap = x.gap
    return [_money(x.allocation), _money(x.received), _money(x.spent), _pct(x.execution_pct),
            _pct(x.progress_pct), "" if gap is None else plain(gap)]  # fmt: skip


def write_monitoring_html(path: Path, mon: Monitoring) -> Path:
    money = ["安排资金（万元）", "到位资金（万元）", "实际支出（万元）", "执行率", "序时进度",
             "差距（百分点）"]  # fmt: skip
    projects = table(
        "projects", ["序号及项目名称", "申报单位", "类别", *money, "报送"],
        [[x.label, x.unit, x.category, *_cells(x), "已报送" if x.reported else "未报送"]
         for x in mon.projects],
    )  # fmt: skip
    groups = table(
        "directions", ["类别", "计划项目数", "已报送项目数", *money],
        [[x.label, str(x.projects), str(x.submitted), *_cells(x)] for x in mon.groups],
    )  # fmt: skip
    rows = []
    for i in mon.indicators:
        r = i.result
        target = r.target_text if r.target is None else f"{r.operator}{plain(r.target)}{r.unit}"
        rows.append([str(r.no), r.indicator, target, plain(i.to_date),
                     plain(r.actual) if i.projected else "", _pct(r.completion_pct),
                     {True: YES, False: NO, None: NONE}[i.on_track]])  # fmt: skip
    indicators = table(
        "indicators", ["序号", "三级指标", "指标值", "累计值", "推算全年值", "预计完成率",
                       "预计能否完成"], rows,
    )  # fmt: skip
    missing = table("not-reported", ["序号", "项目名称", "申报单位"],
                    [[str(n), name, unit] for n, name, unit in mon.not_reported])  # fmt: skip
    body = (
        f'<p id="heading">{escape(heading(mon))}</p>'
        f"<h2>项目</h2>{projects}<h2>方向与全区</h2>{groups}"
        f"<h2>指标</h2><p>推算口径：{escape(mon.basis)}</p>{indicators}"
        f"<h2>未报送（{len(mon.not_reported)} 个）</h2>{missing}"
    )
    title = f"{mon.ref.region_name}{mon.ref.year}年度运行监控表（报告期 {mon.period}）"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, body), encoding="utf-8")
    return path
