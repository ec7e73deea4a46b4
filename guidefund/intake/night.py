"""One night's intake as plain functions the nightly flow wraps (issues 9 and 10):

    scan the inbox → hash every file → known bytes are duplicates, unparsed
    → per chunk: read (worker pool or Dask) → validate (one GX run per suite)
    → decide versions over the whole night → per chunk: load (one transaction, receipts with
    destinations) → file away (renames, one UPDATE).

Known bytes are skipped first: a file's SHA-256 is looked up before anything parses it, among
the bytes stored as accepted for the region and year (or rejected under the same rules) and the
files earlier in the night; such a file only gets a duplicate receipt.

Chunks bound memory: at most `chunk_files` files' bytes and records are held at once; between
reading and loading a chunk's records wait on disk (`Spill`) when the night has more than one
chunk. Versions are decided over the whole night before anything is loaded: of two versions of
one project and period, the later 填报日期 wins, then the later modification time, never the
name; an exact tie is a conflict finding for both. All versions of one project and period are
loaded in the same chunk (the last one any of them was read in), the winner last.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from guidefund.intake import guard
from guidefund.intake.custody import (
    DUPLICATE,
    REJECTED,
    Places,
    ToFile,
)
from guidefund.intake.inbox import Entry, Scan
from guidefund.intake.readers import Item, ReadLimits, refused
from guidefund.records import CRITICAL, Finding, Submission

DEFERRED = "deferred"
CONFLICT = "version.conflict"


@dataclass(frozen=True)
class Hashed:
    """A file of the inbox and the SHA-256 of its bytes."""

    entry: Entry
    sha256: str


@dataclass(frozen=True)
class Copy:
    """A file whose bytes are known: stored before (`known`: state, kept_at) or read earlier
    tonight (`original`: that file's name)."""

    entry: Entry
    sha256: str
    original: str = ""
    state: str = ""
    kept_at: str | None = None


@dataclass
class Plan:
    """What tonight reads, in chunks, and everything it will not parse."""

    chunks: list[list[Hashed]] = field(default_factory=list)
    stored_copies: list[Copy] = field(default_factory=list)
    batch_copies: dict[str, list[Copy]] = field(default_factory=dict)  # original → copies
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def to_read(self) -> int:
        return sum(len(c) for c in self.chunks)


def plan_night(scan: Scan, known: Mapping[str, object], chunk_files: int, file_bytes: int) -> Plan:
    """Hash every file once (streamed, nothing kept), set the known bytes aside and cut the
    rest into chunks. `known` maps SHA-256 → warehouse.custody.Known."""
    plan = Plan(notes=dict(scan.notes))
    seen: dict[str, str] = {}
    fresh: list[Hashed] = []
    for entry in scan.files:
        try:
            with entry.path.open("rb") as fh:
                sha = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError as exc:
            plan.notes[entry.name] = (
                DEFERRED,
                f"暂时无法读取（{exc.strerror}），留在收件箱等待下次运行",
            )
            continue
        hit = known.get(sha)
        if hit is not None:
            state, kept_at = hit.state, hit.kept_at  # type: ignore[attr-defined]
            plan.stored_copies.append(Copy(entry, sha, state=state, kept_at=kept_at))
        elif sha in seen:
            plan.batch_copies.setdefault(seen[sha], []).append(Copy(entry, sha, original=seen[sha]))
        else:
            seen[sha] = entry.name
            fresh.append(Hashed(entry, sha))
    size = max(1, chunk_files)
    plan.chunks = [fresh[i : i + size] for i in range(0, len(fresh), size)]
    return plan


def chunk_items(
    chunk: Sequence[Hashed], limits: ReadLimits
) -> tuple[list[Item], list[Submission], dict[str, tuple[str, str]]]:
    """The chunk's bytes as Items for the readers; files over the size limit are refused
    without being read into memory; files that vanished or changed since they were hashed are
    left for the next run (noted)."""
    items: list[Item] = []
    refusals: list[Submission] = []
    notes: dict[str, tuple[str, str]] = {}
    for h in chunk:
        e = h.entry
        if e.size > limits.guard.file_bytes:
            stub = Item(str(e.path), e.name, b"", e.modified)
            message = (
                f"文件大小 {e.size / guard.MB:.1f} MB，超过上限 {limits.guard.file_bytes / guard.MB:.0f} MB；"
                "填报文件通常只有几十 KB，请删除图片、附加工作表等多余内容后重新报送"
            )
            refusals.append(refused(stub, h.sha256, guard.TOO_LARGE, message, f"{e.size} bytes"))
            continue
        try:
            data = e.path.read_bytes()
        except OSError as exc:
            notes[e.name] = (DEFERRED, f"暂时无法读取（{exc.strerror}），留在收件箱等待下次运行")
            continue
        if hashlib.sha256(data).hexdigest() != h.sha256:
            notes[e.name] = (
                DEFERRED,
                "文件在读取期间被修改（可能正在写入），留在收件箱等待下次运行",
            )
            continue
        items.append(Item(str(e.path), e.name, data, e.modified))
    return items, refusals, notes


# ------------------------------------------------------------------------ validated chunks


class Checked:
    """A chunk after validation: accepted files, rejected files with their findings, and the
    accepted files' warnings. (Plain classes here and below: Prefect walks every dataclass
    a task receives, and these hold thousands of records.)"""

    def __init__(
        self,
        accepted: list[Submission] | None = None,
        rejected: list[tuple[Submission, list[Finding]]] | None = None,
        warnings: list[Finding] | None = None,
    ):
        self.accepted = accepted or []
        self.rejected = rejected or []
        self.warnings = warnings or []


class Spill:
    """Validated chunks waiting for the load: in memory for a one-chunk night, else pickled
    under <workdir>/.spill/ (our own records, written and read by this run only)."""

    def __init__(self, directory: Path, on_disk: bool):
        self.directory = directory
        self.on_disk = on_disk
        self._held: dict[int, Checked] = {}

    @staticmethod
    def clear(directory: Path) -> None:
        shutil.rmtree(directory, ignore_errors=True)

    def put(self, index: int, checked: Checked) -> None:
        if not self.on_disk:
            self._held[index] = checked
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f"chunk-{index}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(checked, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.directory / f"chunk-{index}.pickle")

    def get(self, index: int) -> Checked:
        if not self.on_disk:
            return self._held.pop(index)
        path = self.directory / f"chunk-{index}.pickle"
        with path.open("rb") as fh:
            checked: Checked = pickle.load(fh)
        path.unlink()
        return checked


# ------------------------------------------------------------------------------ versions

Key = tuple[int, str]


def _order(sub: Submission) -> tuple[date, float]:
    filled = sub.values.get("filled_date")
    return (filled if isinstance(filled, date) else date.min, sub.modified or 0.0)


@dataclass
class Versions:
    """The night's decision about projects sent in more than one version: the chunk each
    project-period is loaded in, and the files in an exact tie (conflicts)."""

    home: dict[Key, int] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # file → the files it ties with


def accepted_keys(checked: Checked) -> list[tuple[Key, str, tuple[date, float]]]:
    """(project-period, file, order) of a chunk's accepted files: all the decision needs."""
    return [
        ((s.project_no, s.period), s.file_name, _order(s))  # type: ignore[misc]
        for s in checked.accepted
        if s.project_no is not None and s.period is not None
    ]


def decide_versions(
    keys_by_chunk: Sequence[Sequence[tuple[Key, str, tuple[date, float]]]],
) -> Versions:
    versions = Versions()
    by_key: dict[Key, list[tuple[tuple[date, float], str, int]]] = defaultdict(list)
    for index, keys in enumerate(keys_by_chunk):
        for key, name, order in keys:
            by_key[key].append((order, name, index))
    for key, files in by_key.items():
        if len(files) < 2:
            continue
        best = max(order for order, _, _ in files)
        top = sorted(name for order, name, _ in files if order == best)
        if len(top) > 1:
            for name in top:
                versions.conflicts[name] = [n for n in top if n != name]
        versions.home[key] = max(index for _, _, index in files)
    return versions


def conflict_finding(sub: Submission, others: Sequence[str]) -> Finding:
    sheet, _, cell = sub.cells.get("filled_date", "基本信息!C14").partition("!")
    filled = sub.values.get("filled_date")
    names = "、".join(f"“{n}”" for n in others)
    message = (
        f"与本批次的{names}是同一项目（序号 {sub.project_no}）同一报告期的不同版本，"
        f"填报日期（{filled or '空'}）和文件修改时间都相同，无法确定哪一份是最新版本，均未接收；"
        "请确认最终版本，填写当天的填报日期后只报送这一份"
    )
    return Finding(sub.file_name, sheet, cell, "filled_date", "填报日期", str(filled or ""),
                   CONFLICT, message, CRITICAL)  # fmt: skip


class LoadChunk:
    """What one load transaction receives, and what filing away then moves."""

    def __init__(
        self,
        accepted: list[Submission],
        rejected: list[tuple[Submission, list[Finding]]],
        warnings: list[Finding],
        duplicates: list[Submission],
        destinations: dict[str, str],
        to_file: list[ToFile],
    ):
        self.accepted = accepted
        self.rejected = rejected
        self.warnings = warnings
        self.duplicates = duplicates
        self.destinations = destinations
        self.to_file = to_file


def load_chunks(
    spill: Spill,
    chunks: int,
    versions: Versions,
    plan: Plan,
    places: Places,
) -> Iterator[LoadChunk]:
    """The chunks as loaded: conflicts moved to the rejected, every project-period's versions
    gathered in its home chunk (the winner last), each file's copies beside it, and the
    destination of every file. Known copies go with the first load (or alone)."""
    carried: dict[int, Checked] = defaultdict(Checked)
    stored = list(plan.stored_copies)
    loaded: set[str] = set()
    for index in range(chunks):
        checked = spill.get(index)
        here = carried.pop(index, Checked())
        for sub in checked.accepted:
            if sub.file_name in versions.conflicts:
                finding = conflict_finding(sub, versions.conflicts[sub.file_name])
                here.rejected.append((sub, [finding]))
                continue
            home = versions.home.get((sub.project_no, sub.period), index)  # type: ignore[arg-type]
            (carried[home] if home > index else here).accepted.append(sub)
        here.rejected += checked.rejected
        keep = {s.file_name for s in here.accepted}
        rejected = {s.file_name: fs for s, fs in here.rejected}
        for f in checked.warnings:
            if f.file in rejected:
                rejected[f.file].append(f)
            elif f.file in keep:
                here.warnings.append(f)
            else:
                carried[_home_of(f.file, carried)].warnings.append(f)
        loaded.update(s.file_name for s in here.accepted)
        loaded.update(s.file_name for s, _ in here.rejected)
        yield _prepared(here, plan, places, stored)
        stored = []
    if stored:
        yield _prepared(Checked(), plan, places, stored)
    for original, copies in plan.batch_copies.items():
        if original not in loaded:
            for c in copies:
                plan.notes[c.entry.name] = (
                    DEFERRED,
                    f"与未能读取的“{original}”内容相同，留在收件箱等待下次运行",
                )


def _home_of(name: str, carried: Mapping[int, Checked]) -> int:
    for index, c in carried.items():
        if any(s.file_name == name for s in c.accepted):
            return index
    raise KeyError(name)


def _bare(copy: Copy) -> Submission:
    e = copy.entry
    return Submission(path=e.path, sha256=copy.sha256, name=e.name, modified=e.modified)


def _prepared(here: Checked, plan: Plan, places: Places, stored: list[Copy]) -> LoadChunk:
    here.accepted.sort(key=lambda s: (_order(s), s.file_name))
    destinations: dict[str, str] = {}
    to_file: list[ToFile] = []
    for sub in here.accepted:
        destinations[sub.file_name] = places.for_accepted(sub.sha256, sub.file_name)
        to_file.append(ToFile(sub.file_name, "accepted", destinations[sub.file_name]))
    for sub, findings in here.rejected:
        destinations[sub.file_name] = places.for_rejected(sub.sha256, sub.file_name)
        to_file.append(ToFile(sub.file_name, REJECTED, destinations[sub.file_name], findings))
    copies: list[Copy] = []
    for name in [s.file_name for s in here.accepted] + [s.file_name for s, _ in here.rejected]:
        for c in plan.batch_copies.get(name, []):
            copies.append(Copy(c.entry, c.sha256, state="", kept_at=destinations[name]))
    copies += stored
    duplicates = []
    for c in copies:
        dest = places.for_duplicate(c.sha256, c.entry.name, c.kept_at, c.state)
        destinations[c.entry.name] = dest
        to_file.append(ToFile(c.entry.name, DUPLICATE, dest))
        duplicates.append(_bare(c))
    return LoadChunk(here.accepted, here.rejected, here.warnings, duplicates, destinations, to_file)


# ------------------------------------------------------------------------ the night itself


class NightBusy(RuntimeError):
    """Another nightly run holds this working directory."""


class NightLock:
    """One nightly run per working directory at a time (an advisory lock the kernel drops when
    the process dies, however it dies). The file names the run holding it: a run that finds a
    run id left there knows that run was killed, and finishes its custody."""

    def __init__(self, workdir: Path):
        self.path = workdir / ".nightly.lock"
        self.previous: int | None = None
        self._fd: int | None = None

    def __enter__(self) -> NightLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise NightBusy(f"另一个汇总运行正在处理 {self.path.parent}，本次未运行") from None
        self._fd = fd
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        self.previous = int(text) if text.isdigit() else None
        return self

    def hold(self, run_id: int) -> None:
        """Name the run holding the lock (left there if this process is killed)."""
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{run_id}\n".encode(), 0)
        os.fsync(self._fd)

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._fd is None:
            return
        if exc_type is None:
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the lock
        self._fd = None


class Night:
    """Everything one nightly run carries from step to step: its settings and rules, the plan,
    the chunks read and waiting, the versions decided, and what loading and filing did. A plain
    class handed to the flow's tasks (Prefect does not walk it)."""

    def __init__(self, settings: object, ref: object, url: str, limits: ReadLimits, rules: str):
        self.settings = settings
        self.ref = ref
        self.url = url
        self.limits = limits
        self.rules = rules
        self.run_id = 0
        self.plan = Plan()
        self.spill = Spill(Path(), on_disk=False)
        self.read: dict[int, list[Submission]] = {}
        self.keys: list[list[tuple[Key, str, tuple[date, float]]]] = []
        self.versions = Versions()
        self.history: list[dict[str, object]] = []
        self.results: list[object] = []  # warehouse.load.LoadResult per load
        self.states: dict[str, str] = {}
        self.rejected_files: dict[str, list[str]] = {}
        self.warnings = 0
        self.unfiled: dict[str, str] = {}
        self.recovered = 0
        self.workers = 0
        self.restarts = 0
        self._pool: object | None = None

    @property
    def chunks(self) -> int:
        return len(self.plan.chunks)

    def outcomes(self) -> dict[str, str]:
        """Every entry this run saw → its one outcome (receipt state, or skipped / refused /
        deferred)."""
        out = {name: outcome for name, (outcome, _) in self.plan.notes.items()}
        out.update(self.states)
        return dict(sorted(out.items()))

    # -- reading: the worker pool, started on first use and closed with the night -----------

    def workers_wanted(self) -> int:
        wanted = int(getattr(self.settings, "read_workers", 0))
        return wanted if wanted > 0 else max(1, os.cpu_count() or 1)

    def read_chunk(self, index: int) -> list[Submission]:
        """Read chunk `index` here (in the local pool, or in process when one worker is asked
        for); files refused on size alone and files left for the next run are sorted out
        first."""
        from guidefund.intake.readers import ReaderPool, read_items

        items, refusals, notes = chunk_items(self.plan.chunks[index], self.limits)
        self.plan.notes.update(notes)
        pool = None
        if items and self.workers_wanted() > 1:
            if self._pool is None:
                self._pool = ReaderPool(self.ref, self.limits, self.workers_wanted())  # type: ignore[arg-type]
            pool = self._pool
        self.workers = pool.size if pool is not None else max(self.workers, 1)
        subs = refusals + read_items(items, self.ref, self.limits, pool)  # type: ignore[arg-type]
        if pool is not None:
            self.restarts = pool.restarts
        return subs

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self.spill.on_disk:
            Spill.clear(self.spill.directory)
