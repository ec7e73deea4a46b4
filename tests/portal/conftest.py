"""A running portal over a real warehouse: SQLite in tmp, the 2024 reference loaded, two units'
links and the office's issued by `guidefund links` itself, the app served in-process through
Starlette's TestClient (the reading pool's workers are real processes)."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from guidefund.reference import Reference
from guidefund.settings import Settings
from tests.quirks import submission_file

BASE = "http://portal.test"


@dataclass
class Site:
    workdir: Path
    settings: Settings
    engine: Engine
    client: TestClient
    links: dict[str, str]  # unit → token
    office: str  # the office's token
    unit_a: str
    unit_b: str
    project_a: int
    project_b: int

    def token(self, unit: str) -> str:
        return self.links[unit]


def units_with_one_project(ref: Reference) -> tuple[str, str, int, int]:
    """Two units of the plan, each with exactly one project: (unit A, unit B, A's, B's)."""
    counts: dict[str, list[int]] = {}
    for p in ref.plan:
        counts.setdefault(p.unit, []).append(p.no)
    single = [(u, nos[0]) for u, nos in counts.items() if len(nos) == 1]
    (a, pa), (b, pb) = single[0], single[1]
    return a, b, pa, pb


def run_links(workdir: Path, *args: str, capsys: pytest.CaptureFixture[str] | None = None) -> int:
    from guidefund.cli import main

    return main(["links", "--workdir", str(workdir), "--year", "2024", *args])


def read_links_csv(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    return {r["申报单位"]: r["链接"] for r in rows}


def make_site(workdir: Path, ref: Reference, **settings: object) -> Iterator[Site]:
    from guidefund.portal.app import create_app
    from guidefund.warehouse.db import make_engine, upgrade
    from guidefund.warehouse.dimensions import load_reference_data

    workdir.mkdir(parents=True, exist_ok=True)
    s = Settings(workdir=workdir, read_workers=1, **settings)
    # `guidefund links` below reads the warehouse URL from the environment, as a person runs it
    env = pytest.MonkeyPatch()
    if s.warehouse_url:
        env.setenv("GUIDEFUND_WAREHOUSE_URL", s.warehouse_url)
    else:
        env.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    engine = make_engine(s.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        load_reference_data(conn, ref)
    out = workdir / "links.csv"
    assert run_links(workdir, "--base-url", BASE, "--out", str(out)) == 0
    links = {u: url.rsplit("/", 1)[1] for u, url in read_links_csv(out).items()}
    from guidefund.portal.links import issue_office_link

    office = issue_office_link(engine, ref, BASE).rsplit("/", 1)[1]
    a, b, pa, pb = units_with_one_project(ref)
    app = create_app(s, ref, engine)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Site(workdir, s, engine, client, links, office, a, b, pa, pb)
    finally:
        engine.dispose()
        env.undo()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, ref: Reference) -> Iterator[Site]:
    yield from make_site(tmp_path_factory.mktemp("portal") / "work", ref)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory, ref: Reference) -> dict[int, bytes]:
    """A valid annual report per project, on demand."""
    folder = tmp_path_factory.mktemp("good")

    class Files(dict):
        def __missing__(self, no: int) -> bytes:
            self[no] = submission_file(ref, no, folder / f"{no:03d}.xlsx").read_bytes()
            return self[no]

    return Files()


@contextlib.contextmanager
def served(app: object) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 (a free port) in a thread; its base URL."""
    import threading

    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
