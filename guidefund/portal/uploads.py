"""An upload, checked and kept: the same isolated, bounded reader (intake.readers' pool behind
the pre-parse guard) and the same findings as `guidefund check` (intake.batch.batch_findings
with expectations.light), then custody like the inbox's.

A file that would be accepted is written to a hidden temporary name in its unit's folder of the
inbox (which the inbox scan skips) and renamed into place: the next `guidefund nightly` takes it
whole or not at all. A refused file (its own problems, or a project of another unit) is kept
under <workdir>/portal/refused/<unit>/ with its feedback workbook beside it, never in the inbox.
Every file gets a custody record (warehouse.portal_upload); the same bytes from one unit are
kept once. Names the unit sent are shown and recorded, never used as paths.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine

from guidefund.intake.batch import all_findings, batch_findings
from guidefund.intake.custody import feedback_path
from guidefund.intake.inbox import WORKBOOK_SUFFIXES
from guidefund.intake.outliers import Thresholds
from guidefund.intake.readers import Item, ReaderPool, ReadLimits
from guidefund.records import CRITICAL, Finding, Submission
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse import portal as sql
from guidefund.warehouse.models import OTHER_UNIT

ACCEPTED, REJECTED, DUPLICATE = "accepted", "rejected", "duplicate"
OTHER_UNIT_RULE = "portal.other_unit"
REFUSED_DIR = "refused"
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


def shown_name(name: str | None) -> str:
    """The name a browser sent, as text to show and record: its last path component only,
    control characters removed, at most 200 characters; never a path."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "未命名文件"


def unit_folder(unit: str) -> str:
    """The unit's folder in the inbox and in portal/refused/: its name from the plan, made safe."""
    folder = _UNSAFE.sub("_", unit).strip(" .") or "unit"
    return folder[:80]


def stored_name(sha256: str, sent_as: str, at: datetime) -> str:
    suffix = PurePosixPath(sent_as).suffix.lower()
    suffix = suffix if suffix in WORKBOOK_SUFFIXES else ".xlsx"
    return f"{at:%Y%m%d-%H%M%S}_{sha256[:12]}{suffix}"


@dataclass
class Result:
    """One uploaded file: its name as sent, the verdict, every finding, the custody record."""

    file: str
    accepted: bool
    findings: list[Finding]
    verdict: str = ""
    upload_id: int | None = None
    project_no: int | None = None
    duplicate_of: datetime | None = None
    feedback: bool = False

    def as_json(self) -> dict[str, Any]:
        from guidefund.expectations import rule_name
        from guidefund.reports.findings import level

        return {
            "file": self.file,
            "accepted": self.accepted,
            "verdict": self.verdict,
            "project_no": self.project_no,
            "duplicate": self.verdict == DUPLICATE,
            "findings": [
                {"sheet": f.sheet, "cell": f.cell, "label": f.label, "value": f.value,
                 "check": rule_name(f.rule), "message": f.message, "level": level(f)}
                for f in self.findings
            ],
        }  # fmt: skip


@dataclass
class Checker:
    """The reading pool (started on first use, shared by requests one batch at a time), the
    limits and thresholds, and the lock that makes store-once hold under concurrent uploads."""

    settings: Settings
    ref: Reference
    engine: Engine
    limits: ReadLimits = field(init=False)
    _pool: ReaderPool | None = field(default=None, init=False)
    _read_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _store_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _history_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _validators: ProcessPoolExecutor | None = field(default=None, init=False)
    _validate_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _history_cache: tuple[int | None, list[dict[str, Any]]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.limits = ReadLimits.of(self.settings, self.ref)

    def start(self) -> None:
        """Start the reading workers and the validating processes (once)."""
        with self._read_lock:
            if self._pool is None:
                self._pool = ReaderPool(self.ref, self.limits, self._workers())
        with self._validate_lock:
            if self._validators is None and self._workers() > 1:
                self._validators = self._new_validators()

    def _workers(self) -> int:
        return self.settings.read_workers or os.cpu_count() or 1

    def _new_validators(self) -> ProcessPoolExecutor:
        # The suites run in pandas under one interpreter lock: concurrent uploads are checked
        # side by side only in processes of their own (spawned: the server has threads). With
        # one worker (GUIDEFUND_READ_WORKERS=1) they run in the server's process.
        pool = ProcessPoolExecutor(
            self._workers(), mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_validator, initargs=(self.ref, Thresholds.of(self.settings)),
        )  # fmt: skip
        for done in [pool.submit(_validate, [], []) for _ in range(self._workers())]:
            done.result()  # imported and ready before the first upload
        return pool

    def close(self) -> None:
        with self._read_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        with self._validate_lock:
            if self._validators is not None:
                self._validators.shutdown(cancel_futures=True)
                self._validators = None

    def read(self, items: Sequence[Item]) -> list[Submission]:
        self.start()
        with self._read_lock:
            assert self._pool is not None
            return self._pool.read(items)

    def findings(self, subs: Sequence[Submission]) -> list[list[Finding]]:
        """Each file's findings, as `guidefund check` gives them for these files together."""
        from guidefund.expectations import light
        from guidefund.warehouse.queries import current_submissions

        history = self._history(current_submissions)
        self.start()
        for _ in range(2 if self._workers() > 1 else 0):
            with self._validate_lock:
                pool = self._validators
            assert pool is not None
            try:
                return pool.submit(_validate, list(subs), history).result()
            except BrokenProcessPool:  # a validating process died: a new pool, once
                with self._validate_lock:
                    if self._validators is pool:
                        pool.shutdown(cancel_futures=True)
                        self._validators = self._new_validators()
        found = batch_findings(
            subs, self.ref, Thresholds.of(self.settings), history, evaluate=light.run_suite
        )
        return [all_findings(sub, found.get(i, [])) for i, sub in enumerate(subs)]

    def _history(self, read: Any) -> list[dict[str, Any]]:
        """The warehouse's current figures (what the outlier rule compares with), read again
        only when a nightly run stored a new submission."""
        region, year = self.ref.region_code, self.ref.year
        mark = sql.submissions_mark(self.engine, region, year)
        with self._history_lock:
            if self._history_cache is None or self._history_cache[0] != mark:
                self._history_cache = (mark, read(self.engine, region, year))
            return self._history_cache[1]

    def check(self, files: Sequence[tuple[str, bytes]]) -> list[tuple[Submission, list[Finding]]]:
        """Each file read (in the pool) and its findings, in the order of `files`."""
        items = [
            Item(f"upload/{i}", shown_name(name), data) for i, (name, data) in enumerate(files)
        ]
        by_path = {str(sub.path): sub for sub in self.read(items)}
        subs = [by_path[item.path] for item in items]
        return list(zip(subs, self.findings(subs), strict=True))

    def receive(self, link: dict[str, Any], files: Sequence[tuple[str, bytes]]) -> list[Result]:
        """Check the files of one upload and keep each: the unit's answer, file by file."""
        out = []
        for (sub, findings), (_, data) in zip(self.check(files), files, strict=True):
            findings = findings + self._ownership(sub, link["unit"])
            out.append(self._keep(link, sub, findings, data))
        return out

    def _ownership(self, sub: Submission, unit: str) -> list[Finding]:
        """A finding when the file is a plan project of another unit (named by number only:
        no answer shows another unit's data)."""
        no = sub.project_no
        project = next((p for p in self.ref.plan if p.no == no), None)
        if project is None or project.unit == unit:
            return []
        cell = sub.cells.get("project_no", "")
        sheet, _, cell = cell.rpartition("!") if "!" in cell else ("", "", cell)
        return [
            Finding(
                sub.file_name, sheet, cell, "project_no", "项目序号", str(no), OTHER_UNIT_RULE,
                f"序号 {no} 的项目不是本单位（{unit}）的项目，文件未接收；"
                "请核对项目序号，只上传本单位的项目，其他单位的项目由该单位自行报送",
            )
        ]  # fmt: skip

    def _keep(
        self, link: dict[str, Any], sub: Submission, findings: list[Finding], data: bytes
    ) -> Result:
        region, year, unit = link["region_code"], link["year"], link["unit"]
        refused = any(f.severity == CRITICAL for f in findings)
        verdict = (
            OTHER_UNIT if any(f.rule == OTHER_UNIT_RULE for f in findings)
            else REJECTED if refused else ACCEPTED
        )  # fmt: skip
        sha = hashlib.sha256(data).hexdigest()
        at = sql.now()
        result = Result(sub.file_name, not refused, findings, verdict, project_no=sub.project_no)
        with self._store_lock:
            earlier = sql.kept_upload(self.engine, region, year, unit, sha)
            if earlier is not None:
                stored, result.verdict = earlier["stored_at"], DUPLICATE
                result.duplicate_of = earlier["received_at"]
            else:
                stored = self._store(unit, sha, sub.file_name, data, findings, refused, at)
            result.feedback = refused and (stored or "").startswith("portal/")
            result.upload_id = sql.record_upload(
                self.engine,
                {"link_id": link["id"], "region_code": region, "year": year, "unit": unit,
                 "received_at": at, "file_name": sub.file_name, "sha256": sha, "size": len(data),
                 "project_no": sub.project_no, "verdict": result.verdict,
                 "problems": sum(f.severity == CRITICAL for f in findings), "stored_at": stored},
            )  # fmt: skip
        return result

    def _store(
        self, unit: str, sha: str, sent_as: str, data: bytes, findings: list[Finding],
        refused: bool, at: datetime,
    ) -> str:  # fmt: skip
        """Write the bytes where they belong (atomically); their path relative to the workdir."""
        workdir = self.settings.workdir
        name = stored_name(sha, sent_as, at.replace(tzinfo=UTC))
        if refused:
            rel = Path("portal") / REFUSED_DIR / unit_folder(unit) / name
        else:
            rel = Path("inbox") / unit_folder(unit) / name
        dest = workdir / rel
        atomic_write(dest, data)
        if refused:
            from guidefund.reports.feedback_xlsx import write_feedback

            write_feedback(feedback_path(dest), findings)
        return rel.as_posix()


_VALIDATOR: dict[str, Any] = {}


def _init_validator(ref: Reference, thresholds: Thresholds) -> None:
    from guidefund.expectations import light  # noqa: F401 - imported once, before any upload

    _VALIDATOR.update(ref=ref, thresholds=thresholds)


def _validate(subs: list[Submission], history: list[dict[str, Any]]) -> list[list[Finding]]:
    """In a validating process: each file's findings, as `guidefund check` gives them."""
    from guidefund.expectations import light

    if not subs:
        return []
    ref, thresholds = _VALIDATOR["ref"], _VALIDATOR["thresholds"]
    found = batch_findings(subs, ref, thresholds, history, evaluate=light.run_suite)
    return [all_findings(sub, found.get(i, [])) for i, sub in enumerate(subs)]


def atomic_write(dest: Path, data: bytes) -> None:
    """Write to a hidden .part name in the same folder (skipped by the inbox scan), flush it to
    disk, then rename into place: a reader sees the whole file or none."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
