"""`guidefund serve` and `guidefund deployments`: the scheduled Prefect deployments."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_region,
    describe,
    prepare_runtime,
    reference_for,
    settings_from,
)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    reference_for(settings, None)  # the scheduled year's reference data reads whole, or exit 2
    prepare_runtime(settings)
    from guidefund.flows.deploy import api_url, describe, serve, server_problem

    try:
        table = describe(settings, n=1)
    except ValueError as exc:
        print(f"guidefund: 设置有误：{exc}", file=sys.stderr)
        return EXIT_FAILED
    url = api_url()
    problem = server_problem(url)
    if problem:
        print(f"guidefund: {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(f"在 {url} 上提供 {len(table)} 个部署（工作目录 {settings.workdir.resolve()}）：")
    for d in table:
        print(f"  {d['name']:<22} {d['cron']:<13} {d['timezone']}  下次 {d['next_runs'][0]}")
    print("按 Ctrl+C 停止；停止后计划仍保持启用，重新运行 guidefund serve 即继续执行。")
    serve(settings)
    print("已停止服务（计划保持启用）。")
    return EXIT_OK


def cmd_deployments(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from guidefund.flows.deploy import POLICY_TEXT, describe

    try:
        table = describe(settings, n=args.next)
    except ValueError as exc:
        print(f"guidefund: 设置有误：{exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
        return EXIT_OK
    for d in table:
        print(f"{d['deployment']}")
        print(f"  {d['description']}")
        print(
            f"  计划 {d['cron']}（{d['timezone']}，设置 {d['setting']}）；{POLICY_TEXT[d['overlap']]}"
        )
        print(f"  下次运行 {'，'.join(d['next_runs'])}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    """Add `serve` and `deployments` to the `guidefund` parser."""
    p = add("serve", "在 Prefect 服务器上按计划运行各流程，直到停止", cmd_serve)
    add_region(p)
    describe(
        p,
        "提供三个部署：每晚汇总（nightly-consolidation）、每周预警摘要（execution-alerts）和"
        "年度自评（year-end-aggregation），按 GUIDEFUND_*_CRON 的计划运行。需要 PREFECT_API_URL "
        "指向已启动的 Prefect 服务器。",
        examples=["PREFECT_API_URL=http://127.0.0.1:4200/api guidefund serve"],
        exits={0: "已停止（计划保持启用）", 2: "无法启动（服务器无法连接、计划设置有误）"},
    )
    p = add("deployments", "列出各定时流程、计划和下次运行时间", cmd_deployments)
    add_region(p)
    p.add_argument("--json", action="store_true", help="以 JSON 打印（供脚本使用）")
    p.add_argument(
        "--next", type=int, default=3, metavar="N", help="显示接下来 N 次运行时间（默认 3）"
    )
    describe(
        p,
        "按当前设置列出每个部署的计划（cron 与时区）、重叠运行时的处理方式和接下来的运行时间。",
        examples=["guidefund deployments", "guidefund deployments --json --next 5"],
        exits={0: "已列出", 2: "计划设置有误"},
    )
