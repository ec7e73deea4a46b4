"""Progress bars appear for many files on a terminal, and never in logs or pipes."""

from __future__ import annotations

import io

from rich.console import Console

from guidefund.intake.progress import MIN_FILES, file_progress


def _run(total: int, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=80)
    with file_progress(total, "读取填报文件", console=console) as step:
        for _ in range(total):
            step()
    return out.getvalue()


def test_a_terminal_sees_the_count_of_files_read() -> None:
    assert f"{MIN_FILES + 5}/{MIN_FILES + 5}" in _run(MIN_FILES + 5, terminal=True)


def test_a_pipe_or_a_log_gets_no_bar() -> None:
    assert _run(MIN_FILES + 5, terminal=False) == ""


def test_a_handful_of_files_gets_no_bar() -> None:
    assert _run(MIN_FILES - 1, terminal=True) == ""
