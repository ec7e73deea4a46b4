"""The Chinese side of the Data Docs: one summary page per validation run (runs/<run>.html) and
a list of the runs kept (runs/index.html), in the year-end page's look, linking to Great
Expectations' detail pages. Each run's figures are kept as runs/<run>.json, so the list is
rebuilt without GX. Cheap to import."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from guidefund.expectations import rule_name, suite_data
from guidefund.htmlpage import page

RUNS = "runs"
SUITE_TITLES = {
    "submission.critical": "填报文件（不通过即退回）",
    "submission.warning": "填报文件（不通过只提醒）",
    "plan.critical": "资金安排计划与预算",
    "consolidated.critical": "汇总结果一致性",
}
ZONE_NAMES = {"Asia/Shanghai": "北京时间"}


@dataclass
class Check:
    """A failed expectation: its rule, the field it is about and how many rows failed it."""

    rule: str
    field: str
    rows: int


@dataclass
class SuiteSummary:
    suite: str
    success: bool
    evaluated: int
    failed: int
    page: str  # the GX page of this validation, relative to the site
    checks: list[Check] = field(default_factory=list)


@dataclass
class RunSummary:
    run_name: str
    run_time: str  # as GX names it: 20261203T164313.626210Z (UTC)
    suites: list[SuiteSummary]

    @property
    def stem(self) -> str:
        return f"{self.run_time}-{self.run_name}"

    @property
    def success(self) -> bool:
        return all(s.success for s in self.suites)


def summarise(suite: str, result: object, page_path: str) -> SuiteSummary:
    """A GX suite validation result in figures: passed or not, how many checks, which failed."""
    stats = getattr(result, "statistics", {}) or {}
    checks = []
    for r in getattr(result, "results", []):
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rows = (
            r.result.get("unexpected_index_list") or r.result.get("partial_unexpected_list") or []
        )
        checks.append(Check(str(meta.get("rule", "")), str(meta.get("field", "")), len(rows)))
    return SuiteSummary(
        suite=suite,
        success=bool(getattr(result, "success", False)),
        evaluated=int(stats.get("evaluated_expectations", 0)),
        failed=int(stats.get("unsuccessful_expectations", 0)),
        page=page_path,
        checks=checks,
    )


def local_time(run_time: str, timezone: str) -> str:
    moment = datetime.strptime(run_time, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    zone = ZONE_NAMES.get(timezone, timezone)
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M:%S}（{zone}）"


def _suite_title(name: str) -> str:
    return SUITE_TITLES.get(name, name)


def _guards(name: str) -> str:
    try:
        return str(suite_data(name).get("meta", {}).get("guards", ""))
    except FileNotFoundError:
        return ""


def run_page(run: RunSummary, timezone: str) -> str:
    """One run's summary: a row per suite with its result and a link to GX's details, then the
    failed checks by name."""
    up = "../"
    rows, failed = [], []
    for s in run.suites:
        result = '<span class="ok">通过</span>' if s.success else '<span class="fail">未通过</span>'
        rows.append(
            f"<tr><td>{escape(_suite_title(s.suite))}<br><small>{escape(s.suite)}</small></td>"
            f"<td>{escape(_guards(s.suite))}</td><td>{result}</td><td>{s.evaluated}</td>"
            f'<td>{s.failed}</td><td><a href="{up}{escape(s.page)}">查看详情</a></td></tr>'
        )
        for c in s.checks:
            failed.append(
                f"<tr><td>{escape(_suite_title(s.suite))}</td><td>{escape(rule_name(c.rule))}</td>"
                f"<td>{escape('（多个字段）' if c.field == '*' else c.field)}</td><td>{c.rows}</td></tr>"
            )
    verdict = (
        "没有需要校验的新内容（没有新文件，计划和汇总结果此前已按同样的规则校验过）"
        if not run.suites
        else "全部通过"
        if run.success
        else f"{sum(not s.success for s in run.suites)} 个套件未通过"
    )
    body = (
        f'<nav><a href="index.html">全部运行</a> ｜ <a href="{up}index.html">Great Expectations 详情首页</a></nav>'
        f'<p id="verdict">运行 {escape(run.run_name)}，{escape(local_time(run.run_time, timezone))}：'
        f'<span class="{"ok" if run.success else "fail"}">{verdict}</span>。</p>'
        '<table id="suites"><thead><tr><th>校验套件</th><th>检查对象</th><th>结果</th>'
        "<th>检查项数</th><th>未通过项数</th><th>详情</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    if failed:
        body += (
            '<h2>未通过的检查</h2><table id="failed"><thead><tr><th>校验套件</th><th>检查项目</th>'
            f"<th>字段</th><th>涉及行数</th></tr></thead><tbody>{''.join(failed)}</tbody></table>"
            "<p>每行是一份报送文件（或一个方向、一个报告期）；具体是哪几行、填写的值是什么，见“查看详情”。</p>"
        )
    return page(f"校验摘要：{run.run_name}", body)


def runs_page(runs: list[RunSummary], timezone: str) -> str:
    """Every kept run, newest first, each linking to its summary."""
    rows = []
    for run in runs:
        result = (
            '<span class="ok">全部通过</span>'
            if run.success
            else f'<span class="fail">{sum(not s.success for s in run.suites)} 个套件未通过</span>'
        )
        rows.append(
            f"<tr><td>{escape(local_time(run.run_time, timezone))}</td>"
            f'<td><a href="{escape(run.stem)}.html">{escape(run.run_name)}</a></td>'
            f"<td>{len(run.suites)}</td><td>{result}</td></tr>"
        )
    body = (
        f'<nav><a href="../index.html">Great Expectations 详情首页</a></nav>'
        f"<p>保留最近 {len(runs)} 次运行的校验结果。</p>"
        '<table id="runs"><thead><tr><th>时间</th><th>运行</th><th>校验套件数</th><th>结果</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return page("校验运行记录", body)


def save_run(site: Path, run: RunSummary, timezone: str) -> Path:
    """Write the run's figures and summary page; the path of the page."""
    folder = site / RUNS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run.stem}.json").write_text(
        json.dumps(asdict(run), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    path = folder / f"{run.stem}.html"
    path.write_text(run_page(run, timezone), encoding="utf-8")
    return path


def load_runs(site: Path) -> list[RunSummary]:
    """The runs whose figures are kept in the site, newest first."""
    runs = []
    for path in (site / RUNS).glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        suites = [
            SuiteSummary(**{**s, "checks": [Check(**c) for c in s["checks"]]})
            for s in data["suites"]
        ]
        runs.append(RunSummary(data["run_name"], data["run_time"], suites))
    return sorted(runs, key=lambda r: (r.run_time, r.run_name), reverse=True)


def forget_run(site: Path, stem: str) -> None:
    for suffix in (".json", ".html"):
        (site / RUNS / f"{stem}{suffix}").unlink(missing_ok=True)


def write_runs_index(site: Path, timezone: str) -> Path:
    path = site / RUNS / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(runs_page(load_runs(site), timezone), encoding="utf-8")
    return path


def save_quiet_run(site: Path, run_name: str, timezone: str) -> Path:
    """The summary page of a run that validated nothing (and the list of runs), written without
    GX: the run still appears in the Data Docs, saying so."""
    run_time = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = save_run(site, RunSummary(run_name, run_time, []), timezone)
    write_runs_index(site, timezone)
    return path.resolve()
