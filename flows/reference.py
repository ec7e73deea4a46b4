"""The year's reference data (data/reference/<year>/*.csv), read and checked.

Everything the pipeline knows about a year lives in those files: the allocation plan, the
category budget, the region's targets with their aggregation rules, the template's fields.
`load_reference` refuses files that contradict themselves, so a typo in a plan cannot reach a
report.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

DIRECT = "直接补助"
POST = "后补助"
NEW = "新上"
CARRIED = "结转"
RULES = {"sum", "count_plan", "ratio", "weighted_mean", "qualitative"}
KINDS = {"text", "int", "money", "pct", "yesno", "grade", "period", "date"}


class ReferenceError(ValueError):
    """The reference files for a year are missing or contradict themselves."""

    def __init__(self, year_dir: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"{year_dir}: " + "; ".join(problems))


@dataclass(frozen=True)
class Project:
    no: int
    name: str
    unit: str
    unit_type: str
    category: str
    project_type: str
    support_mode: str
    allocation: Decimal


@dataclass(frozen=True)
class CategoryBudget:
    category: str
    carried: Decimal
    new: Decimal
    total: Decimal
    projects: int
    carried_projects: int
    new_direct_projects: int
    new_post_projects: int


@dataclass(frozen=True)
class Target:
    no: int
    level1: str
    level2: str
    name: str
    operator: str
    target: Decimal | None
    target_text: str
    unit: str
    rule: str
    field: str
    denominator: str
    condition: str
    decimals: int

    @property
    def scored(self) -> bool:
        return bool(self.target_text)


@dataclass(frozen=True)
class Field:
    key: str
    sheet: str
    label: str
    cell: str
    kind: str
    required: bool
    prefill: str
    lower: Decimal | None
    upper: Decimal | None
    unit: str
    hint: str


@dataclass(frozen=True)
class Band:
    lower: Decimal
    upper: Decimal
    name: str
    wording: str


@dataclass(frozen=True)
class BudgetLine:
    source: str
    budget: Decimal
    executed: Decimal


@dataclass(frozen=True)
class Reference:
    year: int
    region_code: str
    region_name: str
    fund_name: str
    annual_amount: Decimal
    central_amount: Decimal
    local_amount: Decimal
    counts: dict[str, int]
    plan: tuple[Project, ...]
    budget: dict[str, CategoryBudget]
    targets: tuple[Target, ...]
    fields: tuple[Field, ...]
    bands: tuple[Band, ...]
    budget_lines: tuple[BudgetLine, ...]
    template_versions: tuple[str, ...]
    current_template: str
    year_dir: Path

    def project(self, no: int) -> Project | None:
        return self._by_no().get(no)

    def _by_no(self) -> dict[int, Project]:
        return {p.no: p for p in self.plan}

    @property
    def categories(self) -> list[str]:
        return list(self.budget)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise ReferenceError(path.parent, [f"缺少文件 {path.name}"])
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def _dec(value: str, where: str, problems: list[str]) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        problems.append(f"{where}: '{value}' 不是数字")
        return Decimal(0)


def _opt_dec(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def load_reference(reference_dir: Path, year: int) -> Reference:
    """Read data/reference/<year>/ and check it; raise ReferenceError listing every problem."""
    return _load(reference_dir.resolve() / str(year), year)


@lru_cache(maxsize=8)
def _load(year_dir: Path, year: int) -> Reference:
    if not year_dir.is_dir():
        raise ReferenceError(year_dir, [f"没有 {year} 年度的参考数据目录"])
    problems: list[str] = []
    region = _rows(year_dir / "region.csv")[0]
    units = {r["申报单位"]: r["单位类型"] for r in _rows(year_dir / "units.csv")}
    plan = tuple(
        Project(
            no=int(r["序号"]),
            name=r["项目名称"],
            unit=r["申报单位"],
            unit_type=units.get(r["申报单位"], ""),
            category=r["类别"],
            project_type=r["立项类型"],
            support_mode=r["支持方式"],
            allocation=_dec(r["安排资金（万元）"], f"plan.csv 序号{r['序号']}", problems),
        )
        for r in _rows(year_dir / "plan.csv")
    )
    budget = {
        r["类别"]: CategoryBudget(
            category=r["类别"],
            carried=_dec(r["结转（万元）"], "category_budget.csv", problems),
            new=_dec(r["新上（万元）"], "category_budget.csv", problems),
            total=_dec(r["合计（万元）"], "category_budget.csv", problems),
            projects=int(r["项目数"]),
            carried_projects=int(r["结转项目数"]),
            new_direct_projects=int(r["新上直接补助项目数"]),
            new_post_projects=int(r["新上后补助项目数"]),
        )
        for r in _rows(year_dir / "category_budget.csv")
    }
    targets = tuple(
        Target(
            no=int(r["序号"]),
            level1=r["一级指标"],
            level2=r["二级指标"],
            name=r["三级指标"],
            operator=r["运算符"],
            target=_target_number(r["指标值"]),
            target_text=r["指标值"],
            unit=r["单位"],
            rule=r["聚合规则"],
            field=r["字段"],
            denominator=r["分母字段"],
            condition=r["条件"],
            decimals=int(r["小数位"] or 0),
        )
        for r in _rows(year_dir / "targets.csv")
    )
    fields = tuple(
        Field(
            key=r["键"],
            sheet=r["工作表"],
            label=r["标签"],
            cell=r["单元格"],
            kind=r["类型"],
            required=r["必填"] == "是",
            prefill=r["预填"],
            lower=_opt_dec(r["下限"]),
            upper=_opt_dec(r["上限"]),
            unit=r["单位"],
            hint=r["填报要求"],
        )
        for r in _rows(year_dir / "template_fields.csv")
    )
    bands = tuple(
        Band(Decimal(r["下限（%）"]), Decimal(r["上限（%）"]), r["档次"], r["实际完成值表述"])
        for r in _rows(year_dir / "qualitative_bands.csv")
    )
    budget_lines = tuple(
        BudgetLine(
            r["资金类别"], Decimal(r["全年预算数（万元）"]), Decimal(r["全年执行数（万元）"])
        )
        for r in _rows(year_dir / "budget.csv")
    )
    versions = [r["版本"] for r in _rows(year_dir / "template_versions.csv") if r["接受"] == "是"]
    counts = {
        k: int(region[k])
        for k in ("项目总数", "新上项目数", "结转项目数", "新上直接补助项目数", "新上后补助项目数")
    }
    ref = Reference(
        year=int(region["年度"]),
        region_code=region["地区代码"],
        region_name=region["地区"],
        fund_name=region["项目名称"],
        annual_amount=Decimal(region["年度金额（万元）"]),
        central_amount=Decimal(region["中央补助（万元）"]),
        local_amount=Decimal(region["地方资金（万元）"]),
        counts=counts,
        plan=plan,
        budget=budget,
        targets=targets,
        fields=fields,
        bands=bands,
        budget_lines=budget_lines,
        template_versions=tuple(versions),
        current_template=versions[-1] if versions else "",
        year_dir=year_dir,
    )
    problems += check_reference(ref, units)
    if ref.year != year:
        problems.append(f"region.csv 年度为 {ref.year}，目录为 {year}")
    if problems:
        raise ReferenceError(year_dir, problems)
    return ref


def _target_number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def check_reference(ref: Reference, units: dict[str, str]) -> list[str]:
    """Every way the year's files can contradict themselves, as readable problems."""
    problems: list[str] = []
    nos = [p.no for p in ref.plan]
    dupes = sorted(n for n, c in Counter(nos).items() if c > 1)
    if dupes:
        problems.append(f"plan.csv 序号重复: {dupes}")
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    kinds: Counter[tuple[str, str, str]] = Counter()
    for p in ref.plan:
        if p.category not in ref.budget:
            problems.append(f"plan.csv 序号{p.no}: 类别 '{p.category}' 不在 category_budget.csv")
        if p.project_type not in (NEW, CARRIED):
            problems.append(f"plan.csv 序号{p.no}: 立项类型 '{p.project_type}' 应为 新上/结转")
        if p.support_mode not in (DIRECT, POST):
            problems.append(
                f"plan.csv 序号{p.no}: 支持方式 '{p.support_mode}' 应为 直接补助/后补助"
            )
        if p.allocation < 0:
            problems.append(f"plan.csv 序号{p.no}: 安排资金为负数 {p.allocation}")
        if p.unit not in units:
            problems.append(f"plan.csv 序号{p.no}: 申报单位 '{p.unit}' 不在 units.csv")
        sums[(p.category, p.project_type)] += p.allocation
        kinds[(p.category, p.project_type, p.support_mode)] += 1
    for cat, b in ref.budget.items():
        for kind, stated in ((CARRIED, b.carried), (NEW, b.new)):
            if sums[(cat, kind)] != stated:
                problems.append(
                    f"{cat} {kind}项目安排资金合计 {sums[(cat, kind)]} 与 category_budget.csv 小计 {stated} 不符"
                )
        if b.carried + b.new != b.total:
            problems.append(f"{cat}: 结转 {b.carried} + 新上 {b.new} ≠ 合计 {b.total}")
        counted = {
            "项目数": sum(v for (c, _, _), v in kinds.items() if c == cat),
            "结转项目数": sum(v for (c, t, _), v in kinds.items() if c == cat and t == CARRIED),
            "新上直接补助项目数": kinds[(cat, NEW, DIRECT)],
            "新上后补助项目数": kinds[(cat, NEW, POST)],
        }
        stated_counts = {
            "项目数": b.projects,
            "结转项目数": b.carried_projects,
            "新上直接补助项目数": b.new_direct_projects,
            "新上后补助项目数": b.new_post_projects,
        }
        for k, v in counted.items():
            if v != stated_counts[k]:
                problems.append(
                    f"{cat} {k}: plan.csv 有 {v} 个，category_budget.csv 写 {stated_counts[k]} 个"
                )
    total = sum((b.total for b in ref.budget.values()), Decimal(0))
    if total != ref.annual_amount:
        problems.append(f"各类别合计 {total} 与年度金额 {ref.annual_amount} 不符")
    if ref.central_amount + ref.local_amount != ref.annual_amount:
        problems.append("中央补助 + 地方资金 ≠ 年度金额")
    region_counts = {
        "项目总数": len(ref.plan),
        "新上项目数": sum(1 for p in ref.plan if p.project_type == NEW),
        "结转项目数": sum(1 for p in ref.plan if p.project_type == CARRIED),
        "新上直接补助项目数": sum(
            1 for p in ref.plan if p.project_type == NEW and p.support_mode == DIRECT
        ),
        "新上后补助项目数": sum(
            1 for p in ref.plan if p.project_type == NEW and p.support_mode == POST
        ),
    }
    for k, v in region_counts.items():
        if v != ref.counts[k]:
            problems.append(f"region.csv {k} 为 {ref.counts[k]}，plan.csv 实有 {v}")
    keys = {f.key for f in ref.fields}
    for f in ref.fields:
        if f.kind not in KINDS:
            problems.append(f"template_fields.csv {f.key}: 未知类型 '{f.kind}'")
    for t in ref.targets:
        if t.rule not in RULES:
            problems.append(f"targets.csv {t.name}: 未知聚合规则 '{t.rule}'")
        for key in filter(None, (t.field, t.denominator)):
            if key not in keys:
                problems.append(f"targets.csv {t.name}: 字段 '{key}' 不在 template_fields.csv")
        if t.rule == "count_plan" and not t.condition:
            problems.append(f"targets.csv {t.name}: count_plan 规则需要条件")
    if not ref.template_versions:
        problems.append("template_versions.csv 没有接受的模板版本")
    return problems
