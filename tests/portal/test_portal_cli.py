"""`guidefund portal` as a person runs it: it serves a unit's link, and SIGINT or SIGTERM stops it
with one line and exit 0, no traceback; without an up-to-date warehouse it says so (exit 2)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from guidefund.reference import Reference
from tests.quirks import submission_file

from .conftest import make_site

BIN = Path(sys.executable).parent / "guidefund"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_serves_links_and_stops_cleanly(
    tmp_path: Path, ref: Reference, stop: signal.Signals
) -> None:
    for site in make_site(tmp_path / "work", ref):
        port = free_port()
        proc = subprocess.Popen(
            [str(BIN), "portal", "--workdir", str(site.workdir), "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/u/{site.token(site.unit_a)}", timeout=2)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                    time.sleep(0.2)
            assert r.status_code == 200 and site.unit_a in r.text
            # one upload through the command's validating processes (one per core)
            bad = submission_file(ref, site.project_a, tmp_path / "bad.xlsx", funds_spent=-5)
            answer = httpx.post(
                f"http://127.0.0.1:{port}/u/{site.token(site.unit_a)}",
                files=[("files", ("bad.xlsx", bad.read_bytes()))],
                headers={"accept": "application/json"}, timeout=60,
            ).json()  # fmt: skip
            assert answer[0]["accepted"] is False
            assert [f["cell"] for f in answer[0]["findings"] if f["sheet"] == "资金情况"] == ["C5"]
            # a failure inside a request: a Chinese page, one line on the console, no traceback
            with sqlite3.connect(site.workdir / "warehouse.sqlite") as conn:
                conn.execute("ALTER TABLE portal_upload RENAME TO portal_upload_gone")
            failed = httpx.post(
                f"http://127.0.0.1:{port}/u/{site.token(site.unit_a)}",
                files=[("files", ("again.xlsx", bad.read_bytes() + b"x"))], timeout=60,
            )  # fmt: skip
            assert failed.status_code == 500 and "服务器处理出错" in failed.text
            assert "Traceback" not in failed.text and "portal_upload" not in failed.text
        finally:
            proc.send_signal(stop)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert out.splitlines()[-1] == "已停止填报网页。"
        assert "Traceback" not in out + err
        assert [ln for ln in err.splitlines() if ln.strip()] == [
            "填报网页处理 POST /u/{token} 时出错（OperationalError），详见 <工作目录>/logs/guidefund.log"
        ]
        assert site.token(site.unit_a) not in err
        log = (site.workdir / "logs" / "guidefund.log").read_text(encoding="utf-8")
        assert "Traceback" in log and "portal_upload" in log


def test_without_the_warehouse_schema_it_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN), "portal", "--workdir", str(tmp_path), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "guidefund db upgrade" in done.stderr and "Traceback" not in done.stderr
