"""Faults cost a retry, not a night: `guidefund nightly` run as the operator runs it, on real
parts, with one fault injected per case.

The parts: a private PostgreSQL (stopped with `pg_ctl stop -m immediate`, started again), a
webhook and an SMTP receiver on 127.0.0.1 that refuse and then accept, a small tmpfs mounted by
the test (a full disk), an unreachable Prefect API, and SIGTERM / SIGKILL sent to the command.
A test holds a table lock on the private server to catch the run inside a given step.

Each case checks: the exit code; a console with no traceback and few lines; every file in
exactly one place; the warehouse equal to an undisturbed run's; held alerts delivered exactly
once later; no process of the run left alive. One Prefect API (our temporary server, started
once) serves the session's runs, except where the temporary server of the command itself is
the subject."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect

from guidefund.settings import Settings
from tests.faults import harness as h
from tests.faults.privatepg import PrivatePostgres

pytestmark = pytest.mark.faults

FILES = 12  # valid sample files per inbox, plus one that is rejected


@pytest.fixture(scope="session")
def inbox_files(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from tests.workbooks import set_cell

    folder = tmp_path_factory.mktemp("fault-inbox")
    for sample in sorted(sample_dir.glob("*.xlsx"))[:FILES]:
        shutil.copy(sample, folder / sample.name)
    bad = folder / "bad_negative_spending.xlsx"
    shutil.copy(sorted(sample_dir.glob("*.xlsx"))[FILES], bad)
    set_cell(bad, "资金情况", "C5", -5)
    return h.files(folder)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Prefect API for the session's runs: guidefund's own temporary server."""
    from guidefund.cli.prefect_api import TemporaryAPI

    work = tmp_path_factory.mktemp("fault-api")
    server = TemporaryAPI(Settings(workdir=work))
    try:
        server.wait_ready(180)
        yield server.url
    finally:
        server.stop()


@dataclass
class Case:
    workdir: Path
    url: str
    env: dict[str, str]
    inputs: dict[str, bytes]

    def run(self, *extra: str, **env: str) -> h.Result:
        return h.guidefund(["nightly", "--year", "2024", *extra], {**self.env, **env})

    def start(self, **env: str) -> h.Run:
        return h.Run(["nightly", "--year", "2024"], {**self.env, **env})


def new_case(root: Path, pg: PrivatePostgres, api: str | None, inputs: dict[str, bytes]) -> Case:
    if not pg.running():
        pg.start()
    url = pg.createdb(f"gf_{uuid.uuid4().hex[:12]}")
    workdir = root / "work"
    (workdir / "inbox").mkdir(parents=True)
    for name, content in inputs.items():
        (workdir / "inbox" / name).write_bytes(content)
    env = h.clean_env(
        GUIDEFUND_WORKDIR=str(workdir),
        GUIDEFUND_WAREHOUSE_URL=url,
        GUIDEFUND_WAREHOUSE_RETRY_SECONDS="60",
        GUIDEFUND_NOTIFY_RETRY_SECONDS="0",
        GUIDEFUND_DISK_MARGIN_MB="1",
        # Prefect's home outside the working directory: a full work disk is not Prefect's.
        PREFECT_HOME=str(root / "prefect-home"),
    )
    if api:
        env["PREFECT_API_URL"] = api
    return Case(workdir, url, env, inputs)


@pytest.fixture
def case(
    tmp_path: Path, private_pg: PrivatePostgres, prefect_api: str, inbox_files: dict[str, bytes]
) -> Iterator[Case]:
    yield new_case(tmp_path, private_pg, prefect_api, inbox_files)
    if not private_pg.running():
        private_pg.start()


@dataclass
class Baseline:
    code: int
    warehouse: dict[str, list[tuple]]
    places: dict[str, str]
    new_alerts: int


@pytest.fixture(scope="session")
def baseline(
    tmp_path_factory: pytest.TempPathFactory,
    private_pg: PrivatePostgres,
    prefect_api: str,
    inbox_files: dict[str, bytes],
) -> Baseline:
    """The same inbox consolidated with no fault."""
    c = new_case(tmp_path_factory.mktemp("baseline"), private_pg, prefect_api, inbox_files)
    done = c.run("--json")
    assert done.code == 1, done.err  # one rejected file, and new alerts
    import json

    summary = json.loads(done.out)
    assert (summary["accepted"], summary["rejected"], summary["problems"]) == (FILES, 1, [])
    return Baseline(
        done.code, h.warehouse(c.url), h.custody(c.workdir, c.inputs), summary["new_alerts"]
    )


def filed(c: Case) -> dict[str, str]:
    """Every input in exactly one place; where."""
    return h.custody(c.workdir, c.inputs)


def untouched(c: Case) -> None:
    assert set(filed(c).values()) == {"inbox"}
    assert h.files(c.workdir / "archive") == {} and h.files(c.workdir / "quarantine") == {}


def lock_waiter(url: str) -> int:
    """How many sessions on the database wait for a lock (the run, caught inside a step)."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


class TableLock:
    """Hold a lock on a table of the run's database, as a long transaction of someone else."""

    def __init__(self, url: str, table: str, mode: str) -> None:
        self.conn = psycopg.connect(url.replace("+psycopg", ""))
        self.conn.execute(f"LOCK TABLE {table} IN {mode} MODE")

    def release(self) -> None:
        try:
            self.conn.rollback()
            self.conn.close()
        except psycopg.Error:
            pass  # the server was stopped under it


def migrated(c: Case) -> None:
    """The warehouse schema in place before the run (so a test can lock its tables)."""
    from guidefund.warehouse.db import make_engine, upgrade

    engine = make_engine(c.url)
    upgrade(engine)
    engine.dispose()


# ================================================================== PostgreSQL down


def test_postgresql_down_when_the_run_starts_and_back_within_the_budget_costs_a_wait_not_the_night(
    case: Case, private_pg: PrivatePostgres, baseline: Baseline
) -> None:
    private_pg.stop()
    run = case.start()
    log = case.workdir / "logs" / "guidefund.log"
    h.wait_until(
        lambda: log.exists() and "数据库暂时无法使用（打开仓库）" in log.read_text("utf-8"),
        120,
        "the run waiting for the database",
    )
    private_pg.start_after(3)
    done = run.wait()

    h.no_traceback(done)
    assert done.code == baseline.code
    waits = [line for line in done.err_lines if line.startswith("数据库暂时无法使用（打开仓库）")]
    assert 2 <= len(waits) == len(done.err_lines) <= 6
    assert re.match(
        rf"汇总运行 #1（截至 [0-9-]{{10}}）：收到 {FILES + 1} 个文件，接收 {FILES}，退回 1，",
        done.out,
    )
    assert filed(case) == baseline.places
    assert h.warehouse(case.url) == baseline.warehouse
    assert h.survivors(done.processes) == []


def test_postgresql_down_beyond_the_budget_is_one_line_exit_2_and_the_inbox_untouched(
    case: Case, private_pg: PrivatePostgres
) -> None:
    url = case.url.replace("postgres@", "postgres:s3cret@")
    private_pg.stop()
    done = case.run(GUIDEFUND_WAREHOUSE_URL=url, GUIDEFUND_WAREHOUSE_RETRY_SECONDS="4")

    h.no_traceback(done)
    assert done.code == 2
    shown = url.replace("s3cret", "***")
    assert done.err_lines[-1] == (
        f"guidefund: 数据库无法连接（{shown}），已等待 4 秒仍未恢复：连接被拒绝；"
        "请检查 GUIDEFUND_WAREHOUSE_URL 与数据库服务"
    )
    assert len(done.console) <= 5 and "s3cret" not in done.err
    untouched(case)
    assert h.survivors(done.processes) == []


def test_postgresql_stopped_in_the_middle_of_loading_and_restarted_loads_every_file_once(
    case: Case, private_pg: PrivatePostgres, baseline: Baseline
) -> None:
    migrated(case)
    # Receipts are the load transaction's last insert: waiting for this lock, the run has
    # written submissions and facts that are not committed yet.
    holder = TableLock(case.url, "receipt", "EXCLUSIVE")
    run = case.start()
    h.wait_until(lambda: lock_waiter(case.url), 120, "the load waiting inside its transaction")
    private_pg.stop()
    holder.release()
    private_pg.start_after(3)
    done = run.wait()

    h.no_traceback(done)
    assert done.code == baseline.code
    assert [
        line for line in done.err_lines if not line.startswith("数据库暂时无法使用（入库）")
    ] == []
    assert filed(case) == baseline.places
    assert h.warehouse(case.url) == baseline.warehouse
    assert h.survivors(done.processes) == []


# ================================================================== notifier refusing


class Webhook:
    """An HTTP receiver on a port chosen now, started later (until then connections are refused)."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.alerts: list[str] = []

    def start(self) -> None:
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.alerts += [a["dedup_key"] for a in body.get("alerts", [])]
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An SMTP receiver (aiosmtpd) on a port chosen now, started later."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"smtp://127.0.0.1:{self.port}/?from=gf@example.org&to=staff@example.org"
        self.messages: list[str] = []

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                box.messages.append(envelope.content.decode("utf-8", "replace"))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def test_a_refusing_webhook_keeps_the_night_and_the_alerts_go_out_once_when_it_accepts(
    case: Case, baseline: Baseline
) -> None:
    hook = Webhook()
    first = case.run(GUIDEFUND_NOTIFY_URL=hook.url)

    h.no_traceback(first)
    assert first.code == 1
    assert re.match(
        rf"汇总运行 #1（截至 [0-9-]{{10}}）：收到 {FILES + 1} 个文件，接收 {FILES}，退回 1，",
        first.out,
    )
    assert first.err_lines == [
        f"guidefund: 预警 {baseline.new_alerts} 条未能发送（http://127.0.0.1:{hook.port}/hook："
        "连接被拒绝（服务没有运行或端口不对）），下次运行时重发"
    ]
    assert filed(case) == baseline.places
    assert h.warehouse(case.url) == baseline.warehouse

    hook.start()
    try:
        second = case.run(GUIDEFUND_NOTIFY_URL=hook.url)
    finally:
        hook.stop()
    h.no_traceback(second)
    assert (second.code, second.err) == (0, "")
    assert len(hook.alerts) == len(set(hook.alerts)) == baseline.new_alerts
    # Recorded as delivered: a later run does not send them again.
    ledger = (case.workdir / "alerts.notified.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(ledger) == baseline.new_alerts
    assert h.survivors(first.processes | second.processes) == []


# ================================================================== the disk


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[Path, str], Path]]:
    """mount(dir, size): a tmpfs of `size` at `dir`, unmounted after the test (needs root)."""
    mounted: list[Path] = []

    def mount(directory: Path, size: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                       check=True, capture_output=True)  # fmt: skip
        mounted.append(directory)
        return directory

    yield mount
    for directory in reversed(mounted):
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True)


def test_too_little_disk_space_stops_the_run_before_anything_is_touched(
    tmp_path: Path,
    tmpfs,
    private_pg: PrivatePostgres,
    prefect_api: str,
    inbox_files: dict[str, bytes],
) -> None:
    tmpfs(tmp_path / "disk", "20m")
    c = new_case(tmp_path / "disk", private_pg, prefect_api, inbox_files)
    done = c.run(GUIDEFUND_DISK_MARGIN_MB="50")

    h.no_traceback(done)
    assert done.code == 2
    assert len(done.console) == 1
    line = done.err_lines[0]
    assert line.startswith(
        f"guidefund: 磁盘空间不足：{(tmp_path / 'disk' / 'work').resolve()} 所在磁盘剩余 "
    )
    assert "GUIDEFUND_DISK_MARGIN_MB=50" in line and line.endswith("收件箱中的文件未动")
    untouched(c)
    assert not inspect(create_engine(c.url)).has_table("run")  # the warehouse was not opened


def test_a_full_disk_for_data_docs_and_a_refusing_mail_server_keep_the_night_and_exit_1(
    case: Case, tmpfs, baseline: Baseline
) -> None:
    """Two secondary steps fail in one run: each is one line, the summary stays, and the held
    alerts are mailed once by the next run."""
    # Data Docs go to a disk that holds almost nothing: writing them fails with ENOSPC.
    tmpfs(case.workdir / "data_docs", "16k")
    box = Mailbox()
    done = case.run(GUIDEFUND_NOTIFY_URL=box.url)

    h.no_traceback(done)
    assert done.code == 1
    assert re.match(
        rf"汇总运行 #1（截至 [0-9-]{{10}}）：收到 {FILES + 1} 个文件，接收 {FILES}，退回 1，",
        done.out,
    )
    assert "校验报告（Data Docs）" not in done.out
    docs, mail = done.err_lines
    assert docs.startswith("guidefund: 校验报告（Data Docs）未能生成（磁盘空间已满")
    assert docs.endswith("下次运行时生成新的报告")
    assert mail == (
        f"guidefund: 预警 {baseline.new_alerts} 条未能发送（smtp://127.0.0.1:{box.port}/："
        "连接被拒绝（服务没有运行或端口不对）），下次运行时重发"
    )
    assert filed(case) == baseline.places
    assert h.warehouse(case.url) == baseline.warehouse

    box.start()
    try:
        second = case.run(GUIDEFUND_NOTIFY_URL=box.url)
    finally:
        box.stop()
    h.no_traceback(second)
    assert second.code == 1  # Data Docs still cannot be written
    assert len(box.messages) == 1
    subject = email.message_from_string(box.messages[0], policy=email.policy.default)["Subject"]
    assert subject == f"guidefund：{baseline.new_alerts} 条新预警（650000 2024）"
    assert h.survivors(done.processes | second.processes) == []


# ================================================================== Prefect's API


def test_an_unreachable_prefect_api_is_one_line_and_nothing_is_touched(case: Case) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = case.run(PREFECT_API_URL=f"http://127.0.0.1:{port}/api")

    h.no_traceback(done)
    assert done.code == 2
    assert done.console == [
        f"guidefund: Prefect 服务无法连接（http://127.0.0.1:{port}/api）：请检查 PREFECT_API_URL "
        "与 Prefect 服务（prefect server start）；本次没有处理任何文件"
    ]
    untouched(case)


# ================================================================== stopping


# step → (table, lock mode that makes the run wait there, the checkpoint it then stops at)
# (Before reading: the SIGINT case below, with the command's own temporary Prefect API.)
STAGES = {
    "loading": ("receipt", "EXCLUSIVE", "确定报告期"),
    "alerts": ("alert", "EXCLUSIVE", "汇总表"),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_sigterm_in_each_stage_stops_at_the_next_safe_point_with_one_line(
    stage: str, case: Case, baseline: Baseline
) -> None:
    table, mode, stops_before = STAGES[stage]
    migrated(case)
    holder = TableLock(case.url, table, mode)
    run = case.start()
    try:
        h.wait_until(lambda: lock_waiter(case.url), 120, f"the run waiting in stage {stage}")
        run.signal(signal.SIGTERM)
    finally:
        holder.release()
    done = run.wait()

    h.no_traceback(done)
    assert done.code == 2
    assert len(done.console) == 1
    line = done.err_lines[0]
    assert line.startswith(f"guidefund: 已停止（收到 SIGTERM），在「{stops_before}」之前停止；")
    assert h.survivors(done.processes) == []
    assert "文件已入库并归档（接收 12，退回 1）" in line
    assert filed(case) == baseline.places
    now = h.warehouse(case.url)
    assert now["submission"] == baseline.warehouse["submission"]
    assert now["fund_execution"] == baseline.warehouse["fund_execution"]
    if stage == "loading":
        # The next night does what the stop left out, and the warehouse is the undisturbed one.
        again = case.run()
        assert again.code == 1 and again.err == ""
        assert filed(case) == baseline.places
        assert h.warehouse(case.url) == baseline.warehouse


def test_the_temporary_prefect_api_ends_with_the_command_even_on_sigkill(case: Case) -> None:
    env = {k: v for k, v in case.env.items() if k != "PREFECT_API_URL"}
    run = h.Run(["nightly", "--year", "2024"], env)
    server = h.wait_until(run.children, 60, "the temporary Prefect API started")
    run.signal(signal.SIGKILL)
    done = run.wait()

    assert done.code == -signal.SIGKILL
    left = h.survivors(server | done.processes)
    h.kill_all(server)
    assert left == []


def test_sigint_with_the_temporary_prefect_api_stops_cleanly_and_leaves_no_server(
    case: Case,
) -> None:
    env = {k: v for k, v in case.env.items() if k != "PREFECT_API_URL"}
    migrated(case)
    holder = TableLock(case.url, "submission", "ACCESS EXCLUSIVE")
    run = h.Run(["nightly", "--year", "2024"], env)
    try:
        h.wait_until(lambda: lock_waiter(case.url), 180, "the run waiting for its history")
        run.signal(signal.SIGINT)
    finally:
        holder.release()
    done = run.wait()

    h.no_traceback(done)
    assert done.code == 2
    assert done.console == [
        "guidefund: 已停止（收到 SIGINT），在「读取与校验」之前停止；收件箱文件未动，下次运行时处理"
    ]
    untouched(case)
    assert done.processes and h.survivors(done.processes) == []


def test_a_disk_that_fills_up_during_the_primary_work_is_one_line_and_loses_nothing(
    tmp_path: Path, tmpfs, private_pg: PrivatePostgres, prefect_api: str,
    inbox_files: dict[str, bytes],
) -> None:  # fmt: skip
    """The SQLite warehouse on a small disk that something else fills while the run waits for
    the warehouse (another writer holds it): the run's next write fails, its transaction rolls
    back, the files stay in the inbox, and the console has the wait lines and one line."""
    import sqlite3

    disk = tmpfs(tmp_path / "disk", "8m")
    c = new_case(disk, private_pg, prefect_api, inbox_files)
    env = {k: v for k, v in c.env.items() if k != "GUIDEFUND_WAREHOUSE_URL"}
    assert h.guidefund(["db", "upgrade"], env).code == 0  # the SQLite file on the small disk
    db = c.workdir / "warehouse.sqlite"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    run = h.Run(["nightly", "--year", "2024"], env)
    log = c.workdir / "logs" / "guidefund.log"
    h.wait_until(
        lambda: log.exists() and "数据库暂时无法使用（打开仓库）" in log.read_text("utf-8"),
        120,
        "the run waiting for the warehouse",
    )
    # The disk fills up meanwhile. Unbuffered: a buffered file would try to write its rest again
    # when closed and raise ENOSPC there.
    with (disk / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError:
            pass
    other.execute("ROLLBACK")
    other.close()
    done = run.wait()

    h.no_traceback(done)
    assert done.code == 2
    *waits, line = done.console
    assert all(
        w.startswith("数据库暂时无法使用（打开仓库）：数据库文件被其他程序占用") for w in waits
    )
    assert line == (
        f"guidefund: 磁盘空间已满，数据库无法写入（sqlite:///{db.resolve()}）：请腾出空间后重新运行"
    )
    untouched(c)
    assert h.warehouse(f"sqlite:///{db}")["submission"] == []
    assert h.survivors(done.processes) == []
