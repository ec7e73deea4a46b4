"""`guidefund reference check|new`: check every reference file of a region's year before any
work, or start a new year or region from an older year."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
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
from guidefund.reference import (
    OPTIONAL_FILES,
    ReferenceError,
    reference_warnings,
    scaffold,
    year_dir_for,
)
from guidefund.settings import Settings


def cmd_reference(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.action == "new":
        return _new(args, settings)
    try:
        ref = reference_for(settings, args.year)
    except ReferenceError as exc:
        print(f"{exc.year_dir}：参考数据有 {len(exc.problems)} 处问题", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"{ref.year_dir}：{ref.region_name}（{ref.region_code}）{ref.year} 年度参考数据可以读取："
        f"计划项目 {len(ref.plan)} 个，年度金额 {ref.annual_amount} 万元，"
        f"绩效指标 {len(ref.targets)} 项，模板字段 {len(ref.fields)} 个"
    )
    absent = [name for name in OPTIONAL_FILES if not (ref.year_dir / name).exists()]
    if absent:
        print(f"未提供的可选文件：{'、'.join(absent)}")
    warnings = reference_warnings(ref)
    for line in warnings:
        print(f"  请核对：{line}")
    return EXIT_ATTENTION if warnings else EXIT_OK


def _new(args: argparse.Namespace, settings: Settings) -> int:
    region = settings.region
    if not region or not args.year or not args.from_year:
        print(
            "guidefund: reference new 需要 --region、--year 和 --from（从哪一年复制）",
            file=sys.stderr,
        )
        return EXIT_FAILED
    root = settings.reference_dir
    try:
        try:
            source = year_dir_for(root, args.from_year, region)
        except ReferenceError:
            source = year_dir_for(root, args.from_year)  # another region's year, if only one
    except ReferenceError as exc:
        print(f"guidefund: {'；'.join(exc.problems)}", file=sys.stderr)
        return EXIT_FAILED
    target = root.resolve() / region / str(args.year)
    try:
        written = scaffold(source, target, region, args.year)
    except FileExistsError:
        print(f"guidefund: {target} 已存在，未改动；请换一个年度或先移走它", file=sys.stderr)
        return EXIT_FAILED
    print(f"已从 {source} 建立 {target}：{'、'.join(written)}")
    print(
        "请把每个“【待填】”改为该年度的数据（plan.csv、category_budget.csv、budget.csv 整表重写；"
        "region.csv 的金额与项目数、targets.csv 的指标值、report_rules.csv 中写有年份的文字），"
        f"然后运行：guidefund reference check --region {region} --year {args.year}"
    )
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add(
        "reference",
        "检查某地区某年度的参考数据（data/reference/<地区代码>/<年度>/），或由旧年度建立新年度",
        cmd_reference,
    )
    p.add_argument(
        "action",
        choices=["check", "new"],
        help="check：检查每个文件；new：由 --from 年度建立新目录",
    )
    add_scope(p)
    p.add_argument(
        "--from",
        dest="from_year",
        type=int,
        metavar="年度",
        help="new：从这一年度复制（同一地区优先）",
    )
    describe(
        p,
        "check 读取并检查该地区该年度的全部参考数据文件（计划、预算与地区总额、指标与模板字段、"
        "评分等），列出每个问题（文件、行、列）、未提供的可选文件，以及写着其他年份的文字。\n"
        "new 由较早年度建立新年度（或新地区）的目录：不随年度变化的文件照抄，其余只留表头和“【待填】”。",
        examples=[
            "guidefund reference check --year 2024",
            "guidefund reference check --region 650000 --year 2025",
            "guidefund reference new --region 650000 --year 2025 --from 2024",
        ],
        exits={
            0: "参考数据完整一致（new：已建立）",
            1: "可以使用，但有需核对之处（如文字写着其他年份）",
            2: "有问题（逐条列出）；new：无法建立",
        },
    )
