"""Warning rules and outliers: what submission.warning needs that a row cannot say by itself.

The rules from the seed live in data/reference/<year>/warning_rules.csv and the thresholds in
settings; a value far (Settings.outlier_factor) from the project's own history or from its
direction's median in the batch is flagged as a likely unit error (元 typed as 万元).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from guidefund.expectations import text
from guidefund.records import Submission
from guidefund.reference import Reference


@dataclass(frozen=True)
class Thresholds:
    """The warning thresholds from Settings (satisfaction_warn_below_pct, outlier_factor)."""

    satisfaction_warn_below_pct: Decimal
    outlier_factor: Decimal

    @classmethod
    def of(cls, settings: Any) -> Thresholds:
        return cls(settings.satisfaction_warn_below_pct, settings.outlier_factor)


# ---------------------------------------------------------------------------- outliers


@dataclass(frozen=True)
class Outlier:
    """A figure `ratio` times above (or below) what it is compared with."""

    value: Decimal
    reference: Decimal
    ratio: Decimal
    basis: str

    def comparison(self, unit: str) -> str:
        times = format(self.ratio.quantize(Decimal("0.1"), ROUND_HALF_UP).normalize(), "f")
        shown = f"{text(self.reference)} {unit}".strip()
        if self.value > self.reference:
            return f"是{self.basis}（{shown}）的 {times} 倍"
        return f"只有{self.basis}（{shown}）的 1/{times}"


def _period_order(period: object) -> tuple[int, int]:
    """Annual ('2024') after every month of its year ('2024-07')."""
    p = str(period or "")
    return (int(p[:4]), int(p[5:7]) if len(p) > 4 else 13) if p[:4].isdigit() else (0, 0)


def previous_figures(
    subs: Sequence[Submission], rows: Iterable[Mapping[str, Any]]
) -> dict[int, Mapping[str, Any]]:
    """Each submission's history (warehouse rows of current accepted versions): its project's
    figures for the same period (the version it would replace), else for the latest period
    before it, else for the nearest later one."""
    by_project: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_project[int(row["project_no"])].append(row)
    found: dict[int, Mapping[str, Any]] = {}
    for i, sub in enumerate(subs):
        mine = by_project.get(sub.project_no or -1, [])
        here = _period_order(sub.period)
        ordered = sorted(mine, key=lambda r: _period_order(r["period"]))
        same = [r for r in ordered if r["period"] == sub.period]
        before = [r for r in ordered if _period_order(r["period"]) < here]
        after = [r for r in ordered if _period_order(r["period"]) > here]
        pick = same[:1] or before[-1:] or after[:1]
        if pick:
            found[i] = pick[0]
    return found


def _positive(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return None
    d = Decimal(str(value))
    return d if d > 0 else None


def find_outliers(
    subs: Sequence[Submission],
    ref: Reference,
    fields: Sequence[str],
    min_peers: int,
    factor: Decimal,
    history: Mapping[int, Mapping[str, Any]],
) -> dict[tuple[int, str], Outlier]:
    """(index, field) → Outlier for positive figures `factor` or more times above or below the
    project's history, or the median of the positive figures of its direction in this batch
    (when at least `min_peers` have one). Zero is never an outlier: most fields do not apply
    to most projects."""
    direction = [p.category if (p := ref.project(s.project_no or -1)) else None for s in subs]
    # One peer per project and period: a copy or an earlier version in the batch is not a peer.
    last = {(s.project_no, s.period): i for i, s in enumerate(subs)}
    found: dict[tuple[int, str], Outlier] = {}
    for key in fields:
        values = [_positive(s.values.get(key)) for s in subs]
        peers: dict[str | None, list[Decimal]] = defaultdict(list)
        for i in last.values():
            if values[i] is not None and direction[i] is not None:
                peers[direction[i]].append(values[i])  # type: ignore[arg-type]
        medians = {c: statistics.median(vs) for c, vs in peers.items() if len(vs) >= min_peers}
        for i, v in enumerate(values):
            if v is None:
                continue
            candidates = []
            before = _positive((history.get(i) or {}).get(key))
            if before is not None:
                period = (history.get(i) or {}).get("period")
                candidates.append((before, f"本项目上次报送（报告期 {period}）"))
            if direction[i] in medians:
                n = len(peers[direction[i]])
                candidates.append((medians[direction[i]], f"本方向本批 {n} 份报送的中位数"))
            for reference, basis in candidates:
                ratio = max(v / reference, reference / v)
                if ratio >= factor and ratio > getattr(found.get((i, key)), "ratio", 0):
                    found[(i, key)] = Outlier(v, Decimal(reference), ratio, basis)
    return found


# ---------------------------------------------------------------------------- submissions
