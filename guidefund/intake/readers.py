"""Reading files in worker processes: isolated (a crash, an abort, running out of memory or
time costs one file) and parallel (one worker per core). One design for both (issues 9 and 10).

A file reaches a worker as bytes (the parent has hashed them already), goes through the
pre-parse guard (guard.py) and then the reader (workbook.py); the worker returns a plain typed
record, a `Submission`, whose findings say what is wrong. The parent validates and loads.

Why not `concurrent.futures` or `multiprocessing.Pool` (measured in the research behind issue 9):
one dead worker breaks a ProcessPoolExecutor for every pending file and the culprit is unknown;
multiprocessing.Pool replaces a dead worker but the task it held never completes; neither can
stop a hung file. Here each worker is a plain `python -m guidefund.intake.readers` child (no
daemon-process restrictions, so the same pool runs inside a Dask worker), talking over its stdin
and stdout in length-prefixed pickles:

    parent → worker   ("init", reference, limits, memory) once, then lists of Items, then None
    worker → parent   ("ack", n) when a list arrives, then (index, Submission) per file

so when a worker dies (signal, abort, RLIMIT_AS) the parent knows which file it was on: the
first of its list without an answer. That file gets a `read.crashed` finding naming the signal
(and Rust's "memory allocation of N bytes failed", read from the worker's stderr), the rest of
the list goes back to the queue, and a new worker starts. A file without an answer after
`timeout` seconds gets its worker killed the same way (`read.timeout`). Workers set their own
RLIMIT_AS (memory), no core dumps, and leave when their parent goes.
"""

from __future__ import annotations

import collections
import hashlib
import os
import pickle
import resource
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from guidefund.intake import guard
from guidefund.records import Finding, Submission
from guidefund.reference import Reference

_HEADER = struct.Struct("!I")
_SEND = 16  # files per message to a worker: amortises the pipe, keeps both workers busy


@dataclass(frozen=True)
class Item:
    """One file to read: where it is, what it is called on receipts, its bytes and mtime."""

    path: str
    name: str
    data: bytes
    modified: float | None = None


@dataclass(frozen=True)
class ReadLimits:
    """The guard's limits and the worker's: address space (bytes) and seconds per file."""

    guard: guard.Limits
    memory: int = 512 << 20
    timeout: float = 30.0

    @classmethod
    def of(cls, settings: object, ref: Reference) -> ReadLimits:
        """From the settings (read_*), never tighter than the template's own extent."""
        s = settings
        rows, columns = template_extent(ref)
        limits = guard.Limits(
            file_bytes=s.read_max_file_mb * guard.MB,  # type: ignore[attr-defined]
            unpacked_bytes=s.read_max_unpacked_mb * guard.MB,  # type: ignore[attr-defined]
            ratio=s.read_max_ratio,  # type: ignore[attr-defined]
            parts=s.read_max_parts,  # type: ignore[attr-defined]
            rows=max(s.read_max_rows, rows),  # type: ignore[attr-defined]
            columns=max(s.read_max_columns, columns),  # type: ignore[attr-defined]
        )
        return cls(limits, s.read_memory_mb << 20, s.read_timeout_s)  # type: ignore[attr-defined]


def template_extent(ref: Reference) -> tuple[int, int]:
    """Rows and columns the template itself fills: label left of each value cell, unit and
    requirement right of it (intake/template.py), and the instruction lines."""
    rows = columns = 0
    for f in ref.fields:
        row, col = guard.parse_ref(f.cell)
        rows, columns = max(rows, row + 1), max(columns, col + 3)
    return max(rows, 20), columns


def file_finding(name: str, rule: str, message: str, value: str = "") -> Finding:
    """The one finding of a file that could not be read at all (no sheet, no cell)."""
    return Finding(name, "", "", "", "文件", value, rule, message)


def refused(item: Item, sha256: str, rule: str, message: str, value: str = "") -> Submission:
    sub = Submission(path=Path(item.path), sha256=sha256, name=item.name, modified=item.modified)
    sub.problems.append(file_finding(sub.file_name, rule, message, value))
    return sub


def read_item(item: Item, ref: Reference, limits: guard.Limits) -> Submission:
    """Guard, then read one file's bytes; every problem is a finding, nothing is raised."""
    from guidefund.intake import workbook

    sha = hashlib.sha256(item.data).hexdigest()
    refusal = guard.check(item.data, limits)
    if refusal is not None:
        return refused(item, sha, refusal.rule, refusal.message, refusal.detail)
    try:
        sub = workbook.read_bytes(Path(item.path), item.data, ref)
    except workbook.NotAWorkbook as exc:
        message = f"{exc}；请提交用科技厅模板填写的 .xlsx 文件"
        return refused(item, sha, workbook.NOT_WORKBOOK, message)
    except MemoryError:
        return refused(item, sha, guard.TOO_LARGE, _TOO_BIG)
    except Exception as exc:  # noqa: BLE001 - a reader bug must not cost the other files
        message = f"读取文件时出错（{type(exc).__name__}）；请另存为 .xlsx 后重新报送，如仍出错请联系科技厅"
        return refused(item, sha, workbook.FAILED, message)
    sub.name, sub.modified = item.name, item.modified
    sub.problems = [_renamed(p, sub.file_name) for p in sub.problems]
    return sub


def _renamed(f: Finding, name: str) -> Finding:
    if f.file == name:
        return f
    return Finding(name, f.sheet, f.cell, f.field, f.label, f.value, f.rule, f.message, f.severity)


_TOO_BIG = (
    "读取该文件所需内存超过上限，文件中可能有超出模板范围的大量内容；请删除模板以外的内容后重新报送"
)


def crashed_message(how: str) -> str:
    return (
        f"读取该文件时读取程序异常终止（{how}），文件中可能有超出模板范围的内容（如远处单元格中的数值）；"
        "请用科技厅下发的模板重新填写后报送，如仍出错请联系科技厅"
    )


def timeout_message(seconds: float) -> str:
    return f"读取该文件超过 {seconds:g} 秒仍未完成，已放弃；请删除模板以外的内容（多余的行、列和工作表）后重新报送"


# ------------------------------------------------------------------------------ the pool


def _send(stream, obj: object) -> None:  # type: ignore[no-untyped-def]
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(blob)) + blob)
    stream.flush()


def _recv(stream) -> object:  # type: ignore[no-untyped-def]
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (n,) = _HEADER.unpack(head)
    blob = stream.read(n)
    if len(blob) < n:
        raise EOFError
    return pickle.loads(blob)


class _Worker:
    """One child process, its pipes, its stderr file, and the list of files it holds."""

    def __init__(self, slot: int, err_dir: str, init: bytes):
        self.slot = slot
        self.err_path = os.path.join(err_dir, f"reader{slot}.err")
        err = open(self.err_path, "wb")  # noqa: SIM115 - the child owns it from here
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "guidefund.intake.readers"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env={**os.environ, "RUST_BACKTRACE": "0", "PYTHONDONTWRITEBYTECODE": "1"},
            )
        finally:
            err.close()
        self.buffer = bytearray()
        self.held: collections.deque[tuple[int, Item]] = collections.deque()
        self.acked = False
        self.since = time.monotonic()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.init = init

    def start(self) -> None:
        """Hand over the reference data and limits (after every worker was spawned, so their
        interpreters start side by side)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(self.init)
        self.proc.stdin.flush()

    def give(self, work: list[tuple[int, Item]]) -> None:
        self.held = collections.deque(work)
        self.acked = False
        self.since = time.monotonic()
        assert self.proc.stdin is not None
        _send(self.proc.stdin, [item for _, item in work])

    def messages(self) -> list[object] | None:
        """Whatever complete messages the pipe holds now; None at end of file (it died)."""
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        self.buffer += chunk
        out = []
        while len(self.buffer) >= _HEADER.size:
            (n,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + n:
                break
            out.append(pickle.loads(bytes(self.buffer[_HEADER.size : _HEADER.size + n])))
            del self.buffer[: _HEADER.size + n]
        return out

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        return code

    def stop(self) -> None:
        try:
            _send(self.proc.stdin, None)
            self.proc.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


class ReaderPool:
    """`workers` reading processes; `read(items)` returns one Submission per item, in order.

    Use as a context manager (the workers stop at exit). `restarts` counts workers replaced
    after a crash or a timeout."""

    def __init__(self, ref: Reference, limits: ReadLimits, workers: int):
        self.limits = limits
        self.size = max(1, workers)
        self.restarts = 0
        self._tmp = tempfile.TemporaryDirectory(prefix="guidefund-readers-")
        blob = pickle.dumps(
            ("init", ref, limits.guard, limits.memory), protocol=pickle.HIGHEST_PROTOCOL
        )
        self._init = _HEADER.pack(len(blob)) + blob
        self._workers = [_Worker(i, self._tmp.name, self._init) for i in range(self.size)]
        for w in self._workers:
            w.start()
        self._selector = selectors.DefaultSelector()
        for w in self._workers:
            self._selector.register(w.fd, selectors.EVENT_READ, w)

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for w in self._workers:
            w.stop()
        self._selector.close()
        self._tmp.cleanup()

    def _replace(self, w: _Worker) -> _Worker:
        self._selector.unregister(w.fd)
        w.kill()
        self.restarts += 1
        new = _Worker(w.slot, self._tmp.name, self._init)
        new.start()
        self._workers[w.slot] = new
        self._selector.register(new.fd, selectors.EVENT_READ, new)
        return new

    def read(self, items: Sequence[Item]) -> list[Submission]:
        out: list[Submission | None] = [None] * len(items)
        queue = collections.deque(
            list(enumerate(items))[i : i + _SEND] for i in range(0, len(items), _SEND)
        )
        deaths_before_work = 0
        while queue or any(w.held for w in self._workers):
            for w in self._workers:
                if not w.held and queue:
                    try:
                        w.give(queue.popleft())
                    except (BrokenPipeError, OSError):
                        queue.appendleft(list(w.held))
                        w.held.clear()
                        self._replace(w)
            busy = [w for w in self._workers if w.held]
            timeout = min(1.0, self.limits.timeout / 4)
            for key, _ in self._selector.select(timeout):
                w: _Worker = key.data
                if not w.held:
                    continue
                got = w.messages()
                if got is None:
                    deaths_before_work = self._lost(w, queue, out, "crashed", deaths_before_work)
                    continue
                for msg in got:
                    if isinstance(msg, tuple) and msg and msg[0] == "ack":
                        w.acked = True
                    else:
                        _, sub = msg  # type: ignore[misc]
                        index, _ = w.held.popleft()  # answers come in the order files went
                        out[index] = sub
                        deaths_before_work = 0
                    w.since = time.monotonic()
            now = time.monotonic()
            for w in busy:
                if w.held and now - w.since > self.limits.timeout and w.proc.poll() is None:
                    deaths_before_work = self._lost(w, queue, out, "timeout", deaths_before_work)
        return [s for s in out if s is not None]

    def _lost(self, w: _Worker, queue, out, how: str, deaths: int) -> int:  # type: ignore[no-untyped-def]
        """Worker `w` died or hangs: its current file gets a finding, the rest go back."""
        code = w.kill() if how == "timeout" else w.proc.wait()
        held = list(w.held)
        w.held.clear()
        if not w.acked or not held:
            # It died before it began (a broken setup, or killed from outside): retry the list,
            # but not forever.
            if deaths >= 3:
                raise RuntimeError(f"读取进程无法启动：{_exit(code)}；{_tail(w.err_path)}")
            if held:
                queue.appendleft(held)
            self._replace(w)
            return deaths + 1
        (index, item), rest = held[0], held[1:]
        if rest:
            queue.appendleft(rest)
        sha = hashlib.sha256(item.data).hexdigest()
        if how == "timeout":
            out[index] = refused(item, sha, "read.timeout", timeout_message(self.limits.timeout))
        else:
            detail = _exit(code)
            tail = _tail(w.err_path)
            out[index] = refused(item, sha, "read.crashed", crashed_message(detail), tail or detail)
        self._replace(w)
        return 0


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"信号 {signal.Signals(-code).name}"
        except ValueError:
            return f"信号 {-code}"
    return f"退出码 {code}"


def _tail(path: str, limit: int = 65536) -> str:
    """The telling line of a dead worker's stderr (Rust's abort reason, a panic message)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            lines = [
                ln.strip() for ln in fh.read().decode("utf-8", "replace").splitlines() if ln.strip()
            ]
    except OSError:
        return ""
    for line in reversed(lines):
        if "memory allocation" in line or "panicked" in line or "Error" in line:
            return line[:200]
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------- reading, any way


def read_items(
    items: Sequence[Item], ref: Reference, limits: ReadLimits, pool: ReaderPool | None = None
) -> list[Submission]:
    """One Submission per item, in order: in `pool` when given, else in this process."""
    if pool is not None:
        return pool.read(items)
    return [read_item(item, ref, limits.guard) for item in items]


_SHARED: dict[str, tuple[tuple[object, ...], ReaderPool]] = {}
_SHARED_LOCK = threading.Lock()


def read_isolated(items: Sequence[Item], ref: Reference, limits: ReadLimits) -> list[Submission]:
    """Read in this process's long-lived one-worker pool (started on first use, replaced when
    the year or the limits change): how a Dask worker reads a chunk with the same isolation as
    the local pool."""
    key = (os.getpid(), ref.region_code, ref.year, limits)
    with _SHARED_LOCK:
        known = _SHARED.get("pool")
        if known is None or known[0] != key:
            if known is not None:
                known[1].close()
            known = _SHARED["pool"] = (key, ReaderPool(ref, limits, 1))
        return known[1].read(items)


def items_of(entries: Iterable[tuple[Path, str, bytes, float | None]]) -> list[Item]:
    return [Item(str(path), name, data, modified) for path, name, data, modified in entries]


# ------------------------------------------------------------------------------ the worker


def _watch_parent(parent: int) -> None:
    """Leave when the parent goes, even in the middle of a file (a hung parse included)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve() -> None:
    """The worker's loop: `python -m guidefund.intake.readers` (spoken to by ReaderPool)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing a library prints may corrupt the protocol
    stdin = sys.stdin.buffer
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        init = _recv(stdin)
    except EOFError:
        return
    _, ref, limits, memory = init  # type: ignore[misc]
    from guidefund.intake import workbook  # noqa: F401 - imported before the limit applies

    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        try:
            work = _recv(stdin)
        except EOFError:
            return
        if work is None:
            return
        _send(out, ("ack", len(work)))  # type: ignore[arg-type]
        for i, item in enumerate(work):  # type: ignore[arg-type]
            sub = read_item(item, ref, limits)
            _send(out, (i, sub))


if __name__ == "__main__":
    serve()
