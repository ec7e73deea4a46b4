"""`guidefund check` evaluates the submission suites without importing GX (issue 10, item 5):
the same suites must give the same failures, row for row, as Great Expectations does, over a
batch with every kind of value the suites judge (good files, and files breaking each rule)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from guidefund.expectations import SUBMISSION_SUITE, WARNING_SUITE, light, suite_data
from guidefund.intake.batch import read_batch
from guidefund.intake.outliers import Thresholds, find_outliers
from guidefund.intake.validate import submission_frame, submission_parameters
from guidefund.reference import Field, Reference
from guidefund.settings import Settings

from .quirks import edit, submission_file

# One file per way to break (or nearly break) a rule, each a different plan project.
EDITS: list[tuple[int, str, dict[str, object]]] = [
    (3, "基本信息", {"C4": "GF-2023.1"}),  # template version not accepted
    (4, "基本信息", {"C5": 999}),  # not in the plan
    (5, "基本信息", {"C6": "别的项目名称"}),  # identity differs from the plan
    (6, "基本信息", {"C12": 1}),  # allocation differs from the plan
    (7, "资金情况", {"C5": -5}),  # negative
    (8, "资金情况", {"C5": 99999}),  # spent more than received
    (9, "绩效指标", {"C4": 2.5}),  # not a whole number
    (10, "绩效指标", {"C15": 120}),  # above 100
    (11, "绩效指标", {"C15": 60}),  # satisfaction low (warning)
    (12, "自评", {"C4": None}),  # required and missing
    (13, "基本信息", {"C13": "2023年度"}),  # another year
    (14, "资金情况", {"C7": 0}),  # an enterprise raising too little (warning)
    (15, "绩效指标", {"C7": None, "C8": None}),  # several missing
]


@pytest.fixture(scope="module")
def batch(ref: Reference, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("parity")
    paths = [Path(shutil.copy(p, out / p.name)) for p in sorted(sample_dir.glob("*.xlsx"))[20:60]]
    for no, sheet, cells in EDITS:
        path = submission_file(ref, no, out / f"edit-{no}.xlsx")
        paths.append(edit(path, sheet, **cells))
    subs = read_batch(paths, ref)
    rules = ref.warning_rules
    thresholds = Thresholds.of(Settings())
    outliers = find_outliers(subs, ref, rules.outlier_fields, rules.outlier_min_peers,
                             thresholds.outlier_factor, {})  # fmt: skip
    frame = submission_frame(subs, ref, outliers)
    return frame, submission_parameters(ref, thresholds), ref.fields


@pytest.mark.parametrize("suite", [SUBMISSION_SUITE, WARNING_SUITE])
def test_the_light_evaluator_fails_the_same_rows_as_great_expectations(batch, suite: str) -> None:
    from guidefund.expectations.runner import run_suite

    frame, parameters, fields = batch
    by_gx = run_suite(frame, suite, parameters, fields=fields)
    here = light.run_suite(frame, suite, parameters, fields=fields)
    assert [(f.order, f.row_keys) for f in here] == [(f.order, f.row_keys) for f in by_gx]
    assert [f.meta for f in here] == [f.meta for f in by_gx]
    assert len(by_gx) >= {SUBMISSION_SUITE: 8, WARNING_SUITE: 3}[suite]  # many rules broken


def _another_year(ref: Reference) -> Reference:
    """The 2024 template without 培训技术经纪人 (brokers) and 实际支出 (funds_spent, which a
    cross-field rule compares), with a count bounded 0–10 and a text with allowed values."""
    added = (
        Field("patents", "绩效指标", "专利授权数", "C16", "int", True, "", Decimal(0),
              Decimal(10), "件", ""),
        Field("level", "绩效指标", "技术水平", "C17", "text", False, "", None, None, "", "",
              ("国际领先", "国内领先")),
    )  # fmt: skip
    kept = tuple(f for f in ref.fields if f.key not in ("brokers", "funds_spent"))
    return dataclasses.replace(ref, fields=kept + added)


@pytest.fixture(scope="module")
def another_year_batch(ref: Reference, sample_dir: Path):  # type: ignore[no-untyped-def]
    year = _another_year(ref)
    subs = read_batch(sorted(sample_dir.glob("*.xlsx"))[:12], ref)
    patents = (0, 10, 11, -1, Decimal("2.5"), None)
    levels = ("国际领先", "世界一流", None, "国内领先", "", "国内领先")
    for sub, count, level in zip(subs, patents, levels, strict=False):  # the rest report neither
        sub.values.update(patents=count, level=level)
    frame = submission_frame(subs, year)
    return frame, submission_parameters(year, Thresholds.of(Settings())), year.fields


def test_generated_expectations_fail_the_same_rows_in_gx_and_the_light_evaluator(
    another_year_batch,
) -> None:
    """A year with a field removed, a field bounded otherwise and a field with allowed values:
    no expectation looks at the removed ones, and both evaluators agree on the new ones."""
    from guidefund.expectations.runner import run_suite

    frame, parameters, fields = another_year_batch
    by_gx = run_suite(frame, SUBMISSION_SUITE, parameters, fields=fields)
    here = light.run_suite(frame, SUBMISSION_SUITE, parameters, fields=fields)

    assert [(f.order, f.row_keys, f.meta) for f in here] == [
        (f.order, f.row_keys, f.meta) for f in by_gx
    ]
    failed = {(f.meta["rule"], f.meta["field"]): f.row_keys for f in by_gx}
    assert failed == {
        ("required", "*"): (5, 6, 7, 8, 9, 10, 11),  # 专利授权数 is required, empty from row 5
        ("value_in_range", "patents"): (2, 3),  # 11 and -1
        ("counts_integer", "patents"): (4,),  # 2.5
        ("value_in_set", "level"): (1, 4),  # 世界一流 and '' are not allowed values
    }
    looked_at = {e["meta"]["field"] for e in suite_data(SUBMISSION_SUITE, fields,
                                                         frame.columns)["expectations"]}  # fmt: skip
    assert not looked_at & {"brokers", "funds_spent"}


def test_an_expectation_type_the_light_evaluator_does_not_know_is_refused() -> None:
    import pandas as pd

    with pytest.raises(KeyError):
        light.EVALUATE["expect_column_kl_divergence_to_be_less_than"](pd.DataFrame(), {})


def test_guidefund_check_imports_neither_gx_nor_prefect_nor_the_warehouse(sample_dir: Path) -> None:
    """What makes one file's check fast: it imports only what it needs."""
    probe = (
        "import sys; from guidefund.cli import main; code = main(['check', sys.argv[1]]); "
        "heavy = [m for m in ('great_expectations', 'prefect', 'sqlalchemy', 'openpyxl') "
        "if m in sys.modules]; print('HEAVY', heavy); sys.exit(code)"
    )
    path = next(sample_dir.glob("046_*.xlsx"))
    ran = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "HEAVY []"
