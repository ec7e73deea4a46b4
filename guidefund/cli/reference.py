"""`guidefund reference check`: read and check every reference file of a year, before any work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_scope,
    describe,
    reference_for,
    settings_from,
)
from guidefund.reference import OPTIONAL_FILES, ReferenceError


def cmd_reference(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        ref = reference_for(settings, args.year)
    except ReferenceError as exc:
        print(f"{exc.year_dir}：参考数据有 {len(exc.problems)} 处问题", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"{ref.year_dir}：{ref.region_name}（{ref.region_code}）{ref.year} 年度参考数据无误："
        f"计划项目 {len(ref.plan)} 个，年度金额 {ref.annual_amount} 万元，"
        f"绩效指标 {len(ref.targets)} 项，模板字段 {len(ref.fields)} 个"
    )
    absent = [name for name in OPTIONAL_FILES if not (ref.year_dir / name).exists()]
    if absent:
        print(f"未提供的可选文件：{'、'.join(absent)}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("reference", "检查某年度的参考数据（data/reference/<年度>/）", cmd_reference)
    p.add_argument("action", choices=["check"], help="check：检查每个文件")
    add_scope(p)
    describe(
        p,
        "读取并检查该年度的全部参考数据文件（计划、预算、指标、模板字段等），列出每个问题"
        "（文件、行、列），并列出该年度未提供的可选文件。",
        examples=["guidefund reference check --year 2024"],
        exits={0: "参考数据完整一致", 2: "有问题（逐条列出）"},
    )
