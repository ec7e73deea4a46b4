"""Running the suites with Great Expectations: one quiet ephemeral context per process, one
validation per suite per batch, and the run's Data Docs.

Measured here (benchmarks/read_validate.py): a GX run costs ~4 ms per expectation when it only
says pass/fail (BOOLEAN_ONLY) and ~9 ms when it lists failing rows (COMPLETE); the fixed cost is
~10 ms. So each batch is validated once with BOOLEAN_ONLY; only when an expectation fails are
the failing expectations run again, on the same frame, for their rows (the detail pass). A
clean batch costs one run; a batch with problems one run plus a small one.

Importing this module imports GX (~6 s): import it where validation runs, not at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from guidefund.expectations import DocsRun, Failure, load_suite, suite_data
from guidefund.expectations.offline import make_offline
from guidefund.expectations.summary import (
    RUNS,
    RunSummary,
    forget_run,
    load_runs,
    save_run,
    summarise,
    write_runs_index,
)
from guidefund.reference import Field

DATASOURCE = "guidefund"
SITE = "guidefund"
ROW_KEY = "row_key"
_DETAIL: dict[str, Any] = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_KEY]}


@lru_cache(maxsize=1)
def quiet_gx_context() -> AbstractDataContext:
    """The process's one ephemeral GX context: in memory, no progress bars, no analytics.

    GX 1.24 sends nothing by itself (its usage-statistics sender is gone and the PyPI version
    check is never called); `analytics_enabled=False` is still set so the config says so.
    """
    # GX pins this module's logger to INFO (data_context/types/base.py) and logs where it puts
    # the ephemeral docs site each time a context is made: not news to staff.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@cache
def _batch_definition(asset: str) -> BatchDefinition:
    sources = quiet_gx_context().data_sources
    try:
        datasource = sources.get(DATASOURCE)
    except KeyError:
        datasource = sources.add_pandas(DATASOURCE)
    return datasource.add_dataframe_asset(asset).add_batch_definition_whole_dataframe(asset)


@lru_cache(maxsize=16)
def suite(name: str, fields: tuple[Field, ...] = (), columns: frozenset[str] | None = None) -> Any:
    """The suite as it runs for a year's fields and a frame's columns (suite_data), as
    validated. It is not added to the context: GX validates a registered suite ~2x slower
    (every expectation re-serialises its configuration)."""
    return load_suite(name, fields=fields, columns=columns)


def _register_for_docs(name: str, shape: tuple[Any, Any] = ((), None)) -> None:
    """Data Docs render a suite's page from the context's suite store: a separate copy, as the
    suite ran (with the year's generated expectations)."""
    fields, columns = shape
    quiet_gx_context().suites.add_or_update(load_suite(name, fields=fields, columns=columns))


def _raised(info: Mapping[str, Any]) -> str | None:
    """The exception message GX recorded for an expectation, at top level or per metric."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or info)
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or value)
    return None


def _check_raised(name: str, result: ExpectationSuiteValidationResult) -> None:
    """An expectation GX could not evaluate (a missing column, a bad parameter) is a bug in the
    suite or the frame, not a finding about the data."""
    for r in result.results:
        error = _raised(r.exception_info or {})
        if error:
            config = r.expectation_config
            raise RuntimeError(f"{name} {config.type} {config.kwargs}: {error}")


def _key(kind: str, kwargs: Mapping[str, Any]) -> tuple[object, ...]:
    """An expectation's identity within a suite: its type and the columns it looks at. GX does
    not return results in the suite's order, so results are matched back by this key."""
    columns = tuple(kwargs.get(k) for k in ("column", "column_A", "column_B"))
    return (kind, *columns, tuple(kwargs.get("column_list") or ()))


@lru_cache(maxsize=16)
def positions(
    name: str, fields: tuple[Field, ...] = (), columns: frozenset[str] | None = None
) -> dict[tuple[object, ...], int]:
    """Key → position of each expectation in the suite as it runs; two alike is a suite error."""
    found: dict[tuple[object, ...], int] = {}
    for i, e in enumerate(suite_data(name, fields, columns)["expectations"]):
        key = _key(e["type"], e["kwargs"])
        if key in found:
            raise ValueError(f"{name}: expectations {found[key]} and {i} check the same thing")
        found[key] = i
    return found


def run_suite(
    frame: pd.DataFrame,
    name: str,
    parameters: Mapping[str, Any],
    docs: DocsRun | None = None,
    fields: Sequence[Field] = (),
) -> list[Failure]:
    """Validate `frame` (with a `row_key` column) against suite `name` as it runs for the
    year's template `fields` and the frame's columns, in one GX run, plus a detail run of the
    failing expectations; [] when the batch passes. Failures are in the suite's order."""
    batch = _batch_definition(name).get_batch(batch_parameters={"dataframe": frame})
    params = dict(parameters)
    how = (tuple(fields), frozenset(frame.columns))
    at = positions(name, *how)

    def position(r: Any) -> int:
        return at[_key(r.expectation_config.type, r.expectation_config.kwargs)]

    first = batch.validate(
        suite(name, *how), result_format="BOOLEAN_ONLY", expectation_parameters=params
    )
    _check_raised(name, first)
    failed = {position(r): i for i, r in enumerate(first.results) if not r.success}
    failures: list[Failure] = []
    if failed:
        only = sorted(failed)
        detail = batch.validate(load_suite(name, only, *how), result_format=_DETAIL,
                                expectation_parameters=params)  # fmt: skip
        _check_raised(name, detail)
        for r in detail.results:
            order, config = position(r), r.expectation_config
            rows = r.result.get("unexpected_index_list")
            if r.success or not rows:
                raise RuntimeError(f"{name} {config.type}: failed without naming its rows")
            keys = tuple(sorted({int(row[ROW_KEY]) for row in rows}))
            failures.append(Failure(order, dict(config.meta or {}), dict(config.kwargs), keys))
            first.results[failed[order]] = r  # the docs show the failing rows, not just "failed"
    if docs is not None:
        docs.results.append((name, batch.id, first))
        docs.shapes[name] = how
    return sorted(failures, key=lambda f: f.order)


RESULTS_STORE = "guidefund_docs_results"
RESULTS_DIR = "results"  # inside the site: the kept runs' validation results (JSON)
KEEP_RUNS = 30


@dataclass(frozen=True)
class BuiltDocs:
    """Where a build put its pages: GX's index, this run's Chinese summary, the list of runs."""

    index: Path
    summary: Path
    runs: Path
    kept: int  # runs kept in the site, this one included


def _site_config(directory: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(directory.resolve()),
        },
        # The validations (and GX's index of them) come from the results kept on disk, so the
        # index lists every kept run, not only the run just built.
        "site_section_builders": {"validations": {"source_store_name": RESULTS_STORE}},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _results_store(directory: Path) -> Any:
    """The site's store of validation results: JSON files under <site>/results/."""
    config = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str((directory / RESULTS_DIR).resolve()),
        },
    }
    return quiet_gx_context().add_store(RESULTS_STORE, config)  # type: ignore[arg-type]


def _page(key: ValidationResultIdentifier) -> str:
    """Where GX's site puts the page of a validation result, relative to the site."""
    return "validations/" + "/".join(key.to_tuple()) + ".html"


def _prune(directory: Path, store: Any, keep: int) -> None:
    """Keep the newest `keep` runs: drop older runs' results, GX pages and Chinese summaries."""
    runs: dict[tuple[str, str], list[ValidationResultIdentifier]] = {}
    for key in store.list_keys():
        run_name, run_time = key.run_id.to_tuple()
        runs.setdefault((run_time, run_name), []).append(key)
    for run_time, run_name in sorted(runs, reverse=True)[keep:]:
        for key in runs[(run_time, run_name)]:
            store.remove_key(key)
            page = directory / _page(key)
            page.unlink(missing_ok=True)
            for folder in (page.parent, page.parent.parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        forget_run(directory, f"{run_time}-{run_name}")


def _link_summaries(index: Path, run: RunSummary) -> None:
    """A line atop GX's index leading to the Chinese summaries."""
    html = index.read_text(encoding="utf-8")
    line = (
        '<div class="alert alert-info m-0 rounded-0">中文校验摘要：'
        f'<a href="{RUNS}/{run.stem}.html">本次运行</a> ｜ <a href="{RUNS}/index.html">全部运行</a></div>'
    )
    index.write_text(html.replace("<body>", "<body>" + line, 1), encoding="utf-8")


def build_data_docs(
    run: DocsRun, directory: Path, keep: int = KEEP_RUNS, timezone: str = "Asia/Shanghai"
) -> BuiltDocs:
    """Keep the run's results in the site, render them (and their suites) into `directory`,
    drop runs beyond the newest `keep`, make every page offline, and write the run's Chinese
    summary and the list of kept runs (times in `timezone`)."""
    context = quiet_gx_context()
    directory.mkdir(parents=True, exist_ok=True)
    if SITE in context.list_data_docs_sites():
        context.update_data_docs_site(SITE, _site_config(directory))  # type: ignore[arg-type]
    else:
        context.add_data_docs_site(SITE, _site_config(directory))  # type: ignore[arg-type]
    store = _results_store(directory)
    run_id = RunIdentifier(run_name=run.name, run_time=datetime.now(UTC))
    keys: list[ValidationResultIdentifier] = []
    suites: list[ExpectationSuiteIdentifier] = []
    summaries = []
    for name, batch_id, result in run.results:
        _register_for_docs(name, run.shapes.get(name, ((), None)))
        suite_id = ExpectationSuiteIdentifier(name=name)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=batch_id
        )
        result.meta["run_id"] = run_id
        store.store_validation_results(result, key, suite_id)
        keys.append(key)
        suites.append(suite_id)
        summaries.append(summarise(name, result, _page(key)))
    _prune(directory, store, keep)
    context.build_data_docs(site_names=[SITE], resource_identifiers=[*keys, *suites])
    written = [directory / "index.html", *(directory / _page(k) for k in keys)]
    written += [directory / "expectations" / f"{'/'.join(s.name.split('.'))}.html" for s in suites]
    make_offline(directory, [p for p in written if p.exists()])
    summary = RunSummary(run.name, run_id.to_tuple()[1], summaries)
    page = save_run(directory, summary, timezone)
    index = write_runs_index(directory, timezone)
    _link_summaries(directory / "index.html", summary)
    return BuiltDocs(directory.resolve() / "index.html", page.resolve(), index.resolve(),
                     len(load_runs(directory)))  # fmt: skip


def suite_names_in(directory: Path) -> Collection[str]:
    """The suites a built site has pages for (expectations/<a>/<b>.html → 'a.b')."""
    pages = directory / "expectations"
    return sorted(
        ".".join(p.relative_to(pages).with_suffix("").parts) for p in pages.rglob("*.html")
    )
