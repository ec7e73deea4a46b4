"""`guidefund year-end` (the year-end flow) and `guidefund indicators` (the table alone)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    add_as_of,
    add_scope,
    as_of_from,
    describe,
    prepare_runtime,
    reference_for,
    run_flow,
    settings_from,
)
from guidefund.cli.nightly import print_problems


def cmd_year_end(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    as_of = as_of_from(args, settings)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.year_end import year_end_aggregation

        return lambda: year_end_aggregation(
            year=ref.year,
            workdir=str(settings.workdir),
            out=args.out,
            region=ref.region_code,
            as_of=as_of,
        )

    done = run_flow(settings, start)
    from guidefund.reports.text import render_text

    fig = done.figures
    missing = fig.missing if fig is not None else []
    print(render_text(ref, done.results, done.budget, missing))
    print(
        f"数据截至 {as_of.isoformat()}；新预警 {len(done.new_alerts)} 条"
        f"（guidefund alerts --year {ref.year} 查看未关闭的预警）"
    )
    for path in done.files:
        print(f"已写出 {path}")
    for line in done.plan_changes:
        print(line)
    print_problems(done.problems)
    return EXIT_ATTENTION if missing or done.problems else EXIT_OK


def cmd_indicators(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    prepare_runtime(settings)
    from guidefund.evaluate.figures import consolidate, missing_projects
    from guidefund.reports.text import indicators_json, render_text
    from guidefund.warehouse.db import engine_for

    engine = engine_for(settings.database_url)
    period = str(ref.year)
    results, budget, _ = consolidate(
        engine, ref, period, settings.explain_under_pct, settings.explain_over_pct
    )
    missing = missing_projects(engine, ref, period)
    if args.json:
        data = indicators_json(results, len(ref.plan), missing)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_text(ref, results, budget, missing))
    return EXIT_ATTENTION if missing else EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("year-end", "计算年度自评并写出自评表、报告草稿等（年度自评流程）", cmd_year_end)
    add_scope(p)
    p.add_argument("--out", metavar="文件夹", help="报告写到这个文件夹（默认：<工作目录>/reports）")
    add_as_of(p)
    describe(
        p,
        "从汇总库计算指标、得分和各方向情况，写出自评表（.xlsx/.csv）、indicators.json、"
        "报告草稿（.docx）、HTML 页面和 figures.csv/.json，并打印自评表和得分计算式。"
        "有计划项目未提交时仍写出全部文件，但每个文件都标明“未完成汇总（已提交 M / 计划 N）”并列出"
        "未提交的项目。",
        examples=["guidefund year-end --year 2024", "guidefund year-end --year 2024 --out 报告/"],
        exits={0: "已写出，全部计划项目都已计入", 1: "已写出，但有项目未提交（未完成汇总）",
               2: "无法运行（汇总库无法连接、参考数据有误等）"},
    )  # fmt: skip

    p = add("indicators", "打印由汇总库计算的指标结果", cmd_indicators)
    add_scope(p)
    p.add_argument("--json", action="store_true", help="以 JSON 打印（与 indicators.json 相同）")
    describe(
        p,
        "只计算并打印指标表（不写文件、不记录运行）。有计划项目未提交时标明“未完成汇总”。",
        examples=["guidefund indicators --year 2024", "guidefund indicators --json"],
        exits={0: "全部计划项目都已计入", 1: "有项目未提交（未完成汇总）", 2: "无法运行"},
    )
