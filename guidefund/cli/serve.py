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
    add(
        "serve",
        "run the scheduled flows (nightly, weekly alerts, year end) on a Prefect server until stopped",
        cmd_serve,
    )
    p = add(
        "deployments",
        "list the scheduled flows with their schedules and next runs",
        cmd_deployments,
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of objects")
    p.add_argument(
        "--next", type=int, default=3, help="how many next start times to show (default 3)"
    )
