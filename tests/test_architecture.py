"""The rooms of ARCHITECTURE.md hold: imports point down, never up, and no module imports itself
back through others. Read from the source (every import, inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# folder → package, as pyproject.toml maps them
FOLDERS = {
    "guidefund": "guidefund",
    "flows": "guidefund.flows",
    "warehouse": "guidefund.warehouse",
    "expectations": "guidefund.expectations",
}
# room → rank: a module may import its own room and rooms of a lower rank
RANKS = {
    "cli": 7,
    "flows": 6,
    "portal": 6,
    "reports": 5,
    "evaluate": 4,
    "intake": 3,
    "warehouse": 2,
    "expectations": 2,
    "bottom": 1,
}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            if "migrations" in rel.parts:
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def room(module: str) -> str:
    parts = [*module.split("."), ""]
    if parts[1] in (
        "cli",
        "flows",
        "portal",
        "reports",
        "evaluate",
        "intake",
        "warehouse",
        "expectations",
    ):
        return parts[1]
    return "reports" if parts[1] == "notify" else "bottom"


def imports(path: Path, module: str, known: set[str]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and name != "guidefund":
                out.add(name)
    return out


GRAPH = {m: imports(p, m, set(modules())) for m, p in modules().items()}


def test_every_import_points_to_the_same_room_or_a_lower_one() -> None:
    upward = sorted(
        f"{m} ({room(m)}) imports {t} ({room(t)})"
        for m, targets in GRAPH.items()
        for t in targets
        if RANKS[room(t)] > RANKS[room(m)]
        or (room(t) != room(m) and RANKS[room(t)] == RANKS[room(m)])
    )
    assert upward == []


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(GRAPH[m]):
            if state.get(t) == 1:
                cycles.append(" → ".join(path[path.index(t) :] + [t]))
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_sql_is_written_only_in_the_warehouse() -> None:
    outside = sorted(
        m
        for m, p in modules().items()
        if room(m) != "warehouse"
        and any(
            isinstance(n, ast.ImportFrom)
            and n.module == "sqlalchemy"
            and {a.name for a in n.names} & {"select", "insert", "update", "delete", "func", "text"}
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    )
    assert outside == []


def test_each_module_in_flows_defines_a_prefect_flow_task_or_deployment() -> None:
    def prefect_made(path: Path) -> bool:
        text = path.read_text(encoding="utf-8")
        return any(mark in text for mark in ("@flow(", "@task(", "to_deployment("))

    bare = sorted(
        m for m, p in modules().items() if room(m) == "flows" and p.stem != "__init__"
        and not prefect_made(p)
    )  # fmt: skip
    assert bare == []
