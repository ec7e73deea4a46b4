"""`guidefund monitor --year Y --period P [--out DIR] [--as-of DATE]`: the period's 运行监控表.

Writes `运行监控表_<P>.xlsx` (print-ready) and `运行监控表_<P>.html` to DIR (default
<workdir>/reports) from the warehouse's current accepted reports, read only, and prints the
region's line, the directions behind and the count of projects not reported. Exit 0 when
nothing lags, 1 when a project, direction or the region is behind 序时进度 by more than
GUIDEFUND_EXECUTION_TOLERANCE_PCT, an indicator's projection falls short, or reports are
missing after the due date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_FAILED,
    EXIT_OK,
    add_as_of,
    add_scope,
    as_of_from,
    describe,
    reference_for,
    settings_from,
)
from guidefund.numbers import plain


def cmd_monitor(args: argparse.Namespace) -> int:
    from guidefund.evaluate.monitoring import monitoring
    from guidefund.reports.monitoring_html import write_monitoring_html
    from guidefund.reports.monitoring_xlsx import heading, write_monitoring_xlsx
    from guidefund.warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    period = args.period or str(ref.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund monitor: {problem}", file=sys.stderr)
        return EXIT_FAILED
    engine = make_engine(settings.database_url)
    try:
        mon = monitoring(engine, ref, settings, period, as_of_from(args, settings))
    finally:
        engine.dispose()
    out = Path(args.out) if args.out else settings.reports
    out.mkdir(parents=True, exist_ok=True)
    files = [write_monitoring_xlsx(out / f"运行监控表_{period}.xlsx", mon),
             write_monitoring_html(out / f"运行监控表_{period}.html", mon)]  # fmt: skip
    floor = -settings.execution_tolerance_pct
    behind = [x for x in [*mon.projects, *mon.groups] if x.gap is not None and x.gap < floor]
    short = [i for i in mon.indicators if i.on_track is False]
    print(heading(mon))
    region = mon.groups[-1]
    print(
        f"  全区：已报送 {region.submitted} / {region.projects} 个项目，执行率 "
        f"{plain(region.execution_pct) or '—'}%，与序时进度差 {plain(region.gap) or '—'} 个百分点"
    )
    for x in behind:
        print(
            f"  落后于序时进度：{x.label} 执行率 {plain(x.execution_pct)}%（差 {plain(x.gap)} 个百分点）"
        )
    for i in short:
        print(
            f"  预计难以完成：{i.result.indicator}（预计完成率 {plain(i.result.completion_pct)}%）"
        )
    late = mon.overdue and mon.not_reported
    if mon.not_reported:
        print(f"  未报送 {len(mon.not_reported)} 个项目{'（已逾期）' if late else ''}")
    for path in files:
        print(f"已写出 {path}")
    return EXIT_ATTENTION if behind or short or late else EXIT_OK


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "monitor", "写出某报告期的运行监控表（执行进度、指标预计完成情况、未报送项目）", cmd_monitor
    )
    add_scope(p)
    p.add_argument("--period", metavar="报告期", help="报告期，如 2024-06（默认：年度报告）")
    p.add_argument("--out", metavar="文件夹", help="写到这个文件夹（默认：<工作目录>/reports）")
    add_as_of(p)
    describe(
        p,
        "从汇总库读取该报告期已接收的报送，写出运行监控表（.xlsx，可直接打印；同名 .html 页面）：各项目、"
        "各方向和全区的安排资金、到位资金、实际支出、执行率、序时进度及差距；各三级指标的累计值、推算"
        "全年值和预计能否完成；未报送的项目。只读，不改动汇总库。",
        examples=["guidefund monitor --year 2024 --period 2024-06",
                  "guidefund monitor --period 2024-06 --as-of 2024-07-11 --out 监控/"],
        exits={0: "已写出，没有落后或预计难以完成的事项", 1: "已写出，有落后于序时进度、预计难以完成或逾期未报的事项",
               2: "无法运行（汇总库无法连接、参考数据有误等）"},
    )  # fmt: skip
