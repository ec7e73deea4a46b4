"""A private PostgreSQL 15 instance for tests that stop, restart or break the database server.

Never the shared server: initdb into a fresh directory under /tmp (reachable by user postgres),
its own port and socket directory, fsync off. Needs root (initdb refuses to run as root, so it
runs as user postgres through runuser), as CI runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> str | None:
    """Why a private instance cannot be made here, or None."""
    if os.geteuid() != 0:
        return "a private PostgreSQL needs root (runuser -u postgres)"
    if not (BIN / "initdb").exists() or shutil.which("runuser") is None:
        return f"no PostgreSQL 15 server binaries in {BIN}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gf-pg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.data, self.sock = self.root / "data", self.root / "sock"
        for d in (self.data, self.sock):
            d.mkdir()
            shutil.chown(d, "postgres", "postgres")
        self.data.chmod(0o700)
        self.port = _free_port()
        self._pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self.start()

    def _pg(self, tool: str, *args: object) -> None:
        command = ["runuser", "-u", "postgres", "--", str(BIN / tool), *map(str, args)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres", password: str = "") -> str:
        auth = f"postgres:{password}" if password else "postgres"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", self.data, "-l", self.data / "log", "-w", "-o", options, "start")

    def stop(self) -> None:
        """Stop as a crash or a failover does: immediately, sessions cut off."""
        self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def start_after(self, seconds: float) -> threading.Thread:
        """Start the server again `seconds` from now, in the background."""
        timer = threading.Timer(seconds, self.start)
        timer.start()
        return timer

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def createdb(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
