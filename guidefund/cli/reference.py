"""`guidefund reference check`: read and check every reference file of a year, before any work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import EXIT_FAILED, EXIT_OK, settings_from
from guidefund.reference import OPTIONAL_FILES, ReferenceError, load_reference


def cmd_reference(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    year = args.year or settings.year
    try:
        ref = load_reference(settings.reference_dir, year)
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
    p = add(
        "reference",
        "check a year's reference data (data/reference/<year>/): every file, exit 2 on any problem",
        cmd_reference,
    )
    p.add_argument("action", choices=["check"])
    p.add_argument("--year", type=int)
