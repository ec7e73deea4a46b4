"""Reading an inbox and filing every file away: plain functions the nightly flow wraps.

Custody rule: a file leaves the inbox only after the warehouse has recorded its state, and then
goes to exactly one place: archive/<sha256>.xlsx (accepted, duplicate, superseded) or
quarantine/<name> with <name>.errors.xlsx beside it (rejected).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from flows.records import CRITICAL, Finding, Submission
from flows.reference import Reference
from flows.workbook import NotAWorkbook, read_submission, sha256_of

FEEDBACK_COLUMNS = ("工作表", "单元格", "字段", "填写的值", "规则", "问题及修改要求", "级别")


def list_inbox(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, oldest name first; Excel lock files (~$…) are not submissions."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(("~$", ".")))


def read_batch(paths: Iterable[Path], ref: Reference) -> list[Submission]:
    """Every path becomes a Submission; one that is not a workbook carries a finding saying so."""
    subs = []
    for path in paths:
        try:
            subs.append(read_submission(path, ref))
        except NotAWorkbook as exc:
            sub = Submission(path=path, sha256=sha256_of(path))
            sub.problems.append(
                Finding(
                    path.name,
                    "",
                    "",
                    "",
                    "文件",
                    path.suffix,
                    "read.not_workbook",
                    f"{exc}。请提交用科技厅模板填写的 .xlsx 文件。",
                )
            )
            subs.append(sub)
    return subs


def split(
    subs: Sequence[Submission], findings: dict[int, list[Finding]]
) -> tuple[list[Submission], list[tuple[Submission, list[Finding]]]]:
    """Accepted submissions, and rejected ones with every critical finding (read + validation)."""
    accepted, rejected = [], []
    for i, sub in enumerate(subs):
        problems = [*sub.problems, *findings.get(i, [])]
        if any(f.severity == CRITICAL for f in problems):
            rejected.append((sub, problems))
        else:
            accepted.append(sub)
    return accepted, rejected


def write_feedback(path: Path, findings: Sequence[Finding]) -> Path:
    """<name>.errors.xlsx: one row per problem, in Chinese, for the unit that must fix it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    ws.append(FEEDBACK_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for f in findings:
        ws.append(
            [
                f.sheet,
                f.cell,
                f.label,
                f.value,
                f.rule,
                f.message,
                "退回" if f.severity == CRITICAL else "提醒",
            ]
        )
    for col, width in zip("ABCDEFG", (12, 8, 28, 18, 26, 70, 8), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(path)
    return path


def file_away(
    archive: Path,
    quarantine: Path,
    accepted: Iterable[Submission],
    rejected: Iterable[tuple[Submission, list[Finding]]],
    duplicates: set[str],
) -> None:
    """Move recorded files out of the inbox. Call only after the warehouse committed their states.

    Accepted files are kept by content hash; a duplicate's bytes are already kept (archive or
    quarantine), so its inbox copy is removed; rejected files go to quarantine with feedback.
    """
    archive.mkdir(parents=True, exist_ok=True)
    quarantine.mkdir(parents=True, exist_ok=True)
    for sub in accepted:
        target = archive / f"{sub.sha256}{sub.path.suffix or '.xlsx'}"
        if sub.file_name in duplicates or target.exists():
            sub.path.unlink()
        else:
            shutil.move(sub.path, target)
    for sub, findings in rejected:
        if sub.file_name in duplicates:
            sub.path.unlink()
            continue
        target = quarantine / sub.path.name
        if target.exists():
            target = quarantine / f"{sub.path.stem}.{sub.sha256[:8]}{sub.path.suffix}"
        shutil.move(sub.path, target)
        write_feedback(target.with_name(target.name + ".errors.xlsx"), findings)
