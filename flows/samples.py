"""Sample submissions: every plan project's workbook filled with plausible values whose
aggregates reproduce the seed's reported results exactly.

The totals to reproduce (data/reference/<year>/sample_totals.csv), the single-project facts the
seed states (sample_cases.csv) and the named grades (grades.csv) are data; this module only
spreads each total over the projects that plausibly contribute to it, deterministically for a
seed, in whole units (cents for money, persons for counts), so the sums are exact by
construction and checked again at the end.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from flows.records import Value
from flows.reference import DIRECT, POST, Project, Reference
from flows.template import file_name, write_submission

CENT = Decimal("0.01")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = (
    "建国",
    "海燕",
    "晓东",
    "丽娜",
    "志强",
    "玉兰",
    "卫东",
    "雪梅",
    "国庆",
    "红霞",
    "阿依",
    "努尔",
)
SLOW_REASON = (
    "部分设备采购需履行政府采购程序，采购周期较长，资金执行率偏低；下一步将加快采购和支出进度。"
)


@dataclass(frozen=True)
class SampleRules:
    totals: dict[str, tuple[str, Decimal]]  # field -> (sum | weighted_mean, value)
    cases: dict[int, dict[str, Decimal]]  # project no -> field -> stated value
    reasons: dict[int, str]  # project no -> the seed's stated reason
    grades: dict[int, str]


def load_rules(ref: Reference) -> SampleRules:
    d = ref.year_dir
    with (d / "sample_totals.csv").open(encoding="utf-8") as f:
        totals = {r["字段"]: (r["口径"], Decimal(r["合计"])) for r in csv.DictReader(f)}
    cases: dict[int, dict[str, Decimal]] = {}
    with (d / "sample_cases.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cases.setdefault(int(r["序号"]), {})[r["字段"]] = Decimal(r["值"])
    with (d / "sample_reasons.csv").open(encoding="utf-8") as f:
        reasons = {int(r["序号"]): r["偏差原因及改进措施"] for r in csv.DictReader(f)}
    with (d / "grades.csv").open(encoding="utf-8") as f:
        grades = {int(r["序号"]): r["自评等级"] for r in csv.DictReader(f)}
    return SampleRules(totals, cases, reasons, grades)


def apportion(
    total: int, weights: Sequence[float], caps: Sequence[int | None] | None = None
) -> list[int]:
    """Split the integer `total` in proportion to `weights`, never above a cap; exact sum."""
    n = len(weights)
    caps = list(caps) if caps is not None else [None] * n
    if sum(c for c in caps if c is not None) < total and all(c is not None for c in caps):
        raise ValueError(f"无法分配 {total}：上限合计不足")
    out = [0] * n
    free = [i for i in range(n) if weights[i] > 0 and caps[i] != 0]
    left = total
    while free and left > 0:
        wsum = sum(weights[i] for i in free)
        shares = {i: left * weights[i] / wsum for i in free}
        capped = [i for i in free if caps[i] is not None and out[i] + shares[i] >= caps[i]]  # type: ignore[operator]
        if capped:
            for i in capped:
                left -= caps[i] - out[i]  # type: ignore[operator]
                out[i] = caps[i]  # type: ignore[call-overload]
            free = [i for i in free if i not in capped]
            continue
        floors = {i: int(shares[i]) for i in free}
        for i in free:
            out[i] += floors[i]
        left -= sum(floors.values())
        for i in sorted(free, key=lambda i: shares[i] - floors[i], reverse=True)[:left]:
            out[i] += 1
        left = 0
    if left:
        raise ValueError(f"无法分配 {total}：没有可承接的项目")
    return out


def _fix_weighted_mean(
    values: list[int], weights: list[int], target: int, low: int, high: int
) -> list[int]:
    """Nudge integer `values` inside [low, high] until sum(w*v) == target * sum(w) exactly."""
    values = list(values)
    gap = target * sum(weights) - sum(w * v for w, v in zip(weights, values, strict=True))
    order = sorted(range(len(values)), key=lambda i: -weights[i])
    while gap:
        step = 1 if gap > 0 else -1
        movable = [
            i for i in order if 0 < weights[i] <= abs(gap) and low <= values[i] + step <= high
        ]
        if movable:
            i = movable[0]
            values[i] += step
            gap -= step * weights[i]
            continue
        pair = next(
            (
                (i, j)
                for i in order
                for j in order
                if weights[i] - weights[j] == abs(gap)
                and i != j
                and low <= values[i] + step <= high
                and low <= values[j] - step <= high
            ),
            None,
        )
        if pair is None:
            raise ValueError("无法精确达到加权平均值")
        values[pair[0]] += step
        values[pair[1]] -= step
        gap = 0
    return values


def generate(ref: Reference, seed: int = 2024) -> dict[int, dict[str, Value]]:
    """The unit-filled values of every plan project, by project number."""
    rules = load_rules(ref)
    rng = random.Random(seed)
    plan = list(ref.plan)
    values: dict[int, dict[str, Value]] = {p.no: {} for p in plan}
    enterprise = {p.no for p in plan if p.unit_type == "企业"}
    transfer, base, region_sys = (ref.categories[i] for i in (2, 1, 0))

    def spread(
        field: str,
        eligible: Callable[[Project], bool],
        weight: Callable[[Project], float],
        unit: Decimal,
        caps: Callable[[Project], Decimal | None] | None = None,
    ) -> None:
        fixed = {no: c[field] for no, c in rules.cases.items() if field in c}
        kind, total = rules.totals[field]
        rest = [p for p in plan if eligible(p) and p.no not in fixed]
        left = (total - sum(fixed.values(), Decimal(0))) / unit
        cap_units = [None if caps is None or caps(p) is None else int(caps(p) / unit) for p in rest]  # type: ignore[operator]
        shares = apportion(int(left), [weight(p) * rng.uniform(0.5, 1.5) for p in rest], cap_units)
        for p in plan:
            values[p.no][field] = Decimal(0).quantize(CENT) if unit == CENT else 0
        for p, share in zip(rest, shares, strict=True):
            values[p.no][field] = (share * unit).quantize(CENT) if unit == CENT else share
        for no, v in fixed.items():
            values[no][field] = v.quantize(CENT) if unit == CENT else int(v)

    for p in plan:
        v = values[p.no]
        v["funds_received"] = v["funds_on_time"] = p.allocation.quantize(CENT)
    spread(
        "funds_spent",
        lambda p: p.allocation > 0,
        lambda p: float(p.allocation) * rng.uniform(0.45, 1.0),
        CENT,
        caps=lambda p: p.allocation,
    )
    spread(
        "self_raised",
        lambda p: True,
        lambda p: (6.0 if p.no in enterprise else 0.8) * float(max(p.allocation, Decimal(150))),
        CENT,
    )
    ew = {
        p.no
        for p in rng.sample(
            [p for p in plan if p.category in (transfer, region_sys) and p.allocation > 0], 11
        )
    }
    south = ("阿克苏", "喀什", "和田", "克孜勒苏", "巴音郭楞", "南疆", "阿克陶")
    rural = {
        p.no
        for p in rng.sample(
            [
                p
                for p in plan
                if p.category == transfer and any(s in p.name + p.unit for s in south)
            ],
            5,
        )
    }
    for p in plan:
        values[p.no]["east_west"] = p.no in ew
        values[p.no]["rural"] = p.no in rural
        values[p.no]["central_local"] = False
    spread("local_east_west", lambda p: p.no in ew, lambda p: float(p.allocation), CENT)
    applied = lambda p: p.category in (transfer, base) or p.no in enterprise  # noqa: E731
    spread("financing", applied, lambda p: 3.0 if p.no in enterprise else 1.0, CENT)
    spread("contract_value", applied, lambda p: 2.0 if p.category == transfer else 1.0, CENT)
    spread(
        "achievements",
        lambda p: p.category in (transfer, base),
        lambda p: 2.0 if p.category == transfer else 1.0,
        Decimal(1),
    )
    spread("hightech_firms", applied, lambda p: 2.0 if p.no in enterprise else 1.0, Decimal(1))
    spread("sme_firms", applied, lambda p: 2.0 if p.no in enterprise else 1.0, Decimal(1))
    spread(
        "trained_staff",
        lambda p: True,
        lambda p: 0.3 if p.category == ref.categories[3] else 1.0,
        Decimal(1),
    )
    spread(
        "consulting",
        lambda p: True,
        lambda p: 0.3 if p.category == ref.categories[3] else 1.0,
        Decimal(1),
    )
    spread("brokers", lambda p: p.category in (transfer, region_sys), lambda p: 1.0, Decimal(1))

    weights = [int(p.allocation) for p in plan]
    for field in ("capability", "satisfaction"):
        _, target = rules.totals[field]
        start = [min(100, int(target) + rng.randint(-5, 5)) for _ in plan]
        low = max(80, int(target) - 10)
        fixed = _fix_weighted_mean(start, weights, int(target), low, 100)
        for p, v in zip(plan, fixed, strict=True):
            values[p.no][field] = Decimal(v).quantize(CENT)

    for p in plan:
        v = values[p.no]
        v["period"] = f"{ref.year}年度"
        v["filled_date"] = date(ref.year + 1, 1, rng.randint(5, 20))
        v["contact"] = rng.choice(SURNAMES) + rng.choice(GIVEN)
        v["phone"] = f"0991-{rng.randint(2000000, 8999999)}"
        v["self_grade"] = rules.grades.get(p.no, "优")
        spent, alloc = v["funds_spent"], p.allocation
        reason = rules.reasons.get(p.no, "")
        if (
            not reason
            and alloc > 0
            and isinstance(spent, Decimal)
            and spent < alloc * Decimal("0.6")
        ):
            reason = SLOW_REASON
        v["deviation_reason"] = reason or None
    _check(ref, rules, values)
    return values


def _check(ref: Reference, rules: SampleRules, values: dict[int, dict[str, Value]]) -> None:
    """The generated values must reproduce every stated total exactly, or nothing is written."""
    alloc = {p.no: p.allocation for p in ref.plan}
    for field, (kind, total) in rules.totals.items():
        column = {
            no: Decimal(int(v[field])) if isinstance(v[field], bool) else Decimal(v[field])  # type: ignore[arg-type]
            for no, v in values.items()
        }
        got = (
            sum(column.values(), Decimal(0))
            if kind == "sum"
            else (
                sum((column[n] * alloc[n] for n in column), Decimal(0))
                / sum(alloc.values(), Decimal(0))
            )
        )
        if got != total:
            raise AssertionError(f"样例数据 {field} 合计 {got} ≠ {total}")
    for p in ref.plan:
        v = values[p.no]
        if p.support_mode == POST and v["funds_spent"] != 0:
            raise AssertionError(f"后补助项目 {p.no} 不应有引导资金支出")
        if p.support_mode == DIRECT and v["funds_spent"] > p.allocation:  # type: ignore[operator]
            raise AssertionError(f"项目 {p.no} 支出超过安排资金")


def write_samples(ref: Reference, out_dir: Path, seed: int = 2024) -> list[Path]:
    values = generate(ref, seed)
    return [write_submission(ref, p, out_dir / file_name(p), values[p.no]) for p in ref.plan]
