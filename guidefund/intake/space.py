"""Is there room for a run? Checked before anything is touched.

A run writes beside its inputs: feedback workbooks, the 汇总表, Data Docs, logs, and (with the
default SQLite warehouse) the stored rows. Moving a file from the inbox to the archive costs
nothing on one disk but a full copy across two, so a run asks for the inbox's size again plus a
margin (GUIDEFUND_DISK_MARGIN_MB) on the working directory's disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MB = 1024 * 1024


def tree_bytes(folder: Path) -> int:
    """Bytes of the regular files under `folder` (symbolic links not followed)."""
    if not folder.is_dir():
        return 0
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue  # vanished or unreadable: the run reports it when it reads the inbox
    return total


def _existing(path: Path) -> Path:
    """`path` or its nearest existing parent (the working directory may not exist yet)."""
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path


def space_problem(workdir: Path, inbox: Path, margin_mb: int) -> str | None:
    """One line saying why the run should not start for lack of disk space, or None."""
    where = _existing(workdir)
    free = shutil.disk_usage(where).free
    inbox_size = tree_bytes(inbox)
    need = inbox_size + margin_mb * MB
    if free >= need:
        return None
    return (
        f"磁盘空间不足：{where} 所在磁盘剩余 {free / MB:.1f} MB，本次运行需要 {need / MB:.1f} MB"
        f"（收件箱 {inbox_size / MB:.1f} MB + 余量 GUIDEFUND_DISK_MARGIN_MB={margin_mb}）；"
        "请腾出空间后重新运行，收件箱中的文件未动"
    )
