"""Custody of every file: where each one goes once the warehouse has recorded it, and how a run
killed half-way is finished by the next (issue 9, item 6). Plain functions the nightly flow
wraps.

Custody rule: a file leaves the inbox only after the warehouse has committed its receipt, and
then goes to exactly one place, the receipt's `destination` (relative to the working
directory), decided before the load and written in its transaction:
* accepted or superseded → archive/<sha256><suffix> (content-addressed, never overwritten);
* rejected → quarantine/<path in the inbox>, with <name>.errors.xlsx beside it (one row per
  problem); a name already taken gets the hash's first 8 digits before its suffix;
* duplicate → wherever its bytes are already kept: removed from the inbox when they are there,
  moved there when that copy was lost.
Filing away is a rename within one file system (no copy, no re-hash) and then one UPDATE of the
chunk's receipts (`filed_at`). A run killed between the two leaves receipts without `filed_at`:
the next run replays them first (`replay`), checking each file's hash before it moves it.

Derived names (the feedback workbook) that would exceed the file system's 255 bytes are
shortened, keeping the extension and adding a hash of the full name; the receipt keeps the
original name.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from guidefund.intake.inbox import FEEDBACK_SUFFIX
from guidefund.records import Finding

NAME_MAX = 255  # bytes in one path component (ext4, xfs, NTFS via SMB)
ARCHIVE = "archive"
QUARANTINE = "quarantine"
_SUFFIXES = frozenset({".xlsx", ".xls", ".xlsm", ".xlsb", ".ods", ".et", ".csv"})

ACCEPTED, REJECTED, SUPERSEDED, DUPLICATE = "accepted", "rejected", "superseded", "duplicate"

Feedback = Callable[[Path, Sequence[Finding]], Path]


def fits(name: str, limit: int = NAME_MAX) -> str:
    """`name` when its UTF-8 form fits `limit` bytes; else its start, a hash of the whole and
    its extension (e.g. '…~3f9a2c1b.xlsx.errors.xlsx' keeps both extensions)."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return name
    tail = name[name.index(".") :] if "." in name[1:] else ""
    if len(tail.encode("utf-8", "surrogateescape")) > limit // 2:
        tail = tail[-40:]
    digest = hashlib.sha256(raw).hexdigest()[:8]
    room = limit - len(f"~{digest}".encode()) - len(tail.encode("utf-8", "surrogateescape"))
    head = name[: len(name) - len(tail)].encode("utf-8", "surrogateescape")[:room]
    return head.decode("utf-8", "ignore") + f"~{digest}" + tail


def feedback_path(quarantined: Path) -> Path:
    """Where a quarantined file's feedback workbook goes: beside it, <name>.errors.xlsx."""
    return quarantined.with_name(fits(quarantined.name + FEEDBACK_SUFFIX))


def archive_destination(sha256: str, name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return f"{ARCHIVE}/{sha256}{suffix if suffix in _SUFFIXES else '.xlsx'}"


@dataclass
class Places:
    """What archive/ and quarantine/ hold, listed once per run, and the names this run has
    given out: destinations are decided without a stat per file."""

    archive: set[str] = field(default_factory=set)
    quarantine: set[str] = field(default_factory=set)

    @classmethod
    def list(cls, workdir: Path) -> Places:
        archive = workdir / ARCHIVE
        names = {p.name for p in archive.iterdir()} if archive.is_dir() else set()
        quarantine = workdir / QUARANTINE
        taken = (
            {p.relative_to(quarantine).as_posix() for p in quarantine.rglob("*") if not p.is_dir()}
            if quarantine.is_dir()
            else set()
        )
        return cls({f"{ARCHIVE}/{n}" for n in names}, {f"{QUARANTINE}/{n}" for n in taken})

    def for_accepted(self, sha256: str, name: str) -> str:
        dest = archive_destination(sha256, name)
        self.archive.add(dest)
        return dest

    def for_rejected(self, sha256: str, name: str) -> str:
        path = PurePosixPath(name)
        parent = "" if str(path.parent) == "." else f"{path.parent}/"
        dest = f"{QUARANTINE}/{parent}{path.name}"
        if dest in self.quarantine or f"{dest}{FEEDBACK_SUFFIX}" in self.quarantine:
            stem, suffix = path.stem, path.suffix
            dest = f"{QUARANTINE}/{parent}{fits(f'{stem}.{sha256[:8]}{suffix}')}"
        self.quarantine.add(dest)
        self.quarantine.add(f"{dest}{FEEDBACK_SUFFIX}")
        return dest

    def for_duplicate(self, sha256: str, name: str, kept_at: str | None, state: str) -> str:
        """Where the bytes are kept; for bytes stored before custody, where they would be."""
        if kept_at:
            return kept_at
        if state == REJECTED:
            return self.for_rejected(sha256, name)
        prefix = f"{ARCHIVE}/{sha256}"
        found = sorted(n for n in self.archive if n.startswith(prefix))
        return found[0] if found else self.for_accepted(sha256, name)


@dataclass(frozen=True)
class ToFile:
    """One receipted file to move: its inbox name, state, destination and (rejected) findings."""

    name: str
    state: str
    destination: str
    findings: Sequence[Finding] = ()


@dataclass
class Filed:
    """Which files reached their destination, and why the others did not (they stay)."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(src, dest)  # the archive on another file system: copy, then remove


def file_one(workdir: Path, inbox: Path, item: ToFile, feedback: Feedback) -> None:
    """Put one file where its receipt says; safe to run again after an interruption."""
    src = inbox / item.name
    dest = workdir / item.destination
    if src.exists():
        if dest.exists() and item.state != REJECTED:
            src.unlink()  # the same bytes are kept there already (content-addressed)
        elif dest.exists():
            if item.state == DUPLICATE:
                src.unlink()
            else:
                raise FileExistsError(f"{item.destination} 已存在")
        else:
            _move(src, dest)
    elif not dest.exists():
        raise FileNotFoundError(f"{item.name} 不在收件箱中，{item.destination} 也不存在")
    if item.destination.startswith(f"{QUARANTINE}/"):
        note = feedback_path(dest)
        if item.findings and (item.state == REJECTED or not note.exists()):
            feedback(note, item.findings)


def file_away(workdir: Path, inbox: Path, items: Iterable[ToFile], feedback: Feedback) -> Filed:
    """File every item; one that cannot be moved stays in the inbox, named in `failed`."""
    out = Filed()
    for item in items:
        try:
            file_one(workdir, inbox, item, feedback)
        except OSError as exc:
            out.failed[item.name] = f"{type(exc).__name__}: {exc}"
            continue
        out.done.append(item.name)
    return out


def sha256_of(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def replay(engine: object, workdir: Path, inbox: Path, region: str, feedback: Feedback) -> Filed:
    """Finish the filing of receipts an earlier run committed but never filed (it was killed):
    each file is checked against its receipt's hash first; one that no longer matches (a new
    file under the same name) is left where it is, and custody reports the receipt."""
    from guidefund.warehouse.custody import findings_of, rejection_of, unfiled
    from guidefund.warehouse.load import mark_filed

    out = Filed()
    for u in unfiled(engine, region):  # type: ignore[arg-type]
        src = inbox / u.file_name
        if src.exists() and sha256_of(src) != u.sha256:
            out.failed[u.file_name] = "收件箱中的同名文件已是另一份内容"
            continue
        if u.destination is None:
            out.failed[u.file_name] = "接收记录没有去向"
            continue
        if u.state == REJECTED:
            findings = findings_of(engine, u.run_id, u.file_name)  # type: ignore[arg-type]
        elif u.state == DUPLICATE and u.submission_id and u.destination.startswith(QUARANTINE):
            findings = rejection_of(engine, u.submission_id)  # type: ignore[arg-type]
        else:
            findings = []
        try:
            file_one(
                workdir, inbox, ToFile(u.file_name, u.state, u.destination, findings), feedback
            )
        except OSError as exc:
            out.failed[u.file_name] = f"{type(exc).__name__}: {exc}"
            continue
        mark_filed(engine, u.run_id, [u.file_name])  # type: ignore[arg-type]
        out.done.append(u.file_name)
    return out


@dataclass(frozen=True)
class Discrepancy:
    """One thing on disk or in the receipts that custody cannot account for."""

    kind: str  # unfiled | missing | missing_feedback | stray
    file: str
    message: str


@dataclass
class Reconciliation:
    """Inbox, archive and quarantine against the receipts of one region and year."""

    waiting: list[str] = field(default_factory=list)
    archive: int = 0
    quarantine: int = 0
    receipts: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)


def reconcile(engine: object, workdir: Path, inbox: Path, region: str, year: int) -> Reconciliation:
    """Every receipted file is where its receipt says (and a rejected one has its feedback);
    every accepted or superseded submission has its bytes in the archive; nothing in archive/
    or quarantine/ is unaccounted for; no receipt waits to be filed."""
    from guidefund.intake.inbox import scan_inbox
    from guidefund.warehouse.custody import destinations, receipts_of, stored_hashes

    out = Reconciliation(waiting=[e.name for e in scan_inbox(inbox).files])
    places = Places.list(workdir)
    archive = places.archive
    quarantine = {q for q in places.quarantine if not q.endswith(FEEDBACK_SUFFIX)}
    notes = {q for q in places.quarantine if q.endswith(FEEDBACK_SUFFIX)}
    out.archive, out.quarantine = len(archive), len(quarantine)
    held = receipts_of(engine, region, year)  # type: ignore[arg-type]
    out.receipts = len(held)
    found = out.discrepancies.append
    checked: set[str] = set()
    reported: set[str] = set()
    for h in held:
        if h.filed_at is None:
            found(Discrepancy("unfiled", h.file_name,
                              f"{h.file_name}（{h.state}，运行 #{h.run_id}）尚未归档，应在 {h.destination}"))  # fmt: skip
            continue
        dest = h.destination
        if dest is None or dest in checked:
            continue
        checked.add(dest)
        if dest not in archive and dest not in quarantine:
            reported.add(h.sha256)
            found(Discrepancy("missing", h.file_name,
                              f"{h.file_name}（{h.state}）应在 {dest}，但该文件不存在"))  # fmt: skip
        elif dest in quarantine and h.submission_state == REJECTED:
            note = str(
                PurePosixPath(dest).with_name(fits(PurePosixPath(dest).name + FEEDBACK_SUFFIX))
            )
            if note not in notes:
                found(Discrepancy("missing_feedback", h.file_name, f"{dest} 旁缺少问题清单 {note}"))
    stored = stored_hashes(engine)  # type: ignore[arg-type]
    kept = {PurePosixPath(a).name.split(".", 1)[0] for a in archive} | reported
    for h in held:
        if h.submission_state in (ACCEPTED, SUPERSEDED) and h.sha256 not in kept:
            kept.add(h.sha256)  # once per content
            found(Discrepancy("missing", h.file_name,
                              f"{h.file_name} 的内容（{h.sha256[:12]}…）已入库，但 archive/ 中没有它"))  # fmt: skip
    for a in sorted(archive):
        if PurePosixPath(a).name.split(".", 1)[0] not in stored:
            found(Discrepancy("stray", a, f"{a} 没有对应的入库记录"))
    sent = destinations(engine)  # type: ignore[arg-type]
    for q in sorted(quarantine - sent):
        found(Discrepancy("stray", q, f"{q} 没有对应的接收记录"))
    for n in sorted(notes):
        base = str(PurePosixPath(n).with_name(PurePosixPath(n).name[: -len(FEEDBACK_SUFFIX)]))
        if base not in quarantine and not any(
            fits(PurePosixPath(q).name + FEEDBACK_SUFFIX) == PurePosixPath(n).name
            for q in quarantine
        ):
            found(Discrepancy("stray", n, f"{n} 是问题清单，但它所说的文件不在隔离区"))
    return out
