"""`guidefund template`: the submission template, one .xlsx per plan project."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import EXIT_OK, reference_for, settings_from


def cmd_template(args: argparse.Namespace) -> int:
    from guidefund.intake.template import write_templates

    settings = settings_from(args)
    paths = write_templates(
        reference_for(settings, args.year), Path(args.out), args.project or None
    )
    print(f"已生成 {len(paths)} 个填报模板：{Path(args.out).resolve()}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add(
        "template", "write the empty submission template, one .xlsx per plan project", cmd_template
    )
    p.add_argument("--year", type=int)
    p.add_argument("--out", required=True, help="folder to write the templates to")
    p.add_argument(
        "--project", type=int, action="append", help="only this project number (repeatable)"
    )
