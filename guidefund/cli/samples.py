"""`guidefund samples`: sample submissions that reproduce the seed's reported results."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import EXIT_OK, add_scope, describe, reference_for, settings_from


def cmd_samples(args: argparse.Namespace) -> int:
    from guidefund.intake.samples import write_samples

    settings = settings_from(args)
    paths = write_samples(reference_for(settings, args.year), Path(args.out), seed=args.seed)
    print(f"已生成 {len(paths)} 份样例填报（seed={args.seed}）：{Path(args.out).resolve()}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("samples", "生成样例填报文件（与种子报告的结果一致）", cmd_samples)
    add_scope(p)
    p.add_argument("--out", required=True, metavar="文件夹", help="样例写到这个文件夹")
    p.add_argument(
        "--seed", type=int, default=2024, help="随机种子（默认 2024）：同一种子生成相同文件"
    )
    describe(
        p,
        "为每个计划项目生成一份已填好的填报文件，汇总后重现种子报告的指标结果，用于演示和测试。",
        examples=["guidefund samples --year 2024 --out guidefund-work/inbox/"],
        exits={0: "已生成", 2: "无法生成（参考数据有误等）"},
    )
