"""Two regions and two years on one warehouse, written as reference files only (issue 11).

新疆 2025 (a later year: every 10th project of 2024, allocations × 1.5) and 甘肃 2024 (a second
region, a province: every 17th project, allocations × 0.75, so fractional 万元) sit beside the
real 新疆 2024 files under one reference root; each has a target of ≥0 and one of ≤0. Both run
nightly → year-end → weekly digest in their own working directories against one shared
warehouse. Every figure is computed here from the sample values and the plan, independently of
the pipeline's SQL and rules."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from guidefund.intake.samples import generate, write_samples
from guidefund.reference import POST, load_reference
from guidefund.reports.text import summary_text

from .regions import SEED_DIR, Region, write_region

pytestmark = pytest.mark.prefect

ZERO = {"支持央地协同重大科技项目数量": "≥", "培训技术经纪人数量": "≤"}
XINJIANG_2025 = Region("650000", "新疆维吾尔自治区", "新疆", "全区", 2025, 10, Decimal("1.5"), ZERO)
GANSU_2024 = Region("620000", "甘肃省", "甘肃", "全省", 2024, 17, Decimal("0.75"), ZERO)
REGIONS = (XINJIANG_2025, GANSU_2024)
SEED = 7


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def side_by_side(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> Iterator[dict[str, Any]]:
    from guidefund.flows.digest import execution_alerts
    from guidefund.flows.nightly import nightly_consolidation
    from guidefund.flows.year_end import year_end_aggregation

    base = tmp_path_factory.mktemp("regions")
    root = base / "reference"
    shutil.copytree(SEED_DIR, root / "650000" / "2024")
    url = f"sqlite:///{base / 'shared.sqlite'}"
    out: dict[str, Any] = {"root": root, "url": url}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
        env.setenv("GUIDEFUND_WAREHOUSE_URL", url)
        for r in REGIONS:
            write_region(root, r)
            ref = load_reference(root, r.year, r.code)
            work = base / f"work-{r.code}-{r.year}"
            write_samples(ref, work / "inbox", seed=SEED)
            out[r.code] = {"ref": ref, "work": work, "values": generate(ref, SEED)}
        for r in REGIONS:
            work = str(out[r.code]["work"])
            out[r.code]["nightly"] = nightly_consolidation(r.year, work, region=r.code)
        for r in REGIONS:
            work = str(out[r.code]["work"])
            out[r.code]["year_end"] = year_end_aggregation(r.year, work, region=r.code)
        for r in REGIONS:
            work = str(out[r.code]["work"])
            out[r.code]["digest"] = execution_alerts(workdir=work, region=r.code, year=r.year)
        yield out


@pytest.mark.parametrize("r", REGIONS, ids=[f"{r.code}-{r.year}" for r in REGIONS])
def test_each_region_and_year_is_consolidated_from_its_own_files(side_by_side, r: Region) -> None:
    mine = side_by_side[r.code]
    ref, nightly = mine["ref"], mine["nightly"]
    assert (ref.region_code, ref.year, ref.region_whole) == (r.code, r.year, r.whole)
    assert (nightly.received, nightly.accepted, nightly.rejected) == (len(ref.plan),) * 2 + (0,)
    assert nightly.region_code == r.code
    # fractional allocations: at least one plan allocation has a fraction of a 万元
    assert any(p.allocation != p.allocation.to_integral_value() for p in ref.plan)


@pytest.mark.parametrize("r", REGIONS, ids=[f"{r.code}-{r.year}" for r in REGIONS])
def test_the_year_end_figures_are_those_of_the_regions_own_submissions(
    side_by_side, r: Region
) -> None:
    mine = side_by_side[r.code]
    ref, values, year_end = mine["ref"], mine["values"], mine["year_end"]
    allocation = {p.no: p.allocation for p in ref.plan}
    total = sum(allocation.values(), Decimal(0))
    spent = sum((v["funds_spent"] for v in values.values()), Decimal(0))

    central = year_end.budget[1]
    assert (central.budget, central.executed) == (total, spent)
    assert central.rate_pct == cents(spent / total * 100)

    by_name = {x.indicator: x for x in year_end.results}
    achievements = sum(v["achievements"] for v in values.values())
    conversion = by_name["转化科技成果数量"]
    assert conversion.actual == achievements
    assert conversion.completion_pct == cents(Decimal(achievements) / 163 * 100)

    # ≥0: met whatever was submitted, 100 %. ≤0: missed (0 %) as soon as anyone trained a broker.
    central_local = by_name["支持央地协同重大科技项目数量"]
    assert (central_local.completion_pct, central_local.met) == (Decimal(100), True)
    brokers = sum(v["brokers"] for v in values.values())
    assert brokers > 0
    broker = by_name["培训技术经纪人数量"]
    assert (broker.actual, broker.completion_pct, broker.met) == (brokers, Decimal(0), False)

    weight = sum((a for a in allocation.values()), Decimal(0))
    satisfaction = sum((values[n]["satisfaction"] * a for n, a in allocation.items()), Decimal(0))
    assert by_name["被服务对象满意度"].actual == cents(satisfaction / weight)

    capability = by_name["区域科技创新能力"]
    mean = cents(
        sum((values[n]["capability"] * a for n, a in allocation.items()), Decimal(0)) / weight
    )
    assert capability.completion_pct == mean
    assert 80 <= mean < 100  # still 稳步提升 though under 100 %: met, not a miss
    assert capability.met is True

    # The summary sentence lists as 未达到 exactly the indicators below their target.
    summary = json.loads((mine["work"] / "reports" / "figures.json").read_text("utf-8"))
    missed = [
        x.indicator
        for x in year_end.results
        if x.completion_pct is not None
        and (x.completion_pct < 100 if x.rule != "qualitative" else x.completion_pct < Decimal(80))
    ]
    text = summary_text(year_end.figures)
    assert f"{len(missed)} 项未达到（{'、'.join(missed)}）" in text
    assert "区域科技创新能力" not in missed
    assert summary["region"] == r.name


@pytest.mark.parametrize("r", REGIONS, ids=[f"{r.code}-{r.year}" for r in REGIONS])
def test_the_outputs_are_named_and_worded_for_the_region(side_by_side, r: Region) -> None:
    from openpyxl import load_workbook

    mine = side_by_side[r.code]
    reports = mine["work"] / "reports"
    xlsx = reports / f"自评表_{r.short}_{r.year}.xlsx"
    assert xlsx.exists()
    assert (reports / f"汇总表_{r.short}_{r.year}.xlsx").exists()
    ws = load_workbook(xlsx).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert f"{r.name}财政厅、科技厅" in cells  # 地方主管部门 from region.csv
    assert f"（{r.year} 年度）" in cells


def test_a_regions_alerts_and_digest_never_show_the_other_regions(side_by_side) -> None:
    xinjiang, gansu = side_by_side["650000"], side_by_side["620000"]
    for mine, r in ((xinjiang, XINJIANG_2025), (gansu, GANSU_2024)):
        digest = mine["digest"]
        assert (digest.region_code, digest.year) == (r.code, r.year)
        assert digest.open, "every region raises alerts here (spending is 60-100 %)"
        assert {a["region_code"] for a in digest.open} == {r.code}
        assert {a["year"] for a in digest.open} == {r.year}
        assert digest.title.startswith(f"guidefund 每周预警摘要（{r.name} {r.code} {r.year}，截至 ")
        log = (mine["work"] / "alerts.log").read_text("utf-8")
        assert f"条新预警（{r.code} {r.year}）" in log
        other = GANSU_2024 if r is XINJIANG_2025 else XINJIANG_2025
        # (甘肃's plan reuses 新疆's unit names, so names prove nothing: codes and wording do)
        assert other.code not in log and f"{other.whole}截至" not in log

    keys_x = {a["dedup_key"] for a in xinjiang["digest"].open}
    keys_g = {a["dedup_key"] for a in gansu["digest"].open}
    assert not keys_x & keys_g


@pytest.mark.parametrize("r", REGIONS, ids=[f"{r.code}-{r.year}" for r in REGIONS])
def test_the_region_execution_alert_says_the_regions_own_word(side_by_side, r: Region) -> None:
    mine = side_by_side[r.code]
    ref, values = mine["ref"], mine["values"]
    total = sum((p.allocation for p in ref.plan), Decimal(0))
    spent = sum((v["funds_spent"] for v in values.values()), Decimal(0))
    funded = [p for p in ref.plan if p.support_mode != POST]
    assert funded
    rate = spent / total * 100
    region_alerts = [a for a in mine["digest"].open if a["subject"] == r.name]
    if rate < 90:
        (alert,) = [a for a in region_alerts if a["rule"] == "execution.year_end"]
        assert alert["message"].startswith(f"{r.whole}（{len(ref.plan)} 个项目）截至")
    else:
        assert not [a for a in region_alerts if a["rule"] == "execution.year_end"]
