"""Faults as an operator reads them: one Chinese line saying what happened and what to do, waits
with backoff for what goes away by itself, and stopping at a safe point.

* `Fault`: a failure already explained for the operator (its message is the console line).
* `explain(exc)`: any exception as that one line; OS and network errors are translated.
* `retry(...)`: call again with backoff while an error is transient, within a budget of seconds,
  one log line per wait; the warehouse (`warehouse.db.retrying`) and delivery use it.
* `watch_stops()` / `checkpoint(next_step)`: SIGTERM and SIGINT only ask the run to stop; the flow
  stops at its next checkpoint (between steps, where nothing is half done), raising `Stopped`.
  A second signal stops at once (KeyboardInterrupt), with the guarantees of a kill.
"""

from __future__ import annotations

import errno
import logging
import signal
import smtplib
import socket
import threading
import time
import urllib.error
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("guidefund.faults")

# Waits between attempts: quick at first (a blip), then every half minute (a restart, a failover).
BACKOFF_SECONDS = (1, 2, 4, 8, 15, 30)


class Fault(Exception):
    """A failure explained in one line for the operator: what happened and what to do."""


class Stopped(Fault):
    """A stop was asked for (SIGTERM, SIGINT); the run ended at a safe point."""


# --------------------------------------------------------------------------- explaining


def explain(exc: BaseException) -> str:
    """One Chinese line for `exc`: a Fault's own message, OS/network errors translated, anything
    else named by its type (a defect: the log has the traceback)."""
    if isinstance(exc, Fault):
        return str(exc)
    if isinstance(exc, urllib.error.HTTPError):
        return f"对方服务返回错误 HTTP {exc.code}（{exc.reason}）"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return explain(reason) if isinstance(reason, BaseException) else f"无法连接：{reason}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "邮件服务器拒绝登录：请检查 GUIDEFUND_NOTIFY_URL 中的用户名和密码"
    if isinstance(exc, smtplib.SMTPException):
        return f"邮件服务器拒绝了这封邮件（{exc}）"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝（服务没有运行或端口不对）"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "连接被对方中断"
    if isinstance(exc, socket.gaierror):
        return "主机名无法解析（地址写错或网络不通）"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "对方没有在限定时间内应答"
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, MemoryError):
        return "内存不足：请关闭其他程序或在内存更大的机器上运行"
    return f"程序内部错误 {type(exc).__name__}: {exc}"


def _os_error(exc: OSError) -> str:
    where = f"（{exc.filename}）" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"磁盘空间已满{where}：请腾出空间后重新运行"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"没有权限{where}：请检查运行账户对工作目录的读写权限"
    if exc.errno == errno.ENOENT:
        return f"找不到文件或目录{where}"
    if exc.errno == errno.EROFS:
        return f"磁盘只读{where}：请检查挂载"
    if exc.errno == errno.EIO:
        return f"磁盘读写出错{where}：请检查磁盘或网络共享"
    return f"系统错误{where}：{exc.strerror or exc}"


# Errors of a file share or a network peer that may pass; a full disk or a missing permission
# does not pass by waiting.
TRANSIENT_ERRNOS = {
    errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE, errno.EIO, errno.ECONNRESET,
    errno.ECONNREFUSED, errno.ECONNABORTED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPIPE,
}  # fmt: skip


def is_transient_io(exc: BaseException) -> bool:
    """An OS or network error that may pass by itself (busy, timed out, refused, reset)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return is_transient_io(exc.reason)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected | TimeoutError | socket.timeout):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def one_line(text: str) -> str:
    """`text` on one line (driver messages carry newlines)."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- retrying


def retry(
    call: Callable[[], T],
    *,
    transient: Callable[[BaseException], bool],
    budget_seconds: float,
    what: str,
    on_wait: Callable[[BaseException], None] | None = None,
    describe: Callable[[BaseException], str] = explain,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, called again after a wait while it fails with an error `transient` accepts and
    the waits so far stay within `budget_seconds`; then its last error is raised. Each wait is
    one warning line on the `guidefund.faults` logger (`describe` words the error). A stop asked
    for meanwhile ends the waits."""
    waited = 0.0
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
            delay = min(delay, budget_seconds - waited)
            if delay <= 0:
                raise
            if stop_requested():
                raise Stopped(_stopped_line(what)) from exc
            if on_wait:
                on_wait(exc)
            log.warning(
                "%s：%s；%s 秒后重试（已等待 %d 秒，最多等待 %d 秒）",
                what, one_line(describe(exc)), _seconds(delay), waited, budget_seconds,
            )  # fmt: skip
            _sleep_unless_stopped(delay, sleep)
            waited += delay
            attempt += 1


def _seconds(value: float) -> str:
    return f"{value:g}"


def _sleep_unless_stopped(delay: float, sleep: Callable[[float], None]) -> None:
    end = time.monotonic() + delay
    while (left := end - time.monotonic()) > 0 and not stop_requested():
        sleep(min(left, 0.2))


# --------------------------------------------------------------------------- stopping

_stop = threading.Event()
_signal_name: list[str] = []


def _on_signal(signum: int, _frame: object) -> None:
    if _stop.is_set():
        # A second signal: do not wait for the safe point (a kill's guarantees still hold).
        raise KeyboardInterrupt
    _signal_name.append(signal.Signals(signum).name)
    _stop.set()


def watch_stops() -> None:
    """SIGTERM and SIGINT ask for a stop at the next checkpoint instead of ending the process
    mid-step. Call from the main thread (elsewhere it does nothing); call again inside a flow,
    since Prefect's flow engine puts its own SIGTERM handler in place while a flow runs."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _on_signal)


def stop_requested() -> bool:
    return _stop.is_set()


def reset_stops() -> None:
    """Forget an earlier stop request (a process that runs several flows, e.g. tests)."""
    _stop.clear()
    _signal_name.clear()


def _stopped_line(before: str) -> str:
    name = _signal_name[-1] if _signal_name else "停止信号"
    return f"已停止（收到 {name}），在「{before}」之前停止"


def checkpoint(next_step: str, done: str = "") -> None:
    """A safe point: raise Stopped when a stop was asked for. `next_step` names what will not be
    done; `done` says what the run completed (both go into the one console line)."""
    if _stop.is_set():
        tail = f"；{done}" if done else ""
        raise Stopped(_stopped_line(next_step) + tail)


# --------------------------------------------------------------------------- secondary steps


class SecondarySteps:
    """The steps of a run after its primary work (Data Docs, reports, notifications, artifacts):
    each one that fails leaves one line saying what happens next, and the run goes on; none can
    undo or hide what the primary work did. A stop asked for ends the run before the next one.

    `done` says what the primary work completed, for the line a stop prints; `on_stop` is
    called before a stop ends the run (to record it)."""

    def __init__(self, done: str, on_stop: Callable[[Stopped], None] | None = None) -> None:
        self.done = done
        self.on_stop = on_stop
        self.lines: list[str] = []
        self.failed: list[str] = []

    def run(self, step: str, call: Callable[[], T], default: T, line: str) -> T:
        """`call()`, or `default` when it fails; `line` is the console line, where `{}` stands
        for the reason (explain(exc))."""
        try:
            checkpoint(step, self.done)
            return call()
        except Stopped as stop:
            if self.on_stop:
                self.on_stop(stop)
            raise
        except Exception as exc:
            # The traceback goes to the log file only (INFO never reaches the console).
            log.info("次要步骤「%s」失败", step, exc_info=exc)
            self.failed.append(step)
            self.lines.append(line.format(one_line(explain(exc))))
            return default
