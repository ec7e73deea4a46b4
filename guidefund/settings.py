"""The one settings object. Only this module reads the environment (GUIDEFUND_*)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Every knob guidefund has. Each is documented in README.md (Settings)."""

    model_config = SettingsConfigDict(env_prefix="GUIDEFUND_", env_file=None, extra="ignore")

    workdir: Path = Field(
        Path("guidefund-work"),
        description="Working directory: inbox, archive, reports, SQLite file.",
    )
    warehouse_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at <workdir>/warehouse.sqlite."
    )
    reference_dir: Path = Field(
        PROJECT_ROOT / "data" / "reference",
        description="Root of the reference data: <dir>/<region-code>/<year>/ (or <dir>/<year>/).",
    )
    region: str = Field(
        "",
        description="Region code (地区代码) the commands use when --region is not given; empty means the only region that has the year's reference data.",
    )
    year: int | None = Field(
        None,
        description="Plan year the commands use when --year is not given; empty means the current plan year, from the reference data present and today's date.",
    )
    explain_over_pct: Decimal = Field(
        Decimal("130"),
        description="Completion at or above this (percent) needs an explanation (note 6).",
    )
    explain_under_pct: Decimal = Field(
        Decimal("100"), description="Completion below this (percent) needs an explanation (note 6)."
    )
    prefect_home: Path | None = Field(
        None, description="PREFECT_HOME for runs; empty means <workdir>/.prefect."
    )
    log_level: str = Field(
        "WARNING", description="Log level of Prefect's run loggers (INFO shows every task)."
    )
    debug: bool = Field(
        False, description="Show tracebacks and Prefect's log on the console when a command fails."
    )

    # Faults: how long to wait for what goes away by itself, and what a run needs to start.
    warehouse_retry_seconds: int = Field(
        600,
        ge=0,
        description="How long a warehouse step waits (with backoff) for a database that refuses connections, restarts or is busy before the run gives up.",
    )
    notify_retry_seconds: int = Field(
        60,
        ge=0,
        description="How long a run retries a notifier that refuses or fails before holding the alerts for the next run.",
    )
    disk_margin_mb: int = Field(
        200,
        ge=0,
        description="Free space a run needs on the working directory's disk beyond the inbox's size.",
    )
    log_max_mb: int = Field(
        10, ge=1, description="Size at which <workdir>/logs/guidefund.log is rotated."
    )
    log_backups: int = Field(5, ge=1, description="Rotated log files kept.")

    # Validation warnings (submission.warning): accepted, but raised as alerts.
    satisfaction_warn_below_pct: Decimal = Field(
        Decimal("80"), description="Satisfaction below this (percent) raises a warning."
    )
    outlier_factor: Decimal = Field(
        Decimal("10"),
        description="A value this many times above (or below) the project's history or its direction's median is flagged as a likely unit error.",
    )

    # Alerts during the year and at year end.
    execution_tolerance_pct: Decimal = Field(
        Decimal("10"),
        description="Execution may lag 序时进度 by this many percentage points before an alert.",
    )
    year_end_execution_min_pct: Decimal = Field(
        Decimal("90"), description="At year end, execution below this (percent) raises an alert."
    )
    submission_deadline: date | None = Field(
        None,
        description="Annual submissions are due by this date; empty means the 年报 row of reporting_calendar.csv, else 31 January after the plan year.",
    )

    data_docs_keep_runs: int = Field(
        30,
        ge=1,
        description="How many validation runs the Data Docs keep (older runs' pages are removed).",
    )

    # Orchestration (guidefund serve) and notifications.
    timezone: str = Field(
        "Asia/Shanghai",
        description="Time zone of the schedules and of the times the reports show (汇总表, Data Docs).",
    )
    nightly_cron: str = Field("0 2 * * *", description="Schedule of nightly-consolidation.")
    alerts_cron: str = Field(
        "0 8 * * 1", description="Schedule of execution-alerts (the weekly digest)."
    )
    year_end_cron: str = Field("0 3 31 12 *", description="Schedule of year-end-aggregation.")
    notify_url: str = Field(
        "",
        description="Where new alerts go: an http(s) webhook (JSON POST), smtp://user:pass@host:port/?from=..&to=.., or any Apprise URL; empty means <workdir>/alerts.log.",
    )

    # Reading (issue 9 and 10): every limit a hostile file meets before and while it is parsed.
    read_workers: int = Field(
        0,
        ge=0,
        description="Worker processes that read and parse files; 0 means one per core, 1 reads in the run's own process (no isolation).",
    )
    read_max_file_mb: int = Field(
        20, ge=1, description="A file larger than this (MiB) is refused unread (read.too_large)."
    )
    read_max_unpacked_mb: int = Field(
        64,
        ge=1,
        description="A workbook whose parts add up to more than this once unzipped (MiB) is refused (read.too_large).",
    )
    read_max_ratio: int = Field(
        100,
        ge=1,
        description="A part compressed more than this many times is refused as a decompression bomb (read.too_large).",
    )
    read_max_parts: int = Field(
        200,
        ge=1,
        description="A workbook with more parts (zip members) is refused (read.too_large).",
    )
    read_max_rows: int = Field(
        200,
        ge=1,
        description="A sheet whose used range (its <dimension> or any cell with content) reaches below this row is refused (read.too_large); never less than the template's last row.",
    )
    read_max_columns: int = Field(
        26,
        ge=1,
        description="A sheet whose used range reaches right of this column (26 = Z) is refused (read.too_large); never less than the template's last column.",
    )
    read_memory_mb: int = Field(
        512,
        ge=64,
        description="Address-space limit of each reading worker (MiB); a file that needs more costs that file (read.crashed), not the run.",
    )
    read_timeout_s: float = Field(
        30.0,
        gt=0,
        description="A file still being parsed after this many seconds is given up (read.timeout).",
    )
    chunk_files: int = Field(
        5000,
        ge=1,
        description="Files read, validated and loaded together; each chunk is one transaction, so a night of 50,000 files never sits in memory at once.",
    )
    dask_address: str = Field(
        "",
        description="tcp://host:8786 of a Dask scheduler: the nightly flow reads its chunks on that cluster (prefect-dask); empty means the local worker pool.",
    )
    dask_chunk_files: int = Field(
        250,
        ge=1,
        description="Files per read task sent to the Dask cluster (bytes travel with the task).",
    )

    # The units' web page (guidefund portal) and the units' mail.
    portal_max_file_mb: int = Field(
        10,
        ge=1,
        description="An uploaded file larger than this is refused with 413 before the rest of the request is read.",
    )
    portal_max_files: int = Field(
        20,
        ge=1,
        description="Files one upload may carry (the request body is limited to this many times portal_max_file_mb).",
    )
    portal_throttle_failures: int = Field(
        10,
        ge=1,
        description="Unknown or revoked links one client may try within portal_throttle_seconds before it is answered 429.",
    )
    portal_throttle_seconds: int = Field(
        300, ge=1, description="Window of the failed-link throttle, in seconds."
    )
    unit_mail_url: str = Field(
        "",
        description="smtp://user:pass@host:port/?from=..&starttls=1: where the units' mail (nightly verdicts, reminders) goes out; empty means no unit mail.",
    )

    @property
    def inbox(self) -> Path:
        return self.workdir / "inbox"

    @property
    def archive(self) -> Path:
        return self.workdir / "archive"

    @property
    def quarantine(self) -> Path:
        return self.workdir / "quarantine"

    @property
    def reports(self) -> Path:
        return self.workdir / "reports"

    @property
    def data_docs(self) -> Path:
        return self.workdir / "data_docs"

    @property
    def portal_dir(self) -> Path:
        return self.workdir / "portal"

    @property
    def contacts(self) -> Path:
        return self.workdir / "contacts.csv"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def alerts_log(self) -> Path:
        return self.workdir / "alerts.log"

    @property
    def database_url(self) -> str:
        return self.warehouse_url or f"sqlite:///{(self.workdir / 'warehouse.sqlite').resolve()}"


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The date a run belongs to: today where the department is (GUIDEFUND_TIMEZONE), not on
    the server's clock: 01:00 on the 1st in Beijing is the 1st, though UTC still says the 30th."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def quiet_environment(settings: Settings) -> dict[str, str]:
    """Environment for Prefect and Great Expectations: local only, no telemetry, no progress bars.

    Applied by the CLI before either library is imported (both read it at import time).
    """
    home = settings.prefect_home or (settings.workdir / ".prefect")
    return {
        "PREFECT_HOME": str(home.resolve()),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": settings.log_level,
        "GX_ANALYTICS_ENABLED": "false",
    }
