"""`guidefund demo`: the samples, both flows, and the self-evaluation table."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guidefund.cli.common import (
    EXIT_OK,
    add_scope,
    describe,
    reference_for,
    run_flow,
    settings_from,
)
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
            scope = {"year": ref.year, "workdir": str(settings.workdir), "region": ref.region_code}
            summary = nightly_consolidation(**scope)
            print_summary(summary.as_dict(), as_json=False)
            print_problems(summary.problems)
            return year_end_aggregation(**scope)

        return go

    done = run_flow(settings, start)
    from guidefund.reports.text import render_text

    print()
    print(render_text(ref, done.results, done.budget))
    print()
    for path in done.files:
        print(f"已写出 {path}")
    print_problems(done.problems)
    print()
    print(next_steps(settings.workdir, ref.year, settings.region))
    return EXIT_OK


def next_steps(workdir: Path, year: int, region: str = "") -> str:
    """How to go on after the demo: `make demo` installs guidefund into .venv, which is not on
    the PATH, so the commands are shown with the path they run from (or how to activate it)."""
    bin_dir = Path(sys.executable).parent
    on_path = shutil.which("guidefund")
    if on_path and Path(on_path).parent.resolve() == bin_dir.resolve():
        command, activate = "guidefund", ""
    else:
        command = _shown(bin_dir / "guidefund")
        activate = f"或先执行 source {_shown(bin_dir / 'activate')}，之后直接输入 guidefund …"
    where = "" if workdir == Path("guidefund-work") else f" --workdir {workdir}"
    where += f" --region {region}" if region else ""
    steps = [
        (f"{command} status --year {year}{where}", "各项目的报送状态"),
        (f"{command} check {workdir / 'inbox'}/", "检查单位交来的文件"),
        (f"{command} year-end --year {year}{where}", "重新出年度自评"),
        (
            f"{command} links --year {year}{where} --base-url http://127.0.0.1:8000 "
            f"--out {workdir / '单位链接.xlsx'}",
            "各单位上传文件的专用链接",
        ),
        (f"{command} portal{where}", "启动填报网页（http://127.0.0.1:8000）"),
        (f"{command} --help", "全部命令"),
    ]
    width = max(len(c) for c, _ in steps) + 2
    lines = ["接下来可以运行：", *(f"  {c.ljust(width)}# {what}" for c, what in steps)]
    return "\n".join([*lines, activate] if activate else lines)


def _shown(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (.venv/bin/guidefund)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def register(add: Callable[..., Any]) -> None:
    p = add("demo", "演示：生成样例、运行两个流程并打印自评表", cmd_demo)
    add_scope(p)
    p.add_argument("--seed", type=int, default=2024, help="样例的随机种子（默认 2024）")
    describe(
        p,
        "在工作目录的收件箱生成 136 份样例填报，运行每晚汇总和年度自评（内置 SQLite 汇总库），"
        "打印自评表和得分，最后提示接下来可运行的命令。",
        examples=["guidefund demo", "guidefund demo --workdir /tmp/guidefund-demo"],
        exits={0: "已运行", 2: "无法运行"},
    )
