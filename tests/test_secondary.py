"""A failed secondary step never undoes or hides the primary work: the year-end figures are
computed and stored even when its documents cannot be written; the command prints the table,
one line saying what to do, and exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from guidefund.intake.batch import read_batch
from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.load import load_batch, start_run

pytestmark = pytest.mark.prefect


def test_year_end_whose_reports_cannot_be_written_keeps_its_figures_and_exits_1(
    tmp_path: Path, ref: Reference, sample_dir: Path, prefect_harness: None, capsys
) -> None:
    from guidefund.cli import main

    work = tmp_path / "work"
    engine = make_engine(f"sqlite:///{work / 'warehouse.sqlite'}")
    upgrade(engine)
    subs = read_batch(sorted(sample_dir.glob("*.xlsx")), ref)
    load_batch(engine, ref, start_run(engine, "nightly-consolidation"), subs, [])
    blocked = tmp_path / "reports-is-a-file"
    blocked.write_text("not a folder")

    code = main(["year-end", "--year", "2024", "--workdir", str(work), "--out", str(blocked)])
    out, err = capsys.readouterr()

    assert code == 1
    assert "  合计：7.50 + 47.48 + 29.61 + 10.00 = 94.59 分，等级“优”" in out
    assert "已写出" not in out
    assert err.splitlines() == [
        f"guidefund: 年度报告未能写出（系统错误（{blocked}）：File exists）："
        "指标已保存，处理后重新运行 guidefund year-end 即可写出"
    ]
    with engine.connect() as conn:
        run = conn.execute(
            select(m.Run.id, m.Run.status).where(m.Run.flow_name == "year-end-aggregation")
        ).one()
        stored = conn.execute(
            select(func.count()).where(m.IndicatorResult.run_id == run.id)
        ).scalar_one()
    assert run.status == "succeeded"
    assert stored == len(ref.targets)
