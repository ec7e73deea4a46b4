"""What every command shares: exit codes, the settings of a run, the quiet runtime for Prefect and
Great Expectations, and the year's reference data."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from guidefund.reference import Reference, load_reference
from guidefund.settings import Settings, quiet_environment

EXIT_OK, EXIT_ATTENTION, EXIT_FAILED = 0, 1, 2


def settings_from(args: argparse.Namespace) -> Settings:
    workdir = getattr(args, "workdir", None)
    return Settings(workdir=workdir) if workdir else Settings()


def quiet_libraries(settings: Settings) -> None:
    """Before Prefect or GX is imported: no telemetry, no progress bars, local only."""
    for key, value in quiet_environment(settings).items():
        os.environ.setdefault(key, value)


def prepare_runtime(settings: Settings) -> None:
    """For commands that run flows: the quiet environment, with Prefect's home in place."""
    quiet_libraries(settings)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def reference_for(settings: Settings, year: int | None) -> Reference:
    return load_reference(settings.reference_dir, year or settings.year)


def safe_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_flow(settings: Settings, start):  # type: ignore[no-untyped-def]
    """Run a flow for a command: SIGTERM/SIGINT ask it to stop at its next safe point, the
    Prefect API is checked or a temporary one started (ending with the command), and Prefect's
    console logging goes to the log file. `start()` imports what the flow needs (while the
    temporary API starts) and returns a call that runs it; its result is returned."""
    from guidefund.cli.console import quiet_libraries as quiet_logging
    from guidefund.cli.prefect_api import prefect_api
    from guidefund.faults import reset_stops, watch_stops

    reset_stops()
    watch_stops()
    prepare_runtime(settings)
    with prefect_api(settings) as ready:
        go = start()
        quiet_logging(settings)
        ready()
        return go()
