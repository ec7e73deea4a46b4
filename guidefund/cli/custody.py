"""`guidefund custody --year Y [--json]`: are all files where the receipts say? (issue 9)

Reconciles the inbox, archive/ and quarantine/ against the warehouse's receipts of the year
(guidefund.intake.custody.reconcile) and names every discrepancy: a receipt not filed away, a
file missing from where its receipt sent it, a rejected file without its feedback workbook, a
file in archive/ or quarantine/ no receipt accounts for. Exit 0 when everything is accounted
for, 1 with one line per discrepancy.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    add_scope,
    describe,
    reference_for,
    settings_from,
)


def cmd_custody(args: argparse.Namespace) -> int:
    from guidefund.intake.custody import reconcile
    from guidefund.warehouse.db import engine_for

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    engine = engine_for(settings.database_url)
    found = reconcile(engine, settings.workdir, settings.inbox, ref.region_code, ref.year)
    if args.json:
        print(json.dumps({"year": ref.year, "region_code": ref.region_code, **asdict(found)},
                         ensure_ascii=False, indent=2))  # fmt: skip
    else:
        print(
            f"{ref.region_name} {ref.year} 年度文件托管核对：接收记录 {found.receipts} 条，"
            f"存档 {found.archive} 个，隔离 {found.quarantine} 个，收件箱待处理 {len(found.waiting)} 个；"
            + (f"发现 {len(found.discrepancies)} 处不一致" if found.discrepancies else "全部相符")
        )
        for d in found.discrepancies:
            print(f"  [{d.kind}] {d.message}")
    return EXIT_ATTENTION if found.discrepancies else EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("custody", "核对收件箱、存档和隔离区中的文件与接收记录是否一一相符", cmd_custody)
    add_scope(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出核对结果")
    describe(
        p,
        "把收件箱（inbox/）、存档（archive/）和隔离区（quarantine/）中的文件与汇总库中的接收记录"
        "逐一核对：每份收到的文件都应在其记录所说的位置（退回的文件旁应有问题清单），存档和隔离区中"
        "不应有无记录的文件，也不应有尚未归档的记录（运行中断时由下一次运行补完）。",
        examples=["guidefund custody --year 2024", "guidefund custody --json"],
        exits={0: "全部相符", 1: "有不一致之处（逐条列出）", 2: "无法运行（一行说明原因）"},
    )
