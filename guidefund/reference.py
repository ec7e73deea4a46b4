"""A region's reference data for a year (data/reference/<region-code>/<year>/*.csv), read and
checked.

Everything the pipeline knows about a year lives in those files: the allocation plan, the
category budget, the region's targets with their aggregation rules, the template's fields, the
scoring, the warning rules, the report's fixed texts and the sample generator's totals. Every file
goes through one reader (`_Files.rows`: required columns, typed values, each problem named by
file, row and column) and one check (`check_reference`); `load_reference` refuses a year whose
files are missing, malformed or contradict themselves, so a typo cannot reach a report.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path

DIRECT = "直接补助"
POST = "后补助"
NEW = "新上"
CARRIED = "结转"
RULES = {"sum", "count_plan", "ratio", "weighted_mean", "qualitative"}
SCORING_BASES = {"budget_execution", "indicators"}
# Files a year may leave out: the scores the region gave itself, per-indicator weights, the
# report's fixed texts, and the sample generator's data.
OPTIONAL_FILES = (
    "self_scores.csv",
    "indicator_weights.csv",
    "report_rules.csv",
    "sample_totals.csv",
    "sample_cases.csv",
    "sample_reasons.csv",
    "grades.csv",
    "reporting_calendar.csv",
)
# The kinds of report a reporting calendar lists; 年报 is the annual report (period = the year).
ANNUAL_REPORT = "年报"
REPORT_KINDS = ("月报", "运行监控", ANNUAL_REPORT)
YES, NO = "是", "否"
KINDS = {"text", "int", "money", "pct", "yesno", "grade", "period", "date"}
# What `guidefund reference new` leaves where a new year's value is to be written.
PENDING = "【待填】"


class ReferenceError(ValueError):
    """The reference files for a year are missing or contradict themselves."""

    def __init__(self, year_dir: Path, problems: list[str]):
        self.year_dir = year_dir
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
    choices: tuple[str, ...] = ()  # 可选值 (optional column): the only values accepted


@dataclass(frozen=True)
class Band:
    lower: Decimal
    upper: Decimal
    name: str
    wording: str


@dataclass(frozen=True)
class BudgetLine:
    """A row of budget.csv: a 资金类别, its budget, and the template field whose sum over the
    submissions is its 全年执行数 (empty: no submission reports it, so 0)."""

    source: str
    budget: Decimal
    field: str


@dataclass(frozen=True)
class ScoringPart:
    """A row of scoring.csv: a part of the score, its points and how it is computed."""

    part: str
    points: Decimal
    basis: str  # budget_execution | indicators
    level1: str  # the 一级指标 whose indicators it scores


@dataclass(frozen=True)
class Due:
    """One row of reporting_calendar.csv: a report period, its kind, the day it is due, and
    whether every plan project must send it (a missing one is then alerted after that day)."""

    period: str  # '2024-06' a month, '2024' the annual report
    kind: str
    due: date
    every_project: bool


@dataclass(frozen=True)
class WarningRules:
    """warning_rules.csv: the seed's rules behind submission.warning."""

    enterprise_unit_type: str
    self_raised_ratio: Decimal
    ratio_base: str
    outlier_fields: tuple[str, ...]
    outlier_min_peers: int


@dataclass(frozen=True)
class Spread:
    """How one field's stated total is spread over the projects (a row of sample_totals.csv)."""

    field: str
    kind: str  # sum | count (yes/no flags) | weighted_mean
    total: Decimal
    who: str
    weight: str
    cap: str


@dataclass(frozen=True)
class SampleRules:
    """The sample generator's data: sample_totals.csv, sample_cases.csv, sample_reasons.csv and
    grades.csv (all optional: a year without them gets plausible samples, not the seed's)."""

    spreads: dict[str, Spread]
    cases: dict[int, dict[str, Decimal]]  # project no -> field -> stated value
    reasons: dict[int, str]  # project no -> the seed's stated reason
    grades: dict[int, str]


@dataclass(frozen=True)
class Reference:
    year: int
    region_code: str
    region_name: str
    fund_name: str
    # Wording from region.csv: 地区简称 (新疆), 全域称谓 (全区 / 全省 / 全市), 中央主管部门 and
    # 省级主管部门 (the 自评表's 地方主管部门).
    region_short: str
    region_whole: str
    central_department: str
    local_department: str
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
    scoring: tuple[ScoringPart, ...]
    score_bands: tuple[tuple[str, Decimal], ...]  # grade, lowest score; best first
    self_scores: dict[str, Decimal]  # part -> the score the region gave itself
    indicator_weights: dict[str, Decimal]  # 三级指标 -> weight (optional file)
    texts: dict[str, str]  # report_rules.csv: the report's fixed texts, by key
    warning_rules: WarningRules
    samples: SampleRules
    # reporting_calendar.csv, in period order; empty when the year has no calendar (then only
    # the annual report is monitored, due by GUIDEFUND_SUBMISSION_DEADLINE or 31 January).
    calendar: tuple[Due, ...] = ()

    def project(self, no: int) -> Project | None:
        return self._by_no.get(no)

    @cached_property
    def _by_no(self) -> dict[int, Project]:
        # Built once: rebuilding it per call made every lookup O(plan), and a batch of 2,000
        # files over a 2,000-project plan spent 4 s here (benchmarks/nightly_scale.py).
        return {p.no: p for p in self.plan}

    @property
    def categories(self) -> list[str]:
        return list(self.budget)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def stem(self, period: str | None = None) -> str:
        """How the region and year (or period) appear in output file names: 新疆_2024."""
        return f"{self.region_short}_{period or self.year}"

    def text(self, key: str, default: str = "") -> str:
        """A fixed text of report_rules.csv, or `default` when the year does not give it."""
        return self.texts.get(key) or default

    @property
    def grades(self) -> tuple[str, ...]:
        """The score grades, best first (优, 良, 中, 差)."""
        return tuple(name for name, _ in self.score_bands)


class _Files:
    """The one reader of a year's CSV files: UTF-8 (a BOM is fine), values stripped, required
    columns checked, typed values parsed; every problem is collected with its file, row and
    column instead of raised, so one run of `load_reference` reports them all."""

    def __init__(self, year_dir: Path):
        self.dir = year_dir
        self.problems: list[str] = []

    def rows(self, name: str, columns: tuple[str, ...], optional: bool = False) -> list[_Row]:
        path = self.dir / name
        if not path.exists():
            if not optional:
                self.problems.append(f"缺少文件 {name}")
            return []
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                header = [h.strip() for h in reader.fieldnames or []]
                rows = [
                    {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                    for row in reader
                ]
        except (UnicodeDecodeError, csv.Error) as exc:
            self.problems.append(f"{name} 无法读取（应为 UTF-8 编码的 CSV）：{exc}")
            return []
        missing = [c for c in columns if c not in header]
        if missing:
            self.problems.append(f"{name} 缺少列 {'、'.join(missing)}")
            return []
        out = []
        for n, row in enumerate(rows, start=2):
            pending = [k for k, v in row.items() if v == PENDING]
            if pending:
                self.problems.append(f"{name} 第 {n} 行：{'、'.join(pending)} 仍为{PENDING}")
                continue
            out.append(_Row(self, name, n, row))
        return out


class _Row:
    """One CSV row; typed getters record a problem (file, line, column) and return a
    placeholder instead of raising."""

    def __init__(self, files: _Files, name: str, line: int, values: dict[str, str]):
        self.files, self.name, self.line, self.values = files, name, line, values

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    def _bad(self, column: str, what: str) -> None:
        value = self.values.get(column, "")
        self.files.problems.append(f"{self.name} 第 {self.line} 行 {column}：'{value}' {what}")

    def dec(self, column: str) -> Decimal:
        try:
            return Decimal(self[column])
        except InvalidOperation:
            self._bad(column, "不是数字")
            return Decimal(0)

    def opt_dec(self, column: str) -> Decimal | None:
        return self.dec(column) if self[column] else None

    def int(self, column: str, default: int | None = None) -> int:
        text = self[column]
        if not text and default is not None:
            return default
        try:
            return int(text)
        except ValueError:
            self._bad(column, "不是整数")
            return 0


def available(reference_dir: Path) -> list[tuple[str, int, Path]]:
    """Every (region code, year, directory) under the root: <root>/<region-code>/<year>/, and the
    older layout <root>/<year>/ (its region is the one its region.csv names; '' if unreadable)."""
    root = reference_dir.resolve()
    found: list[tuple[str, int, Path]] = []
    if not root.is_dir():
        return found
    for entry in sorted(root.iterdir()):
        if not entry.is_dir():
            continue
        if _is_year(entry.name):
            found.append((_region_code_of(entry), int(entry.name), entry))
            continue
        for sub in sorted(entry.iterdir()):
            if sub.is_dir() and _is_year(sub.name):
                found.append((entry.name, int(sub.name), sub))
    return found


def _is_year(name: str) -> bool:
    return len(name) == 4 and name.isdigit()


def _region_code_of(year_dir: Path) -> str:
    try:
        with (year_dir / "region.csv").open(encoding="utf-8-sig", newline="") as f:
            row = next(csv.DictReader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return ""
    return ((row or {}).get("地区代码") or "").strip()


def year_dir_for(reference_dir: Path, year: int, region: str = "") -> Path:
    """The directory holding `region`'s reference data for `year`: <root>/<region>/<year>/, or
    <root>/<year>/ in the older layout. Without a region, the year's only region; a year that
    several regions have, or none, is a ReferenceError saying which exist."""
    root = reference_dir.resolve()
    if region:
        if (root / region / str(year)).is_dir():
            return root / region / str(year)
        for code, y, path in available(root):
            if y == year and code == region:
                return path
        have = "、".join(sorted({str(y) for c, y, _ in available(root) if c == region}))
        hint = f"（该地区已有：{have}）" if have else "（没有该地区的任何年度）"
        raise ReferenceError(
            root / region / str(year), [f"没有地区 {region} 的 {year} 年度参考数据目录{hint}"]
        )
    matches = [(c, p) for c, y, p in available(root) if y == year]
    if len(matches) == 1:
        return matches[0][1]
    if not matches:
        raise ReferenceError(root / str(year), [f"没有 {year} 年度的参考数据目录"])
    codes = "、".join(sorted(c or str(p) for c, p in matches))
    raise ReferenceError(
        root / str(year), [f"有多个地区的 {year} 年度参考数据（{codes}）：请用 --region 指定地区"]
    )


def _years(reference_dir: Path, region: str) -> list[int]:
    years = sorted({y for c, y, _ in available(reference_dir) if not region or c == region})
    if not years:
        where = f"地区 {region} 的" if region else "任何"
        raise ReferenceError(reference_dir.resolve(), [f"没有{where}年度参考数据"])
    return years


def plan_year(reference_dir: Path, region: str, today: date, deadline: date | None = None) -> int:
    """The plan year a command works on when given none: the latest year whose reference data
    is present and which has begun by `today`, except that until the previous year's
    submission deadline (`deadline`, else 31 January) the previous year's annual reports are
    still coming in, so that year is the one. Before any present year begins: the earliest."""
    years = _years(reference_dir, region)
    begun = [y for y in years if y <= today.year]
    if not begun:
        return years[0]
    year = begun[-1]
    due = deadline or date(year, 1, 31)
    if year == today.year and year - 1 in years and today <= due:
        return year - 1
    return year


def closed_year(reference_dir: Path, region: str, today: date) -> int:
    """The plan year that has just closed: the latest present year whose 31 December has come
    (the scheduled year-end runs on 31 December, and again after the deadline)."""
    years = _years(reference_dir, region)
    closed = [y for y in years if date(y, 12, 31) <= today]
    if not closed:
        raise ReferenceError(
            reference_dir.resolve(),
            [f"{today.isoformat()} 时还没有已结束的计划年度（已有：{years}）"],
        )
    return closed[-1]


def load_reference(reference_dir: Path, year: int, region: str = "") -> Reference:
    """Read <root>/<region>/<year>/ (or the older <root>/<year>/) and check it; raise
    ReferenceError listing every problem.

    Read once per process while its files stay as they are: an edited file (a plan amendment
    while `guidefund serve` runs) is read afresh."""
    year_dir = year_dir_for(reference_dir, year, region)
    ref = _load(year_dir, year, _stamp(year_dir))
    named = year_dir.parent.name  # the region's folder, or the root in the older layout
    if year_dir.parent != reference_dir.resolve() and named != ref.region_code:
        raise ReferenceError(
            year_dir, [f"region.csv 的地区代码为 {ref.region_code}，目录为 {named}"]
        )
    if region and ref.region_code != region:
        raise ReferenceError(
            year_dir, [f"region.csv 的地区代码为 {ref.region_code}，所要的地区为 {region}"]
        )
    return ref


def _stamp(year_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Each file's name, size and modification time: what says the files changed."""
    if not year_dir.is_dir():
        return ()
    found = (p for p in year_dir.iterdir() if p.is_file())
    return tuple(sorted((p.name, (st := p.stat()).st_size, st.st_mtime_ns) for p in found))


@lru_cache(maxsize=8)
def _load(year_dir: Path, year: int, _stamp: tuple[tuple[str, int, int], ...] = ()) -> Reference:
    if not year_dir.is_dir():
        raise ReferenceError(year_dir, [f"没有 {year} 年度的参考数据目录"])
    files = _Files(year_dir)
    region_rows = files.rows("region.csv", REGION_COLUMNS)
    unit_rows = files.rows("units.csv", ("申报单位", "单位类型"))
    units = {r["申报单位"]: r["单位类型"] for r in unit_rows}
    plan = tuple(
        Project(
            no=r.int("序号"),
            name=r["项目名称"],
            unit=r["申报单位"],
            unit_type=units.get(r["申报单位"], ""),
            category=r["类别"],
            project_type=r["立项类型"],
            support_mode=r["支持方式"],
            allocation=r.dec("安排资金（万元）"),
        )
        for r in files.rows("plan.csv", PLAN_COLUMNS)
    )
    budget = {
        r["类别"]: CategoryBudget(
            category=r["类别"],
            carried=r.dec("结转（万元）"),
            new=r.dec("新上（万元）"),
            total=r.dec("合计（万元）"),
            projects=r.int("项目数"),
            carried_projects=r.int("结转项目数"),
            new_direct_projects=r.int("新上直接补助项目数"),
            new_post_projects=r.int("新上后补助项目数"),
        )
        for r in files.rows("category_budget.csv", CATEGORY_COLUMNS)
    }
    targets = tuple(
        Target(
            no=r.int("序号"),
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
            decimals=r.int("小数位", default=0),
        )
        for r in files.rows("targets.csv", TARGET_COLUMNS)
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
            lower=r.opt_dec("下限"),
            upper=r.opt_dec("上限"),
            unit=r["单位"],
            hint=r["填报要求"],
            choices=tuple(filter(None, (c.strip() for c in r["可选值"].split("、")))),
        )
        for r in files.rows("template_fields.csv", FIELD_COLUMNS)
    )
    bands = tuple(
        Band(r.dec("下限（%）"), r.dec("上限（%）"), r["档次"], r["实际完成值表述"])
        for r in files.rows(
            "qualitative_bands.csv", ("下限（%）", "上限（%）", "档次", "实际完成值表述")
        )
    )
    budget_lines = tuple(
        BudgetLine(r["资金类别"], r.dec("全年预算数（万元）"), r["执行数字段"])
        for r in files.rows("budget.csv", ("资金类别", "全年预算数（万元）", "执行数字段"))
    )
    versions = [
        r["版本"]
        for r in files.rows("template_versions.csv", ("版本", "接受"))
        if r["接受"] == "是"
    ]
    scoring = tuple(
        ScoringPart(r["部分"], r.dec("满分"), r["口径"], r["一级指标"])
        for r in files.rows("scoring.csv", ("部分", "满分", "口径", "一级指标"))
    )
    score_bands = tuple(
        sorted(
            (
                (r["等级"], r.dec("下限（分）"))
                for r in files.rows("score_bands.csv", ("等级", "下限（分）"))
            ),
            key=lambda b: -b[1],
        )
    )
    self_scores = {
        r["部分"]: r.dec("自评得分")
        for r in files.rows("self_scores.csv", ("部分", "自评得分"), optional=True)
    }
    weights = {
        r["三级指标"]: r.dec("权重")
        for r in files.rows("indicator_weights.csv", ("三级指标", "权重"), optional=True)
    }
    texts = {r["键"]: r["值"] for r in files.rows("report_rules.csv", ("键", "值"), optional=True)}
    warning_rules = _warning_rules(files)
    samples = _sample_rules(files)
    calendar = _calendar(files, year)
    region = region_rows[0] if region_rows else None
    if region is None:
        if not files.problems:
            files.problems.append("region.csv 没有数据行")
        raise ReferenceError(year_dir, files.problems)
    counts = {k: region.int(k) for k in REGION_COUNTS}
    ref = Reference(
        year=region.int("年度"),
        region_code=region["地区代码"],
        region_name=region["地区"],
        fund_name=region["项目名称"],
        region_short=region["地区简称"] or texts.get("地区简称") or region["地区"],
        region_whole=region["全域称谓"] or f"全{region['地区简称'] or region['地区']}",
        central_department=region["中央主管部门"] or texts.get("中央主管部门", ""),
        local_department=region["省级主管部门"] or texts.get("地方主管部门", ""),
        annual_amount=region.dec("年度金额（万元）"),
        central_amount=region.dec("中央补助（万元）"),
        local_amount=region.dec("地方资金（万元）"),
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
        scoring=scoring,
        score_bands=score_bands,
        self_scores=self_scores,
        indicator_weights=weights,
        texts=texts,
        warning_rules=warning_rules,
        samples=samples,
        calendar=calendar,
    )
    problems = files.problems
    if not problems:
        problems += check_reference(ref, units)
    if ref.year != year:
        problems.append(f"region.csv 年度为 {ref.year}，目录为 {year}")
    if problems:
        raise ReferenceError(year_dir, problems)
    return ref


REGION_COUNTS = ("项目总数", "新上项目数", "结转项目数", "新上直接补助项目数", "新上后补助项目数")
REGION_COLUMNS = (
    "地区代码", "地区", "年度", "项目名称", "年度金额（万元）", "中央补助（万元）", "地方资金（万元）",
    *REGION_COUNTS,
)  # fmt: skip
PLAN_COLUMNS = ("序号", "项目名称", "申报单位", "类别", "立项类型", "支持方式", "安排资金（万元）")
CATEGORY_COLUMNS = (
    "类别", "结转（万元）", "新上（万元）", "合计（万元）", "项目数", "结转项目数",
    "新上直接补助项目数", "新上后补助项目数",
)  # fmt: skip
TARGET_COLUMNS = (
    "序号", "一级指标", "二级指标", "三级指标", "运算符", "指标值", "单位", "聚合规则", "字段",
    "分母字段", "条件", "小数位",
)  # fmt: skip
FIELD_COLUMNS = (
    "键", "工作表", "标签", "单元格", "类型", "必填", "预填", "下限", "上限", "单位", "填报要求",
)  # fmt: skip


def _warning_rules(files: _Files) -> WarningRules:
    v = {(r["规则"], r["参数"]): r for r in files.rows("warning_rules.csv", ("规则", "参数", "值"))}
    needed = {
        ("enterprise_self_raised_ratio", "单位类型"),
        ("enterprise_self_raised_ratio", "倍数"),
        ("enterprise_self_raised_ratio", "引导资金字段"),
        ("indicator_outlier", "字段"),
        ("indicator_outlier", "最少报送数"),
    }
    if v and needed - set(v):
        missing = "、".join(f"{rule}/{param}" for rule, param in sorted(needed - set(v)))
        files.problems.append(f"warning_rules.csv 缺少规则参数 {missing}")
    if needed - set(v):
        return WarningRules("", Decimal(0), "", (), 0)
    return WarningRules(
        enterprise_unit_type=v[("enterprise_self_raised_ratio", "单位类型")]["值"],
        self_raised_ratio=v[("enterprise_self_raised_ratio", "倍数")].dec("值"),
        ratio_base=v[("enterprise_self_raised_ratio", "引导资金字段")]["值"],
        outlier_fields=tuple(filter(None, v[("indicator_outlier", "字段")]["值"].split(";"))),
        outlier_min_peers=v[("indicator_outlier", "最少报送数")].int("值"),
    )


def _calendar(files: _Files, year: int) -> tuple[Due, ...]:
    """reporting_calendar.csv (optional): each period once, of this year, a known kind, an ISO
    due date, 是/否; the 年报 row's period is the year itself."""
    name = "reporting_calendar.csv"
    out: list[Due] = []
    for r in files.rows(name, ("报告期", "类型", "截止日期", "全部项目须报送"), optional=True):
        period, kind = r["报告期"], r["类型"]
        annual = kind == ANNUAL_REPORT
        if kind not in REPORT_KINDS:
            r._bad("类型", f"应为 {'、'.join(REPORT_KINDS)} 之一")
        elif period != (str(year) if annual else period) or not (
            annual or (len(period) == 7 and period[:5] == f"{year}-" and period[5:].isdigit()
                       and 1 <= int(period[5:]) <= 12)
        ):  # fmt: skip
            r._bad("报告期", f"应为 {year}（年报）或 {year}-01 … {year}-12（月份）")
        try:
            due = date.fromisoformat(r["截止日期"])
        except ValueError:
            r._bad("截止日期", "不是日期（应为 YYYY-MM-DD）")
            continue
        if r["全部项目须报送"] not in (YES, NO):
            r._bad("全部项目须报送", f"应为 {YES} 或 {NO}")
        out.append(Due(period, kind, due, r["全部项目须报送"] == YES))
    seen = Counter(d.period for d in out)
    for period in sorted(p for p, n in seen.items() if n > 1):
        files.problems.append(f"{name} 报告期 {period} 出现多次")
    return tuple(sorted(out, key=lambda d: (len(d.period) == 4, d.period)))


def _sample_rules(files: _Files) -> SampleRules:
    spreads = {
        r["字段"]: Spread(r["字段"], r["口径"], r.dec("合计"), r["参与项目"], r["权重"], r["上限"])
        for r in files.rows(
            "sample_totals.csv", ("字段", "口径", "合计", "参与项目", "权重", "上限"), optional=True
        )
    }
    cases: dict[int, dict[str, Decimal]] = {}
    for r in files.rows("sample_cases.csv", ("序号", "字段", "值"), optional=True):
        cases.setdefault(r.int("序号"), {})[r["字段"]] = r.dec("值")
    reasons = {
        r.int("序号"): r["偏差原因及改进措施"]
        for r in files.rows("sample_reasons.csv", ("序号", "偏差原因及改进措施"), optional=True)
    }
    grades = {
        r.int("序号"): r["自评等级"]
        for r in files.rows("grades.csv", ("序号", "自评等级"), optional=True)
    }
    return SampleRules(spreads, cases, reasons, grades)


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
    budgeted = sum((line.budget for line in ref.budget_lines), Decimal(0))
    if ref.budget_lines and budgeted != ref.annual_amount:
        problems.append(
            f"budget.csv 全年预算数合计 {budgeted} 与 region.csv 年度金额 {ref.annual_amount} 不符"
        )
    money = {f.key for f in ref.fields if f.kind == "money"}
    for line in ref.budget_lines:
        if line.field and line.field not in money:
            problems.append(
                f"budget.csv {line.source}：执行数字段 '{line.field}' 不是 template_fields.csv 中的金额字段"
            )
    for f in ref.fields:
        if f.kind not in KINDS:
            problems.append(f"template_fields.csv {f.key}: 未知类型 '{f.kind}'")
        if f.kind == "grade" and not f.choices:
            problems.append(
                f"template_fields.csv {f.key}: 等级字段需要在 可选值 列写出可选等级（如 优、良、中、差）"
            )
    for t in ref.targets:
        if t.rule not in RULES:
            problems.append(f"targets.csv {t.name}: 未知聚合规则 '{t.rule}'")
        for key in filter(None, (t.field, t.denominator)):
            if key not in keys:
                problems.append(f"targets.csv {t.name}: 字段 '{key}' 不在 template_fields.csv")
        numeric = {"int", "money", "pct", "yesno"}
        for key in filter(None, (t.field, t.denominator)):
            if key in keys and t.rule != "count_plan" and ref.field(key).kind not in numeric:
                problems.append(
                    f"targets.csv {t.name}: 字段 '{key}' 的类型为 {ref.field(key).kind}，"
                    f"{t.rule} 规则需要数值字段（int/money/pct/yesno）"
                )
        if t.rule == "count_plan" and not t.condition:
            problems.append(f"targets.csv {t.name}: count_plan 规则需要条件")
    if not ref.template_versions:
        problems.append("template_versions.csv 没有接受的模板版本")
    problems += _check_scoring(ref)
    rules = ref.warning_rules
    for key in (rules.ratio_base, *rules.outlier_fields):
        if key not in keys:
            problems.append(f"warning_rules.csv: 字段 '{key}' 不在 template_fields.csv")
    for key in ref.samples.spreads:
        if key not in keys:
            problems.append(f"sample_totals.csv: 字段 '{key}' 不在 template_fields.csv")
    return problems


YEAR_MENTION = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")


def reference_warnings(ref: Reference) -> list[str]:
    """What may be right but usually is a copy not yet edited: a fixed text of report_rules.csv
    naming another year than the directory's (a 总体目标 copied from last year goes straight
    into the 自评表)."""
    found = []
    for key, text in ref.texts.items():
        years = sorted({int(y) for y in YEAR_MENTION.findall(text)} - {ref.year})
        if years:
            named = "、".join(f"{y} 年" for y in years)
            found.append(
                f"report_rules.csv {key}：文中写的是 {named}，本目录为 {ref.year} 年度；"
                f"如为上年文本，请改写"
            )
    return found


def _check_scoring(ref: Reference) -> list[str]:
    """scoring.csv, score_bands.csv, self_scores.csv and indicator_weights.csv against each other
    and the targets."""
    problems = []
    if not ref.scoring:
        problems.append("scoring.csv 没有评分部分")
    level1s = {t.level1 for t in ref.targets}
    for part in ref.scoring:
        if part.basis not in SCORING_BASES:
            problems.append(f"scoring.csv {part.part}: 未知口径 '{part.basis}'")
        if part.basis == "indicators" and part.level1 not in level1s:
            problems.append(f"scoring.csv {part.part}: 一级指标 '{part.level1}' 不在 targets.csv")
    if not ref.score_bands:
        problems.append("score_bands.csv 没有等级")
    elif ref.score_bands[-1][1] != 0:
        problems.append("score_bands.csv 最低等级的下限应为 0（任何得分都有等级）")
    parts = {p.part for p in ref.scoring}
    for part in ref.self_scores:
        if part not in parts:
            problems.append(f"self_scores.csv: 部分 '{part}' 不在 scoring.csv")
    names = {t.name for t in ref.targets}
    for name in ref.indicator_weights:
        if name not in names:
            problems.append(f"indicator_weights.csv: 三级指标 '{name}' 不在 targets.csv")
    return problems


# `guidefund reference new`: what a new year or region takes from an older year as it is, what
# it takes with the year's own values left 【待填】, and what it starts with headers only.
CARRIED_FILES = (
    "template_fields.csv",
    "template_versions.csv",
    "units.csv",
    "qualitative_bands.csv",
    "scoring.csv",
    "score_bands.csv",
    "warning_rules.csv",
    "indicator_weights.csv",
)
PENDING_COLUMNS = {
    "region.csv": (
        "年度金额（万元）", "中央补助（万元）", "地方资金（万元）", *REGION_COUNTS, "出处",
    ),
    "targets.csv": ("指标值",),
}  # fmt: skip
HEADER_FILES = ("plan.csv", "category_budget.csv", "budget.csv", "units.csv")
# region.csv's columns that name the region itself (left 【待填】 for another region).
REGION_OWN = ("地区", "地区简称", "全域称谓", "省级财政部门", "省级主管部门")


def scaffold(source: Path, target: Path, region_code: str, year: int) -> list[str]:
    """Start <target> (a new region's or year's directory) from the older year in <source>:
    the files that carry over copied; region.csv and targets.csv copied with the year's own
    values 【待填】; report_rules.csv copied with every text naming another year 【待填】;
    plan.csv, category_budget.csv and budget.csv as their header and one row of 【待填】. The
    seed's figures, the sample generator's data and the self-scores are not copied (optional).
    Returns the names written; refuses a target that exists."""
    if target.exists():
        raise FileExistsError(target)
    target.mkdir(parents=True)
    written = []
    _, (old_region, *_) = _read_csv(source / "region.csv")
    other_region = old_region.get("地区代码", "") != region_code
    for name in CARRIED_FILES:
        if other_region and name == "units.csv":
            continue  # another region's units: listed with its plan
        if (source / name).exists():
            (target / name).write_bytes((source / name).read_bytes())
            written.append(name)
    for name, columns in PENDING_COLUMNS.items():
        header, rows = _read_csv(source / name)
        for row in rows:
            row.update({c: PENDING for c in columns if c in row})
            if name == "region.csv":
                row.update({"地区代码": region_code, "年度": str(year)})
                if other_region:
                    row.update({c: PENDING for c in REGION_OWN if c in row})
        _write_csv(target / name, header, rows)
        written.append(name)
    if (source / CALENDAR).exists():
        _shift_calendar(source / CALENDAR, target / CALENDAR, year - int(old_region["年度"]))
        written.append(CALENDAR)
    if (source / "report_rules.csv").exists():
        header, rows = _read_csv(source / "report_rules.csv")
        for row in rows:
            if YEAR_MENTION.search(row.get("值", "")):
                row["值"] = PENDING
        _write_csv(target / "report_rules.csv", header, rows)
        written.append("report_rules.csv")
    for name in HEADER_FILES:
        if name in written:
            continue
        header, _ = _read_csv(source / name)
        _write_csv(target / name, header, [dict.fromkeys(header, PENDING)])
        written.append(name)
    return written


CALENDAR = "reporting_calendar.csv"


def _shift_calendar(source: Path, target: Path, years: int) -> None:
    """The older year's reporting calendar moved `years` on: each period and due date the same
    day of the new year (a 29 February becomes the 28th)."""
    header, rows = _read_csv(source)
    for row in rows:
        period = row.get("报告期", "")
        if period[:4].isdigit():
            row["报告期"] = f"{int(period[:4]) + years}{period[4:]}"
        due = row.get("截止日期", "")
        try:
            day = date.fromisoformat(due)
        except ValueError:
            row["截止日期"] = PENDING
            continue
        moved = day.replace(year=day.year + years, day=min(day.day, 28 if day.month == 2 else 31))
        row["截止日期"] = moved.isoformat()
    _write_csv(target, header, rows)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), [dict(r) for r in reader]


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
