"""Check the figures a hand-written report states (`guidefund audit FIGURES.csv`).

FIGURES.csv has the columns indicator, source, target, actual, completion_pct, deviation_pct
(any may be empty), one statement per line, e.g. the seed's own statements in
data/reference/650000/2024/stated_figures.csv. Two kinds of finding, one per printed line:

* arithmetic that does not hold on a line: 完成率 ≠ actual / target (target / actual for a ≤
  indicator), or 偏差率 ≠ |完成率 − 100 %|, compared at the decimals the report wrote;
* the same indicator stated differently by two sources (target, actual, 完成率 or 偏差率).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from guidefund.numbers import HUNDRED, plain, rounded
from guidefund.reference import Target

COLUMNS = ("indicator", "source", "target", "actual", "completion_pct", "deviation_pct")
LABELS = {
    "target": "指标值",
    "actual": "实际完成值",
    "completion_pct": "完成率",
    "deviation_pct": "偏差率",
}
# A number with an optional comparison in front and a unit after it (%, 万元, 个, 人次 …).
_NUMBER = re.compile(
    r"^\s*(≥|≤|>=|<=|>|<|=)?\s*([+-]?\d[\d,]*(?:\.\d+)?)\s*(%|[\u4e00-\u9fff]+)?\s*$"
)


class FiguresError(ValueError):
    """The figures file cannot be audited at all (missing, unreadable, wrong columns)."""


@dataclass(frozen=True)
class AuditFinding:
    file: str
    line: int  # line in the file; the header is line 1
    indicator: str
    source: str
    rule: str
    message: str

    def text(self) -> str:
        return f"{self.file}:{self.line} [{self.rule}] {self.indicator}（{self.source}）：{self.message}"


@dataclass(frozen=True)
class Statement:
    line: int
    indicator: str
    source: str
    values: dict[str, Decimal | str]  # number, or text such as 稳步提升
    operator: str


def parse(text: str, words_ok: bool = True) -> tuple[Decimal | str | None, str]:
    """(value, operator) of a stated figure: '≥3,143 万元' → (3143, '≥'); '稳步提升' → text when
    `words_ok` (a qualitative or unknown indicator). Anything else raises ValueError."""
    text = text.strip()
    if not text:
        return None, ""
    m = _NUMBER.match(text)
    if m:
        try:
            return Decimal(m.group(2).replace(",", "")), m.group(1) or ""
        except InvalidOperation:
            pass
    if not words_ok or any(ch.isdigit() for ch in text):
        raise ValueError(text)
    return text, ""


def read_figures(path: Path) -> tuple[list[dict[str, str]], str]:
    """The rows of FIGURES.csv (UTF-8, with or without BOM, or GB18030 as Excel saves it)."""
    if not path.is_file():
        raise FiguresError(f"找不到文件 {path}：请给出要核对的 FIGURES.csv 路径")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FiguresError(f"{path.name}：无法识别文件编码，请另存为 UTF-8 编码的 CSV")
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise FiguresError(
            f"{path.name} 第 1 行：缺少列 {', '.join(missing)}；表头应为 {','.join(COLUMNS)}（可留空值，不可缺列）"
        )
    return [{k: (v or "").strip() for k, v in r.items() if k} for r in reader], path.name


def statements(
    rows: Sequence[Mapping[str, str]], file: str, known: Mapping[str, Target]
) -> tuple[list[Statement], list[AuditFinding]]:
    out, bad = [], []
    for i, row in enumerate(rows, start=2):
        values: dict[str, Decimal | str] = {}
        target = known.get(row["indicator"])
        op = target.operator if target else ""
        words_ok = target is None or target.rule == "qualitative"
        for key in LABELS:
            try:
                value, written_op = parse(row.get(key, ""), words_ok)
            except ValueError:
                bad.append(
                    AuditFinding(file, i, row["indicator"], row["source"], "figure.not_number",
                                 f"{key} 列（{LABELS[key]}）“{row[key]}”不是数字；请写成如 85.67 或 85.67% 的数")
                )  # fmt: skip
                continue
            if value is not None:
                values[key] = value
            if key == "target" and written_op:
                op = "≤" if written_op in ("≤", "<=", "<") else "≥"
        out.append(Statement(i, row["indicator"], row["source"], values, op))
    return out, bad


def decimals(value: Decimal) -> int:
    return max(-value.as_tuple().exponent, 0)  # type: ignore[operator]


def check_arithmetic(s: Statement, file: str) -> list[AuditFinding]:
    """完成率 against actual and target, 偏差率 against 完成率, on one line."""
    v = s.values
    target, actual = v.get("target"), v.get("actual")
    stated_c, stated_d = v.get("completion_pct"), v.get("deviation_pct")
    found = []
    computed = None
    if isinstance(target, Decimal) and isinstance(actual, Decimal) and target:
        if s.operator == "≤":
            computed = HUNDRED if actual == 0 else target / actual * HUNDRED
            how = f"{plain(target)} / {plain(actual)}"
        else:
            computed = actual / target * HUNDRED
            how = f"{plain(actual)} / {plain(target)}"
        if isinstance(stated_c, Decimal) and rounded(computed, decimals(stated_c)) != stated_c:
            shown = plain(rounded(computed, max(decimals(stated_c), 2)))
            found.append(
                AuditFinding(file, s.line, s.indicator, s.source, "completion.arithmetic",
                             f"完成率写 {plain(stated_c)}%，但 {how} = {shown}%")
            )  # fmt: skip
    if isinstance(stated_d, Decimal):
        basis = stated_c if isinstance(stated_c, Decimal) else computed
        if basis is not None:
            want = abs(basis - HUNDRED)
            if rounded(want, decimals(stated_d)) != stated_d:
                base = (
                    f"完成率 {plain(basis)}%"
                    if basis is stated_c
                    else f"计算的完成率 {plain(rounded(basis, 2))}%"
                )
                note = ""
                if basis is stated_c and computed is not None:
                    fits = rounded(abs(computed - HUNDRED), decimals(stated_d)) == stated_d
                    note = (
                        f"；它与按实际值计算的完成率 {plain(rounded(computed, 2))}% 相符"
                        if fits
                        else ""
                    )
                found.append(
                    AuditFinding(file, s.line, s.indicator, s.source, "deviation.arithmetic",
                                 f"偏差率写 {plain(stated_d)}%，但 |{base} − 100%| = "
                                 f"{plain(rounded(want, max(decimals(stated_d), 2)))}%{note}")
                )  # fmt: skip
    return found


def agreeing(values: Sequence[Decimal | str]) -> list[list[Decimal | str]]:
    """Values grouped by agreement: 74.85 and 75 agree (the same figure rounded), 2.64 and 2.65
    do not. Each value joins the first group whose most precise value rounds to it."""
    groups: list[list[Decimal | str]] = []
    ordered = sorted(values, key=lambda v: -decimals(v) if isinstance(v, Decimal) else 0)
    for v in ordered:
        for g in groups:
            head = g[0]
            if v == head or (
                isinstance(v, Decimal) and isinstance(head, Decimal)
                and rounded(head, decimals(v)) == v
            ):  # fmt: skip
                g.append(v)
                break
        else:
            groups.append([v])
    return groups


def check_sources(items: Sequence[Statement], file: str) -> list[AuditFinding]:
    """One finding per indicator and figure that two sources state differently."""
    found = []
    by_indicator: dict[str, list[Statement]] = {}
    for s in items:
        by_indicator.setdefault(s.indicator, []).append(s)
    for indicator, group in by_indicator.items():
        for key, label in LABELS.items():
            said: dict[Decimal | str, list[Statement]] = {}
            for s in group:
                if key in s.values:
                    said.setdefault(s.values[key], []).append(s)
            clusters = [(g[0], [st for v in g for st in said[v]]) for g in agreeing(list(said))]
            if len(clusters) < 2:
                continue
            # Point at the statement fewest sources agree with (the likely slip).
            odd = min(clusters, key=lambda c: (len(c[1]), -c[1][0].line))[1][0]
            versions = "；".join(
                f"{'、'.join(dict.fromkeys(st.source for st in sts))} 写 {v}"
                for v, sts in sorted(clusters, key=lambda c: c[1][0].line)
            )
            found.append(
                AuditFinding(file, odd.line, indicator, odd.source, "sources.disagree",
                             f"{label}各处说法不一：{versions}")
            )  # fmt: skip
    return found


def audit(path: Path, known: Mapping[str, Target] | None = None) -> list[AuditFinding]:
    """Every finding about the figures in `path`, by line. `known` (the year's targets by name)
    tells which way a target points when the file does not say, and which indicators are
    qualitative (their figures may be words such as 稳步提升; others must be numbers)."""
    rows, file = read_figures(path)
    items, found = statements(rows, file, known or {})
    for s in items:
        found += check_arithmetic(s, file)
    found += check_sources(items, file)
    return sorted(found, key=lambda f: (f.line, f.rule))
