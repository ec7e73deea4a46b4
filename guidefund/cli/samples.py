"""`guidefund samples`: sample submissions that reproduce the seed's reported results."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import EXIT_OK, reference_for, settings_from


def cmd_samples(args: argparse.Namespace) -> int:
    from guidefund.intake.samples import write_samples

    settings = settings_from(args)
    paths = write_samples(reference_for(settings, args.year), Path(args.out), seed=args.seed)
    print(f"已生成 {len(paths)} 份样例填报（seed={args.seed}）：{Path(args.out).resolve()}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add(
        "samples",
        "write sample submissions that reproduce the seed's reported results",
        cmd_samples,
    )
    p.add_argument("--year", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2024)
