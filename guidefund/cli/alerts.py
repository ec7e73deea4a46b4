"""`guidefund alerts --year Y [--period P] [--as-of DATE] [--json]`: the open alerts.

Without --as-of: the alerts the latest successful nightly or year-end run raised (the open
ones, as the weekly digest sends them). With --as-of: the rules evaluated now, read-only, on
the warehouse as it stands, as they would judge on that date (which periods are due, which
reports late); nothing is recorded. Exit 0 when no alert is open, 1 when some are.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_FAILED,
    EXIT_OK,
    add_as_of,
    add_scope,
    describe,
    reference_for,
    settings_from,
)
from guidefund.numbers import json_number, plain

SEVERITY = {"critical": "严重", "warning": "提醒"}
LEVEL = {"project": "项目", "direction": "方向", "region": "全区", "indicator": "指标",
         "submission": "报送文件"}  # fmt: skip


def _json_value(v: object) -> object:
    if isinstance(v, Decimal):
        return json_number(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def render(alerts: list[dict[str, Any]], title: str) -> str:
    lines = [title]
    period = None
    for a in alerts:
        if a["period"] != period:
            period = a["period"]
            lines.append(f"报告期 {period}：")
        figures = ""
        if a["value"] is not None:
            figures = f"（值 {plain(a['value'])}" + (
                f"，阈值 {plain(a['threshold'])}）" if a["threshold"] is not None else "）"
            )
        lines.append(
            f"  [{SEVERITY.get(a['severity'], a['severity'])}·{LEVEL.get(a['level'], a['level'])}] "
            f"{a['subject']} {a['rule']}：{a['message']}{figures}"
        )
    return "\n".join(lines)


def cmd_alerts(args: argparse.Namespace) -> int:
    from guidefund.evaluate.alerts import alert_periods, evaluate_alerts, listed
    from guidefund.warehouse.alerts import open_alerts
    from guidefund.warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund alerts: {problem}", file=sys.stderr)
        return EXIT_FAILED
    engine = make_engine(settings.database_url)
    try:
        if args.as_of is None:
            rows = open_alerts(engine, ref.region_code, ref.year, args.period)
            title = f"{ref.region_name} {ref.year} 年度未关闭的预警（最近一次汇总运行所判断）"
        else:
            periods = alert_periods(engine, ref, settings, args.as_of, args.period)
            rows = evaluate_alerts(engine, ref, settings, periods, args.as_of)
            title = (
                f"{ref.region_name} {ref.year} 年度截至 {args.as_of.isoformat()} 的预警"
                f"（按现有数据即时计算，未记录；检查的报告期：{'、'.join(periods) or '无'}）"
            )
    finally:
        engine.dispose()
    alerts = listed(rows, ref)
    if args.json:
        print(json.dumps(alerts, ensure_ascii=False, indent=2, default=_json_value))
    else:
        print(render(alerts, f"{title}：共 {len(alerts)} 条"))
    return EXIT_ATTENTION if alerts else EXIT_OK


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("alerts", "列出未关闭的预警（执行进度慢、预计难以完成的指标、逾期未报等）", cmd_alerts)
    add_scope(p)
    p.add_argument("--period", metavar="报告期", help="只列这一报告期，如 2024-06 或 2024（年度）")
    p.add_argument("--json", action="store_true", help="以 JSON 打印（供脚本使用）")
    add_as_of(p)
    p.set_defaults(as_of=None)
    describe(
        p,
        "不带 --as-of：列出最近一次成功的夜间汇总或年度汇总运行仍在提示的预警（即未关闭的预警，"
        "与每周摘要相同）。带 --as-of：按现有数据即时计算那一天应有的预警（哪些报告期已到期、哪些"
        "报送逾期），只显示不记录。--json 输出每条预警的 period、rule、severity（critical/warning）、"
        "level（project/direction/region/indicator/submission）、project（计划序号或 null）、"
        "subject、value、threshold、message、as_of。",
        examples=["guidefund alerts --year 2024", "guidefund alerts --period 2024-06 --json",
                  "guidefund alerts --as-of 2024-07-11"],
        exits={0: "没有预警", 1: "有预警（逐条列出）", 2: "无法运行（汇总库无法连接等）"},
    )  # fmt: skip
