"""`guidefund demo`: the samples, both flows, and the self-evaluation table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import EXIT_OK, reference_for, run_flow, settings_from
from guidefund.cli.nightly import print_problems, print_summary


def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ref = reference_for(settings, args.year)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.nightly import nightly_consolidation
        from guidefund.flows.year_end import year_end_aggregation
        from guidefund.intake.samples import write_samples

        def go():  # type: ignore[no-untyped-def]
            settings.inbox.mkdir(parents=True, exist_ok=True)
            if not any(settings.archive.glob("*.xlsx")):
                write_samples(ref, settings.inbox, seed=args.seed)
                print(f"已在 {settings.inbox} 生成 {len(ref.plan)} 份样例填报（seed={args.seed}）")
            else:
                print(f"{settings.archive} 已有入库文件，不再生成样例；重新汇总并出表")
            summary = nightly_consolidation(year=ref.year, workdir=str(settings.workdir))
            print_summary(summary.as_dict(), as_json=False)
            print_problems(summary.problems)
            return year_end_aggregation(year=ref.year, workdir=str(settings.workdir))

        return go

    done = run_flow(settings, start)
    from guidefund.reports.text import render_text

    print()
    print(render_text(ref, done.results, done.budget))
    print()
    for path in done.files:
        print(f"已写出 {path}")
    print_problems(done.problems)
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add(
        "demo", "generate the samples, run both flows and print the self-evaluation table", cmd_demo
    )
    p.add_argument("--year", type=int)
    p.add_argument("--seed", type=int, default=2024)
