"""Reading an inbox and filing every file away: plain functions the nightly flow wraps.

Custody rule: a file leaves the inbox only after the warehouse has recorded its state, and then
goes to exactly one place:
* accepted or superseded → archive/<sha256><suffix> (content-addressed, so never overwritten);
* rejected → quarantine/<name> with <name>.errors.xlsx beside it (one row per problem);
* duplicate (same bytes as a file already received) → removed from the inbox only when those
  bytes are already kept in archive/ or quarantine/; otherwise kept like a first copy.
A file that cannot even be read from disk (locked, vanished) is not recorded and stays in the
inbox for the next run.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from flows.progress import file_progress
from flows.records import CRITICAL, WARNING, Finding, Submission
from flows.reference import Reference
from flows.workbook import NOT_WORKBOOK, NotAWorkbook, read_bytes

FEEDBACK_COLUMNS = ("工作表", "单元格", "字段", "填写的值", "规则", "问题及修改要求", "级别")
FEEDBACK_SUFFIX = ".errors.xlsx"
log = logging.getLogger(__name__)


def list_inbox(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, by name; Excel lock files (~$…), hidden files and our own
    feedback workbooks are not submissions."""
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file()
        and not p.name.startswith(("~$", "."))
        and not p.name.endswith(FEEDBACK_SUFFIX)
    )


def read_batch(paths: Sequence[Path], ref: Reference) -> list[Submission]:
    """Every readable path becomes a Submission; one bad file never stops the batch: a file
    that is not a workbook, or that the reader fails on, carries a finding saying so."""
    with file_progress(len(paths), "读取填报文件") as step:
        return [sub for path in paths if (sub := _read_one(path, ref, step)) is not None]


def _read_one(path: Path, ref: Reference, step: Callable[[], None]) -> Submission | None:
    step()
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("%s 暂时无法读取，留在收件箱等待下次运行：%s", path.name, exc)
        return None
    try:
        return read_bytes(path, data, ref)
    except NotAWorkbook as exc:
        return _unreadable(path, data, NOT_WORKBOOK, f"{exc}；请提交用科技厅模板填写的 .xlsx 文件")
    except Exception as exc:  # noqa: BLE001 - a reader bug must not cost the other files
        log.exception("reading %s failed", path.name)
        message = f"读取文件时出错（{type(exc).__name__}）；请另存为 .xlsx 后重新报送，如仍出错请联系科技厅"
        return _unreadable(path, data, "read.failed", message)


def _unreadable(path: Path, data: bytes, rule: str, message: str) -> Submission:
    sub = Submission(path=path, sha256=hashlib.sha256(data).hexdigest())
    sub.problems.append(Finding(path.name, "", "", "", "文件", path.suffix, rule, message))
    return sub


def split(
    subs: Sequence[Submission], findings: Mapping[int, Sequence[Finding]]
) -> tuple[list[Submission], list[tuple[Submission, list[Finding]]]]:
    """Accepted submissions, and rejected ones with all their findings (the reader's and the
    suites', critical first; each once). A file is rejected by any critical finding."""
    accepted, rejected = [], []
    for i, sub in enumerate(subs):
        problems = list(dict.fromkeys([*sub.problems, *findings.get(i, [])]))
        problems.sort(key=lambda f: f.severity != CRITICAL)
        if any(f.severity == CRITICAL for f in problems):
            rejected.append((sub, problems))
        else:
            accepted.append(sub)
    return accepted, rejected


def warnings_of(
    subs: Sequence[Submission], findings: Mapping[int, Sequence[Finding]]
) -> list[Finding]:
    """The warning findings of accepted files (stored by the load; alerts are made of them)."""
    found: list[Finding] = []
    for i, sub in enumerate(subs):
        problems = list(dict.fromkeys([*sub.problems, *findings.get(i, [])]))
        if not any(f.severity == CRITICAL for f in problems):
            found += [f for f in problems if f.severity == WARNING]
    return found


def write_feedback(path: Path, findings: Sequence[Finding]) -> Path:
    """<name>.errors.xlsx: one row per problem, in Chinese, for the unit that must fix it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    ws.append(FEEDBACK_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for f in findings:
        level = "退回" if f.severity == CRITICAL else "提醒"
        ws.append([f.sheet, f.cell, f.label, f.value, f.rule, f.message, level])
    for col, width in zip("ABCDEFG", (12, 8, 28, 18, 28, 80, 8), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    wb.save(path)
    return path


def _kept(sub: Submission, archive: Path, quarantine: Path) -> bool:
    """Are these bytes already kept in the archive or in quarantine?"""
    if any(archive.glob(f"{sub.sha256}.*")) or (archive / sub.sha256).exists():
        return True
    return any(
        p.is_file()
        and not p.name.endswith(FEEDBACK_SUFFIX)
        and p.stat().st_size == sub.path.stat().st_size
        and hashlib.sha256(p.read_bytes()).hexdigest() == sub.sha256
        for p in quarantine.iterdir()
    )


def _archive(sub: Submission, archive: Path) -> None:
    target = archive / f"{sub.sha256}{sub.path.suffix or '.xlsx'}"
    if target.exists():
        sub.path.unlink()
    else:
        shutil.move(sub.path, target)


def _quarantine(sub: Submission, findings: Sequence[Finding], quarantine: Path) -> Path:
    target = quarantine / sub.path.name
    if target.exists():
        target = quarantine / f"{sub.path.stem}.{sub.sha256[:8]}{sub.path.suffix}"
    shutil.move(sub.path, target)
    write_feedback(target.with_name(target.name + FEEDBACK_SUFFIX), findings)
    return target


def file_away(
    archive: Path,
    quarantine: Path,
    accepted: Iterable[Submission],
    rejected: Iterable[tuple[Submission, list[Finding]]],
    duplicates: Iterable[str],
) -> None:
    """Move recorded files out of the inbox. Call only after the warehouse committed their
    states; `duplicates` are the file names the load recorded as duplicates."""
    archive.mkdir(parents=True, exist_ok=True)
    quarantine.mkdir(parents=True, exist_ok=True)
    dupes = set(duplicates)
    for sub in accepted:
        if sub.file_name in dupes and _kept(sub, archive, quarantine):
            sub.path.unlink()
        else:
            _archive(sub, archive)
    for sub, findings in rejected:
        if sub.file_name in dupes and _kept(sub, archive, quarantine):
            sub.path.unlink()
        else:
            _quarantine(sub, findings, quarantine)
