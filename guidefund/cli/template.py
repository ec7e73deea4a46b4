"""`guidefund template`: the submission template, one .xlsx per plan project."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import EXIT_OK, add_scope, describe, reference_for, settings_from


def cmd_template(args: argparse.Namespace) -> int:
    from guidefund.intake.template import write_templates

    settings = settings_from(args)
    paths = write_templates(
        reference_for(settings, args.year), Path(args.out), args.project or None
    )
    print(f"已生成 {len(paths)} 个填报模板：{Path(args.out).resolve()}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("template", "为每个计划项目写出填报模板（.xlsx）", cmd_template)
    add_scope(p)
    p.add_argument("--out", required=True, metavar="文件夹", help="模板写到这个文件夹")
    p.add_argument(
        "--project", type=int, action="append", metavar="序号",
        help="只写这个项目序号的模板（可重复，如 --project 46 --project 58）",
    )  # fmt: skip
    describe(
        p,
        "每个计划项目一个 .xlsx：项目信息由科技厅预填并锁定，单位填写的栏目有下拉列表和数值范围，"
        "另有“填报说明”工作表。每个工作表打印为一页 A4。",
        examples=["guidefund template --year 2024 --out templates/",
                  "guidefund template --year 2024 --out templates/ --project 46"],
        exits={0: "已写出", 2: "无法写出（参考数据有误、没有该项目序号等）"},
    )  # fmt: skip
