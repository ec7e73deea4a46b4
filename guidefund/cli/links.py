"""`guidefund links`: the units' secret links to the web page, and the office's (issue 15)."""

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


def cmd_links(args: argparse.Namespace) -> int:
    from guidefund.portal import links
    from guidefund.warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund links: {problem}", file=sys.stderr)
        return EXIT_FAILED
    units = links.plan_units(ref)
    unknown = [u for u in args.revoke or [] if u not in units]
    if unknown:
        print(
            f"guidefund links: {ref.year} 年度计划中没有申报单位：{'、'.join(unknown)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if not args.revoke and not args.base_url:
        print(
            "guidefund links: 请用 --base-url 给出网页的地址，如 https://填报.example.cn",
            file=sys.stderr,
        )
        return EXIT_FAILED
    engine = make_engine(settings.database_url)
    try:
        if args.revoke:
            ended = links.revoke_units(engine, ref, args.revoke)
            print(f"已停用 {'、'.join(args.revoke)} 的链接 {ended} 个（运行中的网页立即生效）。")
            return EXIT_OK
        if args.office:
            print(links.issue_office_link(engine, ref, args.base_url))
            print("（科技厅总览链接；此前的总览链接已停用。）", file=sys.stderr)
            return EXIT_OK
        if not args.out:
            print("guidefund links: 请用 --out 给出输出文件（.csv 或 .xlsx）", file=sys.stderr)
            return EXIT_FAILED
        issued = links.issue_unit_links(engine, ref, args.base_url, rotate=args.rotate)
    finally:
        engine.dispose()
    rows = [(u, issued.links[u]) for u in units if u in issued.links]
    out = links.write_links(Path(args.out), rows)
    print(f"已为 {len(rows)} 个单位生成链接，写入 {out}（请妥善保管：链接即凭证）。")
    if issued.kept:
        print(
            f"{len(issued.kept)} 个单位已有有效链接，未重新生成（只保存了链接的哈希，无法再次显示）；"
            "需要新链接请加 --rotate（旧链接随即停用）。"
        )
        return EXIT_ATTENTION
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    """Add `links` to the `guidefund` parser."""
    p = add("links", "生成各申报单位上传填报文件的专用链接（及科技厅总览链接）", cmd_links)
    add_scope(p)
    p.add_argument("--base-url", metavar="网址", help="网页对外的地址，如 https://tb.example.cn")
    p.add_argument("--out", metavar="文件", help="输出文件：.csv（UTF-8，带 BOM）或 .xlsx")
    p.add_argument("--rotate", action="store_true", help="停用现有链接，为每个单位生成新链接")
    p.add_argument(
        "--revoke", action="append", metavar="单位", help="立即停用该单位的链接（可重复）"
    )
    p.add_argument("--office", action="store_true", help="只生成科技厅总览的链接并打印")
    describe(
        p,
        "为年度计划中的每个申报单位生成一个专用链接（<网址>/u/<令牌>，256 位随机数），写入"
        "“申报单位, 链接”两列的文件。汇总库只保存令牌的哈希：链接只在生成时显示一次。",
        examples=[
            "guidefund links --year 2024 --base-url https://tb.example.cn --out 单位链接.xlsx",
            "guidefund links --year 2024 --revoke 新疆大学",
            "guidefund links --year 2024 --base-url https://tb.example.cn --out 单位链接.csv --rotate",
            "guidefund links --office --base-url https://tb.example.cn",
        ],
        exits={0: "已生成或已停用", 1: "有单位已有链接、未重新生成（用 --rotate 更换）",
               2: "无法运行（汇总库结构不是最新、单位不在计划中、缺少参数）"},
    )  # fmt: skip
