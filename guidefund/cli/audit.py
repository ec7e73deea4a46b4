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
    p = add(
        "audit",
        "check a report's stated figures: arithmetic per line and agreement between sources",
        cmd_audit,
    )
    p.add_argument(
        "figures", help="CSV: indicator,source,target,actual,completion_pct,deviation_pct"
    )
    p.add_argument(
        "--year", type=int, help="plan year whose targets say which way (≥/≤) each points"
    )
