"""`guidefund audit FIGURES.csv`: check the figures a hand-written report states.

Exit 0 when clean, 1 with findings, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_FAILED,
    EXIT_OK,
    add_scope,
    describe,
    reference_for,
    settings_from,
)
from guidefund.evaluate.audit import FiguresError, audit


def cmd_audit(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    try:
        found = audit(Path(args.figures), {t.name: t for t in ref.targets})
    except FiguresError as exc:
        print(f"guidefund audit: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for f in found:
        print(f.text())
    if not found:
        print(f"{Path(args.figures).name}：算术和各处说法一致，未发现问题")
        return EXIT_OK
    print(f"共 {len(found)} 处问题")
    return EXIT_ATTENTION


def register(add: Callable[..., Any]) -> None:
    """Add `guidefund audit FIGURES.csv [--year Y]` to the parser."""
    p = add("audit", "核对一份报告中写明的数字：每行的算术和不同出处是否一致", cmd_audit)
    p.add_argument(
        "figures", metavar="FIGURES.csv",
        help="CSV 文件，列为 indicator,source,target,actual,completion_pct,deviation_pct（可留空）",
    )  # fmt: skip
    add_scope(p, "计划年度：其指标值决定每个指标的方向（≥ 或 ≤）")
    describe(
        p,
        "对每一行检查完成率、偏差率的算术，并比较同一指标在不同出处写的数字；每个不一致打印一行。",
        examples=["guidefund audit data/reference/650000/2024/stated_figures.csv --year 2024"],
        exits={0: "没有发现问题", 1: "发现不一致（逐条打印）", 2: "无法读取该 CSV"},
    )
