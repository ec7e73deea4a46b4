"""Read a batch of files into Submissions and split the validated batch: plain functions the
nightly flow and `guidefund check` share."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from guidefund.intake.progress import file_progress
from guidefund.intake.workbook import NOT_WORKBOOK, NotAWorkbook, read_bytes
from guidefund.records import CRITICAL, WARNING, Finding, Submission
from guidefund.reference import Reference

log = logging.getLogger(__name__)


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


def batch_findings(
    subs: Sequence[Submission],
    ref: Reference,
    thresholds: Any,
    history: Sequence[Mapping[str, Any]],
    docs: Any = None,
) -> dict[int, list[Finding]]:
    """Every finding of each submission (by index), as the nightly run makes them: the suites
    over the batch, the outlier rule against the batch and `history`, the warehouse's current
    figures (warehouse.queries.current_submissions). `guidefund check` calls this too, so a file
    gets the same findings from both. Imports GX (~6 s)."""
    from guidefund.intake.outliers import previous_figures
    from guidefund.intake.validate import validate_submissions

    return validate_submissions(subs, ref, thresholds, previous_figures(subs, history), docs)


def all_findings(sub: Submission, found: Sequence[Finding]) -> list[Finding]:
    """The reader's and the suites' findings of one file, each once, critical first."""
    problems = list(dict.fromkeys([*sub.problems, *found]))
    problems.sort(key=lambda f: f.severity != CRITICAL)
    return problems


def split(
    subs: Sequence[Submission], findings: Mapping[int, Sequence[Finding]]
) -> tuple[list[Submission], list[tuple[Submission, list[Finding]]]]:
    """Accepted submissions, and rejected ones with all their findings (the reader's and the
    suites', critical first; each once). A file is rejected by any critical finding."""
    accepted, rejected = [], []
    for i, sub in enumerate(subs):
        problems = all_findings(sub, findings.get(i, []))
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
