"""Parse the seed report's 安排资金情况表 straight from its text.

Used by the tests to prove that data/reference/2024/plan.csv and category_budget.csv say
exactly what the seed says, and nothing the seed does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

SEED = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "reference"
    / "2024"
    / "source"
    / "seed_report.txt"
)

_DIRECTION = re.compile(r"^[一二三四]、(\S+)\t+(\d+)$")
_SUBTOTAL = re.compile(r"^[(（][一二][)）]\s*(结转|新上)项目\t+(\d+)$")
_ROW = re.compile(r"^(\d{1,3})\t([^\t]+)\t([^\t]+)\t(\d+)$")


@dataclass
class SeedTable:
    total: Decimal = Decimal(0)
    directions: dict[str, Decimal] = field(default_factory=dict)
    subtotals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    rows: list[dict[str, object]] = field(default_factory=list)


def allocation_table(path: Path = SEED) -> SeedTable:
    text = path.read_text(encoding="utf-8")
    start = text.index("安排资金情况表")
    end = text.index("二、组织实施情况")
    table = SeedTable()
    direction = kind = ""
    for raw in text[start:end].splitlines():
        line = raw.strip()
        if line.startswith("总计"):
            table.total = Decimal(line.split("\t")[-1])
        elif m := _DIRECTION.match(line):
            direction = m.group(1)
            table.directions[direction] = Decimal(m.group(2))
        elif m := _SUBTOTAL.match(line):
            kind = m.group(1)
            table.subtotals[(direction, kind)] = Decimal(m.group(2))
        elif m := _ROW.match(line):
            table.rows.append(
                {
                    "序号": int(m.group(1)),
                    "项目名称": m.group(2).strip(),
                    "申报单位": m.group(3).strip(),
                    "类别": direction,
                    "立项类型": kind,
                    "安排资金（万元）": Decimal(m.group(4)),
                }
            )
    return table
