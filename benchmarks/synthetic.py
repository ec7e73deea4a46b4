"""Synthetic stored submissions for the warehouse benchmarks (warehouse_load.py, year_end_sql.py).

A synthetic region repeats the real plan's projects (same directions, units and allocations,
numbered 1..N) until it has as many as asked for, so N submissions are N current annual reports
of one region and year: one batch, like a consolidating ministry's nightly run. Values are drawn
per field kind from the year's template_fields.csv, deterministically from `seed`, and keep the
money plausible (spent ≤ received = allocation).

Use from a benchmark script (`benchmarks/` is on sys.path when a script there runs):

    from synthetic import synthetic_reference, synthetic_submissions, store
    ref = synthetic_reference(load_reference(root, 2024), projects=50_000)
    subs = synthetic_submissions(ref)
    store(engine, ref, subs)   # migrates, then one run, one load_batch
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine  # noqa: E402

from guidefund.intake.template import prefill  # noqa: E402
from guidefund.records import Finding, Submission, Value  # noqa: E402
from guidefund.reference import CARRIED, DIRECT, NEW, POST, Field, Reference  # noqa: E402
from guidefund.warehouse.db import upgrade  # noqa: E402
from guidefund.warehouse.load import LoadResult, finish_run, load_batch, start_run  # noqa: E402

CENT = Decimal("0.01")


def synthetic_reference(
    base: Reference,
    projects: int,
    region_code: str = "990000",
    region_name: str = "合成地区（基准测试）",
    year: int | None = None,
) -> Reference:
    """`base` with its plan repeated to `projects` projects; budgets and counts recomputed so
    the warehouse's plan-vs-submitted figures stay consistent."""
    plan = tuple(
        replace(src, no=i + 1, name=f"{src.name}（合成{i + 1}）")
        for i, src in ((i, base.plan[i % len(base.plan)]) for i in range(projects))
    )
    money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    kinds: Counter[tuple[str, str, str]] = Counter()
    for p in plan:
        money[(p.category, p.project_type)] += p.allocation
        kinds[(p.category, p.project_type, p.support_mode)] += 1
    budget = {
        cat: replace(
            b,
            carried=money[(cat, CARRIED)],
            new=money[(cat, NEW)],
            total=money[(cat, CARRIED)] + money[(cat, NEW)],
            projects=sum(v for (c, _, _), v in kinds.items() if c == cat),
            carried_projects=sum(v for (c, t, _), v in kinds.items() if c == cat and t == CARRIED),
            new_direct_projects=kinds[(cat, NEW, DIRECT)],
            new_post_projects=kinds[(cat, NEW, POST)],
        )
        for cat, b in base.budget.items()
    }
    annual = sum((b.total for b in budget.values()), Decimal(0))
    counts = {
        "项目总数": len(plan),
        "新上项目数": sum(1 for p in plan if p.project_type == NEW),
        "结转项目数": sum(1 for p in plan if p.project_type == CARRIED),
        "新上直接补助项目数": sum(v for (_, t, s), v in kinds.items() if t == NEW and s == DIRECT),
        "新上后补助项目数": sum(v for (_, t, s), v in kinds.items() if t == NEW and s == POST),
    }
    return replace(
        base,
        year=year or base.year,
        region_code=region_code,
        region_name=region_name,
        annual_amount=annual,
        central_amount=annual,
        local_amount=Decimal(0),
        counts=counts,
        plan=plan,
        budget=budget,
        # the first budget line (中央财政资金) carries the whole plan, the others stay as they are
        budget_lines=tuple(
            replace(line, budget=annual) if i == 0 else line
            for i, line in enumerate(base.budget_lines)
        ),
    )


def synthetic_submissions(
    ref: Reference, n: int | None = None, period: str | None = None, seed: int = 0
) -> list[Submission]:
    """One submission per plan project (the first `n`), for `period` (default: the annual
    report). The SHA-256 follows region, year, project, period and seed: a new seed is a new
    version of every report, the same seed is the same files again."""
    rng = random.Random(seed)
    period = period or str(ref.year)
    subs = []
    for p in ref.plan[:n]:
        values: dict[str, Value] = {**prefill(p, ref), "period": period}
        for f in ref.fields:
            if f.key not in values:
                values[f.key] = _draw(f, rng, ref.year)
        values["funds_received"] = values["funds_on_time"] = p.allocation
        spent = p.allocation * Decimal(rng.randint(50, 100)) / 100
        values["funds_spent"] = spent.quantize(CENT)
        key = f"{ref.region_code}|{ref.year}|{p.no}|{period}|{seed}"
        name = f"{p.no:05d}_{period}.xlsx"
        subs.append(
            Submission(
                path=Path("synthetic") / name,
                sha256=hashlib.sha256(key.encode()).hexdigest(),
                values=values,
            )
        )
    return subs


def reject_every(
    subs: list[Submission], every: int
) -> tuple[list[Submission], list[tuple[Submission, list[Finding]]]]:
    """Split a batch: every `every`-th submission is rejected, with one critical finding on
    实际支出 (as validation would report it); the rest are accepted."""
    if every <= 0:
        return list(subs), []
    rejected = [
        (s, [Finding(s.file_name, "资金情况", "C5", "funds_spent", "实际支出", "-1",
                     "funds_non_negative", "实际支出不能为负数，请改为实际支出金额")])
        for s in subs[::every]
    ]  # fmt: skip
    accepted = [s for i, s in enumerate(subs) if i % every]
    return accepted, rejected


def store(
    engine: Engine,
    ref: Reference,
    accepted: list[Submission],
    rejected: list[tuple[Submission, list[Finding]]] | None = None,
    flow_name: str = "synthetic",
) -> LoadResult:
    """Migrate the database, then load the batch as one run (the warehouse's bulk path)."""
    upgrade(engine)
    run_id = start_run(engine, flow_name)
    result = load_batch(engine, ref, run_id, accepted, rejected or [])
    finish_run(engine, run_id)
    return result


def _draw(f: Field, rng: random.Random, year: int) -> Value:
    """A plausible value for a template field, by its kind and bounds."""
    if f.kind == "money":
        return (Decimal(rng.randint(0, 100_000)) / 100).quantize(CENT)
    if f.kind == "int":
        return rng.randint(0, 200)
    if f.kind == "yesno":
        return rng.random() < 0.1
    if f.kind == "pct":
        return Decimal(rng.randint(6_000, 10_000)) / 100
    if f.kind == "grade":
        return rng.choice(("优", "优", "优", "良"))
    if f.kind == "date":
        return date(year, 12, 31)
    if f.key == "phone":
        return f"0991-{rng.randint(1_000_000, 9_999_999)}"
    return None if not f.required else "张三"
