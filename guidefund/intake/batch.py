"""Read a batch of files into Submissions and split the validated batch: plain functions the
nightly flow and `guidefund check` share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from guidefund.intake.progress import file_progress
from guidefund.intake.readers import Item, ReadLimits, read_item
from guidefund.records import CRITICAL, WARNING, Finding, Submission
from guidefund.reference import Reference

log = logging.getLogger(__name__)


def read_batch(
    paths: Sequence[Path], ref: Reference, limits: ReadLimits | None = None
) -> list[Submission]:
    """Every readable path becomes a Submission, read in this process through the pre-parse
    guard (`limits`, default: the settings'); one bad file never stops the batch: a file the
    guard refuses or the reader fails on carries a finding saying so. A file that cannot be
    read from disk at all is left out (logged)."""
    if limits is None:
        from guidefund.settings import Settings

        limits = ReadLimits.of(Settings(), ref)
    with file_progress(len(paths), "读取填报文件") as step:
        return [sub for path in paths if (sub := _read_one(path, ref, limits, step)) is not None]


def _read_one(
    path: Path, ref: Reference, limits: ReadLimits, step: Callable[[], None]
) -> Submission | None:
    step()
    try:
        data = path.read_bytes()
        modified = path.stat().st_mtime
    except OSError as exc:
        log.warning("%s 暂时无法读取，留在收件箱等待下次运行：%s", path.name, exc)
        return None
    return read_item(Item(str(path), path.name, data, modified), ref, limits.guard)


def batch_findings(
    subs: Sequence[Submission],
    ref: Reference,
    thresholds: Any,
    history: Sequence[Mapping[str, Any]],
    docs: Any = None,
    evaluate: Any = None,
) -> dict[int, list[Finding]]:
    """Every finding of each submission (by index), as the nightly run makes them: the suites
    over the batch, the outlier rule against the batch and `history`, the warehouse's current
    figures (warehouse.queries.current_submissions). `guidefund check` calls this too, so a file
    gets the same findings from both. The suites run in GX (imported on first use, ~6 s) unless
    `evaluate` says otherwise (check passes expectations.light.run_suite)."""
    from guidefund.intake.outliers import previous_figures
    from guidefund.intake.validate import validate_submissions

    past = previous_figures(subs, history)
    return validate_submissions(subs, ref, thresholds, past, docs, evaluate=evaluate)


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
