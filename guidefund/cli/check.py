"""`guidefund check FILE|FOLDER...`: validate workbooks without loading them (issue 3).

The same reader (behind the same pre-parse guard), suites and outlier rule as the nightly flow
(intake.batch.batch_findings), so a file gets the same findings from both: nothing is stored or
moved, so a unit (or the staff) can check a file before it is submitted. The project's history,
which the outlier rule compares with, is read from the warehouse when there is one (read-only:
a missing SQLite file is not created); without it the command says which reminders it could not
check. The suites are evaluated by expectations.light, which gives GX's findings without GX's
import (5.7–12 s here), and only what is needed is imported: one file is checked in about a
second (issue 10, item 5). Files are read in this process; the guard keeps the reader from the
contents that crash it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from guidefund.cli.common import add_scope, describe, quiet_libraries, reference_for, settings_from
from guidefund.records import CRITICAL, Finding
from guidefund.reference import Reference
from guidefund.settings import Settings

ACCEPTED, REJECTED, NOT_READABLE = 0, 1, 2
NO_HISTORY = (
    "注意：{why}，“数值异常”提醒只与本次检查的其他文件比较，未与本项目上次报送比较；"
    "入库（guidefund nightly）时会比较。"
)


def register(add: Callable[..., Any]) -> None:
    """Add `check` to the `guidefund` parser."""
    p = add("check", "检查填报文件能否被接收（不入库、不移动文件）", cmd_check)
    p.add_argument(
        "files", nargs="+", metavar="文件或文件夹",
        help="填报工作簿（.xlsx），或放有填报文件的文件夹（检查其中每个文件）",
    )  # fmt: skip
    add_scope(p)
    describe(
        p,
        "用与每晚汇总相同的读取规则和校验套件检查文件，逐条打印问题（所在工作表、单元格、"
        "检查项目和修改要求）。不写入汇总库，也不移动文件。有汇总库时，“数值异常”提醒还会"
        "与本项目上次报送比较，与每晚汇总的结果相同。",
        examples=[
            "guidefund check 046_新疆工程学院.xlsx",
            "guidefund check guidefund-work/inbox/",
        ],
        exits={
            0: "每个文件都可以接收（可能有提醒）",
            1: "有文件将被退回",
            2: "有文件找不到或不是 Excel 工作簿",
        },  # fmt: skip
    )


def expand(names: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The files to check (a folder stands for the files in it, as the inbox does) and one
    message per name that gives none."""
    from guidefund.intake.inbox import scan_inbox

    paths, problems = [], []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = [e.path for e in scan_inbox(path).files]
            paths += found
            if not found:
                problems.append(f"{path}：文件夹中没有待检查的文件")
        elif path.is_file():
            paths.append(path)
        else:
            problems.append(f"{path}：找不到该文件或文件夹")
    return list(dict.fromkeys(paths)), problems


def warehouse_history(settings: Settings, ref: Reference) -> tuple[list[dict[str, Any]], str]:
    """The current accepted figures of every project (as the nightly run reads them), and ''; or
    [] and why they could not be read. Never creates a warehouse."""
    if not settings.warehouse_url and not (settings.workdir / "warehouse.sqlite").is_file():
        return [], "没有汇总库"  # decided without importing SQLAlchemy (~1 s of a 1 s check)
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return [], "没有汇总库"
    try:
        from guidefund.warehouse.db import engine_for
        from guidefund.warehouse.queries import current_submissions

        return current_submissions(engine_for(settings.database_url), ref.region_code, ref.year), ""
    except Exception as exc:  # noqa: BLE001 - any failure only means: no history to compare with
        return [], f"无法读取汇总库（{type(exc).__name__}）"


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
    from guidefund.intake.batch import all_findings, read_batch
    from guidefund.reports.findings import counts_text, finding_line

    settings = settings_from(args)
    # GX reads its environment at import; no Prefect here, so no Prefect home is created.
    quiet_libraries(settings)
    ref = reference_for(settings, args.year)
    paths, problems = expand(args.files)
    codes = [NOT_READABLE] * len(problems)
    for line in problems:
        print(line, file=sys.stderr)
    subs = read_batch(paths, ref)
    for path in sorted(set(paths) - {s.path for s in subs}):
        print(f"{path}：无法读取该文件（被占用或没有权限）", file=sys.stderr)
        codes.append(NOT_READABLE)
    if not subs:
        return max(codes, default=ACCEPTED)
    from guidefund.expectations import light
    from guidefund.intake.batch import batch_findings
    from guidefund.intake.outliers import Thresholds

    history, why = warehouse_history(settings, ref)
    found = batch_findings(subs, ref, Thresholds.of(settings), history, evaluate=light.run_suite)
    for i, sub in enumerate(subs):
        findings = all_findings(sub, found.get(i, []))
        for f in findings:
            print(finding_line(f))
        code = verdict(findings)
        summary = {
            ACCEPTED: f"可以接收（{sum(f.severity != CRITICAL for f in findings)} 条提醒）",
            REJECTED: f"将被退回（{counts_text(findings)}）",
            NOT_READABLE: "无法作为 Excel 工作簿读取",
        }[code]
        print(f"{sub.file_name}：{summary}")
        codes.append(code)
    if why:
        print(NO_HISTORY.format(why=why))
    return max(codes, default=ACCEPTED)
