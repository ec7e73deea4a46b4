"""What the operator sees: one line per problem, never a traceback (unless GUIDEFUND_DEBUG=1).

Everything else libraries say (Prefect's run and task logs, Great Expectations, Python warnings)
and every traceback goes to <workdir>/logs/guidefund.log, rotated at GUIDEFUND_LOG_MAX_MB with
GUIDEFUND_LOG_BACKUPS kept. The console keeps guidefund's own warnings (e.g. one line per wait
for the warehouse), without tracebacks. A reader that closes the pipe early
(`guidefund status | head`) ends the output quietly; the command still returns its own code.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from guidefund.settings import Settings

LOG_NAME = "guidefund.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _OneLine(logging.Formatter):
    """The message alone: a console line, no traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


class _Console(logging.StreamHandler):  # type: ignore[type-arg]
    """guidefund's own warnings on stderr, one line each (marker class: kept when library
    handlers are taken off the console)."""


def log_file(settings: Settings) -> Path:
    return settings.logs / LOG_NAME


class LogFile(logging.handlers.RotatingFileHandler):
    """The log file: its folder made on the first record (a command that logs nothing leaves
    no trace), and silent when it cannot be written (a full disk must not put logging's own
    traceback on the console). Its name has no leading underscore: Prefect's logging set-up
    keeps the root logger's handlers only when they look like the user's."""

    def _open(self):  # type: ignore[no-untyped-def]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


def setup(settings: Settings) -> None:
    """Log to <workdir>/logs/guidefund.log; guidefund's warnings also to the console."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, LogFile):
            root.removeHandler(handler)
            handler.close()
    to_file = LogFile(
        log_file(settings),
        maxBytes=settings.log_max_mb * 1024 * 1024,
        backupCount=settings.log_backups,
        encoding="utf-8",
        delay=True,
    )
    to_file.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(to_file)
    ours = logging.getLogger("guidefund")
    ours.setLevel(logging.INFO)
    for handler in list(ours.handlers):
        if isinstance(handler, _Console):
            ours.removeHandler(handler)
    console = _Console(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter() if settings.debug else _OneLine())
    ours.addHandler(console)
    logging.captureWarnings(True)
    if not settings.debug:
        # "Exception ignored in …" (e.g. a workbook's zip file closed on a full disk) goes to
        # the log file, not the console.
        sys.unraisablehook = _unraisable_to_log


def _unraisable_to_log(unraisable: Any) -> None:
    logging.getLogger("guidefund.cli").info(
        "忽略的异常（%s）", unraisable.object, exc_info=unraisable.exc_value
    )


def quiet_libraries(settings: Settings) -> None:
    """After Prefect is imported (it puts console handlers on its loggers): their records go to
    the log file only. With GUIDEFUND_DEBUG=1 they stay on the console as well."""
    root = logging.getLogger()
    if not any(isinstance(h, LogFile) for h in root.handlers):
        setup(settings)  # Prefect replaced the root logger's handlers after all
    if settings.debug:
        return
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in list(logger.handlers):
            if _is_console(handler):
                logger.removeHandler(handler)
                if not logger.propagate:
                    # Its records reached only the console: send them to the log file instead.
                    logger.propagate = True


def _is_console(handler: logging.Handler) -> bool:
    if isinstance(handler, _Console) or isinstance(handler, logging.FileHandler):
        return False
    stream = getattr(handler, "stream", None) or getattr(handler, "_stream", None)
    console = getattr(handler, "console", None)  # rich-based handlers
    return stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__) or (
        console is not None and type(handler).__name__.endswith("ConsoleHandler")
    )


class QuietPipe(io.TextIOBase):
    """stdout that stops writing, silently, once the reader has gone (EPIPE)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self.closed_pipe = True
        # The interpreter flushes stdout at exit: point the descriptor at /dev/null so that
        # flush cannot fail again (Python's documented recipe for EPIPE).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
