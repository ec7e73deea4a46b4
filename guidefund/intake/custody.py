"""The inbox and custody of every file: what waits in the inbox, and where each file goes once
the warehouse has recorded it. Plain functions the nightly flow wraps.

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
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from guidefund.records import Finding, Submission

FEEDBACK_SUFFIX = ".errors.xlsx"


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


Feedback = Callable[[Path, Sequence[Finding]], Path]


def _quarantine(
    sub: Submission, findings: Sequence[Finding], quarantine: Path, feedback: Feedback
) -> Path:
    target = quarantine / sub.path.name
    if target.exists():
        target = quarantine / f"{sub.path.stem}.{sub.sha256[:8]}{sub.path.suffix}"
    shutil.move(sub.path, target)
    feedback(target.with_name(target.name + FEEDBACK_SUFFIX), findings)
    return target


def file_away(
    archive: Path,
    quarantine: Path,
    accepted: Iterable[Submission],
    rejected: Iterable[tuple[Submission, list[Finding]]],
    duplicates: Iterable[str],
    feedback: Feedback,
) -> None:
    """Move recorded files out of the inbox. Call only after the warehouse committed their
    states; `duplicates` are the file names the load recorded as duplicates; `feedback` writes
    a rejected file's findings beside it (guidefund.reports.feedback_xlsx.write_feedback)."""
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
            _quarantine(sub, findings, quarantine, feedback)
