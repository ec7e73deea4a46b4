"""`guidefund digest [--year Y] [--as-of DATE] [--days N]`: send the weekly digest now.

Runs the execution-alerts flow (the digest the weekly schedule sends) by hand: the open alerts,
dated as of DATE (default today in GUIDEFUND_TIMEZONE), those first seen in the last N days
marked new, delivered through GUIDEFUND_NOTIFY_URL (or <workdir>/alerts.log). Prints the
digest. Exit 0 when no alert is open, 1 when some are.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    add_as_of,
    add_scope,
    as_of_from,
    describe,
    reference_for,
    run_flow,
    settings_from,
)


def cmd_digest(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    as_of = as_of_from(args, settings)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.digest import execution_alerts

        return lambda: execution_alerts(
            year=ref.year, workdir=str(settings.workdir), days=args.days, as_of=as_of
        )

    digest = run_flow(settings, start)
    print(digest.title)
    print(digest.text)
    print(f"已发送：{digest.channel}")
    return EXIT_ATTENTION if digest.open else EXIT_OK


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("digest", "立即发送未关闭预警摘要（每周摘要）", cmd_digest)
    add_scope(p)
    p.add_argument("--days", type=int, default=7, metavar="天数",
                   help="最近多少天首次出现的预警标为新增（默认 7）")  # fmt: skip
    add_as_of(p)
    describe(
        p,
        "运行每周预警摘要流程（execution-alerts）：列出最近一次汇总运行仍在提示的预警，标明截至日期，"
        "并按 GUIDEFUND_NOTIFY_URL 发送（未设置时写入 <工作目录>/alerts.log）。",
        examples=["guidefund digest", "guidefund digest --year 2024 --as-of 2024-07-08"],
        exits={0: "没有未关闭的预警", 1: "有未关闭的预警", 2: "无法运行（一行说明原因）"},
    )  # fmt: skip
