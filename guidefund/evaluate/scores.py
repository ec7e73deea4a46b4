"""Scores as practised under 财预〔2020〕10号 (the seed's 五(一)1), from the computed figures.

The parts and their points (预算执行 10, 产出 50, 效益 30, 满意度 10) are scoring.csv; the
grade bands (优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差) score_bands.csv; the self-assessed scores to compare
with self_scores.csv; per-indicator weights, when a year has them, indicator_weights.csv
(三级指标, 权重). Without weights a part's points are split equally over its scored indicators.

* 预算执行: points × min(执行数 / 预算数, 1) of the 年度资金总额 row;
* an indicator: weight × min(actual / target, 1) (target / actual for ≤; a qualitative one by
  its completion), so never more than its weight; an indicator without an actual scores 0, one
  without a target is not scored and takes no share of the points.

Weights such as 30 / 11 do not terminate in decimals, so scores are exact fractions until the
part's score is rounded half-up to 0.01; the total is the sum of the rounded parts, so the
printed figures add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from guidefund.evaluate.indicators import completion_fraction
from guidefund.numbers import json_number, plain, rounded
from guidefund.records import BudgetRow, IndicatorResult
from guidefund.reference import Reference

ONE = Fraction(1)


@dataclass(frozen=True)
class IndicatorScore:
    no: int
    indicator: str
    weight: Fraction
    ratio: Fraction  # min(completion, 1)
    score: Fraction
    ratio_text: str  # '1' when capped, else '122/163'
    formula: str


@dataclass(frozen=True)
class PartScore:
    part: str
    points: Decimal
    score: Decimal
    formula: str
    self_score: Decimal | None
    indicators: tuple[IndicatorScore, ...] = ()

    @property
    def difference(self) -> Decimal | None:
        return None if self.self_score is None else self.score - self.self_score


@dataclass(frozen=True)
class Scores:
    parts: tuple[PartScore, ...]
    total: Decimal
    grade: str
    self_total: Decimal | None
    self_grade: str

    @property
    def difference(self) -> Decimal | None:
        return None if self.self_total is None else self.total - self.self_total

    def as_json(self) -> dict[str, object]:
        def num(v: Decimal | None) -> int | float | str | None:
            return None if v is None else json_number(v)

        return {
            "total": num(self.total),
            "grade": self.grade,
            "self_total": num(self.self_total),
            "self_grade": self.self_grade,
            "difference": num(self.difference),
            "parts": [
                {
                    "part": p.part,
                    "points": num(p.points),
                    "score": num(p.score),
                    "self_score": num(p.self_score),
                    "difference": num(p.difference),
                    "formula": p.formula,
                    "indicators": [
                        {
                            "no": i.no,
                            "indicator": i.indicator,
                            "weight": float(i.weight),
                            "score": float(i.score),
                            "formula": i.formula,
                        }
                        for i in p.indicators
                    ],  # fmt: skip
                }
                for p in self.parts
            ],
        }


def to_decimal(value: Fraction) -> Decimal:
    return rounded(Decimal(value.numerator) / Decimal(value.denominator), 2)


def grade_for(score: Decimal, bands: Sequence[tuple[str, Decimal]]) -> str:
    """The first band (highest floor first) whose floor the score reaches."""
    for name, floor in sorted(bands, key=lambda b: -b[1]):
        if score >= floor:
            return name
    return ""


def indicator_weights(
    ref: Reference, level1: str, points: Decimal, scored: Sequence[IndicatorResult]
) -> dict[int, Fraction]:
    """Weights of a part's scored indicators: as given, the rest sharing what is left equally."""
    given = {name: Fraction(w) for name, w in ref.indicator_weights.items()}
    mine = {r.no: given[r.indicator] for r in scored if r.indicator in given}
    rest = [r for r in scored if r.indicator not in given]
    left = Fraction(points) - sum(mine.values(), Fraction(0))
    if left < 0 or (not rest and left != 0):
        raise ValueError(
            f"indicator_weights.csv：{level1} 各指标权重之和 {plain(to_decimal(sum(mine.values(), Fraction(0))))}"
            f" 应等于该部分满分 {plain(points)}"
        )
    return {**mine, **{r.no: left / len(rest) for r in rest}}


def fraction_text(value: Fraction) -> str:
    """An exact weight as written: 10, 30/11, 2.5."""
    if value.denominator == 1:
        return str(value.numerator)
    as_decimal = Decimal(value.numerator) / Decimal(value.denominator)
    if rounded(as_decimal, 4) == as_decimal:
        return plain(as_decimal)
    return f"{value.numerator}/{value.denominator}"


def score_text(value: Decimal) -> str:
    return f"{value:.2f}"


def _indicator_score(r: IndicatorResult, weight: Fraction) -> IndicatorScore:
    w = fraction_text(weight)
    if r.actual is None or r.completion_pct is None:
        return IndicatorScore(
            r.no,
            r.indicator,
            weight,
            Fraction(0),
            Fraction(0),
            "0",
            f"{w} × 0（无实际完成值）= 0.00",
        )
    if r.rule == "qualitative":
        raw, text = Fraction(r.completion_pct) / 100, f"{plain(r.completion_pct)}%"
    else:
        raw = completion_fraction(r.operator, r.target, r.actual)  # type: ignore[arg-type]
        if r.target == 0:
            text = f"{raw}"  # met 1, missed 0
        elif r.operator == "≤":
            text = f"{plain(r.target)}/{plain(r.actual)}"
        else:
            text = f"{plain(r.actual)}/{plain(r.target)}"
    ratio = min(raw, ONE)
    score = weight * ratio
    formula = f"{w} × min({text}, 1) = {score_text(to_decimal(score))}"
    return IndicatorScore(
        r.no, r.indicator, weight, ratio, score, "1" if ratio == ONE else text, formula
    )


def _part_formula(items: Sequence[IndicatorScore], score: Decimal) -> str:
    """'10 × (1 + 122/163 + 1 + 1 + 1) = 47.48' when the weights are equal, else a sum of terms."""
    if not items:
        return "0（无可评分指标）= 0.00"
    if len({i.weight for i in items}) == 1:
        body = f"{fraction_text(items[0].weight)} × ({' + '.join(i.ratio_text for i in items)})"
    else:
        body = " + ".join(f"{fraction_text(i.weight)} × {i.ratio_text}" for i in items)
    return f"{body} = {score_text(score)}"


def compute_scores(
    ref: Reference, results: Sequence[IndicatorResult], budget: Sequence[BudgetRow]
) -> Scores:
    """Every part's score with its formula, the total, its grade, and the self-assessment."""
    stated = ref.self_scores
    bands = ref.score_bands
    parts = []
    for part in ref.scoring:
        name, points = part.part, part.points
        if part.basis == "budget_execution":
            total = budget[0]
            ratio = (
                min(Fraction(total.executed) / Fraction(total.budget), ONE)
                if total.budget
                else Fraction(0)
            )
            score = to_decimal(Fraction(points) * ratio)
            formula = (
                f"{plain(points)} × min({plain(total.executed)}/{plain(total.budget)}, 1)"
                f" = {score_text(score)}（执行率 {plain(total.rate_pct)}%）"
            )
            parts.append(PartScore(name, points, score, formula, stated.get(name)))
            continue
        scored = [r for r in results if r.level1 == part.level1 and r.scored]
        weights = indicator_weights(ref, name, points, scored)
        items = tuple(_indicator_score(r, weights[r.no]) for r in scored)
        exact = sum((i.score for i in items), Fraction(0))
        score = to_decimal(exact)
        formula = f"{_part_formula(items, score)}（{len(items)} 项指标）"
        parts.append(PartScore(name, points, score, formula, stated.get(name), items))
    total = sum((p.score for p in parts), Decimal(0))
    self_total = sum(stated.values(), Decimal(0)) if stated else None
    return Scores(
        parts=tuple(parts),
        total=total,
        grade=grade_for(total, bands),
        self_total=self_total,
        self_grade=grade_for(self_total, bands) if self_total is not None else "",
    )


def signed(value: Decimal | None) -> str:
    """A difference with its sign: +1.61, -0.50, 0.00."""
    if value is None:
        return ""
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def render_scores(scores: Scores) -> str:
    """The score block printed by the commands: each part with its formula and the self-score."""
    lines = ["绩效自评得分（财预〔2020〕10号）"]
    for p in scores.parts:
        versus = (
            ""
            if p.self_score is None
            else f"；自评 {plain(p.self_score)}，差 {signed(p.difference)}"
        )
        lines.append(f"  {p.part}（满分 {plain(p.points)}）：{p.formula}{versus}")
        for i in p.indicators:
            lines.append(f"      {i.indicator}：{i.formula}")
    terms = " + ".join(score_text(p.score) for p in scores.parts)
    lines.append(f"  合计：{terms} = {score_text(scores.total)} 分，等级“{scores.grade}”")
    if scores.self_total is not None:
        lines.append(
            f"  自评：{' + '.join(plain(p.self_score) for p in scores.parts if p.self_score is not None)}"
            f" = {plain(scores.self_total)} 分，等级“{scores.self_grade}”；计算得分与自评相差 {signed(scores.difference)} 分"
        )
    return "\n".join(lines)
