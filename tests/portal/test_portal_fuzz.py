"""Every route of the portal fuzzed against its own OpenAPI schema (schemathesis, issue 15): no
5xx, no traceback in any answer, and the server still answers afterwards. Each generated request
is sent as generated (mostly unknown tokens) and again with a live link of the route's kind, so
the upload, template, feedback and download routes are reached with fuzzed paths and bodies.
The examples are bounded (`MAX_EXAMPLES` per operation) so the whole runs in well under a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from guidefund.reference import Reference

from .conftest import Site, make_site

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzzed_site(tmp_path_factory: pytest.TempPathFactory, ref: Reference) -> Iterator[Site]:
    # The throttle would answer 429 to most fuzzed requests: lifted here, tested on its own.
    yield from make_site(
        tmp_path_factory.mktemp("fuzz") / "work", ref, portal_throttle_failures=1_000_000
    )


@pytest.fixture(scope="module")
def portal_schema(fuzzed_site: Site):  # type: ignore[no-untyped-def]
    app = fuzzed_site.client.app
    loaded = schemathesis.openapi.from_dict(app.openapi())
    loaded.app = app
    return loaded


def no_traceback(body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "' not in text


def send(case, site: Site) -> None:  # type: ignore[no-untyped-def]
    """The case as generated, then (for a route behind a link) with a live link of its kind."""
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    no_traceback(response.content)
    if "token" in (case.path_parameters or {}):
        office = case.operation.path.startswith("/o/")
        case.path_parameters["token"] = site.office if office else site.token(site.unit_a)
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])
        no_traceback(response.content)


def test_no_route_answers_5xx_or_a_traceback(portal_schema, fuzzed_site: Site) -> None:  # type: ignore[no-untyped-def]
    """(schemathesis' own pytest loader does not run under pytest 9, hence one Hypothesis run
    per operation here.)"""
    operations = [result.ok() for result in portal_schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /u/{token}", "POST /u/{token}", "GET /u/{token}/template/{project_no}",
        "GET /u/{token}/feedback/{upload_id}", "GET /o/{token}", "POST /o/{token}/remind",
        "GET /o/{token}/files/{name}",
    }  # fmt: skip
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            send(case, fuzzed_site)

        run()


def test_the_server_still_answers_after_the_fuzzing(fuzzed_site: Site) -> None:
    page = fuzzed_site.client.get(f"/u/{fuzzed_site.token(fuzzed_site.unit_a)}")
    assert page.status_code == 200 and fuzzed_site.unit_a in page.text
    assert fuzzed_site.client.get(f"/o/{fuzzed_site.office}").status_code == 200
