"""The `guidefund` command.

Exit codes: 0 done; 1 done, but something needs attention (rejected files or new alerts for
`nightly`, missing or rejected submissions for `status`, findings for `audit`, a file that would be
rejected for `check`); `demo` exits 0 whenever it ran;
2 could not run (bad arguments, unreadable reference data or configuration, warehouse unreachable,
or for `check` a file that is not a workbook at all).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from flows.settings import Settings, quiet_environment

EXIT_OK, EXIT_ATTENTION, EXIT_FAILED = 0, 1, 2

# Modules that add their own subcommands: each has `register(add)`, where `add(name, help, func)`
# returns the subcommand's argparse parser (with --workdir already on it).
COMMAND_MODULES = ("flows.check", "flows.status", "flows.audit", "flows.deploy")


def settings_from(args: argparse.Namespace) -> Settings:
    workdir = getattr(args, "workdir", None)
    return Settings(workdir=workdir) if workdir else Settings()


def prepare_runtime(settings: Settings) -> None:
    """Before Prefect or GX is imported: keep them local and quiet, with Prefect's home in place."""
    for key, value in quiet_environment(settings).items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def reference_for(settings: Settings, year: int | None):  # type: ignore[no-untyped-def]
    from flows.reference import load_reference

    return load_reference(settings.reference_dir, year or settings.year)


def cmd_template(args: argparse.Namespace) -> int:
    from flows.template import write_templates

    settings = settings_from(args)
    paths = write_templates(
        reference_for(settings, args.year), Path(args.out), args.project or None
    )
    print(f"已生成 {len(paths)} 个填报模板：{Path(args.out).resolve()}")
    return EXIT_OK


def cmd_samples(args: argparse.Namespace) -> int:
    from flows.samples import write_samples

    settings = settings_from(args)
    paths = write_samples(reference_for(settings, args.year), Path(args.out), seed=args.seed)
    print(f"已生成 {len(paths)} 份样例填报（seed={args.seed}）：{Path(args.out).resolve()}")
    return EXIT_OK


def cmd_nightly(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from flows.nightly import nightly_consolidation

    summary = nightly_consolidation(year=args.year, workdir=str(settings.workdir))
    _print_nightly(summary.as_dict(), args.json)
    return EXIT_ATTENTION if summary.rejected or summary.new_alerts else EXIT_OK


def _print_nightly(summary: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print(
        f"汇总运行 #{summary['run_id']}：收到 {summary['received']} 个文件，接收 {summary['accepted']}，"
        f"退回 {summary['rejected']}，重复 {summary['duplicate']}，被替代 {summary['superseded']}"
    )
    for name, lines in summary["rejected_files"].items():  # type: ignore[attr-defined]
        print(f"  退回 {name}:")
        for line in lines:
            print(f"    {line}")
    for message in summary["consolidated_findings"]:  # type: ignore[attr-defined]
        print(f"  汇总检查：{message}")
    print(f"  提醒 {summary['warnings']} 条，新预警 {summary['new_alerts']} 条")
    print(f"  汇总表：{summary['consolidated_xlsx']}")
    print(f"  校验报告（Data Docs）：{summary['data_docs']}")


def cmd_year_end(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from flows.report import render_text
    from flows.year_end import year_end_aggregation

    done = year_end_aggregation(year=args.year, workdir=str(settings.workdir), out=args.out)
    print(render_text(reference_for(settings, done.year), done.results, done.budget))
    for path in done.files:
        print(f"已写出 {path}")
    return EXIT_OK


def cmd_indicators(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from flows.breakdown import consolidate
    from flows.report import indicators_json, render_text
    from flows.tasks import engine_for

    ref = reference_for(settings, args.year)
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


def cmd_db(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from warehouse.db import make_engine, upgrade

    upgrade(make_engine(settings.database_url))
    print(f"数据库已升级到最新结构：{_safe_url(settings.database_url)}")
    return EXIT_OK


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from flows.nightly import nightly_consolidation
    from flows.report import render_text
    from flows.samples import write_samples
    from flows.year_end import year_end_aggregation

    ref = reference_for(settings, args.year)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    if not any(settings.archive.glob("*.xlsx")):
        write_samples(ref, settings.inbox, seed=args.seed)
        print(f"已在 {settings.inbox} 生成 {len(ref.plan)} 份样例填报（seed={args.seed}）")
    else:
        print(f"{settings.archive} 已有入库文件，不再生成样例；重新汇总并出表")
    summary = nightly_consolidation(year=ref.year, workdir=str(settings.workdir))
    _print_nightly(summary.as_dict(), as_json=False)
    done = year_end_aggregation(year=ref.year, workdir=str(settings.workdir))
    print()
    print(render_text(ref, done.results, done.budget))
    print()
    for path in done.files:
        print(f"已写出 {path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guidefund",
        description="中央引导地方科技发展资金：填报模板、汇总入库、校验和年度自评。",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, helptext: str, func) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.set_defaults(func=func)
        p.add_argument(
            "--workdir", help="working directory (default: GUIDEFUND_WORKDIR or ./guidefund-work)"
        )
        return p

    p = add(
        "template", "write the empty submission template, one .xlsx per plan project", cmd_template
    )
    p.add_argument("--year", type=int)
    p.add_argument("--out", required=True, help="folder to write the templates to")
    p.add_argument(
        "--project", type=int, action="append", help="only this project number (repeatable)"
    )

    p = add(
        "samples",
        "write sample submissions that reproduce the seed's reported results",
        cmd_samples,
    )
    p.add_argument("--year", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2024)

    p = add(
        "nightly", "consolidate the inbox into the warehouse now (the nightly flow)", cmd_nightly
    )
    p.add_argument("--year", type=int)
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")

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

    p = add("db", "warehouse maintenance: `guidefund db upgrade` applies the migrations", cmd_db)
    p.add_argument("action", choices=["upgrade"])

    p = add(
        "demo", "generate the samples, run both flows and print the self-evaluation table", cmd_demo
    )
    p.add_argument("--year", type=int)
    p.add_argument("--seed", type=int, default=2024)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - one line, no traceback, for any failure to run
        from flows.reference import ReferenceError

        if isinstance(exc, ReferenceError):
            print(f"guidefund: 参考数据有误：{exc}", file=sys.stderr)
        else:
            print(f"guidefund: 无法完成：{type(exc).__name__}: {exc}", file=sys.stderr)
        if Settings().debug:
            raise
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
