"""What the inbox holds, entry by entry: the files to read, and every other entry with the one
outcome it gets (issue 9, item 4).

Units drop files the way their tools and habits leave them: one sub-folder per unit, Excel's
lock file beside an open workbook, a browser's half-downloaded file, a shortcut. The scan walks
the inbox recursively without following links and gives each entry exactly one outcome:

* read: a regular file, under its path inside the inbox ('unit/046.xlsx'), which names it on
  its receipt and decides where it is archived or quarantined;
* skipped (left where it is, noted in the run summary): lock files (~$…, .~lock.…#), temporary
  and partial downloads, hidden entries, system files (Thumbs.db, desktop.ini), guidefund's own
  feedback workbooks, symbolic links whose target is inside the inbox (the target is read
  itself), anything that is not a regular file (a directory named *.xlsx, a FIFO, a device, a
  socket: never opened, so a FIFO cannot block the run);
* refused (left where it is, noted): a symbolic link pointing outside the inbox or nowhere (its
  target is never read, so no file from elsewhere on the machine can reach an output), and a
  name that is not valid UTF-8 (it could not be recorded faithfully).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

FEEDBACK_SUFFIX = ".errors.xlsx"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".csv")
TEMP_SUFFIXES = (".tmp", ".temp", ".crdownload", ".part", ".partial", ".download", ".swp", ".bak")
SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "icon\r"})
MAX_DEPTH = 16

READ = "read"
SKIPPED = "skipped"
REFUSED = "refused"


@dataclass(frozen=True)
class Entry:
    """A file to read: `name` is its path inside the inbox with '/' separators."""

    name: str
    path: Path
    size: int
    modified: float


@dataclass
class Scan:
    """The inbox as this run sees it: files to read (by name) and every other entry's outcome."""

    files: list[Entry] = field(default_factory=list)
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (outcome, why)

    def note(self, name: str, outcome: str, why: str) -> None:
        self.notes[name] = (outcome, why)


def display(name: str) -> str:
    """A name as text that can be stored and shown: undecodable bytes become U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def _why_skipped(name: str) -> str | None:
    low = name.lower()
    if name.startswith("~$"):
        return "Excel/WPS 锁定文件（该工作簿正被打开），不是填报文件"
    if low.startswith(".~lock.") and low.endswith("#"):
        return "LibreOffice 锁定文件（该工作簿正被打开），不是填报文件"
    if low in SYSTEM_NAMES:
        return "系统文件，不是填报文件"
    if name.startswith("."):
        return "隐藏文件，未读取"
    if low.endswith(FEEDBACK_SUFFIX):
        return "guidefund 生成的问题清单，不是填报文件"
    if low.endswith(TEMP_SUFFIXES) or (name.startswith("~") and low.endswith(".tmp")):
        return "临时文件或未下载完的文件，未读取；如需报送请等文件写完后重新放入"
    return None


def scan_inbox(inbox: Path) -> Scan:
    """Every entry under `inbox`, each with one outcome; files sorted by name."""
    out = Scan()
    if not inbox.is_dir():
        return out
    root = inbox.resolve()
    _walk(root, root, "", 0, out)
    out.files.sort(key=lambda e: e.name)
    return out


def _walk(root: Path, directory: Path, prefix: str, depth: int, out: Scan) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        out.note(
            prefix.rstrip("/") or ".", SKIPPED, f"文件夹无法列出（{exc.strerror}），下次运行再读"
        )
        return
    for entry in entries:
        name = prefix + entry.name
        shown = display(name)
        if shown != name:
            out.note(
                shown, REFUSED, "文件名不是有效的 UTF-8 编码，无法如实记录；请重命名后重新报送"
            )
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            out.note(name, SKIPPED, f"无法读取文件信息（{exc.strerror}），下次运行再读")
            continue
        if stat.S_ISLNK(st.st_mode):
            _link(root, entry, name, out)
            continue
        why = _why_skipped(entry.name)
        if stat.S_ISDIR(st.st_mode):
            if why is not None or entry.name.lower().endswith(WORKBOOK_SUFFIXES):
                out.note(name + "/", SKIPPED, why or "名称像工作簿的文件夹，不是文件，未读取")
            elif depth >= MAX_DEPTH:
                out.note(name + "/", SKIPPED, f"文件夹层级超过 {MAX_DEPTH} 层，未读取")
            else:
                _walk(root, Path(entry.path), name + "/", depth + 1, out)
            continue
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "命名管道（FIFO）"
                if stat.S_ISFIFO(st.st_mode)
                else "套接字"
                if stat.S_ISSOCK(st.st_mode)
                else "设备文件"
            )
            out.note(name, SKIPPED, f"不是普通文件（{kind}），未打开")
            continue
        if why is not None:
            out.note(name, SKIPPED, why)
            continue
        out.files.append(Entry(name, Path(entry.path), st.st_size, st.st_mtime))


def _link(root: Path, entry: os.DirEntry[str], name: str, out: Scan) -> None:
    target = Path(os.path.realpath(entry.path))
    if not target.exists():
        out.note(name, REFUSED, "符号链接指向不存在的文件，未读取")
    elif target != root and root not in target.parents:
        out.note(name, REFUSED, "符号链接指向收件箱以外的文件，不予读取；请把文件本身放入收件箱")
    else:
        out.note(name, SKIPPED, "符号链接，其目标在收件箱内，按目标文件读取")
