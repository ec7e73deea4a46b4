"""The scheduled Prefect deployments (`guidefund serve`, `guidefund deployments`).

The three deployments are data built from Settings (cron, time zone, working directory), served
together by one process. Choices a reader must know:
- Entry points are module paths (guidefund.flows.nightly.nightly_consolidation), so runs start from any
  working directory where guidefund is installed, not only from the repository.
- Overlap: nightly-consolidation and execution-alerts run one at a time and a run started while
  another is running is cancelled (a second consolidation of the same inbox would race the
  first). year-end-aggregation also runs one at a time, but a hand-started run for another year
  waits in line instead of being dropped.
- Serving never pauses the schedules on shutdown, so a restart (or a crash) of `guidefund serve`
  does not silently stop the nightly run.
- Schedules are computed by a Prefect server's scheduler; Prefect's temporary (ephemeral) server
  runs no scheduler, so `serve` refuses to start without PREFECT_API_URL.
Prefect is imported inside functions: the CLI sets Prefect's environment before the first import.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from guidefund.settings import Settings

CANCEL_NEW, ENQUEUE = "cancel-new", "enqueue"
POLICY_TEXT = {CANCEL_NEW: "运行中再触发：取消新运行", ENQUEUE: "运行中再触发：排队等候"}


@dataclass(frozen=True)
class Plan:
    """One deployment as data: its name (also the flow's), entry point, schedule and policy."""

    name: str
    entrypoint: str
    cron: str
    timezone: str
    setting: str
    overlap: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)


def plans(settings: Settings) -> list[Plan]:
    """The deployments guidefund serves, from settings; raises ValueError naming a bad setting."""
    # The region is a parameter of every deployment (empty: the only region with reference
    # data); the year is not: each run takes it from the calendar (guidefund.reference).
    # as_of None: each run is judged as of its own day in GUIDEFUND_TIMEZONE; a missed night is
    # replayed by starting the deployment with as_of set to that night's date.
    common = {
        "workdir": str(settings.workdir.resolve()),
        "region": settings.region,
        "as_of": None,
    }
    found = [
        Plan(
            "nightly-consolidation",
            "guidefund.flows.nightly.nightly_consolidation",
            settings.nightly_cron,
            settings.timezone,
            "GUIDEFUND_NIGHTLY_CRON",
            CANCEL_NEW,
            "每晚把收件箱中的填报文件校验、入库、归档。",
            common,
        ),
        Plan(
            "execution-alerts",
            "guidefund.flows.digest.execution_alerts",
            settings.alerts_cron,
            settings.timezone,
            "GUIDEFUND_ALERTS_CRON",
            CANCEL_NEW,
            "每周发送未关闭预警摘要（执行进度慢、指标偏差、逾期未报）。",
            common,
        ),
        Plan(
            "year-end-aggregation",
            "guidefund.flows.year_end.year_end_aggregation",
            settings.year_end_cron,
            settings.timezone,
            "GUIDEFUND_YEAR_END_CRON",
            ENQUEUE,
            "年末汇总区域绩效目标自评表；也可手动运行任一年度（参数 year）。",
            common,
        ),
    ]
    for plan in found:
        _check_schedule(plan)
    return found


def _check_schedule(plan: Plan) -> None:
    from prefect._internal.schemas.validators import default_timezone, validate_cron_string

    try:
        validate_cron_string(plan.cron)
    except ValueError:
        raise ValueError(
            f"{plan.setting} 不是有效的 cron 表达式：{plan.cron!r}（五段：分 时 日 月 周，例如 0 2 * * *）"
        ) from None
    try:
        default_timezone(plan.timezone)
    except ValueError:
        raise ValueError(
            f"GUIDEFUND_TIMEZONE 不是有效的时区：{plan.timezone!r}（IANA 名称，例如 Asia/Shanghai）"
        ) from None


def next_runs(plan: Plan, n: int = 3, start: datetime | None = None) -> list[datetime]:
    """The next `n` start times, computed by the same code the Prefect scheduler uses."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron=plan.cron, timezone=plan.timezone)
    return list(asyncio.run(schedule.get_dates(n=n, start=start)))


def describe(settings: Settings, n: int = 3, start: datetime | None = None) -> list[dict[str, Any]]:
    """The deployments as plain dicts, with their next start times (ISO 8601, local time)."""
    out = []
    for plan in plans(settings):
        d = asdict(plan)
        d["deployment"] = f"{plan.name}/{plan.name}"
        d["next_runs"] = [t.isoformat() for t in next_runs(plan, n, start)]
        out.append(d)
    return out


def build_deployments(settings: Settings) -> list[Any]:
    """Prefect RunnerDeployments for `plans(settings)`, ready for prefect.serve."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    strategy = {
        CANCEL_NEW: ConcurrencyLimitStrategy.CANCEL_NEW,
        ENQUEUE: ConcurrencyLimitStrategy.ENQUEUE,
    }
    deployments = []
    for plan in plans(settings):
        module, attr = plan.entrypoint.rsplit(".", 1)
        flow = getattr(importlib.import_module(module), attr)
        deployments.append(
            flow.to_deployment(
                name=plan.name,
                # A fixed slug makes a restarted server update this schedule, not add a second.
                schedules=[Cron(plan.cron, timezone=plan.timezone, slug=f"{plan.name}-cron")],
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=1, collision_strategy=strategy[plan.overlap]
                ),
                parameters=plan.parameters,
                description=plan.description,
                tags=["guidefund"],
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def api_url() -> str:
    """The Prefect server guidefund talks to (Prefect's own PREFECT_API_URL); empty if none."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or ""


def server_problem(url: str) -> str | None:
    """Why the Prefect server at `url` cannot be used, in one line; None when it answers."""
    import httpx

    if not url:
        return (
            "未设置 PREFECT_API_URL：计划运行需要常驻的 Prefect 服务器。先运行 "
            "`prefect server start`，再设置 PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        return f"无法连接 Prefect 服务器 {url}（{type(exc).__name__}）：请确认 `prefect server start` 正在运行"
    return None


def serve(settings: Settings) -> None:
    """Serve the deployments until interrupted; schedules stay active after shutdown."""
    import prefect

    prefect.serve(
        *build_deployments(settings), pause_on_shutdown=False, print_starting_message=False
    )
