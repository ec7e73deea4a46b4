"""A progress bar for runs over many files, shown only when a person is watching a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Below this many files a run is over before a bar would help.
MIN_FILES = 20


@contextmanager
def file_progress(
    total: int, label: str, console: Console | None = None
) -> Iterator[Callable[[], None]]:
    """Yield `step()`, called once per file; draws on stderr only if it is a terminal."""
    console = console or Console(stderr=True)
    if total < MIN_FILES or not console.is_terminal:
        yield lambda: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
