"""What the benchmark scripts share: median wall time, and the bare read every read figure is
measured against."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median seconds over `repeat` calls of `fn`, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bare_read(paths: Sequence[Path]) -> int:
    """The floor: python-calamine opens each workbook and lists every sheet's rows, nothing else."""
    from python_calamine import CalamineWorkbook

    cells = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            cells += len(wb.get_sheet_by_name(name).to_python())
    return cells
