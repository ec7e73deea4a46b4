"""Sample submissions: every plan project's workbook filled with plausible values whose
aggregates reproduce the seed's reported results exactly.

The totals to reproduce (data/reference/<year>/sample_totals.csv), the single-project facts the
seed states (sample_cases.csv) and the named grades (grades.csv) are data; this module only
spreads each total over the projects that plausibly contribute to it, deterministically for a
seed, in whole units (cents for money, persons for counts), so the sums are exact by
construction and checked again at the end.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_DOWN, Decimal
from math import gcd
from pathlib import Path

from guidefund.intake.template import file_name, write_submission
from guidefund.numbers import as_decimal
from guidefund.records import Value
from guidefund.reference import POST, Project, Reference, SampleRules, Spread

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
SLOW_SHARE = Decimal("0.6")  # below this share of its allocation spent, a project explains
SLOW_REASON = (
    "部分设备采购需履行政府采购程序，采购周期较长，资金执行率偏低；下一步将加快采购和支出进度。"
)


def takes_part(p: Project, who: str, flagged: set[int]) -> bool:
    """'类别:A、B;有安排资金|企业': alternatives split by |, clauses inside one by ; (all must hold)."""

    def clause(c: str) -> bool:
        name, _, arg = c.partition(":")
        options = arg.split("、")
        return {
            "全部": True,
            "有安排资金": p.allocation > 0,
            "企业": p.unit_type == "企业",
            "类别": p.category in options,
            "地名": any(o in p.name + p.unit for o in options),
            "东西部合作项目": p.no in flagged,
        }[name]

    return any(all(clause(c) for c in alt.split(";")) for alt in who.split("|"))


def weight_of(p: Project, spec: str, rng: random.Random) -> float:
    """'安排资金;企业×6;非企业×0.8;随机0.45-1.0': factors multiplied; weights only, never money."""
    w = rng.uniform(0.5, 1.5)
    for factor in filter(None, spec.split(";")):
        if factor == "安排资金":
            w *= float(p.allocation)
        elif factor.startswith("安排资金至少"):
            w *= float(max(p.allocation, Decimal(factor.removeprefix("安排资金至少"))))
        elif factor.startswith("随机"):
            low, high = factor.removeprefix("随机").split("-")
            w *= rng.uniform(float(low), float(high))
        else:
            who, times = factor.split("×")
            hit = (
                p.unit_type != "企业"
                if who == "非企业"
                else (p.unit_type == who or p.category == who)
            )
            w *= float(times) if hit else 1.0
    return w


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


def generate(ref: Reference, seed: int = 2024) -> dict[int, dict[str, Value]]:
    """The unit-filled values of every plan project, by project number."""
    rules = ref.samples
    rng = random.Random(seed)
    plan = list(ref.plan)
    values: dict[int, dict[str, Value]] = {p.no: {} for p in plan}
    flagged: dict[str, set[int]] = {}
    for spread in rules.spreads.values():  # in file order: flags before the money that needs them
        eligible = [p for p in plan if takes_part(p, spread.who, flagged.get("east_west", set()))]
        if spread.kind == "count":
            chosen = {p.no for p in rng.sample(eligible, int(spread.total))}
            flagged[spread.field] = chosen
            for p in plan:
                values[p.no][spread.field] = p.no in chosen
        elif spread.kind == "sum":
            _spread_sum(ref, spread, eligible, rules.cases, values, rng)
        else:
            _spread_mean(spread, plan, values, rng)
    _plausible(ref, set(rules.spreads), values, rng)
    for p in plan:
        v = values[p.no]
        v["period"] = f"{ref.year}年度"
        v["filled_date"] = date(ref.year + 1, 1, rng.randint(5, 20))
        v["contact"] = rng.choice(SURNAMES) + rng.choice(GIVEN)
        v["phone"] = f"0991-{rng.randint(2000000, 8999999)}"
        v["self_grade"] = rules.grades.get(p.no, "优")
        spent = v["funds_spent"]
        reason = rules.reasons.get(p.no)
        if not reason and isinstance(spent, Decimal) and spent < p.allocation * SLOW_SHARE:
            reason = SLOW_REASON
        v["deviation_reason"] = reason
    _check(ref, rules, values)
    return values


def _plausible(
    ref: Reference, spread: set[str], values: dict[int, dict[str, Value]], rng: random.Random
) -> None:
    """Values for the numbers no stated total spreads (a year without sample_totals.csv, or a
    field it leaves out): funds received and paid on time in full, spending 60–100 % of the
    allocation (none for 后补助), other money up to the allocation, small counts, a few 是,
    percents of 85–100; each within the field's bounds."""
    for f in ref.fields:
        if f.key in spread or f.prefill or f.kind not in ("money", "int", "yesno", "pct"):
            continue
        for p in ref.plan:
            a = p.allocation.quantize(CENT, rounding=ROUND_DOWN)  # never above the allocation
            if f.kind == "money":
                if f.key in ("funds_received", "funds_on_time"):
                    v: Value = a
                elif f.key == "funds_spent":
                    share = Decimal(rng.randint(60, 100)) / 100
                    v = (
                        Decimal(0)
                        if p.support_mode == POST
                        else (a * share).quantize(CENT, rounding=ROUND_DOWN)
                    )
                    v = min(v, a)
                else:
                    v = (a * Decimal(rng.randint(0, 100)) / 100).quantize(CENT, rounding=ROUND_DOWN)
            elif f.kind == "int":
                v = rng.randint(0, 5)
            elif f.kind == "yesno":
                v = rng.random() < 0.1
            else:
                v = Decimal(rng.randint(85, 100)).quantize(CENT)
            if isinstance(v, Decimal | int) and not isinstance(v, bool):
                if f.lower is not None and v < f.lower:
                    v = f.lower
                if f.upper is not None and v > f.upper:
                    v = f.upper
            values[p.no][f.key] = v


def _spread_sum(
    ref: Reference,
    spread: Spread,
    eligible: list[Project],
    cases: dict[int, dict[str, Decimal]],
    values: dict[int, dict[str, Value]],
    rng: random.Random,
) -> None:
    """Cents for money, whole units for counts; the seed's single-project facts are kept as stated."""
    unit = CENT if ref.field(spread.field).kind == "money" else Decimal(1)
    fixed = {no: c[spread.field] for no, c in cases.items() if spread.field in c}
    rest = [p for p in eligible if p.no not in fixed]
    left = (spread.total - sum(fixed.values(), Decimal(0))) / unit
    caps = [int(p.allocation / unit) if spread.cap == "安排资金" else None for p in rest]
    shares = apportion(int(left), [weight_of(p, spread.weight, rng) for p in rest], caps)
    as_value = (lambda n: (n * unit).quantize(CENT)) if unit == CENT else int
    for p in ref.plan:
        values[p.no][spread.field] = as_value(0)
    for p, share in zip(rest, shares, strict=True):
        values[p.no][spread.field] = as_value(share)
    for no, v in fixed.items():
        values[no][spread.field] = v.quantize(CENT) if unit == CENT else int(v)


def _spread_mean(
    spread: Spread, plan: list[Project], values: dict[int, dict[str, Value]], rng: random.Random
) -> None:
    """Percents (to 0.01) around the target whose allocation-weighted mean is the target
    exactly, for any allocations (fractional 万元 too) and any seed.

    Every funded project starts at the target; projects are then moved in pairs (i, j) by
    k·A_j/g and −k·A_i/g hundredths (A the allocations as integers, g their gcd), which leaves
    Σ A·v unchanged, with k drawn so that both stay within 5 points of the target and the
    bounds. A project with no allocation weighs nothing and takes any value in the bounds."""
    target = int(spread.total * 100)  # hundredths of a percent
    if Decimal(target) / 100 != spread.total:
        raise ValueError(f"{spread.field} 的加权平均目标 {spread.total} 超过两位小数")
    low, high = max(8000, target - 1000), 10000
    near_low, near_high = max(low, target - 500), min(high, target + 500)
    if not near_low <= target <= near_high:
        raise ValueError(f"{spread.field} 的加权平均目标 {spread.total} 不在 80–100 之间")
    scale = 10 ** max((-p.allocation.as_tuple().exponent for p in plan), default=0)  # type: ignore[operator]
    weights = [int(p.allocation * scale) for p in plan]
    out = [target if w else 100 * rng.randint(low // 100, high // 100) for w in weights]
    funded = [i for i, w in enumerate(weights) if w > 0]
    rng.shuffle(funded)
    for i, j in zip(funded[::2], funded[1::2], strict=False):
        g = gcd(weights[i], weights[j])
        di, dj = weights[j] // g, weights[i] // g
        up = min((near_high - out[i]) // di, (out[j] - near_low) // dj)
        down = min((out[i] - near_low) // di, (near_high - out[j]) // dj)
        k = rng.randint(-down, up)
        out[i] += k * di
        out[j] -= k * dj
    for p, v in zip(plan, out, strict=True):
        values[p.no][spread.field] = (Decimal(v) / 100).quantize(CENT)


def _check(ref: Reference, rules: SampleRules, values: dict[int, dict[str, Value]]) -> None:
    """The generated values must reproduce every stated total exactly, or nothing is written."""
    alloc = {p.no: p.allocation for p in ref.plan}
    for spread in rules.spreads.values():
        column = {no: as_decimal(v[spread.field]) for no, v in values.items()}
        if spread.kind == "weighted_mean":
            got = sum((column[n] * alloc[n] for n in column), Decimal(0)) / sum(alloc.values())
        else:
            got = sum(column.values(), Decimal(0))
        if got != spread.total:
            raise AssertionError(f"样例数据 {spread.field} 合计 {got} ≠ {spread.total}")
    for p in ref.plan:
        v = values[p.no]
        if p.support_mode == POST and v["funds_spent"] != 0:
            raise AssertionError(f"后补助项目 {p.no} 不应有引导资金支出")
        if v["funds_spent"] > p.allocation:  # type: ignore[operator]
            raise AssertionError(f"项目 {p.no} 支出超过安排资金")


def write_samples(ref: Reference, out_dir: Path, seed: int = 2024) -> list[Path]:
    values = generate(ref, seed)
    return [write_submission(ref, p, out_dir / file_name(p), values[p.no]) for p in ref.plan]
