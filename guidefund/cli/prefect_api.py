"""The Prefect API a command's flow run talks to.

With PREFECT_API_URL set (production: `prefect server start` under systemd) that server is used,
and a command refuses to start when it does not answer. Without it, the command starts a
temporary API server for itself: the same uvicorn app Prefect's ephemeral mode runs
(`prefect.server.api.server:create_app`, PREFECT__SERVER_EPHEMERAL), but started by us so that it
ends with the command whatever ends it:

* in its own session, so a Ctrl-C in the terminal reaches only the command, which then stops at
  its next safe point while the server is still there to record it;
* with a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`), so the kernel kills it
  when the command dies, even by SIGKILL, where no cleanup of ours can run;
* stopped (SIGTERM, then SIGKILL) when the command ends normally.

Prefect's own ephemeral server is a child that only an `atexit` hook stops: a killed run left it
running. Its output goes to <workdir>/logs/prefect-server.log.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from guidefund.faults import Fault
from guidefund.settings import Settings

PR_SET_PDEATHSIG = 1
SERVER_LOG = "prefect-server.log"


def configured_api() -> str | None:
    """The API URL Prefect is configured with (environment, or a settings context such as the
    test harness's when Prefect is already imported); None for ephemeral mode."""
    if "prefect.settings" in sys.modules:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url or None
    return os.environ.get("PREFECT_API_URL") or None


def api_problem(url: str) -> str | None:
    """Why the Prefect API at `url` cannot be used, in one line; None when it answers."""
    import httpx

    try:
        answer = httpx.get(f"{url.rstrip('/')}/health", timeout=10)
    except httpx.HTTPError:
        return (
            f"Prefect 服务无法连接（{url}）：请检查 PREFECT_API_URL 与 Prefect 服务"
            "（prefect server start）；本次没有处理任何文件"
        )
    if answer.status_code != 200:
        return f"Prefect 服务不可用（{url} 返回 HTTP {answer.status_code}）：请检查 Prefect 服务；本次没有处理任何文件"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with(parent: int):  # type: ignore[no-untyped-def]
    """preexec_fn: the child gets SIGKILL when its parent dies (Linux), and does not start at
    all when the parent is already gone."""

    def arm() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _rotate(log: Path, settings: Settings) -> None:
    if log.exists() and log.stat().st_size > settings.log_max_mb * 1024 * 1024:
        log.replace(log.with_name(log.name + ".1"))


class TemporaryAPI:
    """A Prefect API server child for one command (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        settings.logs.mkdir(parents=True, exist_ok=True)
        self.log = settings.logs / SERVER_LOG
        _rotate(self.log, settings)
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        }
        env.pop("PREFECT_API_URL", None)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory",
                 "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )  # fmt: skip

    def wait_ready(self, limit: float) -> None:
        """Block until the server answers /health; Fault if it exits or does not in `limit` s."""
        import httpx

        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Fault(
                    f"Prefect 临时服务未能启动（退出码 {self.process.returncode}，"
                    f"详见 {self.log}）；本次没有处理任何文件"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise Fault(
            f"Prefect 临时服务 {limit:g} 秒内没有就绪（详见 {self.log}）；本次没有处理任何文件"
        )

    def stop(self) -> None:
        _drain_prefect()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _drain_prefect() -> None:
    """Send Prefect's queued run logs and events while the server is still there: otherwise
    Prefect writes `--- Error logging to API ---` on stderr at exit."""
    if "prefect" not in sys.modules:
        return
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)
    except Exception:  # noqa: BLE001 - best effort: the run's own work is done
        logging.getLogger("guidefund.cli").info("Prefect 日志未能全部送出", exc_info=True)


@contextmanager
def prefect_api(settings: Settings, startup_seconds: float = 180) -> Iterator[Callable[[], None]]:
    """Around a command that runs flows: the configured API checked, or a temporary one started
    (before Prefect and GX are imported, so both start-ups overlap) and stopped afterwards.
    The body must call `ready()` (yielded) before it runs a flow."""
    url = configured_api()
    if url:
        problem = api_problem(url)
        if problem:
            raise Fault(problem)
        yield lambda: None
        return
    server = TemporaryAPI(settings)
    with ExitStack() as stack:
        if "prefect.settings" in sys.modules:
            # Prefect read its settings when imported: tell it in its own terms.
            from prefect.settings import PREFECT_API_URL, temporary_settings

            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.url}))
        else:
            os.environ["PREFECT_API_URL"] = server.url
            stack.callback(os.environ.pop, "PREFECT_API_URL", None)
        stack.callback(server.stop)
        yield lambda: server.wait_ready(startup_seconds)
