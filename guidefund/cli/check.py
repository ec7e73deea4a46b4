"""`guidefund check FILE...`: validate workbooks without loading them (issue 3).

The same reader (behind the same pre-parse guard) and suites as the nightly flow, without the
warehouse: nothing is stored or moved, so a unit (or the staff) can check a file before it is
submitted. With no warehouse there is no project history, so the outlier rule compares only
with the other files given (their direction's median). The suites are evaluated by
expectations.light, which gives GX's findings without GX's import (5.7–12 s here): one file is
checked in about a second (issue 10, item 5). The files are read in this process: the guard
keeps the reader from the contents that crash it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from guidefund.cli.common import quiet_libraries, reference_for, settings_from
from guidefund.records import CRITICAL, Finding

ACCEPTED, REJECTED, NOT_READABLE = 0, 1, 2


def register(add: Callable[..., Any]) -> None:
    """Add `check` to the `guidefund` parser."""
    p = add(
        "check",
        "validate workbooks without loading them; print every finding "
        "(exit 0 would be accepted, 1 would be rejected, 2 not a workbook)",
        cmd_check,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="submission workbooks (.xlsx)")
    p.add_argument("--year", type=int, help="plan year (default: GUIDEFUND_YEAR)")


def finding_line(f: Finding) -> str:
    """file sheet!cell [rule] label：message（退回|提醒）, one line per finding."""
    where = f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "(文件)")
    level = "退回" if f.severity == CRITICAL else "提醒"
    return f"{f.file} {where} [{f.rule}] {f.label}：{f.message}（{level}）"


# A file refused for one of these is not an Excel workbook we can read at all (exit 2); one
# refused for its content (too large, entities, macros, links) is a workbook that would be
# rejected (exit 1).
UNREADABLE = frozenset({"read.not_workbook", "read.failed", "read.format", "read.encrypted",
                        "read.malformed", "read.crashed", "read.timeout"})  # fmt: skip


def verdict(findings: Sequence[Finding]) -> int:
    if any(f.rule in UNREADABLE for f in findings):
        return NOT_READABLE
    return REJECTED if any(f.severity == CRITICAL for f in findings) else ACCEPTED


def cmd_check(args: argparse.Namespace) -> int:
    from guidefund.intake.batch import read_batch

    settings = settings_from(args)
    # GX reads its environment at import; no Prefect here, so no Prefect home is created.
    quiet_libraries(settings)
    ref = reference_for(settings, args.year)
    paths = [Path(name) for name in args.files]
    codes = []
    for path in paths:
        if not path.is_file():
            print(f"{path}：找不到该文件", file=sys.stderr)
            codes.append(NOT_READABLE)
    subs = read_batch([p for p in paths if p.is_file()], ref)
    for path in sorted({p for p in paths if p.is_file()} - {s.path for s in subs}):
        print(f"{path}：无法读取该文件（被占用或没有权限）", file=sys.stderr)
        codes.append(NOT_READABLE)
    from guidefund.expectations import light
    from guidefund.intake.outliers import Thresholds
    from guidefund.intake.validate import validate_submissions

    found = validate_submissions(subs, ref, Thresholds.of(settings), evaluate=light.run_suite)
    for i, sub in enumerate(subs):
        findings = list(dict.fromkeys([*sub.problems, *found.get(i, [])]))
        findings.sort(key=lambda f: f.severity != CRITICAL)
        for f in findings:
            print(finding_line(f))
        code = verdict(findings)
        warnings = sum(f.severity != CRITICAL for f in findings)
        problems = len(findings) - warnings
        summary = {
            ACCEPTED: f"可以接收（{warnings} 条提醒）",
            REJECTED: f"将被退回（{problems} 个问题，{warnings} 条提醒）",
            NOT_READABLE: "无法作为 Excel 工作簿读取",
        }[code]
        print(f"{sub.file_name}：{summary}")
        codes.append(code)
    return max(codes, default=ACCEPTED)
