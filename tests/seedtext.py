"""The seed report as acceptance data: its 安排资金情况表 parsed straight from its text (to prove
that plan.csv and category_budget.csv say exactly what the seed says), and its attachment table
(附件, 区域绩效目标自评表) transcribed once, with 完成率 recomputed from the actual and the target
where the seed's own arithmetic is wrong (培训从事技术创新服务人员数量: 4203/4906 = 85.67 %, the
seed prints 85.87 %; data/reference/650000/2024/README.md lists the seed's errors).
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
    / "650000"
    / "2024"
    / "source"
    / "seed_report.txt"
)

# The seed's attachment, with 完成率 computed from it: indicator → (actual, completion %).
SEED_TABLE = {
    "支持建设科技创新基地项目数量": ("39", "100.00"), "转化科技成果数量": ("122", "74.85"),
    "支持区域创新载体项目数量": ("5", "100.00"),
    "支持东西部科技合作及区域协同创新项目数量": ("11", "183.33"),
    "资金拨付及时率": ("100.00", "111.11"), "带动社会投入与引导资金投入比例": ("2.64", "132.00"),
    "促进科技投融资金额": ("5567.05", "185.57"), "支持高新技术企业数量": ("45", "195.65"),
    "支持科技型中小企业数量": ("119", "396.67"), "促进技术合同成交额": ("8868.04", "282.15"),
    "带动地方投入东西科技合作及区域协同创新资金": ("2172.00", "153.07"),
    "区域科技创新能力": ("稳步提升", "100.00"),
    "培训从事技术创新服务人员数量": ("4203", "85.67"),
    "提供技术咨询/技术服务数量": ("9573", "238.31"),
    "科技帮扶支撑乡村振兴项目数量": ("5", "125.00"), "培训技术经纪人数量": ("808", "678.99"),
    "被服务对象满意度": ("95.00", "105.56"),
}  # fmt: skip
OVERRUNS = [
    "支持东西部科技合作及区域协同创新项目数量", "带动社会投入与引导资金投入比例",
    "促进科技投融资金额", "支持高新技术企业数量", "支持科技型中小企业数量", "促进技术合同成交额",
    "带动地方投入东西科技合作及区域协同创新资金", "提供技术咨询/技术服务数量", "培训技术经纪人数量",
]  # fmt: skip
MISSES = ["转化科技成果数量", "培训从事技术创新服务人员数量"]

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
