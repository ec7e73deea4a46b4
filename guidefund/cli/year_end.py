"""`guidefund year-end` (the year-end flow) and `guidefund indicators` (the table alone)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    prepare_runtime,
    reference_for,
    run_flow,
    settings_from,
)
from guidefund.cli.nightly import print_problems


def cmd_year_end(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.year_end import year_end_aggregation

        return lambda: year_end_aggregation(
            year=ref.year, workdir=str(settings.workdir), out=args.out
        )

    done = run_flow(settings, start)
    from guidefund.reports.text import render_text

    print(render_text(ref, done.results, done.budget))
    for path in done.files:
        print(f"已写出 {path}")
    print_problems(done.problems)
    return EXIT_ATTENTION if done.problems else EXIT_OK


def cmd_indicators(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    prepare_runtime(settings)
    from guidefund.evaluate.figures import consolidate
    from guidefund.reports.text import indicators_json, render_text
    from guidefund.warehouse.db import engine_for

    results, budget, _ = consolidate(
        engine_for(settings.database_url),
        ref,
        str(ref.year),
        settings.explain_under_pct,
        settings.explain_over_pct,
    )
    if args.json:
        print(json.dumps(indicators_json(results), ensure_ascii=False, indent=2))
    else:
        print(render_text(ref, results, budget))
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add(
        "year-end",
        "compute the year's self-evaluation table and write it (the year-end flow)",
        cmd_year_end,
    )
    p.add_argument("--year", type=int)
    p.add_argument("--out", help="folder for the report files (default: <workdir>/reports)")

    p = add("indicators", "print the indicator results computed from the warehouse", cmd_indicators)
    p.add_argument("--year", type=int)
    p.add_argument("--json", action="store_true", help="print a JSON list of objects")
