"""The web app of `guidefund portal`: a unit's page and upload behind its secret link, and the
office's overview behind the office link. Server-rendered Chinese pages (Jinja2), one style
sheet served from here, no script at all; every answer carries a Content-Security-Policy.

Security: a token is looked up by its hash and compared in constant time (portal.links); an
unknown or revoked token gets the same 404 page as any wrong address; a client that tries too
many unknown tokens is answered 429 for a while; a unit's page shows only its own projects and
files."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from guidefund.portal import body
from guidefund.portal.links import resolve
from guidefund.portal.uploads import Checker
from guidefund.records import period_label
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.models import PORTAL_OFFICE, PORTAL_UNIT

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a link's token must not leak to another site
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# An id in a path fits the warehouse's INTEGER (found by the fuzzer: a larger one was a 500).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


class Throttle:
    """Failed links per client: after `limit` within `window` seconds, 429 until they age out."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> collections.deque[float]:
        times = self._failures.setdefault(client, collections.deque())
        while times and self.clock() - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> float:
        """Seconds until `client` may try again (0: now)."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.limit:
                return 0.0
            return max(1.0, self.window - (self.clock() - times[0]))

    def fail(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self.clock())
            if len(self._failures) > 100_000:  # many clients: forget the quiet ones
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]


class Portal:
    """What the routes share: settings, reference, warehouse, the checker, the throttle."""

    def __init__(self, settings: Settings, ref: Reference, engine: Engine):
        self.settings, self.ref, self.engine = settings, ref, engine
        self.checker = Checker(settings, ref, engine)
        self.throttle = Throttle(
            settings.portal_throttle_failures, settings.portal_throttle_seconds
        )
        self.zone = ZoneInfo(settings.timezone)
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local
        self.env.filters["period"] = lambda p: period_label(p) if p else ""

    def local(self, when: datetime | None) -> str:
        if when is None:
            return ""
        return when.replace(tzinfo=UTC).astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("region", self.ref.region_name)
        context.setdefault("year", self.ref.year)
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def link(self, request: Request, token: str, kind: str) -> dict[str, Any]:
        """The link for `token`, or an exception: 429 while throttled, 404 when unknown."""
        client = request.client.host if request.client else "-"
        wait = self.throttle.blocked(client)
        if wait:
            raise Throttled(wait)
        link = resolve(self.engine, token, kind)
        if (
            link is None
            or link["region_code"] != self.ref.region_code
            or link["year"] != self.ref.year
        ):
            self.throttle.fail(client)
            raise StarletteHTTPException(404)
        return link


class Throttled(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def create_app(settings: Settings, ref: Reference, engine: Engine) -> FastAPI:
    """The portal for one region-year (the reference's)."""
    from guidefund.portal import views

    portal = Portal(settings, ref, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        portal.checker.close()  # the reading workers end with the server

    app = FastAPI(
        title="guidefund portal", docs_url=None, redoc_url=None, openapi_url=None,
        version="1", lifespan=lifespan,
    )  # fmt: skip
    app.state.portal = portal
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return portal.page("404.html", 404)
        message = exc.detail if isinstance(exc.detail, str) else "请求无法处理"
        if wants_json(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return portal.page("error.html", exc.status_code, message=message)

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> Response:
        wait = str(int(exc.seconds) + 1)
        if wants_json(request):
            return JSONResponse({"detail": "尝试次数过多，请稍后再试"}, 429, {"Retry-After": wait})
        response = portal.page("error.html", 429, message="尝试次数过多，请稍后再试。")
        response.headers["Retry-After"] = wait
        return response

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        import logging

        route = getattr(request.scope.get("route"), "path", "?")  # the template: no token
        logging.getLogger("guidefund.portal").error(
            "填报网页处理 %s %s 时出错（%s），详见 <工作目录>/logs/guidefund.log",
            request.method, route, type(exc).__name__, exc_info=exc,
        )  # fmt: skip
        return portal.page(
            "error.html", 500, message="服务器处理出错，请稍后再试；如仍出错请联系科技厅。"
        )

    @app.get("/u/{token}", response_class=HTMLResponse, summary="单位页面")
    def unit_page(token: str, request: Request) -> Response:
        link = portal.link(request, token, PORTAL_UNIT)
        return portal.page("unit.html", **views.unit_context(portal, link, token))

    @app.post("/u/{token}", summary="上传填报文件", openapi_extra=UPLOAD_SCHEMA)
    async def upload(token: str, request: Request) -> Response:
        link = await run_in_threadpool(portal.link, request, token, PORTAL_UNIT)
        limits = body.Limits(settings.portal_max_file_mb << 20, settings.portal_max_files)
        try:
            declared = int(request.headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > limits.body_bytes:
                raise body.TooLarge(
                    f"上传内容超过上限（每个文件 {settings.portal_max_file_mb} MB，"
                    f"一次最多 {settings.portal_max_files} 个文件）"
                )
            files = await body.read_files(
                request.headers.get("content-type", ""), request.stream(), limits
            )
            if not files:
                raise body.BadForm("没有收到文件：请选择要上传的填报文件（.xlsx）")
        except body.TooLarge as exc:
            return refusal(request, 413, str(exc), close=True)
        except body.BadForm as exc:
            return refusal(request, 400, str(exc))
        results = await run_in_threadpool(portal.checker.receive, link, files)
        if wants_json(request):
            return JSONResponse([r.as_json() for r in results])
        context = views.unit_context(portal, link, token)
        return portal.page("unit.html", results=results, **context)

    def refusal(request: Request, status: int, message: str, close: bool = False) -> Response:
        headers = {"Connection": "close"} if close else {}
        if wants_json(request):
            return JSONResponse({"detail": message}, status, headers)
        response = portal.page("error.html", status, message=message)
        response.headers.update(headers)
        return response

    @app.get("/u/{token}/template/{project_no}", summary="下载预填模板")
    def template(token: str, project_no: RowId, request: Request) -> Response:
        link = portal.link(request, token, PORTAL_UNIT)
        path = views.template_file(portal, link, project_no)
        if path is None:
            raise StarletteHTTPException(404)
        return FileResponse(path, media_type=XLSX, filename=path.name)

    @app.get("/u/{token}/feedback/{upload_id}", summary="下载问题清单")
    def feedback(token: str, upload_id: RowId, request: Request) -> Response:
        link = portal.link(request, token, PORTAL_UNIT)
        path = views.feedback_file(portal, link, upload_id)
        if path is None:
            raise StarletteHTTPException(404)
        return FileResponse(path, media_type=XLSX, filename=path.name)

    @app.get("/o/{token}", response_class=HTMLResponse, summary="科技厅总览")
    def office(token: str, request: Request) -> Response:
        portal.link(request, token, PORTAL_OFFICE)
        return portal.page("office.html", **views.office_context(portal, token))

    @app.post("/o/{token}/remind", response_class=HTMLResponse, summary="催报未提交单位")
    def remind(token: str, request: Request) -> Response:
        portal.link(request, token, PORTAL_OFFICE)
        outcome = views.send_reminders(portal)
        return portal.page("office.html", reminded=outcome, **views.office_context(portal, token))

    @app.get("/o/{token}/files/{name}", summary="下载汇总表与年终材料")
    def office_file(token: str, name: str, request: Request) -> Response:
        portal.link(request, token, PORTAL_OFFICE)
        path = views.report_file(portal, name)
        if path is None:
            raise StarletteHTTPException(404)
        return FileResponse(path, filename=path.name)

    return app
