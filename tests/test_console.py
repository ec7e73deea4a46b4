"""What the operator sees when something is wrong before any work: one line, exit 2, no
traceback (GUIDEFUND_DEBUG=1 shows it); the traceback is in <workdir>/logs/guidefund.log; a
reader that closes the pipe early ends the output quietly. And the one-line wording of OS and
network errors."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from guidefund.cli import main
from guidefund.faults import explain, is_transient_io
from guidefund.intake.space import space_problem
from guidefund.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", ["nightly", "year-end", "demo", "status", "indicators"])
def test_an_unknown_year_is_one_line_and_exit_2_on_every_command(
    command: str, tmp_path: Path, capsys
) -> None:
    code = main([command, "--year", "2023", "--workdir", str(tmp_path / "work")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"guidefund: 参考数据有误：{PROJECT_ROOT / 'data' / 'reference' / '2023'}: "
        "没有 2023 年度的参考数据目录"
    ]
    # Refused before any work: no Prefect home, no warehouse, no inbox made.
    assert not (tmp_path / "work" / ".prefect").exists()
    assert not (tmp_path / "work" / "warehouse.sqlite").exists()


@pytest.fixture
def broken_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the 2024 reference data whose plan.csv has lost its 安排资金（万元） column."""
    root = tmp_path / "reference"
    shutil.copytree(PROJECT_ROOT / "data" / "reference" / "650000" / "2024", root / "2024")
    plan = root / "2024" / "plan.csv"
    lines = plan.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    drop = header.index("安排资金（万元）")
    plan.write_text(
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines)
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    return root


@pytest.mark.parametrize("command", ["nightly", "year-end", "status", "template"])
def test_a_malformed_reference_file_is_named_with_its_column_before_any_work(
    command: str, broken_reference: Path, tmp_path: Path, capsys
) -> None:
    args = [command, "--year", "2024", "--workdir", str(tmp_path / "work")]
    if command == "template":
        args += ["--out", str(tmp_path / "t")]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"guidefund: 参考数据有误：{broken_reference / '2024'}: plan.csv 缺少列 安排资金（万元）"
    ]
    assert not (tmp_path / "work" / ".prefect").exists()
    assert not (tmp_path / "t").exists()


def test_the_traceback_goes_to_the_log_file_and_to_the_console_only_in_debug(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    assert main(["nightly", "--year", "2023", "--workdir", str(work)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    log = (work / "logs" / "guidefund.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log
    assert "ReferenceError: " in log

    monkeypatch.setenv("GUIDEFUND_DEBUG", "1")
    assert main(["nightly", "--year", "2023", "--workdir", str(work)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("guidefund: 参考数据有误：")


def test_a_reader_that_closes_the_pipe_early_ends_the_output_quietly(tmp_path: Path) -> None:
    """`guidefund audit … | head -1`: no BrokenPipeError, and the command's own exit code."""
    figures = PROJECT_ROOT / "data" / "reference" / "650000" / "2024" / "stated_figures.csv"
    process = subprocess.Popen(
        [str(BIN / "guidefund"), "audit", str(figures), "--workdir", str(tmp_path / "w")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    err = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert first.decode().strip()  # it did print
    assert err == ""
    assert code == 1  # audit's own answer: findings


# ------------------------------------------------------------------ words for the operator


def test_os_and_network_errors_become_what_the_operator_does() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/gf/data_docs/index.html")
    refused = urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert explain(full) == "磁盘空间已满（/srv/gf/data_docs/index.html）：请腾出空间后重新运行"
    assert explain(PermissionError(errno.EACCES, "denied", "/srv/gf/inbox")) == (
        "没有权限（/srv/gf/inbox）：请检查运行账户对工作目录的读写权限"
    )
    assert explain(refused) == "连接被拒绝（服务没有运行或端口不对）"
    assert explain(KeyError("x")) == "程序内部错误 KeyError: 'x'"


def test_only_errors_that_pass_by_themselves_are_retried() -> None:
    def http(code: int) -> urllib.error.HTTPError:
        return urllib.error.HTTPError("http://127.0.0.1/", code, "x", None, None)  # type: ignore[arg-type]

    transient = [
        urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "refused")),
        http(503),
        http(429),
        TimeoutError(),
        OSError(errno.ESTALE, "stale NFS handle"),
    ]
    lasting = [
        http(404),
        OSError(errno.ENOSPC, "full"),
        PermissionError(errno.EACCES, "denied"),
        ValueError("bad url"),
    ]
    assert [is_transient_io(e) for e in transient] == [True] * len(transient)
    assert [is_transient_io(e) for e in lasting] == [False] * len(lasting)


def test_the_space_check_asks_for_the_inbox_again_plus_the_margin(tmp_path: Path) -> None:
    inbox = tmp_path / "work" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "a.xlsx").write_bytes(b"x" * 3 * 1024 * 1024)
    free_mb = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    assert space_problem(tmp_path / "work", inbox, 0) is None
    line = space_problem(tmp_path / "work", inbox, free_mb)
    assert line is not None
    assert line.startswith(f"磁盘空间不足：{(tmp_path / 'work').resolve()} 所在磁盘剩余 ")
    assert f"（收件箱 3.0 MB + 余量 GUIDEFUND_DISK_MARGIN_MB={free_mb}）" in line
